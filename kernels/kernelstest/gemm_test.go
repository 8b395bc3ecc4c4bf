package kernelstest

import (
	"testing"

	"github.com/grao-lab/grao/kernels"
)

// recorder is a testing.TB that counts failures instead of failing, so the
// suite can be run against backends that are wrong on purpose.
type recorder struct {
	testing.TB
	failures int
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failures++ }
func (r *recorder) Fatalf(string, ...any) { r.failures++ }
func (r *recorder) Logf(string, ...any)   {}

// broken wraps gonum and spoils one thing the suite checks.
type broken struct {
	kernels.Gonum
	fault string
}

func (b broken) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, bb []float32, ldb int, beta float32, c []float32, ldc int) {
	if b.fault == "accepts bad calls" {
		defer func() { recover() }() // swallows gonum's panic: the call returns normally
	}
	if b.fault == "reads C when beta is 0" && beta == 0 {
		beta = 1e-30 // 1e-30·NaN is NaN
	}
	b.Gonum.Sgemm(tA, tB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
	spoilPadding(b.fault, c, m, n, ldc)
}

func (b broken) Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, bb []float64, ldb int, beta float64, c []float64, ldc int) {
	if b.fault == "reads C when beta is 0" && beta == 0 {
		beta = 1e-300
	}
	b.Gonum.Dgemm(tA, tB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
	if b.fault == "float32 precision" {
		for i := range c {
			c[i] = float64(float32(c[i]))
		}
	}
	spoilPadding(b.fault, c, m, n, ldc)
}

func spoilPadding[T kernels.Float](fault string, c []T, m, n, ldc int) {
	if fault == "writes ldc padding" && ldc > n && m > 0 {
		c[n] = 42
	}
}

// TestSuiteCatchesBrokenBackends runs the suite's checks against backends
// that are each wrong in one way, and against gonum as the control: a
// conformance suite that passed them all would prove nothing.
func TestSuiteCatchesBrokenBackends(t *testing.T) {
	failures := func(be kernels.Backend) (gemm, bad int) {
		for ci, tc := range GemmCases() {
			for _, f64 := range []bool{false, true} {
				r := &recorder{TB: t}
				runGemmCase(r, be, ci, tc, f64)
				gemm += r.failures
			}
		}
		for _, c := range BadGemmCalls() {
			if _, panicked := c.Call(be); !panicked {
				bad++
			}
		}
		return gemm, bad
	}
	if g, b := failures(kernels.Gonum{}); g != 0 || b != 0 {
		t.Fatalf("gonum: %d wrong products, %d accepted bad calls; want none", g, b)
	}
	for _, fault := range []string{"writes ldc padding", "reads C when beta is 0", "float32 precision", "accepts bad calls"} {
		g, b := failures(broken{fault: fault})
		t.Logf("%s: %d wrong products, %d accepted bad calls", fault, g, b)
		if g+b == 0 {
			t.Errorf("backend that %s passes the suite", fault)
		}
	}
}
