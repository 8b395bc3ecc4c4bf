package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// testBackend is a backend under test with a label for subtest names.
type testBackend struct {
	label string
	Backend
}

// testBackends lists every backend available in this process. OpenBLAS is
// loaded through OpenBLAS() whatever GRAO_BLAS says, so one `go test` covers
// both, and its cblas_* path is tested separately from the default
// Fortran-interface path (the two bind different symbols and pass alpha and
// beta differently: by address vs in float registers). When the library is
// absent only gonum is tested and the reason is logged
// (TestOpenBLASPresent in openblas_test.go skips visibly).
func testBackends(t testing.TB) []testBackend {
	t.Helper()
	bs := []testBackend{{"gonum", Gonum{}}}
	if ob, err := OpenBLAS(); err == nil {
		bs = append(bs, testBackend{"openblas", ob})
		if v, ok := ob.(interface{ cblasVariant() Backend }); ok {
			bs = append(bs, testBackend{"openblas-cblas", v.cblasVariant()})
		}
	} else {
		t.Logf("OpenBLAS not tested: %v", err)
	}
	return bs
}

// threadCounter is implemented by backends whose thread count can be read
// back (OpenBLAS).
type threadCounter interface {
	Threads() int
	SetThreads(int)
}

// naiveGemm is the definition, accumulated in float64:
// C = alpha·op(A)·op(B) + beta·C, and scale[i] = Σ|alpha·a·b| + |beta·c| is
// the magnitude a rounding error is relative to.
func naiveGemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) (want, scale []float64) {
	want = make([]float64, len(c))
	scale = make([]float64, len(c))
	for i := range c {
		want[i] = float64(c[i])
	}
	at := func(i, p int) float64 {
		if transA {
			return float64(a[p*lda+i])
		}
		return float64(a[i*lda+p])
	}
	bt := func(p, j int) float64 {
		if transB {
			return float64(b[j*ldb+p])
		}
		return float64(b[p*ldb+j])
	}
	for i := range m {
		for j := range n {
			var s, sa float64
			for p := range k {
				s += at(i, p) * bt(p, j)
				sa += math.Abs(at(i, p) * bt(p, j))
			}
			idx := i*ldc + j
			cv := float64(c[idx])
			if beta == 0 {
				cv = 0 // BLAS: C is not read when beta == 0 (NaN must not propagate)
			}
			want[idx] = float64(alpha)*s + float64(beta)*cv
			scale[idx] = math.Abs(float64(alpha))*sa + math.Abs(float64(beta)*cv)
		}
	}
	return want, scale
}

type gemmCase struct {
	name          string
	m, n, k       int
	padA, padB    int // extra leading-dimension padding beyond the minimum
	padC          int
	alpha, beta   float64
	nanC          bool // fill C with NaN (only meaningful with beta == 0)
	transA, trans bool
}

func gemmCases() []gemmCase {
	shapes := []struct {
		name             string
		m, n, k          int
		padA, padB, padC int
	}{
		{"1x1x1", 1, 1, 1, 0, 0, 0},
		{"row-vector", 1, 7, 5, 0, 0, 0},
		{"col-vector", 7, 1, 5, 0, 0, 0},
		// Single-row/column results take OpenBLAS's GEMV route; padding
		// exercises its strided x and y.
		{"padded row-vector", 1, 9, 6, 3, 2, 1},
		{"padded col-vector", 8, 1, 6, 2, 3, 4},
		{"decode 1x384x128", 1, 384, 128, 0, 0, 0},
		{"k=0 row-vector", 1, 5, 0, 0, 0, 0},
		{"k=1 outer product", 6, 4, 1, 0, 0, 0},
		{"k=0 scales C", 3, 4, 0, 0, 0, 0},
		{"odd 17x13x29", 17, 13, 29, 0, 0, 0},
		{"padded lda/ldb/ldc", 9, 11, 7, 3, 5, 2},
		{"transformer 64x128x384", 64, 128, 384, 0, 0, 0},
		{"padded transformer", 33, 65, 129, 7, 1, 3},
	}
	scalars := []struct {
		name        string
		alpha, beta float64
		nanC        bool
	}{
		{"a=0.7,b=-1.3", 0.7, -1.3, false},
		{"a=-2,b=0 over NaN C", -2, 0, true},
	}
	var cs []gemmCase
	for _, s := range shapes {
		for _, sc := range scalars {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					cs = append(cs, gemmCase{
						name: fmt.Sprintf("%s/%s/tA=%t,tB=%t", s.name, sc.name, ta, tb),
						m:    s.m, n: s.n, k: s.k, padA: s.padA, padB: s.padB, padC: s.padC,
						alpha: sc.alpha, beta: sc.beta, nanC: sc.nanC, transA: ta, trans: tb,
					})
				}
			}
		}
	}
	return cs
}

