package kernels

import (
	"math"
	"unsafe"
)

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

// asF32 reinterprets a []T as []float32 when T is a 4-byte float, so that
// generic kernels can hand float32 data to the vector loops.
func asF32[T Float](s []T) ([]float32, bool) {
	var z T
	if unsafe.Sizeof(z) != 4 {
		return nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s)), true
}

// expShift sets dst[i] = exp(src[i]-shift) in T's precision (expf for
// float32, vectorised where the CPU allows). dst may alias src.
func expShift[T Float](dst, src []T, shift T) {
	if d32, ok := asF32(dst); ok {
		s32, _ := asF32(src)
		expShift32(d32, s32, float32(shift))
		return
	}
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = T(math.Exp(float64(x - shift)))
	}
}

// dot32Lanes is the float32 inner product in the order of the 8-lane
// vector loop: lane k sums a[i]·b[i] for i ≡ k (mod 8) over the whole
// blocks of 8, the lanes are combined pairwise, and the tail is added in
// index order. Fixing the order in Go too keeps results bit-identical
// with and without the assembly.
func dot32Lanes(a, b []float32) float32 {
	b = b[:len(a)]
	var s [8]float32
	n := len(a) &^ 7
	for i := 0; i < n; i += 8 {
		for k := range s {
			s[k] += a[i+k] * b[i+k]
		}
	}
	r := ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
	for i := n; i < len(a); i++ {
		r += a[i] * b[i]
	}
	return r
}
