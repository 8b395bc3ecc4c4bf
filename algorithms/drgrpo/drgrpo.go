package drgrpo

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/algorithms/kit"
)

// Params are Dr. GRPO's hyper-parameters; JSON names are the TOML keys.
type Params struct {
	// G is the number of samples per prompt (≥ 2).
	G        int     `json:"g"`
	ClipLow  float64 `json:"clip_low"`
	ClipHigh float64 `json:"clip_high"`
	// KLBeta weighs the k3 penalty against the starting policy.
	KLBeta float64 `json:"kl_beta"`
	// MaxLen is L, the constant length denominator (0: the trainer's
	// max_new_tokens).
	MaxLen int `json:"max_len"`
	// Iterations is μ, the updates per rollout batch (read by the trainer).
	Iterations int `json:"iterations"`
}

// DefaultParams returns g = 8, ε = 0.2/0.2, β = 0, μ = 1, L from the trainer.
func DefaultParams() Params {
	return Params{G: 8, ClipLow: 0.2, ClipHigh: 0.2, Iterations: 1}
}

// Validate checks the parameters and names the first bad key.
func (p Params) Validate() error {
	switch {
	case p.G < 2:
		return fmt.Errorf("drgrpo: g = %d, want ≥ 2 (a group of one has no baseline)", p.G)
	case !(p.KLBeta >= 0) || math.IsInf(p.KLBeta, 0):
		return fmt.Errorf("drgrpo: kl_beta = %v, want a finite value ≥ 0", p.KLBeta)
	case p.MaxLen < 0:
		return fmt.Errorf("drgrpo: max_len = %d, want ≥ 1 (or 0: the trainer's max_new_tokens)", p.MaxLen)
	case p.Iterations < 1:
		return fmt.Errorf("drgrpo: iterations = %d, want ≥ 1", p.Iterations)
	}
	if err := (kit.Clip{Low: p.ClipLow, High: p.ClipHigh}).Validate(); err != nil {
		return fmt.Errorf("drgrpo: %w", err)
	}
	return nil
}

// Loss computes the Dr. GRPO loss and its gradient. Components:
// "surrogate" and "kl" (with the loss's denominator; loss = surrogate +
// kl_beta·kl; kl only when RefLogP is given), "clip_fraction" (share of
// tokens on the clipped branch), "ratio_mean", "advantage_mean",
// "advantage_std", "zero_std_groups", "tokens", "mean_length".
func Loss(in kit.Input, p Params) (kit.Result, error) {
	if err := p.Validate(); err != nil {
		return kit.Result{}, err
	}
	if p.MaxLen == 0 {
		return kit.Result{}, fmt.Errorf("drgrpo: max_len is unset (the generation limit L of the denominator B·L)")
	}
	if err := kit.CheckSeqs(in.LogP, in.OldLogP, in.RefLogP, in.Rewards, p.G); err != nil {
		return kit.Result{}, fmt.Errorf("drgrpo: %w", err)
	}
	if p.KLBeta != 0 && in.RefLogP == nil {
		return kit.Result{}, fmt.Errorf("drgrpo: kl_beta = %v needs ref_logp", p.KLBeta)
	}
	// Â = r − μ_g: the std is never used with ScaleNone.
	adv, zero, err := kit.GroupRelative(in.Rewards, p.G, kit.Population, 0, 0, kit.ScaleNone)
	if err != nil {
		return kit.Result{}, fmt.Errorf("drgrpo: %w", err)
	}
	weights, err := kit.Constant.Weights(kit.Lens(in.LogP), p.MaxLen)
	if err != nil {
		return kit.Result{}, fmt.Errorf("drgrpo: %w", err)
	}
	B := len(in.LogP)
	sur, grad, st := kit.Clip{Low: p.ClipLow, High: p.ClipHigh}.Surrogate(in.LogP, in.OldLogP, adv, weights)
	var kl float64
	if in.RefLogP != nil {
		kl = kit.K3Estimator.Penalty(in.LogP, in.RefLogP, weights, p.KLBeta, grad)
	}
	res := kit.Result{Loss: sur + p.KLBeta*kl, Grad: kit.Grad{LogP: grad}, Advantages: adv}
	am, as := kit.MeanStd(adv, kit.Population)
	res.Components = map[string]float64{
		"surrogate":       sur,
		"clip_fraction":   st.Clipped / st.Tokens,
		"ratio_mean":      st.RatioSum / st.Tokens,
		"advantage_mean":  am,
		"advantage_std":   as,
		"zero_std_groups": float64(zero),
		"tokens":          st.Tokens,
		"mean_length":     st.Tokens / float64(B),
	}
	if in.RefLogP != nil {
		res.Components["kl"] = kl
	}
	return res, nil
}
