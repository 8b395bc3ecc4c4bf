package report

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// This file compares two algorithms evaluated on the same prompts: the
// crossed seeds × prompts t-test the verdicts use, the exact McNemar test
// on paired binary outcomes and a prompt-level paired bootstrap (both of
// which hold the trained models fixed), and the Holm–Bonferroni correction
// for a family of such tests. The power side (minimum detectable effects)
// is in power.go.

// McNemar is the exact two-sided McNemar test for paired binary outcomes.
// b counts the pairs where A succeeded and B failed, c the reverse; the
// concordant pairs carry no information and are not needed. Under H0 each
// discordant pair is equally likely to go either way, so with
// X ~ Binomial(b+c, 1/2)
//
//	p = min(1, 2·P[X ≤ min(b, c)]),
//
// the doubled one-sided tail (for p = 1/2 this equals the "sum of outcomes
// no more likely than the observed one" definition, as in R's binom.test
// and SciPy's binomtest). p = 1 when b+c = 0 and NaN when b or c is
// negative.
//
// The tail is summed in floating point downwards from P[X = min(b,c)], whose
// value comes from Loader's saddle-point expansion (the method of R's
// dbinom), so the result is accurate to about 1e-13 relative for any b+c
// (checked against exact rational arithmetic up to b+c = 1e5); tails below
// the smallest float64 underflow to 0.
func McNemar(b, c int) float64 {
	if b < 0 || c < 0 {
		return math.NaN()
	}
	n, k := b+c, min(b, c)
	if n-2*k <= 1 {
		// b = c, or |b−c| = 1 where P[X ≤ k] = 1/2 exactly.
		return 1
	}
	if k == 0 {
		return math.Ldexp(1, 1-n) // 2·2⁻ⁿ, exact down to the smallest subnormal
	}
	t := binomHalfPMF(k, n)
	s := t
	for i := k; i > 0; i-- {
		t *= float64(i) / float64(n-i+1) // P[X=i−1] / P[X=i]
		s += t
		if t <= 1e-17*s {
			break
		}
	}
	return math.Min(1, 2*s)
}

// binomHalfPMF is P[X = k] for X ~ Binomial(n, 1/2), 0 ≤ k ≤ n, by Loader's
// algorithm ("Fast and accurate computation of binomial probabilities",
// 2000): the log-probability is assembled from Stirling-series remainders and
// the deviance term bd0, avoiding the cancellation of lgamma differences.
func binomHalfPMF(k, n int) float64 {
	if k == 0 || k == n {
		return math.Ldexp(1, -n)
	}
	x, nf := float64(k), float64(n)
	half := nf / 2
	lc := stirlerr(nf) - stirlerr(x) - stirlerr(nf-x) - bd0(x, half) - bd0(nf-x, half)
	lf := math.Log(2*math.Pi) + math.Log(x) + math.Log1p(-x/nf)
	return math.Exp(lc - 0.5*lf)
}

// stirlerr(n) = log(n!) − log(√(2π)·(n/e)^n·√n), the remainder of
// Stirling's formula: direct for small n, otherwise its asymptotic series.
func stirlerr(n float64) float64 {
	const (
		s0 = 1.0 / 12
		s1 = 1.0 / 360
		s2 = 1.0 / 1260
		s3 = 1.0 / 1680
		s4 = 1.0 / 1188
	)
	if n <= 15 {
		lg, _ := math.Lgamma(n + 1)
		return lg - (n+0.5)*math.Log(n) + n - 0.5*math.Log(2*math.Pi)
	}
	nn := n * n
	switch {
	case n > 500:
		return (s0 - s1/nn) / n
	case n > 80:
		return (s0 - (s1-s2/nn)/nn) / n
	case n > 35:
		return (s0 - (s1-(s2-s3/nn)/nn)/nn) / n
	default:
		return (s0 - (s1-(s2-(s3-s4/nn)/nn)/nn)/nn) / n
	}
}

// bd0(x, np) = x·log(x/np) + np − x, computed without cancellation when x is
// close to np.
func bd0(x, np float64) float64 {
	if math.Abs(x-np) < 0.1*(x+np) {
		v := (x - np) / (x + np)
		s := (x - np) * v
		ej := 2 * x * v
		v *= v
		for j := 1; j < 1000; j++ {
			ej *= v
			s1 := s + ej/float64(2*j+1)
			if s1 == s {
				return s1
			}
			s = s1
		}
		return s
	}
	return x*math.Log(x/np) + np - x
}

