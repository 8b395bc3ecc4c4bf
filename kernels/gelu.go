package kernels

import "math"

// geluC is √(2/π), the constant of the tanh approximation.
const geluC = 0.7978845608028654

// GELU computes HF GPT-2's gelu_new, 0.5x(1+tanh(√(2/π)(x+0.044715x³))),
// element-wise. y may alias x. Only min(len(y), len(x)) elements are written.
func GELU[T Float](y, x []T) {
	checkLen("GELU", "y", len(y), len(x))
	y = y[:len(x)]
	for i, v := range x {
		f := float64(v)
		y[i] = T(0.5 * f * (1 + math.Tanh(geluC*(f+0.044715*f*f*f))))
	}
}

// GELUBackward computes dx = dy·gelu_new'(x). dx may alias dy.
func GELUBackward[T Float](dx, dy, x []T) {
	checkLen("GELUBackward", "dy", len(dy), len(x))
	checkLen("GELUBackward", "dx", len(dx), len(x))
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		f := float64(v)
		th := math.Tanh(geluC * (f + 0.044715*f*f*f))
		dd := 0.5*(1+th) + 0.5*f*(1-th*th)*geluC*(1+3*0.044715*f*f)
		dx[i] = T(float64(dy[i]) * dd)
	}
}
