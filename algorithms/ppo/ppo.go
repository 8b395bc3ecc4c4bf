package ppo

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/algorithms/kit"
)

// Params are PPO's hyper-parameters; JSON names are the test-vector keys.
type Params struct {
	// Beta weighs the per-token KL penalty in the reward.
	Beta float64 `json:"beta"`
	// KL names the estimator: "k1" or "k3" (or "k2").
	KL kit.KL `json:"kl"`
	// Gamma and Lambda are GAE's discount and trace parameters.
	Gamma  float64 `json:"gamma"`
	Lambda float64 `json:"lambda"`
	// ClipEps is ε of the policy ratio, ClipValue ε_V of the value clip.
	ClipEps   float64 `json:"clip_eps"`
	ClipValue float64 `json:"clip_value"`
	// VFCoef is c_V.
	VFCoef float64 `json:"vf_coef"`
	// Whiten whitens the advantages over valid tokens (WhitenEps inside the sqrt).
	Whiten    bool    `json:"whiten"`
	WhitenEps float64 `json:"whiten_eps"`
	// Epochs is the number of PPO epochs per rollout batch (read by the trainer).
	Epochs int `json:"epochs"`
}

// DefaultParams returns the defaults of docs/algorithms.md (TRL's PPO settings).
func DefaultParams() Params {
	return Params{
		Beta: 0.05, KL: "k1", Gamma: 1, Lambda: 0.95,
		ClipEps: 0.2, ClipValue: 0.2, VFCoef: 0.1,
		Whiten: true, WhitenEps: 1e-8, Epochs: 4,
	}
}

// Validate checks the parameters and names the first bad key.
func (p Params) Validate() error {
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	switch {
	case bad(p.Beta) || p.Beta < 0:
		return fmt.Errorf("ppo: beta = %v, want ≥ 0", p.Beta)
	case !p.KL.Valid():
		return fmt.Errorf("ppo: kl = %q, want \"k1\", \"k2\" or \"k3\"", p.KL)
	case bad(p.Gamma) || p.Gamma < 0 || p.Gamma > 1:
		return fmt.Errorf("ppo: gamma = %v, want in [0, 1]", p.Gamma)
	case bad(p.Lambda) || p.Lambda < 0 || p.Lambda > 1:
		return fmt.Errorf("ppo: lambda = %v, want in [0, 1]", p.Lambda)
	case bad(p.ClipEps) || p.ClipEps < 0 || p.ClipEps >= 1:
		return fmt.Errorf("ppo: clip_eps = %v, want in [0, 1)", p.ClipEps)
	case bad(p.ClipValue) || p.ClipValue < 0:
		return fmt.Errorf("ppo: clip_value = %v, want ≥ 0", p.ClipValue)
	case bad(p.VFCoef) || p.VFCoef < 0:
		return fmt.Errorf("ppo: vf_coef = %v, want ≥ 0", p.VFCoef)
	case bad(p.WhitenEps) || p.WhitenEps < 0:
		return fmt.Errorf("ppo: whiten_eps = %v, want ≥ 0", p.WhitenEps)
	}
	return nil
}

// Input is one (mini)batch of B completions; all per-token slices share
// LogP's shape.
type Input struct {
	LogP      [][]float64 `json:"logp"`
	OldLogP   [][]float64 `json:"old_logp"`
	RefLogP   [][]float64 `json:"ref_logp"`
	Values    [][]float64 `json:"values"`
	OldValues [][]float64 `json:"old_values"`
	// Scores are the sequence-level rewards, added at the last token.
	Scores []float64 `json:"scores"`
}

// Grad holds dL/dℓ_θ and dL/dV.
type Grad struct {
	LogP   [][]float64 `json:"logp"`
	Values [][]float64 `json:"values"`
}

// Result is the loss, its gradient, the (whitened) advantages, the returns
// and what to log.
type Result struct {
	Loss       float64            `json:"loss"`
	Grad       Grad               `json:"grad"`
	Advantages [][]float64        `json:"advantages"`
	Returns    [][]float64        `json:"returns"`
	Components map[string]float64 `json:"components"`
}

// TokenRewards returns r_t = −β·k̂(ℓ_old, ℓ_ref)_t with the score added at the
// last token of each sequence.
func TokenRewards(oldLogP, refLogP [][]float64, scores []float64, beta float64, kl kit.KL) [][]float64 {
	r := make([][]float64, len(oldLogP))
	for i, s := range oldLogP {
		r[i] = make([]float64, len(s))
		for t, lo := range s {
			r[i][t] = -beta * kl.Value(lo, refLogP[i][t])
		}
		r[i][len(s)-1] += scores[i]
	}
	return r
}

