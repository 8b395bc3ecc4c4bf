package report

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// CIMethod chooses how the 95% interval over seeds is computed.
type CIMethod int

const (
	// CIBootstrap is the percentile bootstrap of the mean: resample the n
	// per-seed values with replacement Resamples times, take the 2.5% and
	// 97.5% quantiles of the resampled means. It assumes nothing about the
	// distribution but is too narrow for very few seeds (with n = 2 the
	// resampled means take only three values).
	CIBootstrap CIMethod = iota
	// CIStudentT is mean ± t(0.975, n−1)·s/√n, exact for normal per-seed
	// values and honest (wide) at small n.
	CIStudentT
)

func (m CIMethod) String() string {
	if m == CIStudentT {
		return "t"
	}
	return "bootstrap"
}

// TestMethod chooses the significance test between target and baseline.
type TestMethod int

const (
	// TestT: paired t-test on per-seed differences when ≥ 2 seeds are
	// shared, otherwise Welch's unequal-variance t-test. Two-sided.
	TestT TestMethod = iota
	// TestPermutation: paired sign-flip test on per-seed differences when ≥ 2
	// seeds are shared, otherwise a two-sample permutation test of the
	// difference in means; exact when the number of rearrangements is at most
	// exactLimit, Monte Carlo with a seeded RNG otherwise. Two-sided.
	TestPermutation
)

func (m TestMethod) String() string {
	if m == TestPermutation {
		return "permutation"
	}
	return "t"
}

// exactLimit caps exact enumeration in permutation tests.
const exactLimit = 1 << 16

// Mean is the arithmetic mean (NaN for no values).
func Mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// SampleSD is the Bessel-corrected standard deviation; 0 for n < 2.
func SampleSD(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := Mean(xs)
	s := 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}

// KeyedRNG gives an RNG whose stream depends only on seed and key, so a
// cell's interval does not change when other cells are added or reordered.
func KeyedRNG(seed uint64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// bootstrapCI returns the percentile-bootstrap 95% interval of the mean.
func bootstrapCI(xs []float64, resamples int, rng *rand.Rand) (lo, hi float64) {
	n := len(xs)
	means := make([]float64, resamples)
	for b := range means {
		s := 0.0
		for range n {
			s += xs[rng.IntN(n)]
		}
		means[b] = s / float64(n)
	}
	sort.Float64s(means)
	return Quantile(means, 0.025), Quantile(means, 0.975)
}

// Quantile of sorted data with linear interpolation (type 7, as R and NumPy).
func Quantile(sorted []float64, p float64) float64 {
	h := p * float64(len(sorted)-1)
	i := int(math.Floor(h))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// Interval is the 95% interval of the mean of xs by method m (resamples
// and rng serve the bootstrap); ok is false below two values.
func Interval(xs []float64, m CIMethod, resamples int, rng *rand.Rand) (lo, hi float64, ok bool) {
	if len(xs) < 2 {
		return math.NaN(), math.NaN(), false
	}
	if m == CIBootstrap {
		lo, hi = bootstrapCI(xs, resamples, rng)
	} else {
		lo, hi = tCI(xs)
	}
	return lo, hi, true
}

// tCI returns mean ± t(0.975, n−1)·s/√n.
func tCI(xs []float64) (lo, hi float64) {
	m, s, n := Mean(xs), SampleSD(xs), float64(len(xs))
	hw := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975) * s / math.Sqrt(n)
	return m - hw, m + hw
}

// tTwoSided is the two-sided p-value of a t statistic with df degrees of
// freedom.
func tTwoSided(t, df float64) float64 {
	return 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
}

// pairedT tests Mean(d) = 0. ok is false when the differences have zero
// variance (the statistic is undefined; the caller says so).
func pairedT(d []float64) (p float64, ok bool) {
	s := SampleSD(d)
	if s == 0 {
		return math.NaN(), false
	}
	t := Mean(d) / (s / math.Sqrt(float64(len(d))))
	return tTwoSided(t, float64(len(d)-1)), true
}

// welchT tests Mean(a) = Mean(b) without assuming equal variances, with the
// Welch–Satterthwaite degrees of freedom.
func welchT(a, b []float64) (p float64, ok bool) {
	va, vb := sq(SampleSD(a)), sq(SampleSD(b))
	na, nb := float64(len(a)), float64(len(b))
	se2 := va/na + vb/nb
	if se2 == 0 {
		return math.NaN(), false
	}
	t := (Mean(a) - Mean(b)) / math.Sqrt(se2)
	df := se2 * se2 / (sq(va/na)/(na-1) + sq(vb/nb)/(nb-1))
	return tTwoSided(t, df), true
}

func sq(x float64) float64 { return x * x }

// tol absorbs floating-point noise when comparing permutation statistics
// with the observed one (ties must count as "at least as extreme").
const tol = 1e-9

// signFlip is the paired permutation test: under H0 each per-seed difference
// is equally likely to have either sign. Statistic |Σ d|.
func signFlip(d []float64, mc int, rng *rand.Rand) (p float64, exact bool) {
	obs := math.Abs(sum(d)) - tol*(1+math.Abs(sum(d)))
	n := len(d)
	if n <= 16 && 1<<n <= exactLimit {
		count := 0
		for mask := 0; mask < 1<<n; mask++ {
			s := 0.0
			for i, x := range d {
				if mask>>i&1 == 1 {
					s -= x
				} else {
					s += x
				}
			}
			if math.Abs(s) >= obs {
				count++
			}
		}
		return float64(count) / float64(int(1)<<n), true
	}
	count := 0
	for range mc {
		s := 0.0
		for _, x := range d {
			if rng.IntN(2) == 1 {
				s -= x
			} else {
				s += x
			}
		}
		if math.Abs(s) >= obs {
			count++
		}
	}
	// (count+1)/(mc+1) keeps a Monte-Carlo p-value valid (never 0).
	return float64(count+1) / float64(mc+1), false
}

// twoSamplePerm permutes group labels; statistic |Mean(a) − Mean(b)|.
func twoSamplePerm(a, b []float64, mc int, rng *rand.Rand) (p float64, exact bool) {
	all := append(append([]float64{}, a...), b...)
	n, k := len(all), len(a)
	total := sum(all)
	stat := func(sa float64) float64 {
		return math.Abs(sa/float64(k) - (total-sa)/float64(n-k))
	}
	o := stat(sum(a))
	obs := o - tol*(1+o)
	if binom(n, k) <= exactLimit {
		count, perms := 0, 0
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		for {
			s := 0.0
			for _, i := range idx {
				s += all[i]
			}
			if stat(s) >= obs {
				count++
			}
			perms++
			// next k-combination of 0..n-1 in lexicographic order
			i := k - 1
			for i >= 0 && idx[i] == n-k+i {
				i--
			}
			if i < 0 {
				break
			}
			idx[i]++
			for j := i + 1; j < k; j++ {
				idx[j] = idx[j-1] + 1
			}
		}
		return float64(count) / float64(perms), true
	}
	count := 0
	perm := make([]float64, n)
	for range mc {
		copy(perm, all)
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		if stat(sum(perm[:k])) >= obs {
			count++
		}
	}
	return float64(count+1) / float64(mc+1), false
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// binom is C(n, k) as a float (only compared against exactLimit).
func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}
