package grpo_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/grpo"
	"github.com/grao-lab/grao/algorithms/kit"
)

func randInput(r *rand.Rand, b int) grpo.Input {
	lp := algotest.RandSeqs(r, b, 1, 6, -3, -0.1)
	rewards := make([]float64, b)
	for i := range rewards {
		rewards[i] = float64(r.IntN(3)) - 1 + 0.1*r.Float64()
	}
	return grpo.Input{
		LogP:    lp,
		OldLogP: algotest.Jitter(r, lp, 0.45), // ratios 0.64–1.57: many tokens clipped
		RefLogP: algotest.Jitter(r, lp, 0.6),
		Rewards: rewards,
	}
}

func TestFiniteDifferences(t *testing.T) {
	r := algotest.NewRand(11)
	configs := []struct {
		name string
		set  func(*grpo.Params, *grpo.Input)
	}{
		{"default seq_mean", func(*grpo.Params, *grpo.Input) {}},
		{"token_mean asym", func(p *grpo.Params, _ *grpo.Input) {
			p.Aggregation, p.ClipLow, p.ClipHigh, p.KLBeta = "token_mean", 0.1, 0.28, 0.3
		}},
		{"constant", func(p *grpo.Params, _ *grpo.Input) { p.Aggregation, p.MaxLen = "constant", 9 }},
		{"population batch", func(p *grpo.Params, _ *grpo.Input) { p.Std, p.Scale = "population", "batch" }},
		{"no old logp", func(p *grpo.Params, in *grpo.Input) { in.OldLogP = nil; p.KLBeta = 0.5 }},
		{"no KL, no ref", func(p *grpo.Params, in *grpo.Input) { in.RefLogP = nil; p.KLBeta = 0 }},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			p := grpo.DefaultParams()
			p.G = 4
			in := randInput(r, 8)
			c.set(&p, &in)
			res, err := grpo.Loss(in, p)
			if err != nil {
				t.Fatal(err)
			}
			f := func() float64 {
				cp := in
				if in.OldLogP == nil {
					// μ = 1: old = sg(current) is pinned at the point of
					// evaluation, so the finite difference must hold it fixed.
					cp.OldLogP = frozen
				}
				res, err := grpo.Loss(cp, p)
				if err != nil {
					t.Fatal(err)
				}
				return res.Loss
			}
			frozen = clone(in.LogP)
			num := algotest.NumGrad(f, in.LogP, 1e-6)
			if msg := algotest.Close(res.Grad.LogP, num, 1e-8, 1e-6); msg != "" {
				t.Error(msg)
			}
			if c.name == "default seq_mean" && res.Components["clip_fraction"] == 0 {
				t.Error("no token clipped: the test does not exercise the clipped branch")
			}
		})
	}
}

var frozen [][]float64

