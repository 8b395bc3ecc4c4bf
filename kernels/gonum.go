package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Gonum is the pure-Go fallback backend (gonum's native BLAS).
type Gonum struct{ impl gonum.Implementation }

func (Gonum) Name() string   { return "gonum" }
func (Gonum) Info() string   { return "gonum pure-Go BLAS" }
func (Gonum) SetThreads(int) {}

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func (g Gonum) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonumGemm(g.impl.Sgemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (g Gonum) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonumGemm(g.impl.Dgemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gonumBlock is gonum's block size: its parallel GEMM sums the inner
// dimension in blocks of this many.
const gonumBlock = 64

// gonumGemm calls gonum with a transposed B in slices of at most
// gonumBlock along k. gonum multiplies a transposed B with whole-length
// dot products when the product is small (its serial path) and with sums
// of 64-long ones when it is large (its parallel path), so without the
// slices an element's bits would depend on how large a block of C the
// call covers, and so on how Gemm split the product over the cores. With
// them every element is the same sum of 64-long dots, which is what gonum's
// parallel path computes anyway. Untransposed B accumulates one term at a
// time on both paths and needs no slicing.
func gonumGemm[T Float](f func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int),
	transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if !transB || k <= gonumBlock {
		f(tr(transA), tr(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	for k0 := 0; k0 < k; k0 += gonumBlock {
		kk := min(gonumBlock, k-k0)
		// op(A) columns k0.. are a column offset of A, or a row offset
		// when A is stored transposed; Bᵀ's rows k0.. are B's columns k0..
		aOff := k0
		if transA {
			aOff = k0 * lda
		}
		f(tr(transA), tr(transB), m, n, kk, alpha, a[aOff:], lda, b[k0:], ldb, beta, c, ldc)
		beta = 1
	}
}

func init() {
	// Replaced by OpenBLAS in select.go's init when the library loads.
	Use(Backend(Gonum{}))
}
