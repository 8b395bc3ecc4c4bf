package kernels

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
		if y32, ok := asF32(y[lo:hi]); ok {
			x32, _ := asF32(x[lo:hi])
			gelu32(y32, x32)
			return
		}
		geluScalar(y[lo:hi], x[lo:hi])
	})
}

func geluScalar[T Float](y, x []T) {
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

// GELUWithDerivative writes y = gelu_new(x) and d = gelu_new'(x) in one
// pass (one exp per element), so that a backward pass keeping d is a plain
// product (GELUBackwardFrom) instead of a second exp per element.
func GELUWithDerivative[T Float](y, d, x []T) {
	checkLen("GELUWithDerivative", "y", len(y), len(x))
	checkLen("GELUWithDerivative", "d", len(d), len(x))
	y, d = y[:len(x)], d[:len(x)]
	parallelFor(len(x), len(x), func(lo, hi int) {
		if y32, ok := asF32(y[lo:hi]); ok {
			d32, _ := asF32(d[lo:hi])
			x32, _ := asF32(x[lo:hi])
			geluDeriv32(y32, d32, x32)
			return
		}
		geluDerivScalar(y[lo:hi], d[lo:hi], x[lo:hi])
	})
}

func geluDerivScalar[T Float](y, d, x []T) {
	y, d = y[:len(x)], d[:len(x)]
	for i, v := range x {
		x2 := v * v
		u := geluC * (v + 0.044715*x2*v)
		s := 1 / (1 + expT(-2*u))
		du := geluC * (1 + 3*0.044715*x2)
		y[i] = v * s
		d[i] = s + 2*v*s*(1-s)*du
	}
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
