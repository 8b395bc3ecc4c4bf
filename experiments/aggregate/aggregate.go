package aggregate

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// entries returns the scores of x in run-major order, in a fresh slice the
// caller may reorder. It panics on ragged rows or NaN: sorting NaN leaves
// order statistics silently wrong, so they must never get that far.
func entries(x [][]float64) []float64 {
	tasks := shape("x", x)
	out := make([]float64, 0, len(x)*tasks)
	for _, row := range x {
		out = append(out, row...)
	}
	return out
}

// shape is the number of tasks of x; it panics as entries does.
func shape(name string, x [][]float64) int {
	if len(x) == 0 {
		return 0
	}
	tasks := len(x[0])
	for i, row := range x {
		if len(row) != tasks {
			panic(fmt.Sprintf("aggregate: ragged score matrix %s: run %d has %d tasks, run 0 has %d", name, i, len(row), tasks))
		}
		for j, v := range row {
			if math.IsNaN(v) {
				panic(fmt.Sprintf("aggregate: NaN score in %s at run %d, task %d", name, i, j))
			}
		}
	}
	return tasks
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// IQM is the interquartile mean of all run × task scores pooled:
// scipy.stats.trim_mean(x, 0.25, axis=None), which after sorting drops
// int(0.25·n) entries from each end. Unlike the median it uses half of
// the data, and unlike the mean one bad seed cannot move it far. NaN when
// x has no entries; panics on ragged or NaN input.
func IQM(x [][]float64) float64 {
	v := entries(x)
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	cut := int(0.25 * float64(len(v)))
	return mean(v[cut : len(v)-cut])
}

// Mean is the mean of all run × task scores (NaN when there are none;
// panics on ragged or NaN input).
func Mean(x [][]float64) float64 {
	v := entries(x)
	if len(v) == 0 {
		return math.NaN()
	}
	return mean(v)
}

// Median is numpy.median of all run × task scores (NaN when there are
// none; panics on ragged or NaN input).
func Median(x [][]float64) float64 {
	v := entries(x)
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// OptimalityGap is the mean over all run × task scores of
// max(gamma − score, 0): how far the scores fall short of the target
// gamma, where overshooting one task cannot hide a shortfall on another.
// Lower is better. NaN when x has no entries; panics on ragged or NaN
// input.
func OptimalityGap(x [][]float64, gamma float64) float64 {
	v := entries(x)
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, e := range v {
		s += max(gamma-e, 0)
	}
	return s / float64(len(v))
}

// ProbImprovement is P(X > Y) as rliable defines it: for each task m, the
// probability that a random run of X beats a random run of Y on m (ties
// count 1/2), averaged over tasks, so every task weighs the same whatever
// its score scale. x is N×M, y is K×M; N and K may differ. It is 0.5 for
// X = Y and P(X > Y) + P(Y > X) = 1. NaN when either has no runs or there
// are no tasks; panics when the task counts differ or on ragged or NaN
// input.
func ProbImprovement(x, y [][]float64) float64 {
	mx, my := shape("x", x), shape("y", y)
	if len(x) > 0 && len(y) > 0 && mx != my {
		panic(fmt.Sprintf("aggregate: ProbImprovement: x has %d tasks, y has %d", mx, my))
	}
	if len(x) == 0 || len(y) == 0 || mx == 0 {
		return math.NaN()
	}
	xs, ys := make([]float64, len(x)), make([]float64, len(y))
	s := 0.0
	for m := range mx {
		for i, row := range x {
			xs[i] = row[m]
		}
		for j, row := range y {
			ys[j] = row[m]
		}
		slices.Sort(xs)
		slices.Sort(ys)
		s += float64(twiceWins(xs, ys)) / float64(2*len(xs)*len(ys))
	}
	return s / float64(mx)
}

// twiceWins is 2·#{(i, j): x_i > y_j} + #{(i, j): x_i = y_j} for sorted xs
// and ys, in one merge pass instead of N·K comparisons (the bootstrap calls
// it once per task and resample); an integer, so ties halve exactly.
func twiceWins(xs, ys []float64) int {
	lt, le, s := 0, 0, 0 // ys[:lt] < v, ys[:le] <= v
	for _, v := range xs {
		for lt < len(ys) && ys[lt] < v {
			lt++
		}
		for le < len(ys) && ys[le] <= v {
			le++
		}
		s += 2*lt + (le - lt)
	}
	return s
}

// PerformanceProfile is rliable's score-distribution profile: for each
// tau, the fraction of all run × task scores strictly greater than tau.
// Entries are NaN when x has no scores; panics on ragged or NaN input.
func PerformanceProfile(x [][]float64, taus []float64) []float64 {
	v := entries(x)
	slices.Sort(v)
	out := make([]float64, len(taus))
	for i, tau := range taus {
		above := len(v) - sort.Search(len(v), func(j int) bool { return v[j] > tau })
		out[i] = float64(above) / float64(len(v))
	}
	return out
}

// Percentile is numpy.percentile(sorted, p) with numpy's default 'linear'
// method, for ascending data and p in [0, 100]. It interpolates as numpy's
// _lerp does (from the upper neighbour when the fraction is at least one
// half), so the bounds agree to the last bit rather than to rounding. It
// panics on empty data or p outside [0, 100].
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		panic("aggregate: Percentile of no values")
	}
	if !(p >= 0 && p <= 100) {
		panic(fmt.Sprintf("aggregate: Percentile %v outside [0, 100]", p))
	}
	h := float64(n-1) * (p / 100)
	if h >= float64(n-1) {
		return sorted[n-1]
	}
	f := math.Floor(h)
	i, t := int(f), h-f
	a, b := sorted[i], sorted[i+1]
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}
