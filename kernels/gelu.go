package kernels

import (
	"math"
	"unsafe"
)

// geluC is √(2/π), the constant of the tanh approximation.
const geluC = 0.7978845608028654

// GELU computes HF GPT-2's gelu_new, 0.5x(1+tanh(√(2/π)(x+0.044715x³))),
// element-wise. y may alias x. Only len(x) elements are written.
//
// It is evaluated as x·σ(2u) with u = √(2/π)(x+0.044715x³), which is the
// same function (0.5(1+tanh u) = σ(2u)) but needs one exp instead of a
// tanh; float32 uses expf, a float32 exp accurate to ~1 ulp.
func GELU[T Float](y, x []T) {
	checkLen("GELU", "y", len(y), len(x))
	y = y[:len(x)]
	parallelFor(len(x), len(x), func(lo, hi int) {
		for i, v := range x[lo:hi] {
			u := geluC * (v + 0.044715*v*v*v)
			y[lo+i] = v / (1 + expT(-2*u))
		}
	})
}

// GELUBackward computes dx = dy·gelu_new'(x). dx may alias dy. With
// s = σ(2u): gelu' = s + 2x·s(1-s)·u'(x), u' = √(2/π)(1+3·0.044715x²).
func GELUBackward[T Float](dx, dy, x []T) {
	checkLen("GELUBackward", "dy", len(dy), len(x))
	checkLen("GELUBackward", "dx", len(dx), len(x))
	dx, dy = dx[:len(x)], dy[:len(x)]
	parallelFor(len(x), len(x), func(lo, hi int) {
		for i, v := range x[lo:hi] {
			x2 := v * v
			u := geluC * (v + 0.044715*x2*v)
			s := 1 / (1 + expT(-2*u))
			du := geluC * (1 + 3*0.044715*x2)
			dx[lo+i] = dy[lo+i] * (s + 2*v*s*(1-s)*du)
		}
	})
}

// expT is exp in T's precision: expf for 4-byte floats, math.Exp otherwise.
// unsafe.Sizeof is a constant in each instantiation, so the branch
// disappears.
func expT[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(expf(float32(x)))
	}
	return T(math.Exp(float64(x)))
}

// expf is a float32 exp for softmax weights and GELU: Cephes expf's
// degree-6 polynomial after a round-to-nearest range reduction by ln 2,
// within ~2 ulp of exp(x) for x in [-87.3, 88]. Outside that range it
// saturates to exp(-87.3) ≈ 1.2e-38 and exp(88) ≈ 1.7e38 instead of 0 and
// +Inf, which changes neither a softmax nor GELU at float32 precision; NaN
// gives NaN. It is branch-free and small enough to be inlined into the
// kernels' loops, several times faster than math.Exp through float64.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375 // ln 2 = c1 + c2, c1 exact in a few bits
		c2    = -2.12194440e-4
		magic = 12582912 // 1.5·2²³: adding it rounds a float32 to an integer
	)
	x = min(max(x, -87.33654), 88)
	n := (x*log2e + magic) - magic
	r := x - n*c1 - n*c2
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// GELUWithDerivative writes y = gelu_new(x) and d = gelu_new'(x) in one
// pass (one exp per element), so that a backward pass keeping d is a plain
// product (GELUBackwardFrom) instead of a second exp per element.
func GELUWithDerivative[T Float](y, d, x []T) {
	checkLen("GELUWithDerivative", "y", len(y), len(x))
	checkLen("GELUWithDerivative", "d", len(d), len(x))
	y, d = y[:len(x)], d[:len(x)]
	parallelFor(len(x), len(x), func(lo, hi int) {
		for i, v := range x[lo:hi] {
			x2 := v * v
			u := geluC * (v + 0.044715*x2*v)
			s := 1 / (1 + expT(-2*u))
			du := geluC * (1 + 3*0.044715*x2)
			y[lo+i] = v * s
			d[lo+i] = s + 2*v*s*(1-s)*du
		}
	})
}

// GELUBackwardFrom computes dx = dy·d with d from GELUWithDerivative.
// dx may alias dy.
func GELUBackwardFrom[T Float](dx, dy, d []T) {
	checkLen("GELUBackwardFrom", "dy", len(dy), len(d))
	checkLen("GELUBackwardFrom", "dx", len(dx), len(d))
	dx, dy = dx[:len(d)], dy[:len(d)]
	parallelFor(len(d), len(d), func(lo, hi int) {
		for i, v := range d[lo:hi] {
			dx[lo+i] = dy[lo+i] * v
		}
	})
}
