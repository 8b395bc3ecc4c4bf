package kernels

import (
	"fmt"
	"math"
)

// LayerNorm computes y[i,:] = (x[i,:]-mean_i)/sqrt(var_i+eps)*g + b over n
// rows of width d (population variance, as torch.nn.LayerNorm). mean and
// rstd may be nil; when not, they have length n and receive each row's mean
// and 1/sqrt(var+eps), which a caller can keep for the backward pass.
// Statistics are accumulated in float64 so float32 rows of a few thousand
// elements keep full precision. y may alias x.
func LayerNorm[T Float](y, x, g, b []T, n, d int, eps float64, mean, rstd []T) {
	checkLen("LayerNorm", "x", len(x), n*d)
	checkLen("LayerNorm", "y", len(y), n*d)
	checkLen("LayerNorm", "g", len(g), d)
	checkLen("LayerNorm", "b", len(b), d)
	if mean != nil {
		checkLen("LayerNorm", "mean", len(mean), n)
	}
	if rstd != nil {
		checkLen("LayerNorm", "rstd", len(rstd), n)
	}
	if d == 0 {
		return
	}
	g, b = g[:d], b[:d]
	parallelFor(n, n*d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xr := x[i*d : i*d+d]
			yr := y[i*d : i*d+d]
			m, rs := rowStats(xr, eps)
			if mean != nil {
				mean[i] = T(m)
			}
			if rstd != nil {
				rstd[i] = T(rs)
			}
			for j, v := range xr {
				yr[j] = T((float64(v)-m)*rs)*g[j] + b[j]
			}
		}
	})
}

// rowStats returns the mean and 1/sqrt(var+eps) of one row. The variance is
// computed around the mean (two passes), not as E[x²]-E[x]², which cancels
// catastrophically for rows with a large offset.
func rowStats[T Float](xr []T, eps float64) (mean, rstd float64) {
	mean = sum64(xr) / float64(len(xr))
	return mean, 1 / math.Sqrt(sumSq64(xr, mean)/float64(len(xr))+eps)
}

// LayerNormBackward overwrites each of dx, dg, db that is non-nil with the
// gradient of sum(dy·y) with respect to x, g and b (dg and db summed over
// rows). Statistics are recomputed from x rather than passed in so that the
// signature stays independent of the forward call.
//
//	x̂ = (x-μ)·r,  dx̂ = dy·g,  dx = r·(dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂))
func LayerNormBackward[T Float](dx, dg, db, dy, x, g []T, n, d int, eps float64) {
	checkLen("LayerNormBackward", "x", len(x), n*d)
	checkLen("LayerNormBackward", "dy", len(dy), n*d)
	checkLen("LayerNormBackward", "g", len(g), d)
	if dx != nil {
		checkLen("LayerNormBackward", "dx", len(dx), n*d)
	}
	if dg != nil {
		checkLen("LayerNormBackward", "dg", len(dg), d)
		clear(dg[:d])
	}
	if db != nil {
		checkLen("LayerNormBackward", "db", len(db), d)
		clear(db[:d])
	}
	if d == 0 {
		return
	}
	g = g[:d]
	inv := 1 / float64(d)
	// Row statistics are computed once, in the row-parallel pass, and
	// reused by the column pass for dg and db.
	stats := make([]float64, 2*n)
	parallelFor(n, n*d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xr := x[i*d : i*d+d]
			m, rs := rowStats(xr, eps)
			stats[2*i], stats[2*i+1] = m, rs
			if dx == nil {
				continue
			}
			dyr := dy[i*d : i*d+d]
			sdx, sdxx := lnBackwardSums(xr, dyr, g, m, rs)
			a, c := sdx*inv, sdxx*inv
			dxr := dx[i*d : i*d+d]
			for j, v := range xr {
				xh := (float64(v) - m) * rs
				dxr[j] = T(rs * (float64(dyr[j])*float64(g[j]) - a - xh*c))
			}
		}
	})
	if dg == nil && db == nil {
		return
	}
	// dg and db sum over rows. Splitting the columns over the cores keeps
	// each column's sum in row order, so the result does not depend on the
	// number of cores.
	parallelFor(d, n*d, func(lo, hi int) {
		for i := 0; i < n; i++ {
			xr := x[i*d+lo : i*d+hi]
			dyr := dy[i*d+lo : i*d+hi]
			m, rs := stats[2*i], stats[2*i+1]
			if dg != nil {
				dgr := dg[lo:hi]
				for j, v := range xr {
					dgr[j] += T(float64(dyr[j]) * (float64(v) - m) * rs)
				}
			}
			if db != nil {
				addTo(db[lo:hi], dyr)
			}
		}
	})
}

// checkLen panics with a message naming the kernel and argument when a
// buffer is too short: these are programming errors, and an index panic deep
// inside a loop would not say which argument was wrong.
func checkLen(kernel, arg string, got, want int) {
	if got < want {
		panic(fmt.Sprintf("kernels.%s: %s has length %d, need at least %d", kernel, arg, got, want))
	}
}

// lnBackwardSums returns Σ dx̂ and Σ dx̂·x̂ over one row (dx̂ = dy·g,
// x̂ = (x-m)·rs), with two interleaved accumulators per sum (see reduce.go).
func lnBackwardSums[T Float](xr, dyr, g []T, m, rs float64) (sdx, sdxx float64) {
	dyr, g = dyr[:len(xr)], g[:len(xr)]
	var a0, a1, b0, b1 float64
	j := 0
	for ; j+2 <= len(xr); j += 2 {
		h0 := float64(dyr[j]) * float64(g[j])
		h1 := float64(dyr[j+1]) * float64(g[j+1])
		a0 += h0
		a1 += h1
		b0 += h0 * ((float64(xr[j]) - m) * rs)
		b1 += h1 * ((float64(xr[j+1]) - m) * rs)
	}
	if j < len(xr) {
		h := float64(dyr[j]) * float64(g[j])
		a0 += h
		b0 += h * ((float64(xr[j]) - m) * rs)
	}
	return a0 + a1, b0 + b1
}
