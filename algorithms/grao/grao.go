package grao

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/algorithms/kit"
)

// Group modes.
const (
	GroupSamples          = "samples"
	GroupSamplesReference = "samples+reference"
)

// Params are GRAO's hyper-parameters; JSON names are the test-vector keys.
type Params struct {
	// Beta weighs the imitation term.
	Beta float64 `json:"beta"`
	// Lambda weighs the alignment regulariser.
	Lambda float64 `json:"lambda"`
	// Group is "samples" or "samples+reference".
	Group string `json:"group"`
	// Eps is added to σ in the advantage.
	Eps float64 `json:"eps"`
	// StdFloor is the least σ divided by (see grpo.Params.StdFloor): with
	// continuous rewards, a group that differs only by rounding must not
	// get unit advantages.
	StdFloor float64 `json:"std_floor"`
	// RefReward is R(y, y), the judge's value for a tie (0 for rewards in
	// {−1, 0, +1}; e.g. 0.5 for a judge scoring in [0, 1]).
	RefReward float64 `json:"ref_reward"`
	// Ablation switches.
	NoImitation   bool `json:"no_imitation"`
	NoExploration bool `json:"no_exploration"`
	NoRegulariser bool `json:"no_regulariser"`
	// G is the number of samples per prompt the trainer draws (not read by Loss).
	G int `json:"g"`
}

// DefaultParams returns the paper's defaults (β = 0.5, λ = 0.6, G = 8) with
// group "samples+reference" and ε = 1e-6.
func DefaultParams() Params {
	return Params{Beta: 0.5, Lambda: 0.6, Group: GroupSamplesReference, Eps: 1e-6, StdFloor: 0.05, G: 8}
}

// Validate checks the parameters and names the first bad key.
func (p Params) Validate() error {
	switch {
	case math.IsNaN(p.Beta) || math.IsInf(p.Beta, 0):
		return fmt.Errorf("grao: beta = %v is not finite", p.Beta)
	case math.IsNaN(p.Lambda) || math.IsInf(p.Lambda, 0):
		return fmt.Errorf("grao: lambda = %v is not finite", p.Lambda)
	case p.Group != GroupSamples && p.Group != GroupSamplesReference:
		return fmt.Errorf("grao: group = %q, want %q or %q", p.Group, GroupSamples, GroupSamplesReference)
	case math.IsNaN(p.RefReward) || math.IsInf(p.RefReward, 0):
		return fmt.Errorf("grao: ref_reward = %v is not finite", p.RefReward)
	case !(p.Eps >= 0) || math.IsInf(p.Eps, 0):
		return fmt.Errorf("grao: eps = %v, want ≥ 0", p.Eps)
	case !(p.StdFloor >= 0) || math.IsInf(p.StdFloor, 0):
		return fmt.Errorf("grao: std_floor = %v, want a finite value ≥ 0", p.StdFloor)
	}
	return nil
}

// Prompt is one prompt's data.
type Prompt struct {
	// Samples are the per-token log-probs of the G sampled completions.
	Samples [][]float64 `json:"samples"`
	// Reference are the per-token log-probs of the reference answer y.
	Reference []float64 `json:"reference"`
	// Rewards are R(o_i, y), one per sample.
	Rewards []float64 `json:"rewards"`
	// RefReward, when set, is this prompt's R(y, y) and overrides
	// Params.RefReward: the trainer scores the reference answer with the
	// training reward itself (a judge gives 0, its tie value).
	RefReward *float64 `json:"ref_reward,omitempty"`
}

// Input is a batch of prompts.
type Input struct {
	Prompts []Prompt `json:"prompts"`
}

// PromptGrad is dL/dℓ for one prompt, shaped like its Prompt.
type PromptGrad struct {
	Samples   [][]float64 `json:"samples"`
	Reference []float64   `json:"reference"`
}

// Grad mirrors Input.
type Grad struct {
	Prompts []PromptGrad `json:"prompts"`
}

// PromptAdv are one prompt's advantages.
type PromptAdv struct {
	Samples   []float64 `json:"samples"`
	Reference float64   `json:"reference"`
}

// Result is the loss, its gradient, the advantages and what to log.
type Result struct {
	Loss       float64            `json:"loss"`
	Grad       Grad               `json:"grad"`
	Advantages []PromptAdv        `json:"advantages"`
	Components map[string]float64 `json:"components"`
}

// Advantages returns Eq. 4's advantages of one prompt's samples and of its
// reference answer, whose reward R(y, y) is refReward (0 for {−1, 0, +1}
// judges), and whether the group had zero variance (then all are exactly 0,
// Â_y included: in "samples" mode an all-equal group of samples gives no
// imitation signal at all). σ is floored at floor before eps is added.
func Advantages(rewards []float64, refReward float64, group string, eps, floor float64) (samples []float64, ref float64, zeroVar bool, err error) {
	if len(rewards) == 0 {
		return nil, 0, false, fmt.Errorf("grao: no rewards")
	}
	set := rewards
	switch group {
	case GroupSamples:
	case GroupSamplesReference:
		set = append(append([]float64(nil), rewards...), refReward)
	default:
		return nil, 0, false, fmt.Errorf("grao: group = %q, want %q or %q", group, GroupSamples, GroupSamplesReference)
	}
	// Population std over the set, Eq. 4.
	samples = make([]float64, len(rewards))
	mu, den, zeroVar := kit.Standardizer(set, kit.Population, eps, floor)
	if zeroVar {
		return samples, 0, true, nil
	}
	for i, r := range rewards {
		samples[i] = (r - mu) / den
	}
	return samples, (refReward - mu) / den, false, nil
}

