package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// On the pure-Go backend every kernel gives the same bits whatever the
// core count: Gemm's split over cores changes which goroutine computes an
// element of C, never the sum it computes (gonum's transposed-B products
// are sliced along k to one summation order), and the element-wise and
// per-head kernels split at boundaries that do not change any element's
// arithmetic.
func TestKernelsIndependentOfCores(t *testing.T) {
	prev := Use(Gonum{})
	defer Use(prev)
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	// same runs f at 1, 2 and 4 cores and reports whether its outputs agree.
	same := func(name string, f func() []float32) {
		t.Helper()
		var first []float32
		for _, procs := range []int{1, 2, 4} {
			old := runtime.GOMAXPROCS(procs)
			got := f()
			runtime.GOMAXPROCS(old)
			if first == nil {
				first = got
			} else if !slices.Equal(first, got) {
				t.Errorf("%s: %d cores give other bits than 1", name, procs)
			}
		}
	}
	for _, s := range [][3]int{{2048, 384, 128}, {128, 384, 2048}, {259, 64, 1024}, {64, 259, 1024}, {1024, 259, 64},
		{256, 64, 1024}, {64, 256, 1024}, {37, 1001, 130}, {1001, 37, 130}} {
		m, n, k := s[0], s[1], s[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			a, b := rnd(m*k), rnd(k*n)
			lda, ldb := k, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = k
			}
			same(fmt.Sprintf("Gemm %dx%dx%d tA=%v tB=%v", m, n, k, tr[0], tr[1]), func() []float32 {
				c := make([]float32, m*n)
				Gemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 0, c, n)
				return c
			})
		}
	}
	x := rnd(100003)
	same("GELUWithDerivative", func() []float32 {
		y, d := make([]float32, len(x)), make([]float32, len(x))
		GELUWithDerivative(y, d, x)
		return append(y, d...)
	})
	b, tt, nh, hd := 16, 32, 4, 16
	d := nh * hd
	qkv, dout := rnd(b*tt*3*d), rnd(b*tt*d)
	same("CausalAttention", func() []float32 {
		o := make([]float32, len(dout))
		CausalAttention(o, qkv, b, tt, nh, hd)
		return o
	})
	same("CausalAttentionBackward", func() []float32 {
		g := make([]float32, len(qkv))
		CausalAttentionBackward(g, dout, qkv, b, tt, nh, hd)
		return g
	})
	n := b * tt
	xs, dy, gain := rnd(n*d), rnd(n*d), rnd(d)
	same("LayerNormBackward", func() []float32 {
		dx, dg, db := make([]float32, n*d), make([]float32, d), make([]float32, d)
		LayerNormBackward(dx, dg, db, dy, xs, gain, n, d, 1e-5)
		return append(append(dx, dg...), db...)
	})
}