// operands builds A, B, C for a case with every padding element set to a
// sentinel, so that a backend reading or writing outside the window shows.
func operands[T Float](rng *rand.Rand, tc gemmCase) (a []T, lda int, b []T, ldb int, c []T, ldc int) {
	rowA, colA := tc.m, tc.k
	if tc.transA {
		rowA, colA = tc.k, tc.m
	}
	rowB, colB := tc.k, tc.n
	if tc.trans {
		rowB, colB = tc.n, tc.k
	}
	lda, ldb, ldc = max(1, colA)+tc.padA, max(1, colB)+tc.padB, max(1, tc.n)+tc.padC
	fill := func(rows, cols, ld int, nan bool) []T {
		s := make([]T, rows*ld)
		for i := range s {
			if i%ld >= cols {
				s[i] = 1e6 // sentinel in the padding
			} else if nan {
				s[i] = T(math.NaN())
			} else {
				s[i] = T(rng.Float64()*2 - 1)
			}
		}
		return s
	}
	return fill(rowA, colA, lda, false), lda, fill(rowB, colB, ldb, false), ldb, fill(tc.m, tc.n, ldc, tc.nanC), ldc
}

func checkGemmResult[T Float](t *testing.T, got []T, want, scale []float64, ldc, n int, before []T, tol float64) {
	t.Helper()
	bad := 0
	for i := range got {
		if i%ldc >= n {
			// ldc padding must be left alone (compare bits: it may hold NaN).
			if math.Float64bits(float64(got[i])) != math.Float64bits(float64(before[i])) {
				t.Errorf("c[%d] in the ldc padding changed: %v -> %v", i, before[i], got[i])
			}
			continue
		}
		g := float64(got[i])
		if math.IsNaN(g) || math.Abs(g-want[i]) > tol*scale[i]+1e-30 {
			if bad++; bad <= 5 {
				t.Errorf("c[%d] = %v, want %v (|diff| %.3g, allowed %.3g)", i, g, want[i], math.Abs(g-want[i]), tol*scale[i])
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d elements wrong in all", bad)
	}
}

func TestGemmMatchesNaive(t *testing.T) {
	backends := testBackends(t)
	for ci, tc := range gemmCases() {
		// The reference is computed once per case and shared by all backends.
		rng := rand.New(rand.NewPCG(1, uint64(ci)))
		a32, lda, b32, ldb, c32, ldc := operands[float32](rng, tc)
		want32, scale32 := naiveGemm(tc.transA, tc.trans, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), c32, ldc)
		a64, _, b64, _, c64, _ := operands[float64](rng, tc)
		want64, scale64 := naiveGemm(tc.transA, tc.trans, tc.m, tc.n, tc.k, tc.alpha, a64, lda, b64, ldb, tc.beta, c64, ldc)
		for _, be := range backends {
			t.Run(be.label+"/f32/"+tc.name, func(t *testing.T) {
				c := append([]float32(nil), c32...)
				be.Sgemm(tc.transA, tc.trans, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), c, ldc)
				checkGemmResult(t, c, want32, scale32, ldc, tc.n, c32, 1e-5)
			})
			t.Run(be.label+"/f64/"+tc.name, func(t *testing.T) {
				c := append([]float64(nil), c64...)
				be.Dgemm(tc.transA, tc.trans, tc.m, tc.n, tc.k, tc.alpha, a64, lda, b64, ldb, tc.beta, c, ldc)
				checkGemmResult(t, c, want64, scale64, ldc, tc.n, c64, 1e-12)
			})
		}
	}
}