// PairedResult is a prompt-level paired bootstrap comparison of algorithm A
// with algorithm B (see PairedPrompts). Positive differences favour A.
type PairedResult struct {
	// Diff is d̂, the mean of a−b over every seed and prompt.
	Diff float64
	// Lo and Hi are the percentile-bootstrap 95% interval of Diff (type-7
	// quantiles 0.025 and 0.975 of the replicates, as Quantile).
	Lo, Hi float64
	// P is the two-sided bootstrap p-value of H0: no difference, from the
	// replicates shifted to mean zero: (1 + #{|d*−d̂| ≥ |d̂|}) / (B+1). Its
	// smallest possible value is 1/(B+1); it is 1 when d̂ = 0.
	P float64
	// SE is the standard deviation (n−1 denominator) of the replicates d*.
	SE float64
	// N is the number of prompts, Seeds the number of seeds, Resamples the
	// number of bootstrap replicates B.
	N, Seeds, Resamples int
	// DF is CrossedT's degrees of freedom (0 for the bootstrap).
	DF float64
}

// PairedPrompts compares algorithms A and B evaluated on the same prompts.
// a and b are indexed [seed][prompt] and must have the same non-empty,
// rectangular shape; a[s][j] and b[s][j] are the outcomes (0/1 success
// indicators, judge rewards, …) of A and B on prompt j in seed s, and seed s
// of A is paired with seed s of B. All values must be finite.
//
// The statistic is d̂ = mean over all seeds and prompts of a−b. Each of the
// resamples bootstrap replicates draws N prompt indices with replacement and
// applies the same draw to every seed: prompts are the resampling unit and
// seeds are held fixed, so the interval reflects prompt sampling variability
// only (seed-to-seed variation enters through the per-prompt averages, not
// as a separate level). Equivalently, the replicates resample the per-prompt
// seed-averaged differences. See PairedResult for the interval, p-value and
// standard error. Replicate differences within 1e-9·(1+|d̂|) of the
// observed |d̂| count as at least as extreme, so identical data gives P = 1
// and Lo = Hi = Diff.
//
// The result is a deterministic function of the inputs and the state of
// rng (math/rand/v2), which must not be nil; use KeyedRNG for streams that
// do not depend on call order.
func PairedPrompts(a, b [][]float64, resamples int, rng *rand.Rand) (PairedResult, error) {
	if rng == nil {
		return PairedResult{}, errors.New("report: PairedPrompts needs an RNG")
	}
	if resamples < 1 {
		return PairedResult{}, fmt.Errorf("report: PairedPrompts needs at least one resample, got %d", resamples)
	}
	d, err := promptDiffs(a, b)
	if err != nil {
		return PairedResult{}, err
	}
	n := len(d)
	res := PairedResult{N: n, Seeds: len(a), Resamples: resamples}
	res.Diff = sum(d) / float64(n)

	reps := make([]float64, resamples)
	for r := range reps {
		s := 0.0
		for range n {
			s += d[rng.IntN(n)]
		}
		reps[r] = s / float64(n)
	}
	res.summarise(reps)
	return res, nil
}

// summarise sets the p-value, interval and standard error from the
// bootstrap replicates of Diff (reordering reps).
func (res *PairedResult) summarise(reps []float64) {
	obs := math.Abs(res.Diff) - tol*(1+math.Abs(res.Diff))
	extreme := 0
	for _, x := range reps {
		if math.Abs(x-res.Diff) >= obs {
			extreme++
		}
	}
	res.P = float64(1+extreme) / float64(len(reps)+1)
	sort.Float64s(reps)
	res.Lo, res.Hi = Quantile(reps, 0.025), Quantile(reps, 0.975)
	if reps[0] != reps[len(reps)-1] {
		res.SE = SampleSD(reps)
	}
}