func clone(x [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i := range x {
		out[i] = append([]float64(nil), x[i]...)
	}
	return out
}

func TestLossDecomposition(t *testing.T) {
	r := algotest.NewRand(12)
	in := randInput(r, 8)
	p := grpo.DefaultParams()
	p.G, p.KLBeta = 4, 0.3
	res, err := grpo.Loss(in, p)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Components
	if d := res.Loss - (c["surrogate"] + p.KLBeta*c["kl"]); math.Abs(d) > 1e-12 {
		t.Errorf("loss − (surrogate + β·kl) = %v", d)
	}
	if c["kl"] <= 0 {
		t.Errorf("k3 KL = %v, want > 0", c["kl"])
	}
}

// TestRewardShiftInvariance: adding a constant to all rewards leaves the
// advantages and the loss unchanged (every scale mode).
func TestRewardShiftInvariance(t *testing.T) {
	r := algotest.NewRand(13)
	in := randInput(r, 8)
	for _, scale := range []kit.Scale{kit.ScaleGroup, kit.ScaleBatch, kit.ScaleNone} {
		p := grpo.DefaultParams()
		p.G, p.Scale = 4, scale
		base, err := grpo.Loss(in, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []float64{-5, 0.25, 100} {
			sh := in
			sh.Rewards = make([]float64, len(in.Rewards))
			for i, x := range in.Rewards {
				sh.Rewards[i] = x + c
			}
			res, err := grpo.Loss(sh, p)
			if err != nil {
				t.Fatal(err)
			}
			for i := range base.Advantages {
				if math.Abs(res.Advantages[i]-base.Advantages[i]) > 1e-9 {
					t.Errorf("%s shift %v: Â[%d] = %v, want %v", scale, c, i, res.Advantages[i], base.Advantages[i])
				}
			}
			if math.Abs(res.Loss-base.Loss) > 1e-9 {
				t.Errorf("%s shift %v: loss %v, want %v", scale, c, res.Loss, base.Loss)
			}
		}
	}
}

// TestAggregations checks the three denominators on a hand-sized case: two
// sequences of 1 and 3 tokens, ratio 1, Dr. GRPO advantages ±0.5, so the
// per-token loss is −Â = ∓0.5.
func TestAggregations(t *testing.T) {
	in := grpo.Input{LogP: [][]float64{{-1}, {-1, -1, -1}}, Rewards: []float64{1, 0}}
	p := grpo.DefaultParams()
	p.G, p.KLBeta, p.Scale = 2, 0, "none" // Â = ±0.5, per-token loss ∓0.5
	for _, tc := range []struct {
		agg  kit.Aggregation
		want float64
	}{
		{"seq_mean", (-0.5 + 0.5) / 2},         // mean of per-sequence means
		{"token_mean", (-0.5 + 3*0.5) / 4},     // sum / 4 tokens
		{"constant", (-0.5 + 3*0.5) / (2 * 5)}, // sum / (B·max_len)
	} {
		q := p
		q.Aggregation, q.MaxLen = tc.agg, 5
		res, err := grpo.Loss(in, q)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.Loss-tc.want) > 1e-15 {
			t.Errorf("%s: loss %v, want %v", tc.agg, res.Loss, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	ok := grpo.Input{LogP: [][]float64{{-1}, {-1}}, RefLogP: [][]float64{{-1}, {-1}}, Rewards: []float64{1, 0}}
	tests := []struct {
		name string
		in   grpo.Input
		set  func(*grpo.Params)
		want string
	}{
		{"empty", grpo.Input{}, nil, "logp is empty"},
		{"rewards", grpo.Input{LogP: ok.LogP, Rewards: []float64{1}}, nil, "rewards has 1 entries"},
		{"groups", ok, func(p *grpo.Params) { p.G = 3 }, "groups of g = 3"},
		{"no ref", grpo.Input{LogP: ok.LogP, Rewards: ok.Rewards}, func(p *grpo.Params) { p.KLBeta = 0.04 }, "needs ref_logp"},
		{"no ref without KL is fine", grpo.Input{LogP: ok.LogP, Rewards: ok.Rewards}, nil, ""},
		{"std_floor", ok, func(p *grpo.Params) { p.StdFloor = -1 }, "std_floor"},
		{"ragged old", grpo.Input{LogP: ok.LogP, OldLogP: [][]float64{{-1}, {}}, RefLogP: ok.RefLogP, Rewards: ok.Rewards}, nil, "old_logp[1] has 0 tokens"},
		{"empty seq", grpo.Input{LogP: [][]float64{{-1}, {}}, RefLogP: ok.RefLogP, Rewards: ok.Rewards}, nil, "logp[1] is empty"},
		{"inf", grpo.Input{LogP: [][]float64{{-1}, {math.Inf(-1)}}, RefLogP: ok.RefLogP, Rewards: ok.Rewards}, nil, "logp[1][0] = -Inf"},
		{"bessel g1", ok, func(p *grpo.Params) { p.G = 1 }, `"bessel" needs g ≥ 2`},
		{"aggregation", ok, func(p *grpo.Params) { p.Aggregation = "sum" }, `aggregation = "sum"`},
		{"max_len", ok, func(p *grpo.Params) { p.Aggregation = "constant" }, "needs max_len"},
		{"max_len = length is fine", ok, func(p *grpo.Params) { p.Aggregation, p.MaxLen = "constant", 1 }, ""},
		{"longer than max_len", grpo.Input{LogP: [][]float64{{-1}, {-1, -1}}, RefLogP: [][]float64{{-1}, {-1, -1}}, Rewards: ok.Rewards},
			func(p *grpo.Params) { p.Aggregation, p.MaxLen = "constant", 1 }, "more than max_len = 1"},
		{"scale", ok, func(p *grpo.Params) { p.Scale = "std" }, `scale = "std"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := grpo.DefaultParams()
			p.G = 2
			if tc.set != nil {
				tc.set(&p)
			}
			_, err := grpo.Loss(tc.in, p)
			if tc.want == "" {
				if err != nil {
					t.Errorf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}
