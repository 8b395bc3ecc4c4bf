//go:build (darwin || freebsd || linux || netbsd) && !android && !faketime && (amd64 || arm64)

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func needOpenBLAS(t testing.TB) *openBLAS {
	t.Helper()
	b, err := OpenBLAS()
	if err != nil {
		t.Skipf("OpenBLAS not available (install libopenblas0): %v", err)
	}
	return b.(*openBLAS)
}

// TestOpenBLASPresent makes a missing library visible as a skip rather than
// a silent pass of the OpenBLAS-only tests.
func TestOpenBLASPresent(t *testing.T) {
	ob := needOpenBLAS(t)
	t.Logf("loaded: %s", ob.Info())
}

// TestOpenBLASFastPath: every OpenBLAS build exports the Fortran interface;
// without it each call would go through reflection (see openBLAS).
func TestOpenBLASFastPath(t *testing.T) {
	ob := needOpenBLAS(t)
	if ob.sF.gemm == 0 || ob.dF.gemm == 0 || ob.sF.gemv == 0 || ob.dF.gemv == 0 {
		t.Errorf("%s: Fortran symbols missing: single %+v, double %+v", ob.path, ob.sF, ob.dF)
	}
	// The default path must not allocate per call beyond SyscallN's own
	// argument slice (one allocation).
	a, b, c := []float32{1}, []float32{2}, []float32{0}
	allocs := testing.AllocsPerRun(100, func() { ob.Sgemm(false, false, 1, 1, 1, 1, a, 1, b, 1, 0, c, 1) })
	if allocs > 1 {
		t.Errorf("%.1f allocations per Sgemm call, want <= 1", allocs)
	}
	if c[0] != 2 {
		t.Errorf("1×1 product = %v, want 2", c[0])
	}
}

