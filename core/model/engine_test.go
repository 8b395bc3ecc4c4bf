package model_test

import (
	"math"
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
// its fixed-length graphs, which other rounding makes a real comparison.
func TestCPUConformance(t *testing.T) {
	enginetest.Run(t, newCPU)
	t.Run("full-context", func(t *testing.T) {
		enginetest.Run(t, func(p *model.Params, oc optim.Config) (core.Engine, error) {
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
