package kernelstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/grao-lab/grao/kernels"
)

// Tolerances of CheckGemm for each precision, relative to the scale
// NaiveGemm returns: a few units in the last place of a sum of k products,
// whatever order and blocking the backend accumulates in.
const (
	Tol32 = 1e-5
	Tol64 = 1e-12
)

// Backend runs, as subtests of t, every check a kernels.Backend must pass
// (see the package documentation). A backend that can also report its
// thread count (Threads() int, as OpenBLAS does) has it changed while the
// concurrent GEMMs run.
func Backend(t *testing.T, b kernels.Backend) {
	t.Run("GemmMatchesNaive", func(t *testing.T) { gemmMatchesNaive(t, b) })
	t.Run("GemmRejectsBadInput", func(t *testing.T) {
		for _, c := range BadGemmCalls() {
			t.Run(c.Name, func(t *testing.T) {
				if _, panicked := c.Call(b); !panicked {
					t.Fatal("accepted a malformed call")
				}
			})
		}
	})
	t.Run("GemmConcurrent", func(t *testing.T) { gemmConcurrent(t, b) })
}

// NaiveGemm is the definition, accumulated in float64:
// C = alpha·op(A)·op(B) + beta·C, and scale[i] = Σ|alpha·a·b| + |beta·c| is
// the magnitude a rounding error is relative to. c is not modified.
func NaiveGemm[T kernels.Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) (want, scale []float64) {
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

// GemmCase is one GEMM to check: C (m×n) = Alpha·op(A)·op(B) + Beta·C with
// inner dimension K.
type GemmCase struct {
	Name           string
	M, N, K        int
	PadA, PadB     int // extra leading-dimension padding beyond the minimum
	PadC           int
	Alpha, Beta    float64
	NaNC           bool // fill C with NaN (only meaningful with Beta == 0)
	TransA, TransB bool
}

// GemmCases returns the cases Backend checks: every shape with both sets
// of scalars and all four transpose combinations.
func GemmCases() []GemmCase {
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
	var cs []GemmCase
	for _, s := range shapes {
		for _, sc := range scalars {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					cs = append(cs, GemmCase{
						Name: fmt.Sprintf("%s/%s/tA=%t,tB=%t", s.name, sc.name, ta, tb),
						M:    s.m, N: s.n, K: s.k, PadA: s.padA, PadB: s.padB, PadC: s.padC,
						Alpha: sc.alpha, Beta: sc.beta, NaNC: sc.nanC, TransA: ta, TransB: tb,
					})
				}
			}
		}
	}
	return cs
}

// Operands builds A, B, C for a case with every padding element set to a
// sentinel, so that a backend reading or writing outside the window shows.
func Operands[T kernels.Float](rng *rand.Rand, tc GemmCase) (a []T, lda int, b []T, ldb int, c []T, ldc int) {
	rowA, colA := tc.M, tc.K
	if tc.TransA {
		rowA, colA = tc.K, tc.M
	}
	rowB, colB := tc.K, tc.N
	if tc.TransB {
		rowB, colB = tc.N, tc.K
	}
	lda, ldb, ldc = max(1, colA)+tc.PadA, max(1, colB)+tc.PadB, max(1, tc.N)+tc.PadC
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
	return fill(rowA, colA, lda, false), lda, fill(rowB, colB, ldb, false), ldb, fill(tc.M, tc.N, ldc, tc.NaNC), ldc
}

