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