func TestLoadOpenBLASMissing(t *testing.T) {
	cases := []struct {
		name       string
		candidates []string
		want       []string // substrings of the error
	}{
		{"no candidates", nil, []string{"OpenBLAS not found"}},
		{"absent paths", []string{"/nonexistent/libopenblas.so.0", "libdoesnotexist.so.9"}, []string{"/nonexistent/libopenblas.so.0", "libdoesnotexist.so.9"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := loadOpenBLAS(tc.candidates)
			if err == nil {
				t.Fatalf("loaded %v", b.Info())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestLoadOpenBLASWithoutSymbols loads a real library that is not OpenBLAS:
// the missing symbol must be an error, not a crash.
func TestLoadOpenBLASWithoutSymbols(t *testing.T) {
	_, err := loadOpenBLAS([]string{"libm.so.6"})
	if err != nil && strings.Contains(err.Error(), "not found") {
		t.Skipf("no libm.so.6 to load here: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "cblas_sgemm") {
		t.Fatalf("err = %v, want a missing cblas_sgemm symbol", err)
	}
}

func TestOpenBLASInfoAndThreads(t *testing.T) {
	ob := needOpenBLAS(t)
	if !strings.HasPrefix(ob.Info(), "openblas ") || ob.Name() != "openblas" {
		t.Errorf("Name %q Info %q", ob.Name(), ob.Info())
	}
	if ob.corename == "" {
		t.Error("openblas_get_corename gave nothing")
	}
	// A machine may export OPENBLAS_CORETYPE (docs/blas.md); the library must
	// honour it, and Info must say which kernel family runs.
	if ct := os.Getenv("OPENBLAS_CORETYPE"); ct != "" && !strings.EqualFold(ob.corename, ct) {
		t.Errorf("OPENBLAS_CORETYPE=%s but core is %q", ct, ob.corename)
	}
	orig := ob.Threads()
	if orig < 1 {
		t.Fatalf("Threads() = %d", orig)
	}
	defer ob.SetThreads(orig)
	for _, tc := range []struct{ set, want int }{{1, 1}, {0, 1}, {-3, 1}, {2, 2}} {
		ob.SetThreads(tc.set)
		// OpenBLAS caps the count at its MAX_THREADS; 2 is below any cap.
		if got := ob.Threads(); got != tc.want {
			t.Errorf("SetThreads(%d): Threads() = %d, want %d", tc.set, got, tc.want)
		}
	}
}

// FuzzGemmArgs drives both the argument checks and the C call with arbitrary
// small shapes, strides and slice lengths. The property: checkGemm accepts
// exactly what gonum accepts, and whatever it accepts OpenBLAS computes like
// gonum (with slices cut to the exact minimum length, so a read past the end
// by C would be visible to the race detector / as a wrong result).
func FuzzGemmArgs(f *testing.F) {
	f.Add(false, false, 3, 4, 5, 0, 0, 0, 0, 0, 0)
	f.Add(true, true, 1, 1, 0, 2, 0, 1, 0, 0, 0)
	f.Add(true, false, 7, 3, 2, 0, 1, 0, 0, -1, 0)
	f.Fuzz(func(t *testing.T, tA, tB bool, m, n, k, padA, padB, padC, cutA, cutB, cutC int) {
		clamp := func(v, lo, hi int) int { return min(max(v, lo), hi) }
		m, n, k = clamp(m, -1, 12), clamp(n, -1, 12), clamp(k, -1, 12)
		padA, padB, padC = clamp(padA, -2, 3), clamp(padB, -2, 3), clamp(padC, -2, 3)
		cutA, cutB, cutC = clamp(cutA, -1, 2), clamp(cutB, -1, 2), clamp(cutC, -1, 2)
		colA, rowA := k, m
		if tA {
			colA, rowA = m, k
		}
		colB, rowB := n, k
		if tB {
			colB, rowB = k, n
		}
		lda, ldb, ldc := max(1, colA)+padA, max(1, colB)+padB, max(1, n)+padC
		size := func(rows, ld, cols, cut int) int { return max(0, (rows-1)*ld+cols-cut) }
		rng := rand.New(rand.NewPCG(uint64(m*1000+n*100+k), uint64(padA+padB*10)))
		mk := func(l int) []float64 {
			s := make([]float64, l)
			for i := range s {
				s[i] = rng.Float64()
			}
			return s[:l:l]
		}
		a, b := mk(size(rowA, lda, colA, cutA)), mk(size(rowB, ldb, colB, cutB))
		c := mk(size(m, ldc, n, cutC))

		panics := func(fn func()) (p bool) {
			defer func() { p = recover() != nil }()
			fn()
			return false
		}
		tr := func(t bool) blas.Transpose { return map[bool]blas.Transpose{false: blas.NoTrans, true: blas.Trans}[t] }
		want := append([]float64(nil), c...)
		gonumPanics := panics(func() {
			gonum.Implementation{}.Dgemm(tr(tA), tr(tB), m, n, k, 0.5, a, lda, b, ldb, -1.5, want, ldc)
		})
		oursPanics := panics(func() { checkGemm("fuzz", tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) })
		if gonumPanics != oursPanics {
			t.Fatalf("gonum panics=%t, checkGemm panics=%t (tA=%t tB=%t m=%d n=%d k=%d lens %d/%d/%d lds %d/%d/%d)",
				gonumPanics, oursPanics, tA, tB, m, n, k, len(a), len(b), len(c), lda, ldb, ldc)
		}
		ob, err := OpenBLAS()
		if err != nil || oursPanics {
			return
		}
		c0 := append([]float64(nil), c...)
		for _, be := range []*openBLAS{ob.(*openBLAS), ob.(*openBLAS).cblasVariant().(*openBLAS)} {
			copy(c, c0)
			be.Dgemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, -1.5, c, ldc)
			for i := range c {
				if math.Abs(c[i]-want[i]) > 1e-12*(1+math.Abs(want[i]))*float64(k+1) {
					t.Fatalf("viaCBLAS=%t: c[%d] = %v, gonum %v", be.viaCBLAS, i, c[i], want[i])
				}
			}
		}
	})
}

// ExampleOpenBLAS compares the two backends in one process, as `bench speed`
// does; it prints nothing that depends on the machine.
func ExampleOpenBLAS() {
	backends := []Backend{Gonum{}}
	if ob, err := OpenBLAS(); err == nil {
		backends = append(backends, ob)
	}
	a := []float64{1, 2, 3, 4} // 2×2
	for _, be := range backends {
		c := make([]float64, 4)
		be.Dgemm(true, false, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2) // AᵀA
		if fmt.Sprint(c) != "[10 14 14 20]" {
			fmt.Println(be.Name(), "wrong:", c)
		}
	}
	fmt.Println("AᵀA = [10 14; 14 20] on every backend")
	// Output: AᵀA = [10 14; 14 20] on every backend
}
