package rloo

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/algorithms/kit"
)

// Params are RLOO's hyper-parameters; JSON names are the TOML keys.
type Params struct {
	// G is k, the samples per prompt (≥ 2: the baseline needs another).
	G int `json:"g"`
	// KLBeta is β of the KL penalty folded into the reward.
	KLBeta float64 `json:"kl_beta"`
	// ClipEps is ε of the sequence-level ratio clip.
	ClipEps float64 `json:"clip_eps"`
	// Iterations is μ, the updates per rollout batch (read by the trainer).
	Iterations int `json:"iterations"`
}

// DefaultParams returns g = 8, β = 0.05, ε = 0.2, μ = 1.
func DefaultParams() Params { return Params{G: 8, KLBeta: 0.05, ClipEps: 0.2, Iterations: 1} }

// Validate checks the parameters and names the first bad key.
func (p Params) Validate() error {
	switch {
	case p.G < 2:
		return fmt.Errorf("rloo: g = %d, want ≥ 2 (the leave-one-out baseline needs another sample)", p.G)
	case !(p.KLBeta >= 0) || math.IsInf(p.KLBeta, 0):
		return fmt.Errorf("rloo: kl_beta = %v, want a finite value ≥ 0", p.KLBeta)
	case p.Iterations < 1:
		return fmt.Errorf("rloo: iterations = %d, want ≥ 1", p.Iterations)
	}
	if err := (kit.Clip{Low: p.ClipEps, High: p.ClipEps}).Validate(); err != nil {
		return fmt.Errorf("rloo: clip_eps: %w", err)
	}
	return nil
}

// Loss computes L = (1/B)·Σ_i −min(ρ_i Â_i, clip(ρ_i, 1−ε, 1+ε)·Â_i) and its
// gradient. Components: "policy" (the loss), "kl" (mean over sequences of
// Σ_t ℓ_old − ℓ_ref, when RefLogP is given), "reward_mean" (unshaped),
// "clip_fraction" (share of sequences on the clipped branch),
// "ratio_mean", "advantage_mean", "advantage_std", "zero_std_groups",
// "mean_length".
func Loss(in kit.Input, p Params) (kit.Result, error) {
	if err := p.Validate(); err != nil {
		return kit.Result{}, err
	}
	B := len(in.LogP)
	if err := kit.CheckSeqs(in.LogP, in.OldLogP, in.RefLogP, in.Rewards, p.G); err != nil {
		return kit.Result{}, fmt.Errorf("rloo: %w", err)
	}
	if p.KLBeta != 0 && in.RefLogP == nil {
		return kit.Result{}, fmt.Errorf("rloo: kl_beta = %v needs ref_logp", p.KLBeta)
	}
	old := in.OldLogP
	if old == nil {
		old = in.LogP
	}
	shaped := make([]float64, B)
	var klSum, rSum, lenSum float64
	for i, r := range in.Rewards {
		var kl float64
		if in.RefLogP != nil {
			for t, lo := range old[i] {
				kl += kit.K1(lo, in.RefLogP[i][t])
			}
		}
		shaped[i] = r - p.KLBeta*kl
		klSum += kl
		rSum += r
		lenSum += float64(len(in.LogP[i]))
	}
	adv, zero, err := kit.LeaveOneOut(shaped, p.G)
	if err != nil {
		return kit.Result{}, fmt.Errorf("rloo: %w", err)
	}
	res := kit.Result{Grad: kit.Grad{LogP: make([][]float64, B)}, Advantages: adv}
	clip := kit.Clip{Low: p.ClipEps, High: p.ClipEps}
	var loss, clipped, ratioSum float64
	for i, s := range in.LogP {
		var sum, oldSum float64
		for t, lp := range s {
			sum += lp
			oldSum += old[i][t]
		}
		l, d, rho, cl := clip.Token(sum, oldSum, adv[i])
		loss += l / float64(B)
		ratioSum += rho
		if cl {
			clipped++
		}
		// ∂Σ_t ℓ_t/∂ℓ_t = 1: every token of the sequence gets d/B.
		res.Grad.LogP[i] = kit.Fill(len(s), d/float64(B))
	}
	res.Loss = loss
	am, as := kit.MeanStd(adv, kit.Population)
	res.Components = map[string]float64{
		"policy":          loss,
		"reward_mean":     rSum / float64(B),
		"clip_fraction":   clipped / float64(B),
		"ratio_mean":      ratioSum / float64(B),
		"advantage_mean":  am,
		"advantage_std":   as,
		"zero_std_groups": float64(zero),
		"mean_length":     lenSum / float64(B),
	}
	if in.RefLogP != nil {
		res.Components["kl"] = klSum / float64(B)
	}
	return res, nil
}