// TestGemmGeneric checks the generic dispatcher against the backend it
// dispatches to, in both precisions.
func TestGemmGeneric(t *testing.T) {
	for _, be := range testBackends(t) {
		t.Run(be.label, func(t *testing.T) {
			old := Use(be.Backend)
			defer Use(old)
			a := []float64{1, 2, 3, 4, 5, 6}  // 2×3
			b := []float64{1, 0, 0, 1, 1, 1}  // 3×2
			want := []float64{2.5, 3, 5.5, 6} // 0.5·A·B + 1·C with A·B = [4 5; 10 11], C = 0.5
			c64 := []float64{0.5, 0.5, 0.5, 0.5}
			Gemm(false, false, 2, 2, 3, 0.5, a, 3, b, 2, 1, c64, 2)
			c32 := []float32{0.5, 0.5, 0.5, 0.5}
			a32, b32 := make([]float32, 6), make([]float32, 6)
			for i := range a {
				a32[i], b32[i] = float32(a[i]), float32(b[i])
			}
			Gemm(false, false, 2, 2, 3, float32(0.5), a32, 3, b32, 2, 1, c32, 2)
			for i := range want {
				if c64[i] != want[i] || float64(c32[i]) != want[i] {
					t.Fatalf("Gemm: f64 %v, f32 %v, want %v", c64, c32, want)
				}
			}
		})
	}
}

// TestGemmSplit checks Gemm's split of large products into row or column
// blocks over goroutines (above parallelMinWork), against the naive
// product, and that the result repeats bit for bit.
func TestGemmSplit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3)) // 3 blocks: uneven split
	cases := []gemmCase{
		{name: "rows NN", m: 301, n: 130, k: 128, alpha: 0.7, beta: -1.3},
		{name: "rows TT padded", m: 257, n: 129, k: 140, padA: 3, padB: 1, padC: 2, alpha: 1, beta: 0, transA: true, trans: true},
		{name: "cols NT", m: 130, n: 301, k: 128, alpha: -0.5, beta: 0.25, trans: true},
		{name: "cols TN padded", m: 129, n: 257, k: 140, padA: 1, padB: 2, padC: 5, alpha: 2, beta: 1, transA: true},
	}
	for _, be := range testBackends(t) {
		for ci, tc := range cases {
			if tc.m*tc.n*tc.k < parallelMinWork {
				t.Fatalf("%s: %d multiply-adds do not reach the split threshold %d", tc.name, tc.m*tc.n*tc.k, parallelMinWork)
			}
			t.Run(be.label+"/"+tc.name, func(t *testing.T) {
				old := Use(be.Backend)
				defer Use(old)
				rng := rand.New(rand.NewPCG(9, uint64(ci)))
				a, lda, b, ldb, c0, ldc := operands[float32](rng, tc)
				want, scale := naiveGemm(tc.transA, tc.trans, tc.m, tc.n, tc.k, float32(tc.alpha), a, lda, b, ldb, float32(tc.beta), c0, ldc)
				c := append([]float32(nil), c0...)
				Gemm(tc.transA, tc.trans, tc.m, tc.n, tc.k, float32(tc.alpha), a, lda, b, ldb, float32(tc.beta), c, ldc)
				checkGemmResult(t, c, want, scale, ldc, tc.n, c0, 1e-5)
				again := append([]float32(nil), c0...)
				Gemm(tc.transA, tc.trans, tc.m, tc.n, tc.k, float32(tc.alpha), a, lda, b, ldb, float32(tc.beta), again, ldc)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(again[i]) {
						t.Fatalf("c[%d] differs between two identical calls: %v vs %v", i, c[i], again[i])
					}
				}
			})
		}
	}
}