// Loss computes L = −J of Eq. 3 and its gradient. Components:
// "exploration", "imitation", "regulariser" (sum = loss; see the package
// doc), "j_exp_mean" and "j_imit_mean" (mean length-normalised
// log-likelihoods), "advantage_ref_mean", "advantage_abs_mean" (mean |Â_o|),
// "reward_mean", "zero_variance_groups", "zero_variance_fraction",
// "mean_length".
func Loss(in Input, p Params) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	if err := checkInput(in); err != nil {
		return Result{}, err
	}
	P := float64(len(in.Prompts))
	res := Result{
		Grad:       Grad{Prompts: make([]PromptGrad, len(in.Prompts))},
		Advantages: make([]PromptAdv, len(in.Prompts)),
	}
	var exp, imit, reg, jExpSum, jImitSum, advRef, advAbs, rSum, lenSum float64
	var nSamples, zero int
	for k, pr := range in.Prompts {
		refReward := p.RefReward
		if pr.RefReward != nil {
			refReward = *pr.RefReward
		}
		adv, ay, zv, err := Advantages(pr.Rewards, refReward, p.Group, p.Eps, p.StdFloor)
		if err != nil {
			return Result{}, fmt.Errorf("prompts[%d]: %w", k, err)
		}
		if zv {
			zero++
		}
		res.Advantages[k] = PromptAdv{Samples: adv, Reference: ay}
		G := float64(len(pr.Samples))
		jy := mean(pr.Reference)
		jImitSum += jy
		advRef += ay
		// dJ/dJ_imit accumulates over the terms that contain it.
		var dJy float64
		if !p.NoImitation {
			// (1/G)Σ_i β Â_y J_imit = β Â_y J_imit
			imit -= p.Beta * ay * jy / P
			dJy += p.Beta * ay
		}
		pg := PromptGrad{Samples: make([][]float64, len(pr.Samples))}
		for i, s := range pr.Samples {
			ji := mean(s)
			jExpSum += ji
			advAbs += math.Abs(adv[i])
			rSum += pr.Rewards[i]
			lenSum += float64(len(s))
			nSamples++
			var dJi float64
			if !p.NoExploration {
				exp -= adv[i] * ji / G / P
				dJi += adv[i] / G
			}
			if !p.NoRegulariser {
				reg -= p.Lambda * adv[i] * (ji - jy) / G / P
				dJi += p.Lambda * adv[i] / G
				dJy -= p.Lambda * adv[i] / G
			}
			// L = −(1/P)ΣJ and J_exp is a token mean.
			pg.Samples[i] = fill(len(s), -dJi/P/float64(len(s)))
		}
		pg.Reference = fill(len(pr.Reference), -dJy/P/float64(len(pr.Reference)))
		res.Grad.Prompts[k] = pg
	}
	res.Loss = exp + imit + reg
	ns := float64(nSamples)
	res.Components = map[string]float64{
		"exploration":            exp,
		"imitation":              imit,
		"regulariser":            reg,
		"j_exp_mean":             jExpSum / ns,
		"j_imit_mean":            jImitSum / P,
		"advantage_ref_mean":     advRef / P,
		"advantage_abs_mean":     advAbs / ns,
		"reward_mean":            rSum / ns,
		"zero_variance_groups":   float64(zero),
		"zero_variance_fraction": float64(zero) / P,
		"mean_length":            lenSum / ns,
	}
	return res, nil
}

func mean(s []float64) float64 {
	var sum float64
	for _, x := range s {
		sum += x
	}
	return sum / float64(len(s))
}

func fill(n int, v float64) []float64 {
	g := make([]float64, n)
	for i := range g {
		g[i] = v
	}
	return g
}

func checkInput(in Input) error {
	if len(in.Prompts) == 0 {
		return fmt.Errorf("grao: prompts is empty")
	}
	for k, pr := range in.Prompts {
		if len(pr.Samples) == 0 {
			return fmt.Errorf("grao: prompts[%d].samples is empty (need ≥ 1 sample)", k)
		}
		if len(pr.Rewards) != len(pr.Samples) {
			return fmt.Errorf("grao: prompts[%d].rewards has %d entries but samples has %d", k, len(pr.Rewards), len(pr.Samples))
		}
		if len(pr.Reference) == 0 {
			return fmt.Errorf("grao: prompts[%d].reference is empty (need ≥ 1 token)", k)
		}
		for t, x := range pr.Reference {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("grao: prompts[%d].reference[%d] = %v is not finite", k, t, x)
			}
		}
		for i, s := range pr.Samples {
			if len(s) == 0 {
				return fmt.Errorf("grao: prompts[%d].samples[%d] is empty (need ≥ 1 token)", k, i)
			}
			for t, x := range s {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("grao: prompts[%d].samples[%d][%d] = %v is not finite", k, i, t, x)
				}
			}
		}
		for i, r := range pr.Rewards {
			if math.IsNaN(r) || math.IsInf(r, 0) {
				return fmt.Errorf("grao: prompts[%d].rewards[%d] = %v is not finite", k, i, r)
			}
		}
	}
	return nil
}
