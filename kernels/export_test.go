package kernels

// This file lends the external tests (package kernels_test, which may
// import kernelstest; package kernels may not, as kernelstest imports it)
// the few internals they need.

// CblasVariant returns OpenBLAS's view of b that always takes the cblas_*
// path, so that the conformance suite covers both of its entry points (they
// bind different symbols and pass alpha and beta differently: by address vs
// in float registers). ok is false for any other backend.
func CblasVariant(b Backend) (_ Backend, ok bool) {
	v, ok := b.(interface{ cblasVariant() Backend })
	if !ok {
		return nil, false
	}
	return v.cblasVariant(), true
}

// ParallelMinWork is the size above which Gemm splits a product.
const ParallelMinWork = parallelMinWork
