package kit

import (
	"fmt"
	"math"
)

// Std names a standard-deviation estimator of a group's rewards.
type Std string

const (
	// Bessel divides by n−1 (TRL's torch.std default).
	Bessel Std = "bessel"
	// Population divides by n (GRAO's Eq. 4).
	Population Std = "population"
)

// Valid reports whether s is a known estimator.
func (s Std) Valid() bool { return s == Bessel || s == Population }

// MeanStd returns the mean and standard deviation of xs, two-pass
// (numerically safer than E[x²]−E[x]²). Bessel needs len(xs) ≥ 2.
func MeanStd(xs []float64, std Std) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	n := float64(len(xs))
	if std == Bessel {
		n--
	}
	return mean, math.Sqrt(ss / n)
}

// AllEqual reports whether every element of xs equals the first: such a
// group carries no relative signal and gets advantages of exactly 0.
func AllEqual(xs []float64) bool {
	for _, x := range xs[1:] {
		if x != xs[0] {
			return false
		}
	}
	return true
}

// Standardizer returns μ and the divisor max(σ, floor) + eps of one
// group's rewards, or zero = true when they are all equal (such a group
// gets advantages of exactly 0). The floor keeps a group whose continuous
// rewards differ only by rounding from getting unit advantages out of
// noise.
func Standardizer(rewards []float64, std Std, eps, floor float64) (mu, den float64, zero bool) {
	if AllEqual(rewards) {
		return 0, 0, true
	}
	mu, sd := MeanStd(rewards, std)
	return mu, math.Max(sd, floor) + eps, false
}

// Normalize returns (r − μ)/(max(σ, floor) + eps) for every reward of one
// group (all zeros, and zero = true, when the rewards are all equal).
func Normalize(rewards []float64, std Std, eps, floor float64) (adv []float64, zero bool) {
	adv = make([]float64, len(rewards))
	mu, den, zero := Standardizer(rewards, std, eps, floor)
	if zero {
		return adv, true
	}
	for i, r := range rewards {
		adv[i] = (r - mu) / den
	}
	return adv, false
}

// Scale says what group-relative advantages are divided by.
type Scale string

const (
	// ScaleGroup divides by the group's σ (GRPO, DeepSeekMath).
	ScaleGroup Scale = "group"
	// ScaleBatch divides by the σ of all rewards in the batch.
	ScaleBatch Scale = "batch"
	// ScaleNone does not divide (Dr. GRPO, Liu et al. 2025).
	ScaleNone Scale = "none"
)

// Valid reports whether s is a known scale.
func (s Scale) Valid() bool { return s == ScaleGroup || s == ScaleBatch || s == ScaleNone }

// GroupRelative returns the advantages of rewards taken in consecutive
// groups of g, r − μ_group divided as scale says (σ floored at floor, then
// eps added), and the number of groups whose rewards were all equal (those
// get exactly 0 whatever the scale).
func GroupRelative(rewards []float64, g int, std Std, eps, floor float64, scale Scale) (adv []float64, zeroGroups int, err error) {
	if g < 1 || len(rewards)%g != 0 {
		return nil, 0, fmt.Errorf("%d rewards do not split into groups of g = %d", len(rewards), g)
	}
	if !std.Valid() {
		return nil, 0, fmt.Errorf("std = %q, want %q or %q", std, Bessel, Population)
	}
	if !scale.Valid() {
		return nil, 0, fmt.Errorf("scale = %q, want %q, %q or %q", scale, ScaleGroup, ScaleBatch, ScaleNone)
	}
	// Bessel's n−1 is 0 for a single reward.
	if std == Bessel && scale == ScaleGroup && g < 2 {
		return nil, 0, fmt.Errorf("std %q needs g ≥ 2 (got %d)", std, g)
	}
	if err := Finite("rewards", rewards); err != nil {
		return nil, 0, err
	}
	batchStd := 0.0
	if scale == ScaleBatch {
		if std == Bessel && len(rewards) < 2 {
			return nil, 0, fmt.Errorf("std %q over the batch needs ≥ 2 rewards", std)
		}
		_, batchStd = MeanStd(rewards, std)
	}
	adv = make([]float64, len(rewards))
	for start := 0; start < len(rewards); start += g {
		grp := rewards[start : start+g]
		if AllEqual(grp) {
			zeroGroups++
			continue
		}
		mu, den, _ := Standardizer(grp, std, eps, floor)
		switch scale {
		case ScaleBatch:
			den = math.Max(batchStd, floor) + eps
		case ScaleNone:
			den = 1
		}
		for i, r := range grp {
			adv[start+i] = (r - mu) / den
		}
	}
	return adv, zeroGroups, nil
}

