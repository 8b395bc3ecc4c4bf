package kernels

// The float64 reductions below keep four interleaved partial sums. A single
// accumulator makes every add wait for the previous one (about 4 cycles
// each); four let the adds overlap. The order is fixed by the index alone,
// so results do not depend on the machine or the number of cores.

// sum64 returns Σ x[i], accumulated in float64.
func sum64[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sumSq64 returns Σ (x[i]-m)², accumulated in float64.
func sumSq64[T Float](x []T, m float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		c0, c1, c2, c3 := float64(x[i])-m, float64(x[i+1])-m, float64(x[i+2])-m, float64(x[i+3])-m
		s0 += c0 * c0
		s1 += c1 * c1
		s2 += c2 * c2
		s3 += c3 * c3
	}
	for ; i < len(x); i++ {
		c := float64(x[i]) - m
		s0 += c * c
	}
	return (s0 + s1) + (s2 + s3)
}

// dot64 returns Σ a[i]·b[i], products and sum in float64.
func dot64[T Float](a, b []T) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float64(a[i]) * float64(b[i])
		s1 += float64(a[i+1]) * float64(b[i+1])
		s2 += float64(a[i+2]) * float64(b[i+2])
		s3 += float64(a[i+3]) * float64(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float64(a[i]) * float64(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// ColSum sets out[j] = Σ_i in[i*n+j] over rows rows (a bias gradient):
// each column sums its rows in order, so the result does not depend on the
// vector width or on how the columns are split over the cores.
func ColSum[T Float](out, in []T, rows, n int) {
	checkLen("ColSum", "in", len(in), rows*n)
	checkLen("ColSum", "out", len(out), n)
	parallelFor(n, rows*n, func(lo, hi int) {
		o := out[lo:hi]
		clear(o)
		for i := 0; i < rows; i++ {
			addTo(o, in[i*n+lo:i*n+hi])
		}
	})
}

// addTo sets y[i] += x[i].
func addTo[T Float](y, x []T) {
	if y32, ok := asF32(y); ok {
		x32, _ := asF32(x)
		axpy32(y32, x32, 1) // 1·x is x: the same sums
		return
	}
	x = x[:len(y)]
	for i := range y {
		y[i] += x[i]
	}
}