// TestGemmRejectsBadInput: every backend must refuse the same malformed
// calls, by panicking before touching memory. For OpenBLAS the message
// must say what is wrong, since C would otherwise read past the slice.
func TestGemmRejectsBadInput(t *testing.T) {
	ok := func() (a, b, c []float32) { return make([]float32, 6), make([]float32, 12), make([]float32, 8) }
	cases := []struct {
		name   string
		tA, tB bool
		m, n   int
		k      int
		mod    func(a, b, c []float32) ([]float32, []float32, []float32)
		lda    int
		ldb    int
		ldc    int
		msg    string // substring of the OpenBLAS panic
	}{
		{"short a", false, false, 2, 4, 3, func(a, b, c []float32) ([]float32, []float32, []float32) { return a[:5], b, c }, 3, 4, 4, "len(a)=5, need 6"},
		{"short b", false, false, 2, 4, 3, func(a, b, c []float32) ([]float32, []float32, []float32) { return a, b[:11], c }, 3, 4, 4, "len(b)=11, need 12"},
		{"short c", false, false, 2, 4, 3, func(a, b, c []float32) ([]float32, []float32, []float32) { return a, b, c[:7] }, 3, 4, 4, "len(c)=7, need 8"},
		{"short a transposed", true, false, 2, 4, 3, func(a, b, c []float32) ([]float32, []float32, []float32) { return a[:5], b, c }, 2, 4, 4, "len(a)=5, need 6"},
		{"short b transposed", false, true, 2, 4, 3, func(a, b, c []float32) ([]float32, []float32, []float32) { return a, b[:11], c }, 3, 3, 4, "len(b)=11, need 12"},
		{"lda too small", false, false, 2, 4, 3, nil, 2, 4, 4, "lda=2"},
		{"ldb too small", false, false, 2, 4, 3, nil, 3, 3, 4, "ldb=3"},
		{"ldc too small", false, false, 2, 4, 3, nil, 3, 4, 3, "ldc=3"},
		{"negative m", false, false, -1, 4, 3, nil, 3, 4, 4, "negative dimension"},
	}
	for _, be := range testBackends(t) {
		for _, tc := range cases {
			t.Run(be.label+"/"+tc.name, func(t *testing.T) {
				a, b, c := ok()
				if tc.mod != nil {
					a, b, c = tc.mod(a, b, c)
				}
				msg := func() (msg string) {
					defer func() { msg = fmt.Sprint(recover()) }()
					be.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, a, tc.lda, b, tc.ldb, 0, c, tc.ldc)
					return "<no panic>"
				}()
				if msg == "<no panic>" {
					t.Fatal("accepted a malformed call")
				}
				if strings.HasPrefix(be.label, "openblas") && !strings.Contains(msg, tc.msg) {
					t.Errorf("panic %q does not mention %q", msg, tc.msg)
				}
			})
		}
	}
}

// TestGemmConcurrent runs GEMMs from many goroutines at once (each with its
// own operands) while another goroutine changes the thread count; every
// result must equal the single-threaded reference. Run with -race too.
func TestGemmConcurrent(t *testing.T) {
	for _, be := range testBackends(t) {
		t.Run(be.label, func(t *testing.T) {
			const workers, iters, m, n, k = 8, 20, 48, 40, 56
			type job struct {
				a, b, want []float32
			}
			jobs := make([]job, workers)
			for w := range jobs {
				rng := rand.New(rand.NewPCG(7, uint64(w)))
				j := job{a: make([]float32, m*k), b: make([]float32, k*n), want: make([]float32, m*n)}
				for i := range j.a {
					j.a[i] = float32(rng.NormFloat64())
				}
				for i := range j.b {
					j.b[i] = float32(rng.NormFloat64())
				}
				want, _ := naiveGemm(false, false, m, n, k, 1, j.a, k, j.b, n, 0, j.want, n)
				for i := range want {
					j.want[i] = float32(want[i])
				}
				jobs[w] = j
			}
			var wg sync.WaitGroup
			errs := make(chan string, workers)
			for w := range workers {
				wg.Go(func() {
					c := make([]float32, m*n)
					for range iters {
						be.Sgemm(false, false, m, n, k, 1, jobs[w].a, k, jobs[w].b, n, 0, c, n)
						for i := range c {
							if d := math.Abs(float64(c[i] - jobs[w].want[i])); d > 1e-4 {
								errs <- fmt.Sprintf("worker %d: c[%d] = %v, want %v", w, i, c[i], jobs[w].want[i])
								return
							}
						}
					}
				})
			}
			if ob, ok := be.Backend.(threadCounter); ok {
				orig := ob.Threads()
				wg.Go(func() {
					for i := range iters {
						ob.SetThreads(1 + i%2)
					}
				})
				defer ob.SetThreads(orig)
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

// ExampleGemm multiplies a 2×3 by a 3×2 matrix with whichever backend is in
// use (OpenBLAS or gonum give the same answer here).
func ExampleGemm() {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3, row-major
	b := []float32{1, 0, 0, 1, 1, 1} // 3×2
	c := make([]float32, 4)          // 2×2
	Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [4 5 10 11]
}
