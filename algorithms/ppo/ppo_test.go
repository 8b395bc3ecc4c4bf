package ppo_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/ppo"
)

func TestTokenRewards(t *testing.T) {
	old := [][]float64{{-1, -2}}
	ref := [][]float64{{-1.5, -2}}
	r := ppo.TokenRewards(old, ref, []float64{3}, 0.1, "k1")
	// k1 = 0.5 at t=0, 0 at t=1; score at the last token
	if msg := algotest.Close(r, [][]float64{{-0.05, 3}}, 1e-15, 0); msg != "" {
		t.Error(msg)
	}
	r = ppo.TokenRewards(old, ref, []float64{3}, 1, "k3")
	if math.Abs(r[0][0] - -0.106531) > 5e-7 {
		t.Errorf("k3 reward %v, want −0.106531", r[0][0])
	}
}

// TestLossHand: the GAE case above as a loss, β = 0, no whitening, ρ = 1,
// V = V_old: L_π = −mean Â = −0.60625, L_V = ½·mean((0.5−0.9625)², (0.25−1)²)
// = 0.1941015625, L = L_π + 0.1·L_V.
func TestLossHand(t *testing.T) {
	in := ppo.Input{LogP: [][]float64{{-1, -2}}, RefLogP: [][]float64{{-1, -2}}, Values: [][]float64{{0.5, 0.25}}, Scores: []float64{1}}
	p := ppo.DefaultParams()
	p.Beta, p.Whiten = 0, false
	res, err := ppo.Loss(in, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := -0.60625 + 0.1*0.1941015625; math.Abs(res.Loss-want) > 1e-15 {
		t.Errorf("loss %.15g, want %.15g", res.Loss, want)
	}
	if c := res.Components; math.Abs(c["policy"] - -0.60625) > 1e-15 || math.Abs(c["value"]-0.1941015625) > 1e-15 {
		t.Errorf("components %v", c)
	}
}

func randInput(r *rand.Rand, b int) ppo.Input {
	lp := algotest.RandSeqs(r, b, 1, 7, -3, -0.1)
	vals := algotest.RandSeqs(r, b, 1, 1, -1, 1)
	for i := range vals {
		vals[i] = make([]float64, len(lp[i]))
		for t := range vals[i] {
			vals[i][t] = 2*r.Float64() - 1
		}
	}
	scores := make([]float64, b)
	for i := range scores {
		scores[i] = r.NormFloat64()
	}
	return ppo.Input{
		LogP: lp, OldLogP: algotest.Jitter(r, lp, 0.4), RefLogP: algotest.Jitter(r, lp, 0.5),
		Values: vals, OldValues: algotest.Jitter(r, vals, 0.5), Scores: scores,
	}
}

// TestFiniteDifferences checks dL/dℓ and dL/dV; the clipped branches are
// exercised (asserted through the clip fractions).
func TestFiniteDifferences(t *testing.T) {
	r := algotest.NewRand(41)
	for _, set := range []func(*ppo.Params, *ppo.Input){
		func(*ppo.Params, *ppo.Input) {},
		func(p *ppo.Params, _ *ppo.Input) { p.KL, p.Beta = "k3", 0.3 },
		func(p *ppo.Params, _ *ppo.Input) { p.Whiten, p.VFCoef, p.Gamma, p.Lambda = false, 1, 0.9, 0.5 },
	} {
		p := ppo.DefaultParams()
		in := randInput(r, 5)
		set(&p, &in)
		res, err := ppo.Loss(in, p)
		if err != nil {
			t.Fatal(err)
		}
		if res.Components["clip_fraction"] == 0 || res.Components["value_clip_fraction"] == 0 {
			t.Errorf("%+v: clip fractions %v / %v: clipped branches not exercised", p,
				res.Components["clip_fraction"], res.Components["value_clip_fraction"])
		}
		f := func() float64 {
			res, err := ppo.Loss(in, p)
			if err != nil {
				t.Fatal(err)
			}
			return res.Loss
		}
		if msg := algotest.Close(res.Grad.LogP, algotest.NumGrad(f, in.LogP, 1e-6), 1e-8, 1e-6); msg != "" {
			t.Errorf("%+v logp: %s", p, msg)
		}
		if msg := algotest.Close(res.Grad.Values, algotest.NumGrad(f, in.Values, 1e-6), 1e-8, 1e-6); msg != "" {
			t.Errorf("%+v values: %s", p, msg)
		}
	}
}

// TestAdvantagesAreConstants: advantages and returns depend on the old
// log-probs and old values only, never on what is differentiated.
func TestAdvantagesAreConstants(t *testing.T) {
	r := algotest.NewRand(42)
	in := randInput(r, 4)
	p := ppo.DefaultParams()
	a, _ := ppo.Loss(in, p)
	in2 := in
	in2.LogP = algotest.Jitter(r, in.LogP, 0.3)
	in2.Values = algotest.Jitter(r, in.Values, 0.3)
	b, _ := ppo.Loss(in2, p)
	if msg := algotest.Close(b.Advantages, a.Advantages, 0, 0); msg != "" {
		t.Errorf("advantages moved with logp/values: %s", msg)
	}
	if msg := algotest.Close(b.Returns, a.Returns, 0, 0); msg != "" {
		t.Errorf("returns moved with logp/values: %s", msg)
	}
	// whitened advantages: mean 0, Bessel variance ≈ 1
	var n, s, ss float64
	for _, row := range a.Advantages {
		for _, x := range row {
			n, s, ss = n+1, s+x, ss+x*x
		}
	}
	if math.Abs(s/n) > 1e-12 || math.Abs((ss-s*s/n)/(n-1)-1) > 1e-6 {
		t.Errorf("whitened mean %v, variance %v", s/n, (ss-s*s/n)/(n-1))
	}
}

func TestErrors(t *testing.T) {
	ok := ppo.Input{LogP: [][]float64{{-1, -1}}, RefLogP: [][]float64{{-1, -1}}, Values: [][]float64{{0, 0}}, Scores: []float64{1}}
	tests := []struct {
		name string
		in   ppo.Input
		set  func(*ppo.Params)
		want string
	}{
		{"empty", ppo.Input{}, nil, "logp is empty"},
		{"scores", ppo.Input{LogP: ok.LogP, RefLogP: ok.RefLogP, Values: ok.Values}, nil, "scores has 0 entries"},
		{"no ref", ppo.Input{LogP: ok.LogP, Values: ok.Values, Scores: ok.Scores}, nil, "ref_logp is missing"},
		{"no values", ppo.Input{LogP: ok.LogP, RefLogP: ok.RefLogP, Scores: ok.Scores}, nil, "values is missing"},
		{"ragged", ppo.Input{LogP: ok.LogP, RefLogP: ok.RefLogP, Values: [][]float64{{0}}, Scores: ok.Scores}, nil, "values[0] has 1 tokens but logp[0] has 2"},
		{"one token whitened", ppo.Input{LogP: [][]float64{{-1}}, RefLogP: [][]float64{{-1}}, Values: [][]float64{{0}}, Scores: ok.Scores}, nil, "whitening needs ≥ 2 tokens"},
		{"kl", ok, func(p *ppo.Params) { p.KL = "k4" }, `kl = "k4"`},
		{"gamma", ok, func(p *ppo.Params) { p.Gamma = 1.5 }, "gamma = 1.5"},
		{"clip", ok, func(p *ppo.Params) { p.ClipEps = -0.1 }, "clip_eps = -0.1"},
	}
	for _, tc := range tests {
		p := ppo.DefaultParams()
		if tc.set != nil {
			tc.set(&p)
		}
		_, err := ppo.Loss(tc.in, p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want mention of %q", tc.name, err, tc.want)
		}
	}
}
