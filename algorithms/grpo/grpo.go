package grpo

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/algorithms/kit"
)

// Params are GRPO's hyper-parameters; JSON names are the test-vector keys.
type Params struct {
	// G is the number of completions per prompt (group size).
	G int `json:"g"`
	// Std names the std estimator of the group rewards: "bessel" or "population".
	Std kit.Std `json:"std"`
	// AdvEps is added to σ before dividing.
	AdvEps float64 `json:"adv_eps"`
	// StdFloor is the least σ divided by: a group whose rewards differ
	// only by rounding (continuous rewards) would otherwise get unit
	// advantages out of noise. 0.05 leaves every {−1, 0, +1} group of up
	// to a few hundred samples untouched (their σ is ≥ 1/√G·…).
	StdFloor float64 `json:"std_floor"`
	// Scale is "group", "batch" or "none" (Dr. GRPO: no division by σ).
	Scale kit.Scale `json:"scale"`
	// ClipLow and ClipHigh are ε_low and ε_high of clip(ρ, 1−ε_low, 1+ε_high).
	ClipLow  float64 `json:"clip_low"`
	ClipHigh float64 `json:"clip_high"`
	// KLBeta weighs the k3 penalty against the reference policy.
	KLBeta float64 `json:"kl_beta"`
	// Aggregation is "seq_mean", "token_mean" or "constant".
	Aggregation kit.Aggregation `json:"aggregation"`
	// MaxLen is the denominator length for "constant" aggregation.
	MaxLen int `json:"max_len"`
	// Iterations (μ) is the number of updates per rollout batch; read by
	// the trainer, not by Loss.
	Iterations int `json:"iterations"`
}

// DefaultParams returns G = 8, ε = 0.2, μ = 1, TRL's advantage
// normalisation (Bessel, ε = 1e-4) and TRL's current β_KL = 0 (no
// reference model); DeepSeekMath's β_KL = 0.04 is the documented
// alternative. σ is floored at 0.05.
func DefaultParams() Params {
	return Params{
		G: 8, Std: "bessel", AdvEps: 1e-4, StdFloor: 0.05, Scale: "group",
		ClipLow: 0.2, ClipHigh: 0.2, KLBeta: 0,
		Aggregation: "seq_mean", Iterations: 1,
	}
}

// Input is one rollout batch (kit.Input); RefLogP may be nil when KLBeta = 0.
type Input = kit.Input

// Grad holds dL/dℓ, shaped like Input.LogP.
type Grad = kit.Grad

// Result is the loss, its gradient, the advantages and what to log.
type Result = kit.Result

// Validate checks the parameters and names the first bad key.
func (p Params) Validate() error {
	switch {
	case p.G < 1:
		return fmt.Errorf("grpo: g = %d, want ≥ 1", p.G)
	case !p.Std.Valid():
		return fmt.Errorf("grpo: std = %q, want \"bessel\" or \"population\"", p.Std)
	case !p.Scale.Valid():
		return fmt.Errorf("grpo: scale = %q, want \"group\", \"batch\" or \"none\"", p.Scale)
	case p.AdvEps < 0 || math.IsNaN(p.AdvEps):
		return fmt.Errorf("grpo: adv_eps = %v, want ≥ 0", p.AdvEps)
	case !(p.StdFloor >= 0) || math.IsInf(p.StdFloor, 0):
		return fmt.Errorf("grpo: std_floor = %v, want a finite value ≥ 0", p.StdFloor)
	case !(p.ClipLow >= 0 && p.ClipLow < 1):
		return fmt.Errorf("grpo: clip_low = %v, want in [0, 1)", p.ClipLow)
	case !(p.ClipHigh >= 0) || math.IsInf(p.ClipHigh, 0):
		return fmt.Errorf("grpo: clip_high = %v, want a finite value ≥ 0", p.ClipHigh)
	case p.KLBeta < 0 || math.IsNaN(p.KLBeta):
		return fmt.Errorf("grpo: kl_beta = %v, want ≥ 0", p.KLBeta)
	case !p.Aggregation.Valid():
		return fmt.Errorf("grpo: aggregation = %q, want \"seq_mean\", \"token_mean\" or \"constant\"", p.Aggregation)
	case p.Aggregation == kit.Constant && p.MaxLen < 1:
		return fmt.Errorf("grpo: aggregation \"constant\" needs max_len ≥ 1 (got %d)", p.MaxLen)
	case p.Std == kit.Bessel && p.Scale == kit.ScaleGroup && p.G < 2:
		// Found here, when the sweep is validated, rather than at the
		// first training step.
		return fmt.Errorf("grpo: g = %d: std \"bessel\" needs g ≥ 2 (a group of one has no spread; use std = \"population\" or scale = \"batch\")", p.G)
	}
	return nil
}

// Loss computes the GRPO loss
//
//	ℓ_{i,t} = −min(ρ Â_i, clip(ρ, 1−ε_low, 1+ε_high) Â_i) + β_KL·k3_{i,t},  ρ = exp(ℓ−ℓ_old)
//
// aggregated as Params.Aggregation says, and its gradient w.r.t. in.LogP.
// Components: "surrogate" and "kl" (both aggregated like the loss, so
// loss = surrogate + kl_beta·kl), "clip_fraction" (share of tokens whose
// clipped branch is active: ρ<1−ε_low with Â<0 or ρ>1+ε_high with Â>0),
// "ratio_mean", "advantage_mean", "advantage_std" (population),
// "zero_std_groups", "zero_std_fraction", "tokens", "mean_length".
func Loss(in Input, p Params) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	if err := checkInput(in, p); err != nil {
		return Result{}, err
	}
	adv, zero, err := kit.GroupRelative(in.Rewards, p.G, p.Std, p.AdvEps, p.StdFloor, p.Scale)
	if err != nil {
		return Result{}, fmt.Errorf("grpo: %w", err)
	}
	weights, err := p.Aggregation.Weights(kit.Lens(in.LogP), p.MaxLen)
	if err != nil {
		return Result{}, fmt.Errorf("grpo: %w", err)
	}
	B := len(in.LogP)
	sur, grad, st := kit.Clip{Low: p.ClipLow, High: p.ClipHigh}.Surrogate(in.LogP, in.OldLogP, adv, weights)
	var kl float64
	if in.RefLogP != nil {
		// logged even when it is not in the loss
		kl = kit.K3Estimator.Penalty(in.LogP, in.RefLogP, weights, p.KLBeta, grad)
	}
	res := Result{Loss: sur + p.KLBeta*kl, Grad: Grad{LogP: grad}, Advantages: adv}
	am, as := kit.MeanStd(adv, kit.Population)
	res.Components = map[string]float64{
		"surrogate":         sur,
		"kl":                kl,
		"clip_fraction":     st.Clipped / st.Tokens,
		"ratio_mean":        st.RatioSum / st.Tokens,
		"advantage_mean":    am,
		"advantage_std":     as,
		"zero_std_groups":   float64(zero),
		"zero_std_fraction": float64(zero) / float64(B/p.G),
		"tokens":            st.Tokens,
		"mean_length":       st.Tokens / float64(B),
	}
	return res, nil
}

func checkInput(in Input, p Params) error {
	if err := kit.CheckSeqs(in.LogP, in.OldLogP, in.RefLogP, in.Rewards, p.G); err != nil {
		return fmt.Errorf("grpo: %w", err)
	}
	if p.KLBeta != 0 && in.RefLogP == nil {
		return fmt.Errorf("grpo: kl_beta = %v needs ref_logp", p.KLBeta)
	}
	return nil
}
