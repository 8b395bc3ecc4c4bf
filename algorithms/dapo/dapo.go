package dapo

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/algorithms/kit"
)

// Params are DAPO's hyper-parameters; JSON names are the TOML keys.
type Params struct {
	// G is the number of samples per prompt (≥ 2).
	G        int     `json:"g"`
	ClipLow  float64 `json:"clip_low"`
	ClipHigh float64 `json:"clip_high"`
	// AdvEps is added to the floored σ.
	AdvEps   float64 `json:"adv_eps"`
	StdFloor float64 `json:"std_floor"`
	// MaxLen is L_max of the overlong shaping (0: the trainer's
	// max_new_tokens).
	MaxLen int `json:"max_len"`
	// OverlongFraction is L_cache/L_max (0 turns the soft penalty off:
	// only completions beyond L_max are penalised).
	OverlongFraction float64 `json:"overlong_fraction"`
	// DynamicSampling drops groups whose rewards are all equal, for at
	// most MaxRounds rollout rounds per step (read by the trainer).
	DynamicSampling bool `json:"dynamic_sampling"`
	MaxRounds       int  `json:"max_rounds"`
	// Iterations is μ, the updates per rollout batch (read by the trainer).
	Iterations int `json:"iterations"`
}

// DefaultParams returns the paper's settings at this scale (see the
// package documentation).
func DefaultParams() Params {
	return Params{G: 8, ClipLow: 0.2, ClipHigh: 0.28, AdvEps: 1e-6, StdFloor: 0.05,
		OverlongFraction: 0.2, DynamicSampling: true, MaxRounds: 3, Iterations: 1}
}

// Validate checks the parameters and names the first bad key.
func (p Params) Validate() error {
	switch {
	case p.G < 2:
		return fmt.Errorf("dapo: g = %d, want ≥ 2 (a group of one has no spread)", p.G)
	case !(p.AdvEps >= 0) || math.IsInf(p.AdvEps, 0):
		return fmt.Errorf("dapo: adv_eps = %v, want a finite value ≥ 0", p.AdvEps)
	case !(p.StdFloor >= 0) || math.IsInf(p.StdFloor, 0):
		return fmt.Errorf("dapo: std_floor = %v, want a finite value ≥ 0", p.StdFloor)
	case p.MaxLen < 0:
		return fmt.Errorf("dapo: max_len = %d, want ≥ 1 (or 0: the trainer's max_new_tokens)", p.MaxLen)
	case !(p.OverlongFraction >= 0 && p.OverlongFraction <= 1):
		return fmt.Errorf("dapo: overlong_fraction = %v, want in [0, 1]", p.OverlongFraction)
	case p.MaxRounds < 1:
		return fmt.Errorf("dapo: max_rounds = %d, want ≥ 1", p.MaxRounds)
	case p.Iterations < 1:
		return fmt.Errorf("dapo: iterations = %d, want ≥ 1", p.Iterations)
	}
	if err := (kit.Clip{Low: p.ClipLow, High: p.ClipHigh}).Validate(); err != nil {
		return fmt.Errorf("dapo: %w", err)
	}
	return nil
}

// Cache returns L_cache = round(OverlongFraction·MaxLen).
func (p Params) Cache() int { return int(math.Floor(p.OverlongFraction*float64(p.MaxLen) + 0.5)) }

// OverlongPenalty is DAPO's soft length penalty of a completion of n
// tokens (Eq. 13): 0 up to maxLen − cache tokens, then falling linearly to
// −1 at maxLen, and −1 beyond.
func OverlongPenalty(n, maxLen, cache int) float64 {
	switch {
	case n <= maxLen-cache:
		return 0
	case n <= maxLen:
		return float64(maxLen-cache-n) / float64(cache)
	default:
		return -1
	}
}

// Input is one rollout batch, [sequence][token]; consecutive blocks of G
// sequences form a group. A completion's length is its number of tokens.
type Input struct {
	LogP [][]float64 `json:"logp"`
	// OldLogP nil means μ = 1: old = stop-gradient(LogP).
	OldLogP [][]float64 `json:"old_logp"`
	Rewards []float64   `json:"rewards"`
}

// Loss computes the DAPO loss and its gradient. Components: "surrogate"
// (the loss), "overlong_penalty_mean", "clip_fraction" (share of tokens on
// the clipped branch), "clip_high_fraction" (those with ρ > 1 + ε_high),
// "ratio_mean", "advantage_mean", "advantage_std", "zero_std_groups",
// "tokens", "mean_length".
func Loss(in Input, p Params) (kit.Result, error) {
	if err := p.Validate(); err != nil {
		return kit.Result{}, err
	}
	if p.MaxLen == 0 {
		return kit.Result{}, fmt.Errorf("dapo: max_len is unset (L_max of the overlong shaping)")
	}
	if err := kit.CheckSeqs(in.LogP, in.OldLogP, nil, in.Rewards, p.G); err != nil {
		return kit.Result{}, fmt.Errorf("dapo: %w", err)
	}
	B := len(in.LogP)
	cache := p.Cache()
	shaped := make([]float64, B)
	var penalty float64
	for i, r := range in.Rewards {
		pen := OverlongPenalty(len(in.LogP[i]), p.MaxLen, cache)
		shaped[i] = r + pen
		penalty += pen
	}
	adv, zero, err := kit.GroupRelative(shaped, p.G, kit.Bessel, p.AdvEps, p.StdFloor, kit.ScaleGroup)
	if err != nil {
		return kit.Result{}, fmt.Errorf("dapo: %w", err)
	}
	weights, err := kit.TokenMean.Weights(kit.Lens(in.LogP), 0)
	if err != nil {
		return kit.Result{}, fmt.Errorf("dapo: %w", err)
	}
	sur, grad, st := kit.Clip{Low: p.ClipLow, High: p.ClipHigh}.Surrogate(in.LogP, in.OldLogP, adv, weights)
	res := kit.Result{Loss: sur, Grad: kit.Grad{LogP: grad}, Advantages: adv}
	am, as := kit.MeanStd(adv, kit.Population)
	res.Components = map[string]float64{
		"surrogate":             sur,
		"overlong_penalty_mean": penalty / float64(B),
		"clip_fraction":         st.Clipped / st.Tokens,
		"clip_high_fraction":    st.ClippedHigh / st.Tokens,
		"ratio_mean":            st.RatioSum / st.Tokens,
		"advantage_mean":        am,
		"advantage_std":         as,
		"zero_std_groups":       float64(zero),
		"tokens":                st.Tokens,
		"mean_length":           st.Tokens / float64(B),
	}
	return res, nil
}
