package kernels

import "sync/atomic"

// Backend is the BLAS-level contract: row-major GEMM in both precisions,
// C = alpha·op(A)·op(B) + beta·C with op(X) = Xᵀ when trans is set.
// Implementations must be safe for concurrent use.
type Backend interface {
	// Name is "openblas" or "gonum" (plus details in Info).
	Name() string
	// Info is a one-line human description (library path, core, threads).
	Info() string
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	// SetThreads sets the number of threads the library may use inside one
	// call (1 when the caller parallelises itself). A no-op where unsupported.
	SetThreads(n int)
}

var current atomic.Pointer[Backend]

// Current returns the backend in use.
func Current() Backend { return *current.Load() }

// Use swaps the backend and returns the previous one.
func Use(b Backend) Backend {
	old := current.Swap(&b)
	if old == nil {
		return nil
	}
	return *old
}

// Float is the element type of every kernel.
type Float interface{ ~float32 | ~float64 }

// Gemm dispatches to the current backend's Sgemm or Dgemm.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch a := any(a).(type) {
	case []float32:
		Current().Sgemm(transA, transB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		Current().Dgemm(transA, transB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
