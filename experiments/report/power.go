package report

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Minimum detectable effects (MDE): the smallest true difference that a
// two-sided test at level alpha detects with probability power. All three
// helpers return NaN when alpha or power is outside (0, 1) or another
// argument is out of range; power below 1/2 is accepted (its quantile is
// negative) but rarely meaningful. They use the usual normal / t
// approximations and ignore the (tiny) chance of rejecting in the wrong
// direction.

// validLevels reports whether alpha and power are usable probabilities.
func validLevels(alpha, power float64) bool {
	return alpha > 0 && alpha < 1 && power > 0 && power < 1
}

// zQuantiles returns z_{1−α/2} and z_{power} of the standard normal.
func zQuantiles(alpha, power float64) (za, zb float64) {
	return distuv.UnitNormal.Quantile(1 - alpha/2), distuv.UnitNormal.Quantile(power)
}

// MDEPairedT is the minimum detectable mean difference of a two-sided paired
// t-test on n paired differences with standard deviation sd:
//
//	MDE = (t_{1−α/2, n−1} + t_{power, n−1}) · sd / √n,
//
// the standard approximation that replaces the noncentral t by a shifted
// central t. NaN for n < 2, sd < 0 or NaN, or invalid alpha/power.
func MDEPairedT(sd float64, n int, alpha, power float64) float64 {
	if n < 2 || !(sd >= 0) || math.IsInf(sd, 0) || !validLevels(alpha, power) {
		return math.NaN()
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	return (t.Quantile(1-alpha/2) + t.Quantile(power)) * sd / math.Sqrt(float64(n))
}

// MDEFromSE is the minimum detectable effect of a two-sided z-test whose
// estimate has standard error se (for instance PairedResult.SE):
//
//	MDE = (z_{1−α/2} + z_{power}) · se.
//
// NaN for se < 0 or NaN, or invalid alpha/power.
func MDEFromSE(se, alpha, power float64) float64 {
	if !(se >= 0) || math.IsInf(se, 0) || !validLevels(alpha, power) {
		return math.NaN()
	}
	za, zb := zQuantiles(alpha, power)
	return (za + zb) * se
}

// MDEFromSEDF is MDEFromSE for a statistic referred to Student's t with
// df degrees of freedom: (t_{1−α/2,df} + t_{power,df})·SE (the normal
// quantiles when df is infinite). With few degrees of freedom the normal
// form would promise effects the test cannot detect.
func MDEFromSEDF(se, df, alpha, power float64) float64 {
	if math.IsInf(df, 1) {
		return MDEFromSE(se, alpha, power)
	}
	if !(se >= 0) || math.IsInf(se, 0) || !(df > 0) || !validLevels(alpha, power) {
		return math.NaN()
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	return (t.Quantile(1-alpha/2) + t.Quantile(power)) * se
}

// MDEProportionsPaired is the smallest difference in success rates,
// δ = P(A succeeds, B fails) − P(A fails, B succeeds), that McNemar's test
// detects with n pairs when the probability that a pair is discordant is
// ψ = pDiscordant. It inverts Connor's (1987) normal-approximation sample
// size n = (z_{1−α/2}·√ψ + z_{power}·√(ψ − δ²))² / δ², i.e. it solves
//
//	δ·√n = z_{1−α/2}·√ψ + z_{power}·√(ψ − δ²)
//
// for δ. Squaring gives a quadratic in δ whose relevant root is
//
//	δ = √ψ · (z_{1−α/2}·√n + z_{power}·√(n + z_{power}² − z_{1−α/2}²)) / (n + z_{power}²),
//
// which this function evaluates directly, with no iteration, after checking
// that it solves the unsquared equation (it does whenever n ≥ z_{1−α/2}²
// and power ≥ 1/2). Because
// |δ| ≤ ψ for any pair of success indicators, the result is NaN when the
// root exceeds ψ (too few pairs to reach the power at this discordance), as
// well as for n < 1, pDiscordant outside (0, 1], or invalid alpha/power.
func MDEProportionsPaired(pDiscordant float64, n int, alpha, power float64) float64 {
	psi := pDiscordant
	if n < 1 || !(psi > 0 && psi <= 1) || !validLevels(alpha, power) {
		return math.NaN()
	}
	za, zb := zQuantiles(alpha, power)
	nf := float64(n)
	disc := nf + zb*zb - za*za
	// The squared equation's root solves the original one only when
	// √(n·disc) ≥ z_{1−α/2}·z_{power} (for power ≥ 1/2: n ≥ z_{1−α/2}²);
	// otherwise no δ reaches the power.
	if disc < 0 || math.Sqrt(nf*disc) < za*zb {
		return math.NaN()
	}
	delta := math.Sqrt(psi) * (za*math.Sqrt(nf) + zb*math.Sqrt(disc)) / (nf + zb*zb)
	if !(delta >= 0) || delta > psi {
		return math.NaN()
	}
	return delta
}
