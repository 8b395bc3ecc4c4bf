package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// expInputs covers the ranges the kernels see (softmax shifts ≤ 0, GELU
// arguments of either sign), both clamps, signed zeros, infinities and
// lengths that leave a scalar tail after the 8-wide loop.
func expInputs(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 88, 88.5, -87.33654, -87.4, -200, 200,
		float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, -1e-30, 3.4e38, -3.4e38, 0.3465736, -0.3465736}
	x := make([]float32, n)
	for i := range x {
		switch {
		case i < len(special):
			x[i] = special[i]
		case i%3 == 0:
			x[i] = float32(rng.NormFloat64() * 3)
		case i%3 == 1:
			x[i] = float32(-rng.Float64() * 90)
		default:
			x[i] = float32((rng.Float64() - 0.5) * 20)
		}
	}
	return x
}

func sameBits(a, b float32) bool {
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) {
		return math.IsNaN(float64(a)) && math.IsNaN(float64(b))
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// TestVectorKernelsMatchScalarBits pins the promise that the AVX2 loops
// give exactly the scalar code's bits, so a run is reproducible whichever
// path the CPU takes.
func TestVectorKernelsMatchScalarBits(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 path on this CPU/build")
	}
	for _, n := range []int{0, 1, 7, 8, 9, 31, 1000, 4099} {
		x := expInputs(n, uint64(n))
		x = append(x, float32(math.NaN()))
		n := len(x)
		for _, shift := range []float32{0, 2.5, -1} {
			got := make([]float32, n)
			expShift32(got, x, shift)
			for i, v := range x {
				if want := expf(v - shift); !sameBits(got[i], want) {
					t.Fatalf("n=%d shift=%g: expShift32(x[%d]=%g) = %x, scalar expf %x", n, shift, i, v, math.Float32bits(got[i]), math.Float32bits(want))
				}
			}
		}
		y, d := make([]float32, n), make([]float32, n)
		wy, wd := make([]float32, n), make([]float32, n)
		geluDeriv32(y, d, x)
		geluDerivScalar(wy, wd, x)
		for i := range x {
			if !sameBits(y[i], wy[i]) || !sameBits(d[i], wd[i]) {
				t.Fatalf("n=%d: geluDeriv32(x[%d]=%g) = (%g, %g), scalar (%g, %g)", n, i, x[i], y[i], d[i], wy[i], wd[i])
			}
		}
		gelu32(y, x)
		geluScalar(wy, x)
		for i := range x {
			if !sameBits(y[i], wy[i]) {
				t.Fatalf("n=%d: gelu32(x[%d]=%g) = %g, scalar %g", n, i, x[i], y[i], wy[i])
			}
		}
	}
}

func TestDotAxpyMatchScalarBits(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 path on this CPU/build")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 32, 64, 100} {
		a, b, y := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*10), float32(rng.NormFloat64())
		}
		if got, want := dot32(a, b), dot32Lanes(a, b); !sameBits(got, want) {
			t.Errorf("n=%d: dot32 = %x, dot32Lanes = %x", n, math.Float32bits(got), math.Float32bits(want))
		}
		want := append([]float32(nil), y...)
		for i := range want {
			want[i] += 0.37 * a[i]
		}
		axpy32(y, a, 0.37)
		for i := range y {
			if !sameBits(y[i], want[i]) {
				t.Fatalf("n=%d: axpy32 y[%d] = %g, scalar %g", n, i, y[i], want[i])
			}
		}
	}
}

func TestDot32LanesAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{3, 8, 64, 1000} {
		a, b := make([]float32, n), make([]float32, n)
		var exact float64
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			exact += float64(a[i]) * float64(b[i])
		}
		if got := dot32Lanes(a, b); math.Abs(float64(got)-exact) > 1e-5*float64(n) {
			t.Errorf("n=%d: dot32Lanes = %g, float64 sum %g", n, got, exact)
		}
	}
}

func TestExpfAccuracy(t *testing.T) {
	x := expInputs(20000, 7)
	got := make([]float32, len(x))
	expShift32(got, x, 0)
	for i, v := range x {
		if v < -87.33654 || v > 88 || math.IsInf(float64(v), 0) {
			continue
		}
		want := math.Exp(float64(v))
		if rel := math.Abs(float64(got[i])-want) / want; rel > 3e-7 {
			t.Fatalf("expf(%g) = %g, exp = %g (rel err %.2g)", v, got[i], want, rel)
		}
	}
}

func BenchmarkExpShift(b *testing.B) {
	x := expInputs(4096, 1)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		expShift32(y, x, 1)
	}
}

func BenchmarkExpScalar(b *testing.B) {
	x := expInputs(4096, 1)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		for i, v := range x {
			y[i] = expf(v - 1)
		}
	}
}

// The attention loops over a head's keys and values give the bits of the
// scalar reference (dot32Lanes per key; a cleared sum and one product-then-
// sum per key), for head sizes the assembly takes and those it leaves to Go,
// strides wider than the head, and key counts with every remainder mod 4.
func TestKeyLoopsMatchScalarBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	for _, hd := range []int{1, 8, 16, 24, 32, 64, 96} {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 35, 67} {
			stride := hd * 3
			q := make([]float32, hd)
			k := make([]float32, n*stride+hd)
			p := make([]float32, n)
			for i := range q {
				q[i] = float32(rng.NormFloat64())
			}
			for i := range k {
				k[i] = float32(rng.NormFloat64())
			}
			for i := range p {
				p[i] = float32(rng.Float64())
			}
			if n > 1 {
				k[stride+1] = float32(math.Copysign(0, -1)) // a signed zero in the sums
				p[1] = 0
			}
			got := make([]float32, n)
			dotKeys32(got, q, k, stride)
			for j := range got {
				if want := dot32Lanes(q, k[j*stride:j*stride+hd]); !sameBits(got[j], want) {
					t.Fatalf("hd=%d n=%d: dotKeys32[%d] = %x, scalar %x", hd, n, j, math.Float32bits(got[j]), math.Float32bits(want))
				}
			}
			out := make([]float32, hd)
			for i := range out {
				out[i] = 7 // overwritten, not added to
			}
			axpyKeys32(out, k, p, stride)
			want := make([]float32, hd)
			for j, pj := range p {
				for i := range want {
					want[i] += pj * k[j*stride+i]
				}
			}
			for i := range out {
				if !sameBits(out[i], want[i]) {
					t.Fatalf("hd=%d n=%d: axpyKeys32[%d] = %x, scalar %x", hd, n, i, math.Float32bits(out[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
}

func BenchmarkAttendOne(b *testing.B) {
	const nHead, headDim, n = 4, 64, 67
	d := nHead * headDim
	rng := rand.New(rand.NewPCG(1, 1))
	fill := func(x []float32) []float32 {
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	q, keys, values := fill(make([]float32, d)), fill(make([]float32, n*d)), fill(make([]float32, n*d))
	out, scratch := make([]float32, d), make([]float32, n)
	for b.Loop() {
		AttendOne(out, q, keys, values, scratch, n, nHead, headDim)
	}
}
