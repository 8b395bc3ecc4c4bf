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
	for i, v := range x {
		u := geluC * (v + 0.044715*v*v*v)
		y[i] = v / (1 + expT(-2*u))
	}
}

// GELUBackward computes dx = dy·gelu_new'(x). dx may alias dy. With
// s = σ(2u): gelu' = s + 2x·s(1-s)·u'(x), u' = √(2/π)(1+3·0.044715x²).
func GELUBackward[T Float](dx, dy, x []T) {
	checkLen("GELUBackward", "dy", len(dy), len(x))
	checkLen("GELUBackward", "dx", len(dx), len(x))
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		x2 := v * v
		u := geluC * (v + 0.044715*x2*v)
		s := 1 / (1 + expT(-2*u))
		du := geluC * (1 + 3*0.044715*x2)
		dx[i] = dy[i] * (s + 2*v*s*(1-s)*du)
	}
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

// expf is a float32 exp (Cephes expf: range reduction by ln 2 split in two
// constants, degree-6 polynomial, exponent by bit construction), within
// ~2 ulp of the correctly rounded result. It flushes results below the
// normal range to 0 (softmax weights that small do not matter) and returns
// +Inf above it. It is several times faster than converting to float64 for
// math.Exp.
func expf(x float32) float32 {
	const (
		maxArg = 88.72283905206835 // ln(MaxFloat32)
		minArg = -87.33654475055310 // ln(SmallestNormalFloat32)
		log2e  = 1.44269504088896341
		c1     = 0.693359375
		c2     = -2.12194440e-4
	)
	switch {
	case x != x: // NaN
		return x
	case x > maxArg:
		return float32(math.Inf(1))
	case x < minArg:
		return 0
	}
	fx := x*log2e + 0.5
	n := float32(int32(fx))
	if n > fx { // floor for negative fx
		n--
	}
	r := x - n*c1 - n*c2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	// 2^n for n in [-126, 128]; n = 128 only when x is within rounding of
	// maxArg, so split the scaling in two to stay finite where possible.
	ni := int32(n)
	if ni > 127 {
		return p * 2 * math.Float32frombits(uint32(ni-1+127)<<23)
	}
	if ni < -126 {
		return p * 0.5 * math.Float32frombits(uint32(ni+1+127)<<23)
	}
	return p * math.Float32frombits(uint32(ni+127)<<23)
}
