package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are the GEMMs of one transformer layer at d=128 (small) and a
// batch of 16×128 = 2048 token rows: QKV projection, MLP down projection,
// and the two backward products of a linear layer. The transposed-A weight
// gradient is the case where pure-Go BLAS is slowest (measured), and the
// single-row product measures per-call overhead (KV-cache decoding).
var benchShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"fwd_x[2048x128]·W[128x384]", false, false, 2048, 384, 128},
	{"fwd_x[2048x512]·W[512x128]", false, false, 2048, 128, 512},
	{"gradW_xT[128x2048]·dy[2048x384]", true, false, 128, 384, 2048},
	{"gradX_dy[2048x384]·WT[384x128]", false, true, 2048, 128, 384},
	{"decode_x[1x128]·W[128x384]", false, false, 1, 384, 128},
}

// threadCounter is implemented by backends whose thread count can be read
// back, hence restored after a benchmark changes it (OpenBLAS).
type threadCounter interface {
	Threads() int
	SetThreads(int)
}

// BenchmarkSgemm compares, per shape: each backend called directly (OpenBLAS
// with 1 thread, as set at init, and with 2 threads), and the Gemm
// dispatcher, which splits large products over GOMAXPROCS goroutines of
// single-threaded backend calls (what the model code uses).
func BenchmarkSgemm(b *testing.B) {
	type variant struct {
		name    string
		be      Backend
		threads int  // 0 = leave as is
		split   bool // through Gemm instead of be.Sgemm
	}
	vs := []variant{{"gonum", Gonum{}, 0, false}, {"Gemm(gonum)", Gonum{}, 0, true}}
	if ob, err := OpenBLAS(); err == nil {
		vs = append(vs,
			variant{"openblas-1thread", ob, 1, false},
			variant{"openblas-2threads", ob, 2, false},
			variant{"Gemm(openblas-1thread)", ob, 1, true})
	} else {
		b.Logf("OpenBLAS not benchmarked: %v", err)
	}
	for _, v := range vs {
		for _, s := range benchShapes {
			b.Run(v.name+"/"+s.name, func(b *testing.B) {
				if ob, ok := v.be.(threadCounter); ok && v.threads > 0 {
					orig := ob.Threads()
					ob.SetThreads(v.threads)
					defer ob.SetThreads(orig)
				}
				old := Use(v.be)
				defer Use(old)
				rng := rand.New(rand.NewPCG(1, 2))
				rnd := func(n int) []float32 {
					x := make([]float32, n)
					for i := range x {
						x[i] = rng.Float32() - 0.5
					}
					return x
				}
				a, bb, c := rnd(s.m*s.k), rnd(s.k*s.n), rnd(s.m*s.n)
				lda, ldb := s.k, s.n
				if s.transA {
					lda = s.m
				}
				if s.transB {
					ldb = s.k
				}
				b.ResetTimer()
				for b.Loop() {
					if v.split {
						Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
					} else {
						v.be.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
					}
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkCallOverhead isolates the cost of crossing into C through purego
// on a 1×1×1 product, against gonum's pure-Go call.
func BenchmarkCallOverhead(b *testing.B) {
	bs := []Backend{Gonum{}}
	if ob, err := OpenBLAS(); err == nil {
		bs = append(bs, ob)
	}
	a, bb, c := []float32{1}, []float32{2}, []float32{0}
	for _, be := range bs {
		b.Run(fmt.Sprint(be.Name()), func(b *testing.B) {
			for b.Loop() {
				be.Sgemm(false, false, 1, 1, 1, 1, a, 1, bb, 1, 0, c, 1)
			}
		})
	}
}
