package kernels

import (
	"math"
	"testing"
)

func TestGELUForward(t *testing.T) {
	// Reference values of gelu_new computed independently in Python
	// (0.5*x*(1+math.tanh(math.sqrt(2/math.pi)*(x+0.044715*x**3)))).
	cases := []struct{ x, want float64 }{
		{0, 0},
		{1, 0.8411919906082768},
		{-1, -0.15880800939172324},
		{2.5, 2.484915733910001},
		{-3, -0.0036373920817729943},
		{8, 8},
		{-8, 0},
	}
	for _, c := range cases {
		y := []float64{0}
		GELU(y, []float64{c.x})
		if math.Abs(y[0]-c.want) > 1e-12 {
			t.Errorf("GELU(%g) = %.17g, want %.17g", c.x, y[0], c.want)
		}
		// It approximates the exact (erf) GELU closely.
		exact := 0.5 * c.x * (1 + math.Erf(c.x/math.Sqrt2))
		if math.Abs(y[0]-exact) > 1e-3 {
			t.Errorf("GELU(%g) = %g is far from erf GELU %g", c.x, y[0], exact)
		}
	}
	x := fkRand(11, 1003, 6)
	want := make([]float64, len(x))
	GELU(want, x)
	y32 := make([]float32, len(x))
	GELU(y32, fkTo32(x))
	fkClose(t, "gelu32", y32, want, 1e-6, 1e-5)
}

func TestGELUBackward(t *testing.T) {
	for _, n := range []int{1, 7, 64} {
		x := fkRand(uint64(n), n, 5)
		dy := fkRand(uint64(n)+100, n, 1)
		y := make([]float64, n)
		dx := make([]float64, n)
		GELUBackward(dx, dy, x)
		fkGradCheck(t, "gelu", x, dx, func() float64 { GELU(y, x); return fkDot(y, dy) })

		dx32 := make([]float32, n)
		GELUBackward(dx32, fkTo32(dy), fkTo32(x))
		fkClose(t, "gelu32'", dx32, dx, 1e-5, 1e-4)
	}
}

func TestExpf(t *testing.T) {
	// Dense sweep of the whole finite range plus the edges.
	worst := 0.0
	for x := float32(-87.3); x <= 88; x += 0.00173 {
		got := float64(expf(x))
		want := math.Exp(float64(x))
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	// 2 ulp of float32 is 2.4e-7 relative.
	if worst > 2.4e-7 {
		t.Errorf("expf: worst relative error %.3g, want <= 2.4e-7", worst)
	}
	lo, hi := math.Exp(float64(float32(-87.33654))), math.Exp(88)
	edges := []struct {
		x    float32
		want float64
	}{{0, 1}, {-100, lo}, {float32(math.Inf(-1)), lo}, {100, hi}, {float32(math.Inf(1)), hi}}
	for _, e := range edges {
		// Saturation values, to float32 precision.
		if got := float64(expf(e.x)); math.Abs(got-e.want) > 1e-6*e.want {
			t.Errorf("expf(%v) = %v, want %v", e.x, got, e.want)
		}
	}
	if nan := expf(float32(math.NaN())); nan == nan {
		t.Errorf("expf(NaN) = %v", nan)
	}
}

func BenchmarkGELU(b *testing.B) {
	x := fkTo32(fkRand(1, 1<<16, 4))
	y, d := make([]float32, len(x)), make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ { // the training path: forward keeping d, then the backward product
		GELUWithDerivative(y, d, x)
		GELUBackwardFrom(y, y, d)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*len(x)), "ns/elem")
}
