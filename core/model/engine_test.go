package model_test

import (
	"math"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/enginetest"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/tokenizer"
)

func newCPU(p *model.Params, oc optim.Config) (core.Engine, error) {
	return model.NewCPU(p, model.CPUOptions{Optim: oc})
}

// The CPU engine runs the conformance suite every engine runs (against
// itself, it checks the contract's rules rather than numbers), and so do
// its fixed-length graphs, which other rounding makes a real comparison,
// for the dense model and a mixture of experts.
func TestCPUConformance(t *testing.T) {
	enginetest.Run(t, newCPU)
	t.Run("full-context", func(t *testing.T) {
		enginetest.Run(t, func(p *model.Params, oc optim.Config) (core.Engine, error) {
			return model.NewCPU(p, model.CPUOptions{Optim: oc, Seq: p.Config.Context})
		})
	})
	t.Run("moe", func(t *testing.T) {
		c := enginetest.Config()
		c.NExperts, c.TopK, c.AuxLossCoef, c.ZLossCoef = 4, 2, 0.01, 0.001
		enginetest.RunConfig(t, c, newCPU)
		enginetest.RunConfig(t, c, func(p *model.Params, oc optim.Config) (core.Engine, error) {
			return model.NewCPU(p, model.CPUOptions{Optim: oc, Seq: p.Config.Context})
		})
	})
}

// Entropies from LogProbs and Score equal −Σ p log p computed in float64
// from the logits of the plain forward pass.
func TestEngineEntropy(t *testing.T) {
	c := enginetest.Config()
	p, err := model.Init(c, 2)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{tokenizer.BOS}
	for i := 0; i < 20; i++ {
		ids = append(ids, 'a'+i%7)
	}
	seq := core.Sequence{Tokens: ids, Start: 5}
	logits, err := p.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	V := c.VocabSize
	for _, temp := range []float64{1, 0.5} {
		var want []float64
		for i := seq.Start - 1; i < len(ids)-1; i++ {
			row := logits[i*V : (i+1)*V]
			m := math.Inf(-1)
			for _, z := range row {
				m = math.Max(m, float64(z)/temp)
			}
			var s float64
			for _, z := range row {
				s += math.Exp(float64(z)/temp - m)
			}
			var h float64
			for _, z := range row {
				q := math.Exp(float64(z)/temp-m) / s
				h -= q * math.Log(q)
			}
			want = append(want, h)
		}
		e, err := model.NewCPU(p.Clone(), model.CPUOptions{Optim: optim.DefaultConfig()})
		if err != nil {
			t.Fatal(err)
		}
		opts := core.ForwardOptions{Temperature: temp, Entropy: true}
		f, err := e.LogProbs([]core.Sequence{seq}, opts)
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.Score([]core.Sequence{seq}, opts)
		if err != nil {
			t.Fatal(err)
		}
		for j, w := range want {
			if math.Abs(f.Entropy[0][j]-w) > 1e-5*w || math.Abs(s.Entropy[0][j]-w) > 1e-5*w {
				t.Errorf("T=%v position %d: entropy %v (LogProbs), %v (Score), want %v", temp, j, f.Entropy[0][j], s.Entropy[0][j], w)
			}
		}
	}
}

// Two Backward calls before a Step add their gradients: the step equals
// one with the coefficients doubled.
func TestEngineAccumulatesGradients(t *testing.T) {
	p, err := model.Init(enginetest.Config(), 4)
	if err != nil {
		t.Fatal(err)
	}
	seqs := []core.Sequence{{Tokens: []int{tokenizer.BOS, 'h', 'i', '!', tokenizer.EOS}, Start: 2}}
	run := func(scale float64, times int) *model.Params {
		oc := optim.DefaultConfig()
		oc.ClipNorm = 0
		e, err := model.NewCPU(p.Clone(), model.CPUOptions{Optim: oc})
		if err != nil {
			t.Fatal(err)
		}
		for range times {
			f, err := e.LogProbs(seqs, core.ForwardOptions{})
			if err != nil {
				t.Fatal(err)
			}
			d := [][]float64{make([]float64, len(f.LogP[0]))}
			for j := range d[0] {
				d[0][j] = scale * float64(j-1)
			}
			if err := e.Backward(d, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Step(); err != nil {
			t.Fatal(err)
		}
		return e.Params()
	}
	twice, doubled := run(1, 2), run(2, 1)
	for i, w := range twice.All() {
		d := doubled.All()[i]
		for j := range w.Data {
			if math.Abs(float64(w.Data[j]-d.Data[j])) > 1e-6 {
				t.Fatalf("%s[%d]: %v after two Backward calls, %v after one with doubled gradients", w.Name, j, w.Data[j], d.Data[j])
			}
		}
	}
}

// Engines are chosen by name; a name this build lacks is an error that
// says how to get it.
func TestEngineRegistry(t *testing.T) {
	calls := 0
	model.RegisterEngine("test-counting", func(p *model.Params, oc optim.Config) (core.Engine, error) {
		calls++
		return model.NewCPU(p, model.CPUOptions{Optim: oc})
	})
	p, err := model.Init(enginetest.Config(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "cpu", "test-counting"} {
		e, err := model.NewEngine(name, p, optim.DefaultConfig())
		if err != nil || e == nil {
			t.Fatalf("NewEngine(%q): %v", name, err)
		}
	}
	if calls != 1 {
		t.Errorf("the registered factory ran %d times, want 1", calls)
	}
	if err := model.CheckEngine("cuda"); err == nil || !strings.Contains(err.Error(), "-tags grao_cuda") {
		t.Errorf("CheckEngine(cuda) = %v, want the build hint", err)
	}
	if _, err := model.NewEngine("tpu", p, optim.DefaultConfig()); err == nil {
		t.Error("NewEngine of an unknown name succeeded")
	}
}
