package dpo_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/dpo"
)

// checkInput is the hand-checked pair: ℓθ(y) = −10, ℓθ(y⁻) = −12,
// ℓref(y) = −10.5, ℓref(y⁻) = −11.5 (split over tokens: sums matter).
func checkInput() dpo.Input {
	return dpo.Input{
		PolicyChosen: [][]float64{{-4, -6}}, PolicyRejected: [][]float64{{-12}},
		RefChosen: [][]float64{{-10, -0.5}}, RefRejected: [][]float64{{-11.5}},
	}
}

func TestCheckValues(t *testing.T) {
	tests := []struct {
		name string
		p    dpo.Params
		want float64
	}{
		{"sigmoid", dpo.Params{Beta: 0.1, LossType: "sigmoid"}, 0.644397},
		{"cDPO eps 0.1", dpo.Params{Beta: 0.1, LossType: "sigmoid", LabelSmoothing: 0.1}, 0.654397},
	}
	for _, tc := range tests {
		res, err := dpo.Loss(checkInput(), tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.Loss-tc.want) > 5e-7 {
			t.Errorf("%s: loss %.7f, want %v", tc.name, res.Loss, tc.want)
		}
		if m := res.Components["rewards_margin"]; math.Abs(m-0.1) > 1e-12 {
			t.Errorf("%s: margin βΔ = %v, want 0.1", tc.name, m)
		}
	}
}

// TestIPOHand: per-token means. Chosen mean −1 vs ref −1.5 (h̄_w = 0.5),
// rejected mean −2 vs ref −2 (h̄_l = 0), β = 0.5 ⇒ (0.5 − 1)² = 0.25.
func TestIPOHand(t *testing.T) {
	in := dpo.Input{
		PolicyChosen: [][]float64{{-0.5, -1.5}}, RefChosen: [][]float64{{-1, -2}},
		PolicyRejected: [][]float64{{-2, -2, -2}}, RefRejected: [][]float64{{-1, -3, -2}},
	}
	res, err := dpo.Loss(in, dpo.Params{Beta: 0.5, LossType: "ipo"})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Loss-0.25) > 1e-15 {
		t.Errorf("loss %v, want 0.25", res.Loss)
	}
	// dL/dℓ_chosen = 2(0.5−1)/2 per token, rejected −2(0.5−1)/3
	if g := res.Grad.PolicyChosen[0][0]; math.Abs(g - -0.5) > 1e-15 {
		t.Errorf("chosen grad %v, want −0.5", g)
	}
	if g := res.Grad.PolicyRejected[0][2]; math.Abs(g-1.0/3) > 1e-15 {
		t.Errorf("rejected grad %v, want 1/3", g)
	}
}

func TestFiniteDifferences(t *testing.T) {
	r := algotest.NewRand(31)
	for _, p := range []dpo.Params{
		{Beta: 0.1, LossType: "sigmoid"},
		{Beta: 0.7, LossType: "sigmoid", LabelSmoothing: 0.3},
		{Beta: 0.1, LossType: "ipo"},
		{Beta: 2, LossType: "ipo"},
	} {
		pc := algotest.RandSeqs(r, 4, 1, 6, -4, -0.1)
		pr := algotest.RandSeqs(r, 4, 1, 6, -4, -0.1)
		in := dpo.Input{PolicyChosen: pc, PolicyRejected: pr,
			RefChosen: algotest.Jitter(r, pc, 1), RefRejected: algotest.Jitter(r, pr, 1)}
		res, err := dpo.Loss(in, p)
		if err != nil {
			t.Fatal(err)
		}
		f := func() float64 { r, _ := dpo.Loss(in, p); return r.Loss }
		for _, x := range []struct {
			name       string
			vals, grad [][]float64
		}{{"chosen", in.PolicyChosen, res.Grad.PolicyChosen}, {"rejected", in.PolicyRejected, res.Grad.PolicyRejected}} {
			num := algotest.NumGrad(f, x.vals, 1e-6)
			if msg := algotest.Close(x.grad, num, 1e-9, 1e-6); msg != "" {
				t.Errorf("%+v %s: %s", p, x.name, msg)
			}
		}
	}
}

// TestExtremeMargins: |βΔ| = 1000 must not overflow (log σ computed stably).
func TestExtremeMargins(t *testing.T) {
	for _, d := range []float64{-10000, 10000} {
		in := dpo.Input{PolicyChosen: [][]float64{{d}}, PolicyRejected: [][]float64{{0}},
			RefChosen: [][]float64{{0}}, RefRejected: [][]float64{{0}}}
		res, err := dpo.Loss(in, dpo.Params{Beta: 0.1, LossType: "sigmoid", LabelSmoothing: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		// −(1−ε)logσ(z) − ε logσ(−z) ≈ (1−ε)·max(−z,0) + ε·max(z,0)
		want := 0.9*math.Max(-0.1*d, 0) + 0.1*math.Max(0.1*d, 0)
		if math.IsNaN(res.Loss) || math.Abs(res.Loss-want) > 1e-9 {
			t.Errorf("Δ = %v: loss %v, want %v", d, res.Loss, want)
		}
	}
}

func TestErrors(t *testing.T) {
	ok := checkInput()
	tests := []struct {
		name string
		in   dpo.Input
		p    dpo.Params
		want string
	}{
		{"beta", ok, dpo.Params{Beta: 0, LossType: "sigmoid"}, "beta = 0"},
		{"type", ok, dpo.Params{Beta: 0.1, LossType: "hinge"}, `loss_type = "hinge"`},
		{"smoothing", ok, dpo.Params{Beta: 0.1, LossType: "sigmoid", LabelSmoothing: 0.7}, "label_smoothing = 0.7"},
		{"ipo smoothing", ok, dpo.Params{Beta: 0.1, LossType: "ipo", LabelSmoothing: 0.1}, `not defined for loss_type "ipo"`},
		{"empty", dpo.Input{}, dpo.DefaultParams(), "policy_chosen is empty"},
		{"pairs", dpo.Input{PolicyChosen: ok.PolicyChosen, RefChosen: ok.RefChosen}, dpo.DefaultParams(), "policy_rejected has 0 sequences"},
		{"ref shape", dpo.Input{PolicyChosen: ok.PolicyChosen, RefChosen: [][]float64{{-1}}, PolicyRejected: ok.PolicyRejected, RefRejected: ok.RefRejected},
			dpo.DefaultParams(), "ref_chosen[0] has 1 tokens but policy_chosen[0] has 2"},
		{"NaN", dpo.Input{PolicyChosen: ok.PolicyChosen, RefChosen: ok.RefChosen, PolicyRejected: [][]float64{{math.NaN()}}, RefRejected: ok.RefRejected},
			dpo.DefaultParams(), "policy_rejected[0][0] = NaN"},
	}
	for _, tc := range tests {
		_, err := dpo.Loss(tc.in, tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want mention of %q", tc.name, err, tc.want)
		}
	}
}

func ExampleLoss() {
	in := dpo.Input{
		PolicyChosen: [][]float64{{-10}}, PolicyRejected: [][]float64{{-12}},
		RefChosen: [][]float64{{-10.5}}, RefRejected: [][]float64{{-11.5}},
	}
	res, _ := dpo.Loss(in, dpo.DefaultParams())
	fmt.Printf("loss %.6f, dL/dℓ(y) %.6f, dL/dℓ(y⁻) %.6f\n", res.Loss, res.Grad.PolicyChosen[0][0], res.Grad.PolicyRejected[0][0])
	// Output: loss 0.644397, dL/dℓ(y) -0.047502, dL/dℓ(y⁻) 0.047502
}
