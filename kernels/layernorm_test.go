package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Helpers shared by the fused-kernel tests (prefixed fk to keep clear of the
// backend tests in the same package).

// fkRand returns n values uniform in [-scale, scale) from a seeded PCG.
func fkRand(seed uint64, n int, scale float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	s := make([]float64, n)
	for i := range s {
		s[i] = (2*r.Float64() - 1) * scale
	}
	return s
}

func fkTo32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// fkClose reports the first index where got and want differ by more than
// atol + rtol·|want|.
func fkClose[T Float](t *testing.T, what string, got []T, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.Abs(g-want[i]) > atol+rtol*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %.10g, want %.10g", what, i, g, want[i])
		}
	}
}

// fkGradCheck compares analytic with the central finite-difference gradient
// of loss with respect to x (perturbed in place and restored).
func fkGradCheck(t *testing.T, what string, x, analytic []float64, loss func() float64) {
	t.Helper()
	const h = 1e-6
	for i := range x {
		old := x[i]
		x[i] = old + h
		lp := loss()
		x[i] = old - h
		lm := loss()
		x[i] = old
		num := (lp - lm) / (2 * h)
		if math.Abs(num-analytic[i]) > 1e-6+1e-5*math.Abs(num) {
			t.Fatalf("%s: grad[%d] analytic %.10g, finite difference %.10g", what, i, analytic[i], num)
		}
	}
}

// fkDot is Σ a·b in float64.
func fkDot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func naiveLayerNorm(x, g, b []float64, n, d int, eps float64) (y, mean, rstd []float64) {
	y = make([]float64, n*d)
	mean = make([]float64, n)
	rstd = make([]float64, n)
	for i := 0; i < n; i++ {
		var m, v float64
		for j := 0; j < d; j++ {
			m += x[i*d+j]
		}
		m /= float64(d)
		for j := 0; j < d; j++ {
			v += (x[i*d+j] - m) * (x[i*d+j] - m)
		}
		v /= float64(d)
		mean[i], rstd[i] = m, 1/math.Sqrt(v+eps)
		for j := 0; j < d; j++ {
			y[i*d+j] = (x[i*d+j]-m)/math.Sqrt(v+eps)*g[j] + b[j]
		}
	}
	return
}

var lnSizes = []struct{ n, d int }{{1, 1}, {1, 2}, {3, 5}, {4, 13}, {2, 64}, {5, 67}}

func TestLayerNormForward(t *testing.T) {
	for _, sz := range lnSizes {
		t.Run(fmt.Sprintf("n%d_d%d", sz.n, sz.d), func(t *testing.T) {
			const eps = 1e-5
			x := fkRand(1, sz.n*sz.d, 3)
			for i := range x {
				x[i] += 10 // an offset exercises the two-pass variance
			}
			g := fkRand(2, sz.d, 1)
			b := fkRand(3, sz.d, 1)
			want, wm, wr := naiveLayerNorm(x, g, b, sz.n, sz.d, eps)

			y := make([]float64, len(x))
			m, r := make([]float64, sz.n), make([]float64, sz.n)
			LayerNorm(y, x, g, b, sz.n, sz.d, eps, m, r)
			fkClose(t, "y64", y, want, 1e-12, 1e-10)
			fkClose(t, "mean", m, wm, 1e-12, 1e-12)
			fkClose(t, "rstd", r, wr, 1e-12, 1e-10)

			y32 := make([]float32, len(x))
			LayerNorm(y32, fkTo32(x), fkTo32(g), fkTo32(b), sz.n, sz.d, eps, nil, nil)
			fkClose(t, "y32", y32, want, 1e-4, 1e-4)

			// In place (y aliases x).
			xc := append([]float64(nil), x...)
			LayerNorm(xc, xc, g, b, sz.n, sz.d, eps, nil, nil)
			fkClose(t, "inplace", xc, want, 1e-12, 1e-10)
		})
	}
}

func TestLayerNormBackward(t *testing.T) {
	for _, sz := range lnSizes {
		t.Run(fmt.Sprintf("n%d_d%d", sz.n, sz.d), func(t *testing.T) {
			const eps = 1e-5
			n, d := sz.n, sz.d
			x := fkRand(4, n*d, 2)
			g := fkRand(5, d, 1.5)
			b := fkRand(6, d, 1)
			dy := fkRand(7, n*d, 1)
			y := make([]float64, n*d)
			loss := func() float64 {
				LayerNorm(y, x, g, b, n, d, eps, nil, nil)
				return fkDot(y, dy)
			}
			dx := make([]float64, n*d)
			dg := fkRand(99, d, 1) // garbage: must be overwritten
			db := fkRand(98, d, 1)
			LayerNormBackward(dx, dg, db, dy, x, g, n, d, eps)
			fkGradCheck(t, "dx", x, dx, loss)
			fkGradCheck(t, "dg", g, dg, loss)
			fkGradCheck(t, "db", b, db, loss)

			// Nil outputs are skipped and do not change the others.
			dx2 := make([]float64, n*d)
			LayerNormBackward(dx2, nil, nil, dy, x, g, n, d, eps)
			fkClose(t, "dx(nil dg,db)", dx2, dx, 0, 0)
			dg2 := make([]float64, d)
			LayerNormBackward(nil, dg2, nil, dy, x, g, n, d, eps)
			fkClose(t, "dg(nil dx,db)", dg2, dg, 0, 0)
		})
	}
}

func TestLayerNormShortBufferPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "LayerNorm: g has length 2") {
			t.Fatalf("panic = %v, want a message naming g", r)
		}
	}()
	LayerNorm(make([]float32, 6), make([]float32, 6), make([]float32, 2), make([]float32, 3), 2, 3, 1e-5, nil, nil)
}
