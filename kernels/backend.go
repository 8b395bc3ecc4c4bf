package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

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

// parallelMinWork is the multiply-add count above which Gemm splits a
// product over the cores itself. The backends run single-threaded: our own
// goroutines (attention heads, sampler rows) already fill the cores, and a
// BLAS thread pool on top of them oversubscribes 2 cores badly.
const parallelMinWork = 1 << 22

// Gemm computes C = alpha·op(A)·op(B) + beta·C on the current backend,
// splitting large products into row (or column) blocks over GOMAXPROCS
// goroutines. Each block is an ordinary GEMM on a sub-matrix; the split
// depends only on the shape and GOMAXPROCS, so runs repeat bit for bit.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || m*n*k < parallelMinWork {
		gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	if m >= n {
		// Rows i0..i1 of C need rows i0..i1 of op(A): a row offset of A,
		// or a column offset when A is stored transposed.
		step := (m + workers - 1) / workers
		for i0 := 0; i0 < m; i0 += step {
			i1 := min(i0+step, m)
			off := i0 * lda
			if transA {
				off = i0
			}
			block := func() { gemm(transA, transB, i1-i0, n, k, alpha, a[off:], lda, b, ldb, beta, c[i0*ldc:], ldc) }
			if i1 == m {
				block() // the last block on this goroutine: one fewer to start and wake
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				block()
			}()
		}
	} else {
		step := (n + workers - 1) / workers
		for j0 := 0; j0 < n; j0 += step {
			j1 := min(j0+step, n)
			off := j0
			if transB {
				off = j0 * ldb
			}
			block := func() { gemm(transA, transB, m, j1-j0, k, alpha, a, lda, b[off:], ldb, beta, c[j0:], ldc) }
			if j1 == n {
				block()
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				block()
			}()
		}
	}
	wg.Wait()
}

// ShapeIndependent reports whether every element of b's products depends
// only on its own row of op(A) and column of op(B), in inner-dimension
// order, never on the product's other dimensions or on how it is split:
// true for the native sgemm. Kernels and the sampler use it to skip work
// (masked blocks) and to regroup rows (decoding lanes) only where that
// cannot change a bit, so that runs made on the other backends before
// either existed are recomputed exactly.
func ShapeIndependent(b Backend) bool { return b.Name() == "native" }

// GemmSerial is Gemm on the calling goroutine alone, for callers that
// already run one goroutine per core (the sampler's decoding lanes).
func GemmSerial[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		Current().Sgemm(transA, transB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		Current().Dgemm(transA, transB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// CheckGemm validates a row-major GEMM call by gonum's rules, panicking
// with a message naming the operand when a slice is too short or a stride
// too small, and reports whether there is work to do (false when m or n is
// 0). Backends outside this package (kernels/cuda) call it first, so that
// every backend accepts and rejects the same calls; op names the caller in
// the message.
func CheckGemm(op string, transA, transB bool, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) bool {
	return checkGemm(op, transA, transB, m, n, k, lenA, lda, lenB, ldb, lenC, ldc)
}