// LeaveOneOut returns RLOO's advantages (Ahmadian et al. 2024, after
// Kool et al. 2019): each sample's reward minus the mean reward of the
// other g−1 samples of its group, r_i − (Σ_j r_j − r_i)/(g−1), which
// equals g/(g−1)·(r_i − μ). Groups are consecutive blocks of g ≥ 2.
func LeaveOneOut(rewards []float64, g int) (adv []float64, zeroGroups int, err error) {
	if g < 2 {
		return nil, 0, fmt.Errorf("leave-one-out needs g ≥ 2 (got %d)", g)
	}
	if len(rewards)%g != 0 {
		return nil, 0, fmt.Errorf("%d rewards do not split into groups of g = %d", len(rewards), g)
	}
	if err := Finite("rewards", rewards); err != nil {
		return nil, 0, err
	}
	adv = make([]float64, len(rewards))
	for start := 0; start < len(rewards); start += g {
		grp := rewards[start : start+g]
		if AllEqual(grp) {
			zeroGroups++
			continue
		}
		var sum float64
		for _, r := range grp {
			sum += r
		}
		for i, r := range grp {
			adv[start+i] = r - (sum-r)/float64(g-1)
		}
	}
	return adv, zeroGroups, nil
}

// GAE returns the generalised advantage estimates (Schulman et al. 2016)
// and the returns R̂ = Â + V of per-token rewards and values; the value
// after the last token is 0.
func GAE(rewards, values [][]float64, gamma, lambda float64) (adv, ret [][]float64) {
	adv = make([][]float64, len(rewards))
	ret = make([][]float64, len(rewards))
	for i, r := range rewards {
		v := values[i]
		a := make([]float64, len(r))
		rt := make([]float64, len(r))
		var next, nextV float64
		for t := len(r) - 1; t >= 0; t-- {
			delta := r[t] + gamma*nextV - v[t]
			next = delta + gamma*lambda*next
			a[t] = next
			rt[t] = next + v[t]
			nextV = v[t]
		}
		adv[i], ret[i] = a, rt
	}
	return adv, ret
}

// Whiten returns (x − mean)/sqrt(var + eps) over all elements, with the
// Bessel-corrected variance (TRL's masked_whiten). It needs ≥ 2 elements.
func Whiten(x [][]float64, eps float64) ([][]float64, error) {
	var n, sum float64
	for _, s := range x {
		for _, v := range s {
			sum += v
			n++
		}
	}
	if n < 2 {
		return nil, fmt.Errorf("whitening needs ≥ 2 tokens in the batch (got %v)", n)
	}
	mean := sum / n
	var ss float64
	for _, s := range x {
		for _, v := range s {
			ss += (v - mean) * (v - mean)
		}
	}
	scale := 1 / math.Sqrt(ss/(n-1)+eps)
	out := make([][]float64, len(x))
	for i, s := range x {
		out[i] = make([]float64, len(s))
		for t, v := range s {
			out[i][t] = (v - mean) * scale
		}
	}
	return out, nil
}

// Finite returns an error naming the first NaN or infinite element of xs.
func Finite(name string, xs []float64) error {
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s[%d] = %v is not finite", name, i, x)
		}
	}
	return nil
}
