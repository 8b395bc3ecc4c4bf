//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// hasAVX2 selects the assembly loops of vec_amd64.s. They produce the
// same bits as the scalar Go code (same IEEE operations in the same
// order, no FMA), so results do not depend on which path runs.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func expShiftAVX2(dst, src *float32, n int, shift float32)

//go:noescape
func geluDerivAVX2(y, d, x *float32, n int)

//go:noescape
func geluAVX2(y, x *float32, n int)

//go:noescape
func dotKeysAVX2(q, k *float32, stride, n, hd int, out *float32)

//go:noescape
func axpyKeysAVX2(out, v *float32, stride int, p *float32, n, hd int)

// dotKeys32 sets out[j] = dot32(q, k[j*stride:][:len(q)]) for j < len(out):
// the scores of one attention head over its cached keys, four keys per
// assembly loop where possible, with dot32's bits.
func dotKeys32(out, q, k []float32, stride int) {
	hd, n := len(q), len(out)
	if n == 0 {
		return
	}
	_ = k[(n-1)*stride+hd-1]
	j := 0
	if hasAVX2 && hd >= 8 && hd%8 == 0 && n >= 4 {
		dotKeysAVX2(&q[0], &k[0], stride, n, hd, &out[0])
		j = n &^ 3
	}
	for ; j < n; j++ {
		out[j] = dot32(q, k[j*stride:j*stride+hd])
	}
}

// axpyKeys32 sets out = Σ_j p[j]·v[j*stride:][:len(out)], j ascending,
// with the bits of clearing out and calling axpy32 once per j.
func axpyKeys32(out, v, p []float32, stride int) {
	hd, n := len(out), len(p)
	if n > 0 {
		_ = v[(n-1)*stride+hd-1]
	}
	if hasAVX2 && hd >= 32 && hd%32 == 0 {
		var p0 *float32
		if n > 0 {
			p0 = &p[0]
		}
		axpyKeysAVX2(&out[0], &v[0], stride, p0, n, hd)
		return
	}
	clear(out)
	for j, pj := range p {
		axpy32(out, v[j*stride:j*stride+hd], pj)
	}
}

// expShift32 sets dst[i] = expf(src[i]-shift).
func expShift32(dst, src []float32, shift float32) {
	src = src[:len(dst)]
	i := 0
	if hasAVX2 && len(dst) >= 8 {
		expShiftAVX2(&dst[0], &src[0], len(dst), shift)
		i = len(dst) &^ 7
	}
	for ; i < len(dst); i++ {
		dst[i] = expf(src[i] - shift)
	}
}

// geluDeriv32 is GELUWithDerivative for float32 slices of equal length.
func geluDeriv32(y, d, x []float32) {
	y, d = y[:len(x)], d[:len(x)]
	i := 0
	if hasAVX2 && len(x) >= 8 {
		geluDerivAVX2(&y[0], &d[0], &x[0], len(x))
		i = len(x) &^ 7
	}
	geluDerivScalar(y[i:], d[i:], x[i:])
}

// gelu32 is GELU for float32 slices of equal length.
func gelu32(y, x []float32) {
	y = y[:len(x)]
	i := 0
	if hasAVX2 && len(x) >= 8 {
		geluAVX2(&y[0], &x[0], len(x))
		i = len(x) &^ 7
	}
	geluScalar(y[i:], x[i:])
}

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func axpyAVX2(y, x *float32, n int, alpha float32)

// dot32 is Σ a[i]·b[i] over len(a) elements in dot32Lanes' order.
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	if !hasAVX2 || len(a) < 8 {
		return dot32Lanes(a, b)
	}
	s := dotAVX2(&a[0], &b[0], len(a))
	for i := len(a) &^ 7; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

// axpy32 sets y[i] += alpha·x[i].
func axpy32(y, x []float32, alpha float32) {
	x = x[:len(y)]
	i := 0
	if hasAVX2 && len(y) >= 8 {
		axpyAVX2(&y[0], &x[0], len(y), alpha)
		i = len(y) &^ 7
	}
	for ; i < len(y); i++ {
		y[i] += alpha * x[i]
	}
}
