package ops

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// GorgoniaBLAS adapts the current backend to the BLAS interface gorgonia and
// gorgonia.org/tensor dispatch to. It embeds gonum's implementation for the
// routines that do not matter for speed and overrides the level-3 products
// (and the unit-stride level-2 ones, expressed as GEMMs) so that they go
// through kernels.Gemm, hence through kernels.Current() at call time (a later Use() takes
// effect without calling UseInGorgonia again) and through Gemm's split of
// large products over the cores (the backends run single-threaded).
type GorgoniaBLAS struct{ gonum.Implementation }

// UseInGorgonia makes gorgonia (and its tensor package) use GorgoniaBLAS.
// gorgonia.Use already forwards to tensor.Use in v0.9.18; tensor.Use is
// called again explicitly so that this does not depend on that detail.
func UseInGorgonia() {
	gorgonia.Use(GorgoniaBLAS{})
	tensor.Use(GorgoniaBLAS{})
}

// trans maps a BLAS transpose flag to ours; for real matrices ConjTrans is
// Trans. Anything else is rejected like gonum does.
func trans(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic("kernels: GorgoniaBLAS: illegal transpose value")
}

func (GorgoniaBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.Gemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (GorgoniaBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	kernels.Gemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemv computes y = alpha·op(A)·x + beta·y with A stored m×n. With unit
// strides x and y are contiguous column vectors, so this is a GEMM with one
// output column; other strides fall back to gonum.
func (g GorgoniaBLAS) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	if incX != 1 || incY != 1 || m == 0 || n == 0 {
		g.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	if trans(tA) {
		kernels.Gemm(true, false, n, 1, m, alpha, a, lda, x, 1, beta, y, 1)
	} else {
		kernels.Gemm(false, false, m, 1, n, alpha, a, lda, x, 1, beta, y, 1)
	}
}

// Dgemv is Sgemv in float64.
func (g GorgoniaBLAS) Dgemv(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	if incX != 1 || incY != 1 || m == 0 || n == 0 {
		g.Implementation.Dgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	if trans(tA) {
		kernels.Gemm(true, false, n, 1, m, alpha, a, lda, x, 1, beta, y, 1)
	} else {
		kernels.Gemm(false, false, m, 1, n, alpha, a, lda, x, 1, beta, y, 1)
	}
}