// CrossedT compares A and B over seeds and prompts as two random
// factors, with the shapes of PairedPrompts (a[s][j], b[s][j]; seed s of A
// paired with seed s of B). Each training seed gives a different policy
// and each prompt is a draw from the task, so a difference must stand out
// against both: holding seeds fixed (PairedPrompts, McNemar on prompt ×
// seed pairs) asks whether these trained models differ, not whether the
// algorithms do, and fires far too often when seeds disagree (the A/A
// calibration, bench study null, measures it).
//
// With D = a − b, m_s the mean of seed s over prompts and m_j the mean of
// prompt j over seeds, the variance of d̂ = mean(D) is estimated as
//
//	SE² = var(m_s)/S + var(m_j)/N
//
// (sample variances), which counts the seed × prompt interaction twice
// and so errs on the conservative side, and d̂/SE is referred to Student's
// t with the Welch–Satterthwaite degrees of freedom of the two terms: few
// seeds give few degrees of freedom when seeds dominate the variance. With
// one seed only the prompt term remains (df N − 1). P is two-sided, Lo and
// Hi the 95% interval d̂ ± t·SE, Resamples 0. Zero variance gives P = 1
// when d̂ = 0 and P = 0 otherwise (every seed and prompt agrees).
func CrossedT(a, b [][]float64) (PairedResult, error) {
	pm, err := promptDiffs(a, b)
	if err != nil {
		return PairedResult{}, err
	}
	S, n := len(a), len(pm)
	sm := make([]float64, S)
	for s := range S {
		for j := range n {
			sm[s] += a[s][j] - b[s][j]
		}
		sm[s] /= float64(n)
	}
	res := PairedResult{N: n, Seeds: S, Diff: Mean(pm)}
	vp := sq(SampleSD(pm)) / float64(n)
	vs, dfs := 0.0, float64(S-1)
	if S > 1 {
		vs = sq(SampleSD(sm)) / float64(S)
	}
	se2 := vs + vp
	if !(se2 > 0) {
		res.P, res.Lo, res.Hi = 1, res.Diff, res.Diff
		if math.Abs(res.Diff) > tol {
			res.P = 0
		}
		return res, nil
	}
	den := sq(vp) / float64(n-1)
	if n == 1 {
		den = 0
	}
	if S > 1 {
		den += sq(vs) / dfs
	}
	df := math.Inf(1)
	if den > 0 {
		df = se2 * se2 / den
	}
	res.SE = math.Sqrt(se2)
	res.P = tTwoSided(res.Diff/res.SE, df)
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.975)
	if math.IsInf(df, 1) {
		q = distuv.UnitNormal.Quantile(0.975)
	}
	res.Lo, res.Hi = res.Diff-q*res.SE, res.Diff+q*res.SE
	res.DF = df
	return res, nil
}

// promptDiffs checks the shapes of a and b and returns, per prompt, the mean
// over seeds of a−b.
func promptDiffs(a, b [][]float64) ([]float64, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, errors.New("report: PairedPrompts needs at least one seed")
	}
	if len(a) != len(b) {
		return nil, fmt.Errorf("report: PairedPrompts: A has %d seeds, B has %d", len(a), len(b))
	}
	n := len(a[0])
	if n == 0 {
		return nil, errors.New("report: PairedPrompts needs at least one prompt")
	}
	d := make([]float64, n)
	for s := range a {
		if len(a[s]) != n || len(b[s]) != n {
			return nil, fmt.Errorf("report: PairedPrompts: seed %d has %d prompts for A and %d for B, want %d", s, len(a[s]), len(b[s]), n)
		}
		for j := range n {
			if math.IsNaN(a[s][j]) || math.IsInf(a[s][j], 0) || math.IsNaN(b[s][j]) || math.IsInf(b[s][j], 0) {
				return nil, fmt.Errorf("report: PairedPrompts: non-finite value at seed %d, prompt %d", s, j)
			}
			d[j] += a[s][j] - b[s][j]
		}
	}
	seeds := float64(len(a))
	for j := range d {
		d[j] /= seeds
	}
	return d, nil
}

// Holm returns Holm–Bonferroni adjusted p-values, in the order of ps, for
// a family of m tests: with the valid p-values sorted ascending,
// p(1) ≤ … ≤ p(m),
//
//	adj(i) = min(1, max over j ≤ i of (m−j+1)·p(j)),
//
// so the adjusted values are monotone in the raw ones and rejecting every
// hypothesis with adj ≤ α controls the family-wise error rate at α. NaN
// entries (tests that could not be run) stay NaN in the output and are not
// counted in m: a test that produced no p-value cannot produce a false
// rejection, so it does not cost the others any power. Tied p-values get the
// same adjusted value (the running maximum makes the first of a tie, with
// the largest multiplier, set it for the rest). Other values, including
// ones outside [0, 1], are used as given. The input is not modified; the
// result has the same length (nil input gives an empty slice).
func Holm(ps []float64) []float64 {
	out := make([]float64, len(ps))
	idx := make([]int, 0, len(ps))
	for i, p := range ps {
		if math.IsNaN(p) {
			out[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(x, y int) bool { return ps[idx[x]] < ps[idx[y]] })
	m := len(idx)
	run := 0.0
	for r, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-r)*ps[i]))
		out[i] = run
	}
	return out
}
