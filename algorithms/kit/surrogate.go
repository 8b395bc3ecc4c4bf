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