// Loss computes L = L_π + c_V·L_V and its gradient w.r.t. LogP and Values.
// Components: "policy" (L_π), "value" (L_V, with the ½), "clip_fraction"
// (share of tokens where the clipped policy branch wins), "value_clip_fraction",
// "approx_kl" (½ mean (ℓ−ℓ_old)²), "kl" (token mean of the KL estimator
// between old and reference policy), "non_score_reward" (mean over sequences
// of Σ_t −β k̂_t), "score_mean", "advantage_mean", "advantage_std" (before
// whitening, population), "return_mean", "value_mean", "ratio_mean", "tokens".
func Loss(in Input, p Params) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	if err := checkInput(in); err != nil {
		return Result{}, err
	}
	old := in.OldLogP
	if old == nil {
		old = in.LogP
	}
	oldV := in.OldValues
	if oldV == nil {
		oldV = in.Values
	}
	rewards := TokenRewards(old, in.RefLogP, in.Scores, p.Beta, p.KL)
	rawAdv, ret := kit.GAE(rewards, oldV, p.Gamma, p.Lambda)
	adv := rawAdv
	if p.Whiten {
		var err error
		if adv, err = kit.Whiten(rawAdv, p.WhitenEps); err != nil {
			return Result{}, fmt.Errorf("ppo: %w", err)
		}
	}
	B := len(in.LogP)
	var N float64
	for _, s := range in.LogP {
		N += float64(len(s))
	}
	res := Result{
		Grad:       Grad{LogP: make([][]float64, B), Values: make([][]float64, B)},
		Advantages: adv,
		Returns:    ret,
	}
	var pol, val, clipP, clipV, approxKL, kl, nonScore, ratioSum, retSum, valSum, advSum, advSq float64
	clip := kit.Clip{Low: p.ClipEps, High: p.ClipEps}
	for i, s := range in.LogP {
		gl := make([]float64, len(s))
		gv := make([]float64, len(s))
		for t, lp := range s {
			a := adv[i][t]
			l, dl, rho, clipped := clip.Token(lp, old[i][t], a)
			ratioSum += rho
			approxKL += kit.K2(lp, old[i][t])
			pol += l
			gl[t] = dl / N
			if clipped {
				clipP++
			}
			v, vo, R := in.Values[i][t], oldV[i][t], ret[i][t]
			vc := math.Min(math.Max(v, vo-p.ClipValue), vo+p.ClipValue)
			e1, e2 := (v-R)*(v-R), (vc-R)*(vc-R)
			if e1 >= e2 {
				val += e1
				gv[t] = p.VFCoef * 0.5 * 2 * (v - R) / N
			} else {
				// clipped branch wins only when V is outside the clip range,
				// where clip(V) is constant in V
				val += e2
				clipV++
			}
			kl += p.KL.Value(old[i][t], in.RefLogP[i][t])
			nonScore += rewards[i][t]
			retSum += R
			valSum += v
			advSum += rawAdv[i][t]
			advSq += rawAdv[i][t] * rawAdv[i][t]
		}
		nonScore -= in.Scores[i] // r_t holds the score at the last token
		res.Grad.LogP[i], res.Grad.Values[i] = gl, gv
	}
	pol /= N
	val = 0.5 * val / N
	res.Loss = pol + p.VFCoef*val
	var scoreSum float64
	for _, s := range in.Scores {
		scoreSum += s
	}
	am := advSum / N
	res.Components = map[string]float64{
		"policy":              pol,
		"value":               val,
		"clip_fraction":       clipP / N,
		"value_clip_fraction": clipV / N,
		"approx_kl":           approxKL / N,
		"kl":                  kl / N,
		"non_score_reward":    nonScore / float64(B),
		"score_mean":          scoreSum / float64(B),
		"advantage_mean":      am,
		"advantage_std":       math.Sqrt(math.Max(advSq/N-am*am, 0)),
		"return_mean":         retSum / N,
		"value_mean":          valSum / N,
		"ratio_mean":          ratioSum / N,
		"tokens":              N,
	}
	return res, nil
}

func checkInput(in Input) error {
	B := len(in.LogP)
	if B == 0 {
		return fmt.Errorf("ppo: logp is empty (no sequences)")
	}
	if len(in.Scores) != B {
		return fmt.Errorf("ppo: scores has %d entries but logp has %d sequences", len(in.Scores), B)
	}
	for i, x := range in.Scores {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("ppo: scores[%d] = %v is not finite", i, x)
		}
	}
	for i, s := range in.LogP {
		if len(s) == 0 {
			return fmt.Errorf("ppo: logp[%d] is empty (a completion needs ≥ 1 token)", i)
		}
	}
	if in.RefLogP == nil {
		return fmt.Errorf("ppo: ref_logp is missing (the KL reward needs it)")
	}
	if in.Values == nil {
		return fmt.Errorf("ppo: values is missing")
	}
	for _, f := range []struct {
		name     string
		x        [][]float64
		optional bool
	}{
		{"logp", in.LogP, false}, {"old_logp", in.OldLogP, true}, {"ref_logp", in.RefLogP, false},
		{"values", in.Values, false}, {"old_values", in.OldValues, true},
	} {
		if f.x == nil && f.optional {
			continue
		}
		if len(f.x) != B {
			return fmt.Errorf("ppo: %s has %d sequences but logp has %d", f.name, len(f.x), B)
		}
		for i, s := range f.x {
			if len(s) != len(in.LogP[i]) {
				return fmt.Errorf("ppo: %s[%d] has %d tokens but logp[%d] has %d", f.name, i, len(s), i, len(in.LogP[i]))
			}
			for t, x := range s {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("ppo: %s[%d][%d] = %v is not finite", f.name, i, t, x)
				}
			}
		}
	}
	return nil
}
