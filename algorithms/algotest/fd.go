package algotest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// NumGrad returns central finite differences (f(x+h) − f(x−h))/2h of f with
// respect to every element of xs, perturbing xs in place and restoring it.
// f must read xs afresh on each call.
func NumGrad(f func() float64, xs [][]float64, h float64) [][]float64 {
	g := make([][]float64, len(xs))
	for i := range xs {
		g[i] = make([]float64, len(xs[i]))
		for t := range xs[i] {
			x := xs[i][t]
			xs[i][t] = x + h
			up := f()
			xs[i][t] = x - h
			down := f()
			xs[i][t] = x
			g[i][t] = (up - down) / (2 * h)
		}
	}
	return g
}

// Close reports the first element where |got − want| > abs + rel·|want|,
// or "" when all match (shapes must match too).
func Close(got, want [][]float64, abs, rel float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return fmt.Sprintf("row %d: got %d elements, want %d", i, len(got[i]), len(want[i]))
		}
		for t := range want[i] {
			if d := math.Abs(got[i][t] - want[i][t]); !(d <= abs+rel*math.Abs(want[i][t])) {
				return fmt.Sprintf("[%d][%d]: got %.10g, want %.10g (diff %.3g)", i, t, got[i][t], want[i][t], d)
			}
		}
	}
	return ""
}

// RandSeqs returns n ragged sequences of lengths in [minLen, maxLen] with
// values uniform in [lo, hi), from r.
func RandSeqs(r *rand.Rand, n, minLen, maxLen int, lo, hi float64) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, minLen+r.IntN(maxLen-minLen+1))
		for t := range out[i] {
			out[i][t] = lo + (hi-lo)*r.Float64()
		}
	}
	return out
}

// Jitter returns a copy of xs with uniform noise in [−amp, amp) added.
func Jitter(r *rand.Rand, xs [][]float64, amp float64) [][]float64 {
	out := make([][]float64, len(xs))
	for i := range xs {
		out[i] = make([]float64, len(xs[i]))
		for t := range xs[i] {
			out[i][t] = xs[i][t] + amp*(2*r.Float64()-1)
		}
	}
	return out
}

// NewRand returns a PCG-seeded generator (tests must be deterministic).
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }
