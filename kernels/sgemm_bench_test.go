package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkNativeSgemm compares each native micro-kernel this CPU runs with
// single-threaded OpenBLAS on one core, on medium's products (a 1024-row
// half of a 16×128-token batch: forward, input gradient, weight gradient),
// an attention block and a batch-32 decoding step.
func BenchmarkNativeSgemm(b *testing.B) {
	type impl struct {
		name string
		f    func(tA, tB bool, m, n, k int, a []float32, lda int, bb []float32, ldb int, c []float32)
	}
	var impls []impl
	for _, kern := range nativeKernels() {
		impls = append(impls, impl{kern.name, func(tA, tB bool, m, n, k int, a []float32, lda int, bb []float32, ldb int, c []float32) {
			nativeSgemm(kern, tA, tB, m, n, k, 1, a, lda, bb, ldb, 1, c, n)
		}})
	}
	if ob, err := OpenBLAS(); err == nil {
		impls = append(impls, impl{"openblas", func(tA, tB bool, m, n, k int, a []float32, lda int, bb []float32, ldb int, c []float32) {
			ob.Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 1, c, n)
		}})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct {
		tA, tB  bool
		m, n, k int
	}{
		{false, false, 1024, 768, 256}, {false, true, 1024, 256, 1024}, {true, false, 256, 512, 2048},
		{false, true, 64, 128, 64}, {false, false, 32, 768, 256},
	} {
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		a, bb, c := rndVec(rng, s.m*s.k), rndVec(rng, s.k*s.n), rndVec(rng, s.m*s.n)
		for _, im := range impls {
			b.Run(fmt.Sprintf("%s/tA=%v,tB=%v/%dx%dx%d", im.name, s.tA, s.tB, s.m, s.n, s.k), func(b *testing.B) {
				for b.Loop() {
					im.f(s.tA, s.tB, s.m, s.n, s.k, a, lda, bb, ldb, c)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
