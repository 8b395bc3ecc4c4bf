package kit

import (
	"fmt"
	"math"
)

// KL names a per-token estimator of KL(π‖π_ref) from ℓ = log π(o_t) and
// ℓ_ref = log π_ref(o_t) of tokens sampled from π (Schulman, "Approximating
// KL divergence", 2020).
type KL string

const (
	K1Estimator KL = "k1" // ℓ − ℓ_ref: unbiased, can be negative
	K2Estimator KL = "k2" // ½(ℓ − ℓ_ref)²: biased, low variance, ≥ 0
	K3Estimator KL = "k3" // exp(ℓ_ref − ℓ) − (ℓ_ref − ℓ) − 1: unbiased, ≥ 0 (DeepSeekMath)
)

// Valid reports whether k is a known estimator.
func (k KL) Valid() bool { return k == K1Estimator || k == K2Estimator || k == K3Estimator }

// Value is the estimator at one token.
func (k KL) Value(logp, refLogp float64) float64 {
	switch k {
	case K1Estimator:
		return K1(logp, refLogp)
	case K2Estimator:
		return K2(logp, refLogp)
	case K3Estimator:
		return K3(logp, refLogp)
	}
	panic(fmt.Sprintf("kit: unknown KL estimator %q", string(k)))
}

// Grad is ∂Value/∂ℓ at one token.
func (k KL) Grad(logp, refLogp float64) float64 {
	switch k {
	case K1Estimator:
		return 1
	case K2Estimator:
		return logp - refLogp
	case K3Estimator:
		return DK3(logp, refLogp)
	}
	panic(fmt.Sprintf("kit: unknown KL estimator %q", string(k)))
}

// K1 is ℓ − ℓ_ref.
func K1(logp, refLogp float64) float64 { return logp - refLogp }

// K2 is ½(ℓ − ℓ_ref)².
func K2(logp, refLogp float64) float64 { d := logp - refLogp; return 0.5 * d * d }

// K3 is exp(ℓ_ref − ℓ) − (ℓ_ref − ℓ) − 1, written with expm1 so that it
// stays exact (and ≥ 0) near ℓ = ℓ_ref.
func K3(logp, refLogp float64) float64 {
	r := refLogp - logp
	return math.Expm1(r) - r
}

// DK3 is ∂K3/∂ℓ = 1 − exp(ℓ_ref − ℓ).
func DK3(logp, refLogp float64) float64 { return -math.Expm1(refLogp - logp) }
