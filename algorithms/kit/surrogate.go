package kit

import (
	"fmt"
	"math"
)

// Clip is the trust region of the clipped surrogate: the ratio is clipped
// to [1 − Low, 1 + High]. Low = High is PPO's symmetric ε (Schulman et al.
// 2017); High > Low is DAPO's clip-higher (Yu et al. 2025).
type Clip struct{ Low, High float64 }

// Validate checks 0 ≤ Low < 1 and High ≥ 0.
func (c Clip) Validate() error {
	if !(c.Low >= 0 && c.Low < 1) {
		return fmt.Errorf("clip low ε = %v, want in [0, 1)", c.Low)
	}
	if !(c.High >= 0) || math.IsInf(c.High, 0) {
		return fmt.Errorf("clip high ε = %v, want a finite value ≥ 0", c.High)
	}
	return nil
}

// Token returns one token's clipped-surrogate loss
//
//	−min(ρÂ, clip(ρ, 1−Low, 1+High)·Â),  ρ = exp(ℓ − ℓ_old),
//
// its derivative with respect to ℓ, the ratio ρ, and whether the clipped
// branch is the one taken (then the loss is constant in ℓ and the
// derivative is 0: ρ is outside the range in the direction Â pushes it).
func (c Clip) Token(logp, oldLogp, adv float64) (loss, dlogp, rho float64, clipped bool) {
	rho = math.Exp(logp - oldLogp)
	l1 := -adv * rho
	l2 := -adv * math.Min(math.Max(rho, 1-c.Low), 1+c.High)
	if l1 >= l2 {
		return l1, -adv * rho, rho, false
	}
	return l2, 0, rho, true
}

// SurrogateStats counts what a clipped surrogate did, for the usual
// diagnostics (clip_fraction = Clipped/Tokens, ratio_mean = RatioSum/Tokens).
type SurrogateStats struct {
	Tokens, Clipped, ClippedHigh, RatioSum float64
}

// Surrogate returns Σ_i w_i Σ_t Token(ℓ_{i,t}, ℓ_old_{i,t}, Â_i).loss and
// its gradient with respect to logp: the per-token clipped surrogate
// aggregated with per-sequence weights (Aggregation.Weights). old nil
// means μ = 1: old = stop-gradient(logp), ratio 1 with its gradient.
func (c Clip) Surrogate(logp, old [][]float64, adv, weights []float64) (loss float64, grad [][]float64, st SurrogateStats) {
	grad = make([][]float64, len(logp))
	for i, seq := range logp {
		w := weights[i]
		g := make([]float64, len(seq))
		for t, lp := range seq {
			o := lp
			if old != nil {
				o = old[i][t]
			}
			l, _, rho, clipped := c.Token(lp, o, adv[i])
			loss += w * l
			if !clipped {
				// w·(−ρÂ), multiplied in this order so that GRPO's
				// gradients keep the bits they had before the kit
				g[t] = -w * rho * adv[i]
			}
			st.RatioSum += rho
			if clipped {
				st.Clipped++
				if rho > 1 {
					st.ClippedHigh++
				}
			}
		}
		st.Tokens += float64(len(seq))
		grad[i] = g
	}
	return loss, grad, st
}

// Penalty returns Σ_i w_i Σ_t k(ℓ_{i,t}, ℓ_ref_{i,t}) for the estimator k
// and adds beta times its gradient to grad (nothing when beta = 0, so the
// value can be logged without entering the loss).
func (k KL) Penalty(logp, ref [][]float64, weights []float64, beta float64, grad [][]float64) float64 {
	var total float64
	for i, seq := range logp {
		w := weights[i]
		for t, lp := range seq {
			total += w * k.Value(lp, ref[i][t])
			if beta != 0 {
				grad[i][t] += w * beta * k.Grad(lp, ref[i][t])
			}
		}
	}
	return total
}