// CheckGemm compares got (C after the call, n columns used of ldc) with
// NaiveGemm's want and scale, allowing tol·scale, and checks that the ldc
// padding still holds what before (C before the call) held, bit for bit.
func CheckGemm[T kernels.Float](t testing.TB, got []T, want, scale []float64, ldc, n int, before []T, tol float64) {
	t.Helper()
	bad := 0
	for i := range got {
		if i%ldc >= n {
			// Compare bits: the padding may hold NaN.
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

func gemmMatchesNaive(t *testing.T, be kernels.Backend) {
	for ci, tc := range GemmCases() {
		t.Run("f32/"+tc.Name, func(t *testing.T) { runGemmCase(t, be, ci, tc, false) })
		t.Run("f64/"+tc.Name, func(t *testing.T) { runGemmCase(t, be, ci, tc, true) })
	}
}

// runGemmCase runs case ci of GemmCases on be in float32, or float64 when
// f64 is set, and reports every wrong element on t.
func runGemmCase(t testing.TB, be kernels.Backend, ci int, tc GemmCase, f64 bool) {
	t.Helper()
	// Seeded by case index, so that every backend sees the same operands;
	// the float64 operands are the draws after the float32 ones.
	rng := rand.New(rand.NewPCG(1, uint64(ci)))
	a32, lda, b32, ldb, c32, ldc := Operands[float32](rng, tc)
	if !f64 {
		want, scale := NaiveGemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, float32(tc.Alpha), a32, lda, b32, ldb, float32(tc.Beta), c32, ldc)
		c := append([]float32(nil), c32...)
		be.Sgemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, float32(tc.Alpha), a32, lda, b32, ldb, float32(tc.Beta), c, ldc)
		CheckGemm(t, c, want, scale, ldc, tc.N, c32, Tol32)
		return
	}
	a64, _, b64, _, c64, _ := Operands[float64](rng, tc)
	want, scale := NaiveGemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, tc.Alpha, a64, lda, b64, ldb, tc.Beta, c64, ldc)
	c := append([]float64(nil), c64...)
	be.Dgemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, tc.Alpha, a64, lda, b64, ldb, tc.Beta, c, ldc)
	CheckGemm(t, c, want, scale, ldc, tc.N, c64, Tol64)
}

// BadGemmCall is a malformed Sgemm call that every backend must refuse by
// panicking before it touches memory: a backend calling into C would
// otherwise read or write past the slices.
type BadGemmCall struct {
	Name             string
	TransA, TransB   bool
	M, N, K          int
	LenA, LenB, LenC int
	Lda, Ldb, Ldc    int
}

// BadGemmCalls returns the malformed calls Backend checks, each a 2×4×3
// product with one thing wrong.
func BadGemmCalls() []BadGemmCall {
	return []BadGemmCall{
		{"short a", false, false, 2, 4, 3, 5, 12, 8, 3, 4, 4},
		{"short b", false, false, 2, 4, 3, 6, 11, 8, 3, 4, 4},
		{"short c", false, false, 2, 4, 3, 6, 12, 7, 3, 4, 4},
		{"short a transposed", true, false, 2, 4, 3, 5, 12, 8, 2, 4, 4},
		{"short b transposed", false, true, 2, 4, 3, 6, 11, 8, 3, 3, 4},
		{"lda too small", false, false, 2, 4, 3, 6, 12, 8, 2, 4, 4},
		{"ldb too small", false, false, 2, 4, 3, 6, 12, 8, 3, 3, 4},
		{"ldc too small", false, false, 2, 4, 3, 6, 12, 8, 3, 4, 3},
		{"negative m", false, false, -1, 4, 3, 6, 12, 8, 3, 4, 4},
	}
}

// Call makes the call on b and returns what it panicked with; panicked is
// false when it returned normally.
func (c BadGemmCall) Call(b kernels.Backend) (recovered any, panicked bool) {
	a, bb, cc := make([]float32, c.LenA), make([]float32, c.LenB), make([]float32, c.LenC)
	defer func() {
		recovered = recover()
		panicked = recovered != nil
	}()
	b.Sgemm(c.TransA, c.TransB, c.M, c.N, c.K, 1, a, c.Lda, bb, c.Ldb, 0, cc, c.Ldc)
	return nil, false
}

// gemmConcurrent runs GEMMs from many goroutines at once (each with its own
// operands) while another goroutine changes the thread count; every result
// must equal the single-threaded reference. Run with -race too.
func gemmConcurrent(t *testing.T, be kernels.Backend) {
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
		want, _ := NaiveGemm(false, false, m, n, k, 1, j.a, k, j.b, n, 0, j.want, n)
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
	// Only a backend that reports its thread count can have it restored
	// afterwards; changing it blind would leak into later tests.
	if tc, ok := be.(interface{ Threads() int }); ok {
		orig := tc.Threads()
		wg.Go(func() {
			for i := range iters {
				be.SetThreads(1 + i%2)
			}
		})
		defer be.SetThreads(orig)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
