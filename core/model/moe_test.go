package model

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	G "gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/tokenizer"
)

// moeTestConfig is testConfig with four experts, top-2, and router losses
// large enough that their gradients show in a finite-difference check.
func moeTestConfig() Config {
	c := testConfig()
	c.NExperts, c.TopK, c.AuxLossCoef, c.ZLossCoef = 4, 2, 0.5, 0.1
	return c
}

// moePerturbed is perturbed with a router strong enough to route
// decisively (no near-ties for finite differences to cross).
func moePerturbed(t *testing.T, c Config, seed uint64) *Params {
	p := perturbed(t, c, seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, b := range p.Blocks {
		for i := range b.Gate.Data {
			b.Gate.Data[i] = float32(rng.NormFloat64())
		}
	}
	return p
}

func TestMoEPresetsMatchDenseActiveParams(t *testing.T) {
	for _, c := range []struct{ dense, moe string }{
		{"small", "small-moe"},
		{"medium", "medium-moe"},
	} {
		t.Run(c.moe, func(t *testing.T) {
			d, _ := Preset(c.dense)
			m, err := Preset(c.moe)
			if err != nil {
				t.Fatal(err)
			}
			if d.NumParams() != d.ActiveParams() {
				t.Fatalf("dense %s: active %d ≠ total %d", c.dense, d.ActiveParams(), d.NumParams())
			}
			// The active experts' matrices equal the dense MLP's; the
			// router (d·E) and k−1 extra c_proj biases (d each) remain.
			extra := m.NLayer * (m.DModel*m.NExperts + (m.TopK-1)*m.DModel - (4*m.DModel - m.TopK*m.ExpertHidden()))
			if got := m.ActiveParams() - d.NumParams(); got != extra {
				t.Errorf("active %d − dense %d = %d, want %d", m.ActiveParams(), d.NumParams(), got, extra)
			}
			if rel := float64(m.ActiveParams())/float64(d.NumParams()) - 1; rel > 0.01 {
				t.Errorf("active params %d are %.2f%% above dense %d", m.ActiveParams(), 100*rel, d.NumParams())
			}
			if m.NumParams() <= d.NumParams() {
				t.Errorf("total %d not above dense %d", m.NumParams(), d.NumParams())
			}
			fd, fm := d.FLOPsPerToken(64), m.FLOPsPerToken(64)
			if math.Abs(fm/fd-1) > 0.01 {
				t.Errorf("FLOPs/token %g vs dense %g", fm, fd)
			}
			t.Logf("%s: %d params, %d active; %s: %d", c.moe, m.NumParams(), m.ActiveParams(), c.dense, d.NumParams())
		})
	}
}

// A dense config's encodings carry no MoE key, so dense files and trial
// IDs are what they were.
func TestDenseConfigEncodingsUnchanged(t *testing.T) {
	c, _ := Preset("small")
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"vocab_size":259,"n_embd":128,"n_layer":2,"n_head":4,"n_positions":128,"layer_norm_epsilon":0.00001}`
	if tokenizer.VocabSize == 259 && string(j) != wantJSON {
		t.Errorf("JSON %s, want %s", j, wantJSON)
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{string(j), buf.String()} {
		for _, k := range []string{"expert", "router", "moe"} {
			if strings.Contains(enc, k) {
				t.Errorf("dense encoding mentions %q:\n%s", k, enc)
			}
		}
	}
	m, _ := Preset("small-moe")
	j, _ = json.Marshal(m)
	for _, k := range []string{`"num_local_experts":4`, `"num_experts_per_tok":2`, `"router_aux_loss_coef":0.01`, `"router_z_loss_coef":0.001`} {
		if !strings.Contains(string(j), k) {
			t.Errorf("MoE JSON %s lacks %s", j, k)
		}
	}
}

func TestMoEConfigValidate(t *testing.T) {
	base := moeTestConfig()
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"ok", func(*Config) {}, ""},
		{"switch k=1", func(c *Config) { c.TopK = 1 }, ""},
		{"explicit width", func(c *Config) { c.TopK, c.ExpertInner = 3, 20 }, ""},
		{"k > E", func(c *Config) { c.TopK = 5 }, "num_experts_per_tok"},
		{"k = 0", func(c *Config) { c.TopK = 0 }, "num_experts_per_tok"},
		{"k does not divide 4d", func(c *Config) { c.TopK = 3 }, "moe_intermediate_size"},
		{"negative coef", func(c *Config) { c.AuxLossCoef = -1 }, "router_aux_loss_coef"},
		{"NaN z coef", func(c *Config) { c.ZLossCoef = math.NaN() }, "router_z_loss_coef"},
		{"dense with k", func(c *Config) { c.NExperts = 0 }, "num_local_experts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			err := cfg.Validate()
			if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
}

// The training graph and the inference path (scorer, sampler) compute the
// same MoE model within float32 rounding.
func TestMoEGraphMatchesInference(t *testing.T) {
	c := moeTestConfig()
	c.Context = 32
	p := moePerturbed(t, c, 5)
	_, outs, seqs := sampledSequences(t, p, 4, 3)
	e, err := NewCPU(p, CPUOptions{Optim: optim.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.LogProbs(seqs, core.ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Backward(nil, nil); err != nil {
		t.Fatal(err)
	}
	sc, err := e.Score(seqs, core.ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		for j, want := range o.LogProbs {
			for _, got := range []float64{f.LogP[i][j], sc.LogP[i][j]} {
				if math.Abs(got-float64(want)) > 1e-4*math.Max(1, math.Abs(got)) {
					t.Errorf("row %d token %d: graph %v, scorer %v, sampler %v", i, j, f.LogP[i][j], sc.LogP[i][j], want)
				}
			}
		}
	}
}

// Full-model finite-difference check in float64 through the engine: the
// objective is the algorithm's Σ dlogp·LogP + Σ dvalues·Values plus the
// engine's own Forward.Losses, and every weight tensor (router and each
// expert included) is probed.
func TestMoEModelGradientFiniteDifference(t *testing.T) {
	for _, k := range []int{1, 2} {
		t.Run(map[int]string{1: "switch-k1", 2: "top2"}[k], func(t *testing.T) {
			c := moeTestConfig()
			c.TopK, c.ValueHead = k, true
			p := moePerturbed(t, c, 3)
			rng := rand.New(rand.NewPCG(3, 4))
			seqs := randomSeqs(rng, 2, c.Context, 256)
			e, err := NewCPU(p, CPUOptions{Optim: optim.DefaultConfig(), Float64: true})
			if err != nil {
				t.Fatal(err)
			}
			f, err := e.LogProbs(seqs, core.ForwardOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Losses[LossBalance] == 0 || f.Losses[LossZ] == 0 {
				t.Fatalf("router losses %v", f.Losses)
			}
			checkRoutingMargin(t, e, 1e-4)
			dlogp, dvalues := make([][]float64, len(seqs)), make([][]float64, len(seqs))
			for i := range f.LogP {
				for range f.LogP[i] {
					dlogp[i] = append(dlogp[i], rng.NormFloat64())
					dvalues[i] = append(dvalues[i], rng.NormFloat64())
				}
			}
			if err := e.Backward(dlogp, dvalues); err != nil {
				t.Fatal(err)
			}
			weights, grads, err := e.Float64Weights()
			if err != nil {
				t.Fatal(err)
			}
			analytic := make([][]float64, len(grads))
			for i, g := range grads {
				analytic[i] = append([]float64(nil), g...)
			}
			objective := func() float64 {
				f, err := e.LogProbs(seqs, core.ForwardOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if err := e.Backward(nil, nil); err != nil {
					t.Fatal(err)
				}
				var s float64
				for i := range f.LogP {
					for j := range f.LogP[i] {
						s += dlogp[i][j]*f.LogP[i][j] + dvalues[i][j]*f.Values[i][j]
					}
				}
				return s + f.Losses[LossBalance] + f.Losses[LossZ]
			}
			all := p.All()
			const h = 1e-6
			for i, data := range weights {
				probes := []int{0, len(data) / 2, len(data) - 1, rng.IntN(len(data)), rng.IntN(len(data))}
				if i == 0 {
					probes = append(probes, seqs[0].Tokens[1]*c.DModel+1)
				}
				for _, j := range probes {
					orig := data[j]
					data[j] = orig + h
					up := objective()
					data[j] = orig - h
					down := objective()
					data[j] = orig
					num := (up - down) / (2 * h)
					if math.Abs(num-analytic[i][j]) > 1e-6+1e-5*math.Abs(num) {
						t.Errorf("%s[%d]: analytic %.10g, numeric %.10g", all[i].Name, j, analytic[i][j], num)
					}
				}
			}
		})
	}
}

// checkRoutingMargin fails when a real token's k-th and (k+1)-th router
// logits are closer than margin in the engine's last run: a finite
// difference there could cross the routing boundary.
func checkRoutingMargin(t *testing.T, e *CPU, margin float64) {
	t.Helper()
	m := e.lastGraph.moe
	c := e.p.Config
	if c.TopK == c.NExperts {
		return
	}
	for l, n := range m.logits {
		lg := n.Value().Data().([]float64)
		for i, real := range m.mask {
			if !real {
				continue
			}
			row := append([]float64(nil), lg[i*c.NExperts:(i+1)*c.NExperts]...)
			// sort descending
			for a := range row {
				for b := a + 1; b < len(row); b++ {
					if row[b] > row[a] {
						row[a], row[b] = row[b], row[a]
					}
				}
			}
			if gap := row[c.TopK-1] - row[c.TopK]; gap < margin {
				t.Fatalf("layer %d token %d: routing margin %g", l, i, gap)
			}
		}
	}
}

// An MoE model trains through the engine (the log-likelihood of fixed
// sequences rises), reports its router losses and utilisation, and two
// runs from the same seed end bit-identical.
func TestMoETrainsDeterministically(t *testing.T) {
	c := moeTestConfig()
	c.DModel, c.Context, c.AuxLossCoef, c.ZLossCoef = 32, 32, 0.01, 0.001
	rng := rand.New(rand.NewPCG(11, 12))
	seqs := randomSeqs(rng, 4, c.Context, 64)
	train := func() (*Params, []float64, *core.Forward) {
		p, err := Init(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		opt := optim.DefaultConfig()
		opt.LR = 1e-2
		e, err := NewCPU(p, CPUOptions{Optim: opt})
		if err != nil {
			t.Fatal(err)
		}
		var curve []float64
		var last *core.Forward
		for step := 0; step < 15; step++ {
			f, err := e.LogProbs(seqs, core.ForwardOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			var n int
			dlogp := make([][]float64, len(seqs))
			for i := range f.LogP {
				for _, v := range f.LogP[i] {
					sum += v
					n++
				}
			}
			for i := range f.LogP {
				for range f.LogP[i] {
					dlogp[i] = append(dlogp[i], -1/float64(n))
				}
			}
			curve = append(curve, -sum/float64(n))
			if err := e.Backward(dlogp, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Step(); err != nil {
				t.Fatal(err)
			}
			last = f
		}
		return p, curve, last
	}
	p1, curve, f := train()
	if !(curve[len(curve)-1] < curve[0]-0.5) {
		t.Fatalf("NLL did not fall: %v", curve)
	}
	for _, k := range []string{LossBalance, LossZ} {
		if v, ok := f.Losses[k]; !ok || !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("loss %s = %v (present %v)", k, v, ok)
		}
	}
	for l := 0; l < c.NLayer; l++ {
		var s float64
		for e := 0; e < c.NExperts; e++ {
			s += f.Metrics[MetricFrac(l, e)]
		}
		if math.Abs(s-1) > 1e-12 {
			t.Errorf("layer %d: expert fractions sum to %v", l, s)
		}
	}
	if b := f.Metrics[MetricBalance]; b < 1-1e-9 || b > float64(c.NExperts) {
		t.Errorf("balance loss %v outside [1, E]", b)
	}
	if u := f.Metrics[MetricUtilEntropy]; !(u > 0 && u <= 1+1e-12) {
		t.Errorf("utilisation entropy %v", u)
	}
	p2, curve2, _ := train()
	for i, ts := range p1.All() {
		for j, v := range ts.Data {
			if v != p2.All()[i].Data[j] {
				t.Fatalf("%s[%d] differs between identical runs: %v vs %v", ts.Name, j, v, p2.All()[i].Data[j])
			}
		}
	}
	for i := range curve {
		if curve[i] != curve2[i] {
			t.Fatalf("step %d NLL differs: %v vs %v", i, curve[i], curve2[i])
		}
	}
	t.Logf("NLL %.4f → %.4f; metrics: balance %.4f, util entropy %.4f", curve[0], curve[len(curve)-1], f.Metrics[MetricBalance], f.Metrics[MetricUtilEntropy])
}

// Graphs without a value head and engines of dense models report no
// router losses.
func TestDenseForwardHasNoRouterStats(t *testing.T) {
	p := perturbed(t, testConfig(), 1)
	e, err := NewCPU(p, CPUOptions{Optim: optim.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.LogProbs([]Sequence{{Tokens: []int{tokenizer.BOS, 'a', 'b'}, Start: 1}}, core.ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.Backward(nil, nil)
	if f.Losses != nil || f.Metrics != nil {
		t.Fatalf("dense forward has losses %v metrics %v", f.Losses, f.Metrics)
	}
	gr, err := NewGraph(p, 1, 4, G.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if gr.RouterLoss() != nil {
		t.Fatal("dense graph has a router loss")
	}
}

// A graph whose loss leaves the router losses out (a caller of NewGraph
// with its own objective) still compiles and runs, and matches Logits.
func TestMoEGraphWithoutRouterLoss(t *testing.T) {
	c := moeTestConfig()
	p := moePerturbed(t, c, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	seqs := randomSeqs(rng, 3, c.Context, 256)
	gr, err := NewGraph(p, 4, c.Context, G.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if gr.RouterLoss() == nil {
		t.Fatal("MoE graph has no router loss")
	}
	compileSum(t, gr, nil)
	checkGraphMatchesForward(t, p, gr, seqs)
	if _, m := gr.RouterStats(); m[MetricBalance] < 1-1e-9 {
		t.Fatalf("router stats %v", m)
	}
}
