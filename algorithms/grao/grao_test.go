package grao_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/grao"
)

func randInput(r *rand.Rand, prompts, g int, rewards func() float64) grao.Input {
	in := grao.Input{}
	for range prompts {
		pr := grao.Prompt{
			Samples:   algotest.RandSeqs(r, g, 1, 7, -4, -0.05),
			Reference: algotest.RandSeqs(r, 1, 1, 7, -4, -0.05)[0],
		}
		for range g {
			pr.Rewards = append(pr.Rewards, rewards())
		}
		in.Prompts = append(in.Prompts, pr)
	}
	return in
}

func judge(r *rand.Rand) func() float64 {
	return func() float64 { return float64(r.IntN(3) - 1) }
}

func mustLoss(t *testing.T, in grao.Input, p grao.Params) grao.Result {
	t.Helper()
	res, err := grao.Loss(in, p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCheckValue: the hand-computed case, 8 samples all at −1 with y in the group.
func TestCheckValue(t *testing.T) {
	rewards := []float64{-1, -1, -1, -1, -1, -1, -1, -1}
	ao, ay, zero, err := grao.Advantages(rewards, 0, grao.GroupSamplesReference, 1e-6, 0)
	if err != nil || zero {
		t.Fatal(err, zero)
	}
	for i, a := range ao {
		if math.Abs(a - -0.354) > 5e-4 {
			t.Errorf("Â_o[%d] = %v, want −0.354", i, a)
		}
	}
	if math.Abs(ay-2.83) > 5e-3 {
		t.Errorf("Â_y = %v, want +2.83", ay)
	}
	// exact values: −1/√8 and √8 up to ε
	if math.Abs(ao[0]+1/math.Sqrt(8)) > 1e-5 || math.Abs(ay-math.Sqrt(8)) > 1e-4 {
		t.Errorf("Â = %v, %v; want −1/√8, √8", ao[0], ay)
	}
}

func TestAdvantagesTable(t *testing.T) {
	tests := []struct {
		name    string
		rewards []float64
		ref     float64
		group   string
		wantO   []float64
		wantY   float64
		zero    bool
	}{
		// samples: μ = 0, σ = 1 ⇒ Â = R, Â_y = 0
		{"samples symmetric", []float64{1, -1}, 0, grao.GroupSamples, []float64{1, -1}, 0, false},
		// samples: all lose, σ = 0 ⇒ everything 0 (documented rule; −μ/ε would be 1e6)
		{"samples all equal", []float64{-1, -1, -1}, 0, grao.GroupSamples, []float64{0, 0, 0}, 0, true},
		// with y: all ties including y ⇒ zero variance
		{"with ref all ties", []float64{0, 0}, 0, grao.GroupSamplesReference, []float64{0, 0}, 0, true},
		// with y: {1, 0}: μ = .5, σ = .5 ⇒ ±1
		{"with ref one win", []float64{1}, 0, grao.GroupSamplesReference, []float64{1}, -1, false},
		// tie value 0.5 ({1, 0.5}: same shape shifted)
		{"ref reward", []float64{1}, 0.5, grao.GroupSamplesReference, []float64{1}, -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ao, ay, zero, err := grao.Advantages(tc.rewards, tc.ref, tc.group, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if zero != tc.zero {
				t.Errorf("zero variance = %v, want %v", zero, tc.zero)
			}
			for i := range ao {
				if math.Abs(ao[i]-tc.wantO[i]) > 1e-12 {
					t.Errorf("Â_o[%d] = %v, want %v", i, ao[i], tc.wantO[i])
				}
			}
			if math.Abs(ay-tc.wantY) > 1e-12 {
				t.Errorf("Â_y = %v, want %v", ay, tc.wantY)
			}
		})
	}
}

// TestIdentity checks the algebra of the package doc on random data, both
// group modes: samples-only J = (1+λ)(1/G)ΣÂ_o J_exp + β Â_y J_imit; with y
// in the group J = (1+λ)(1/G)ΣÂ_o J_exp + (β + λ/G) Â_y J_imit.
func TestIdentity(t *testing.T) {
	r := algotest.NewRand(1)
	for _, group := range []string{grao.GroupSamples, grao.GroupSamplesReference} {
		for trial := range 20 {
			g := 2 + r.IntN(7)
			in := randInput(r, 1+r.IntN(3), g, func() float64 { return r.NormFloat64() })
			p := grao.DefaultParams()
			p.Group = group
			p.Beta, p.Lambda = 2*r.Float64(), 2*r.Float64()
			res := mustLoss(t, in, p)
			var J float64
			for k, pr := range in.Prompts {
				adv := res.Advantages[k]
				var s float64
				for i, seq := range pr.Samples {
					s += adv.Samples[i] * mean(seq)
				}
				G := float64(len(pr.Samples))
				coefY := p.Beta
				if group == grao.GroupSamplesReference {
					coefY += p.Lambda / G
				}
				J += (1+p.Lambda)*s/G + coefY*adv.Reference*mean(pr.Reference)
			}
			J /= float64(len(in.Prompts))
			if math.Abs(-J-res.Loss) > 1e-12*(1+math.Abs(J)) {
				t.Errorf("%s trial %d: identity gives L = %.15g, Eq. 3 gives %.15g", group, trial, -J, res.Loss)
			}
		}
	}
}

func mean(s []float64) float64 {
	var sum float64
	for _, x := range s {
		sum += x
	}
	return sum / float64(len(s))
}

// TestFiniteDifferences compares the gradient with central differences for
// every sample token and every reference token.
func TestFiniteDifferences(t *testing.T) {
	r := algotest.NewRand(2)
	configs := []func(*grao.Params){
		func(p *grao.Params) {},
		func(p *grao.Params) { p.Group = grao.GroupSamples },
		func(p *grao.Params) { p.Beta, p.Lambda = 0.1, 1.5 },
		func(p *grao.Params) { p.NoImitation = true },
		func(p *grao.Params) { p.NoExploration = true },
		func(p *grao.Params) { p.NoRegulariser = true; p.Group = grao.GroupSamples },
	}
	for ci, cfg := range configs {
		p := grao.DefaultParams()
		cfg(&p)
		in := randInput(r, 3, 4, judge(r))
		res := mustLoss(t, in, p)
		f := func() float64 { return mustLoss(t, in, p).Loss }
		for k := range in.Prompts {
			num := algotest.NumGrad(f, in.Prompts[k].Samples, 1e-6)
			if msg := algotest.Close(res.Grad.Prompts[k].Samples, num, 1e-8, 1e-6); msg != "" {
				t.Errorf("config %d prompt %d samples: %s", ci, k, msg)
			}
			ref := [][]float64{in.Prompts[k].Reference}
			num = algotest.NumGrad(f, ref, 1e-6)
			if msg := algotest.Close([][]float64{res.Grad.Prompts[k].Reference}, num, 1e-8, 1e-6); msg != "" {
				t.Errorf("config %d prompt %d reference: %s", ci, k, msg)
			}
		}
	}
}

// TestComponentsSumAndAblations: the components sum to the loss, and each
// switch zeroes exactly its component while leaving the others unchanged.
func TestComponentsSumAndAblations(t *testing.T) {
	r := algotest.NewRand(3)
	in := randInput(r, 4, 6, judge(r))
	for _, group := range []string{grao.GroupSamples, grao.GroupSamplesReference} {
		p := grao.DefaultParams()
		p.Group = group
		full := mustLoss(t, in, p)
		c := full.Components
		if sum := c["exploration"] + c["imitation"] + c["regulariser"]; math.Abs(sum-full.Loss) > 1e-12 {
			t.Errorf("%s: components sum to %v, loss %v", group, sum, full.Loss)
		}
		for _, ab := range []struct {
			comp string
			set  func(*grao.Params)
		}{
			{"imitation", func(p *grao.Params) { p.NoImitation = true }},
			{"exploration", func(p *grao.Params) { p.NoExploration = true }},
			{"regulariser", func(p *grao.Params) { p.NoRegulariser = true }},
		} {
			q := p
			ab.set(&q)
			res := mustLoss(t, in, q)
			if c[ab.comp] == 0 {
				t.Fatalf("%s: full %s is 0, the test cannot see the switch", group, ab.comp)
			}
			for name, v := range res.Components {
				switch {
				case name == ab.comp && v != 0:
					t.Errorf("%s: no_%s leaves %s = %v", group, ab.comp, name, v)
				case name != ab.comp && v != c[name]:
					t.Errorf("%s: no_%s changes %s from %v to %v", group, ab.comp, name, c[name], v)
				}
			}
			if want := full.Loss - c[ab.comp]; math.Abs(res.Loss-want) > 1e-12 {
				t.Errorf("%s: no_%s loss %v, want %v", group, ab.comp, res.Loss, want)
			}
		}
	}
}

// TestRewardShiftInvariance: adding a constant to every reward (R(y,y)
// included) leaves advantages and loss unchanged; in "samples" mode the
// sample advantages do not even depend on R(y,y).
func TestRewardShiftInvariance(t *testing.T) {
	r := algotest.NewRand(4)
	in := randInput(r, 3, 5, func() float64 { return r.NormFloat64() })
	for _, group := range []string{grao.GroupSamples, grao.GroupSamplesReference} {
		p := grao.DefaultParams()
		p.Group = group
		base := mustLoss(t, in, p)
		for _, c := range []float64{-3, 0.5, 10} {
			shifted := shiftRewards(in, c)
			q := p
			q.RefReward += c
			res := mustLoss(t, shifted, q)
			if math.Abs(res.Loss-base.Loss) > 1e-9*(1+math.Abs(base.Loss)) {
				t.Errorf("%s shift %v: loss %v, want %v", group, c, res.Loss, base.Loss)
			}
			for k := range base.Advantages {
				for i, a := range base.Advantages[k].Samples {
					if math.Abs(res.Advantages[k].Samples[i]-a) > 1e-9 {
						t.Errorf("%s shift %v: Â_o[%d][%d] = %v, want %v", group, c, k, i, res.Advantages[k].Samples[i], a)
					}
				}
				if d := math.Abs(res.Advantages[k].Reference - base.Advantages[k].Reference); d > 1e-9 {
					t.Errorf("%s shift %v: Â_y[%d] moved by %v", group, c, k, d)
				}
			}
		}
	}
}

func shiftRewards(in grao.Input, c float64) grao.Input {
	out := grao.Input{}
	for _, pr := range in.Prompts {
		q := pr
		q.Rewards = make([]float64, len(pr.Rewards))
		for i, x := range pr.Rewards {
			q.Rewards[i] = x + c
		}
		out.Prompts = append(out.Prompts, q)
	}
	return out
}

func TestZeroVarianceCount(t *testing.T) {
	in := grao.Input{Prompts: []grao.Prompt{
		{Samples: [][]float64{{-1}, {-2}}, Reference: []float64{-1}, Rewards: []float64{0, 0}},
		{Samples: [][]float64{{-1}, {-2}}, Reference: []float64{-1}, Rewards: []float64{1, 0}},
		{Samples: [][]float64{{-1}, {-2}}, Reference: []float64{-1}, Rewards: []float64{-1, -1}},
	}}
	for _, tc := range []struct {
		group string
		want  float64
	}{{grao.GroupSamplesReference, 1}, {grao.GroupSamples, 2}} {
		p := grao.DefaultParams()
		p.Group = tc.group
		res := mustLoss(t, in, p)
		if got := res.Components["zero_variance_groups"]; got != tc.want {
			t.Errorf("%s: zero_variance_groups = %v, want %v", tc.group, got, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	good := grao.Prompt{Samples: [][]float64{{-1}}, Reference: []float64{-1}, Rewards: []float64{1}}
	tests := []struct {
		name string
		in   grao.Input
		p    func(*grao.Params)
		want string
	}{
		{"no prompts", grao.Input{}, nil, "prompts is empty"},
		{"no samples", grao.Input{Prompts: []grao.Prompt{{Reference: []float64{-1}}}}, nil, "prompts[0].samples is empty"},
		{"rewards count", grao.Input{Prompts: []grao.Prompt{good, {Samples: [][]float64{{-1}}, Reference: []float64{-1}}}}, nil, "prompts[1].rewards has 0 entries"},
		{"empty sample", grao.Input{Prompts: []grao.Prompt{{Samples: [][]float64{{}}, Reference: []float64{-1}, Rewards: []float64{0}}}}, nil, "prompts[0].samples[0] is empty"},
		{"empty reference", grao.Input{Prompts: []grao.Prompt{{Samples: [][]float64{{-1}}, Rewards: []float64{0}}}}, nil, "prompts[0].reference is empty"},
		{"NaN", grao.Input{Prompts: []grao.Prompt{{Samples: [][]float64{{math.NaN()}}, Reference: []float64{-1}, Rewards: []float64{0}}}}, nil, "samples[0][0] = NaN"},
		{"group", grao.Input{Prompts: []grao.Prompt{good}}, func(p *grao.Params) { p.Group = "both" }, `group = "both"`},
		{"eps", grao.Input{Prompts: []grao.Prompt{good}}, func(p *grao.Params) { p.Eps = -1 }, "eps = -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := grao.DefaultParams()
			if tc.p != nil {
				tc.p(&p)
			}
			_, err := grao.Loss(tc.in, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

// Example: one prompt, two samples — one beats the reference y, one ties it.
// With y in the group the rewards {+1, 0, R(y,y)=0} give Â = (√2, −1/√2)
// and Â_y = −1/√2: y is imitated less because a sample beat it.
func ExampleLoss() {
	in := grao.Input{Prompts: []grao.Prompt{{
		Samples:   [][]float64{{-0.5, -0.5}, {-2, -2, -2}},
		Reference: []float64{-1, -2},
		Rewards:   []float64{+1, 0},
	}}}
	res, err := grao.Loss(in, grao.DefaultParams())
	if err != nil {
		panic(err)
	}
	fmt.Printf("Â_o = %.3f, Â_y = %.3f\n", res.Advantages[0].Samples, res.Advantages[0].Reference)
	fmt.Printf("loss %.4f = exploration %.4f + imitation %.4f + regulariser %.4f\n", res.Loss,
		res.Components["exploration"], res.Components["imitation"], res.Components["regulariser"])
	// Output:
	// Â_o = [1.414 -0.707], Â_y = -0.707
	// loss -1.4142 = exploration -0.3536 + imitation -0.5303 + regulariser -0.5303
}
