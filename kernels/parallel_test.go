package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Inputs large enough to take the parallel paths give exactly the values of
// the same kernels on small slices (which run sequentially).
func TestParallelPathsMatchSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 300, 257 // n·d > minElementwise, odd sizes
	x := make([]float32, n*d)
	dy := make([]float32, n*d)
	for i := range x {
		x[i], dy[i] = float32(rng.NormFloat64()*2), float32(rng.NormFloat64())
	}
	g, b := make([]float32, d), make([]float32, d)
	for j := range g {
		g[j], b[j] = float32(1+rng.NormFloat64()*0.1), float32(rng.NormFloat64()*0.1)
	}
	big := make([]float32, n*d)
	GELU(big, x)
	bigB := make([]float32, n*d)
	GELUBackward(bigB, dy, x)
	ln := make([]float32, n*d)
	LayerNorm(ln, x, g, b, n, d, 1e-5, nil, nil)
	lnB := make([]float32, n*d)
	LayerNormBackward(lnB, nil, nil, dy, x, g, n, d, 1e-5)
	for i := 0; i < n; i++ {
		row := func(s []float32) []float32 { return s[i*d : (i+1)*d] }
		one := make([]float32, d)
		check := func(name string, want []float32) {
			for j := range one {
				if one[j] != want[j] {
					t.Fatalf("%s row %d col %d: %v vs %v", name, i, j, one[j], want[j])
				}
			}
		}
		GELU(one, row(x))
		check("GELU", row(big))
		GELUBackward(one, row(dy), row(x))
		check("GELUBackward", row(bigB))
		LayerNorm(one, row(x), g, b, 1, d, 1e-5, nil, nil)
		check("LayerNorm", row(ln))
		LayerNormBackward(one, nil, nil, row(dy), row(x), g, 1, d, 1e-5)
		check("LayerNormBackward", row(lnB))
	}
}

// GELUWithDerivative gives GELU's values and the derivative GELUBackward
// uses, so the cached backward equals the recomputing one.
func TestGELUWithDerivative(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 40000} {
		x, dy := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], dy[i] = rng.NormFloat64()*3, rng.NormFloat64()
		}
		y, d, yRef, dxRef, dx := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		GELUWithDerivative(y, d, x)
		GELU(yRef, x)
		GELUBackward(dxRef, dy, x)
		GELUBackwardFrom(dx, dy, d)
		for i := range x {
			if math.Abs(y[i]-yRef[i]) > 1e-15*math.Max(1, math.Abs(yRef[i])) || math.Abs(dx[i]-dxRef[i]) > 1e-14 {
				t.Fatalf("n=%d i=%d: y %v vs %v, dx %v vs %v", n, i, y[i], yRef[i], dx[i], dxRef[i])
			}
		}
	}
}
