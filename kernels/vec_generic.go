//go:build !amd64 || purego

package kernels

const hasAVX2 = false

func expShift32(dst, src []float32, shift float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = expf(src[i] - shift)
	}
}

func geluDeriv32(y, d, x []float32) { geluDerivScalar(y, d, x) }

func gelu32(y, x []float32) { geluScalar(y, x) }

func dot32(a, b []float32) float32 { return dot32Lanes(a, b) }

func axpy32(y, x []float32, alpha float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}

func dotKeys32(out, q, k []float32, stride int) {
	for j := range out {
		out[j] = dot32(q, k[j*stride:j*stride+len(q)])
	}
}

func axpyKeys32(out, v, p []float32, stride int) {
	clear(out)
	for j, pj := range p {
		axpy32(out, v[j*stride:j*stride+len(out)], pj)
	}
}
