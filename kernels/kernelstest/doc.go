// Package kernelstest is the conformance suite for kernels.Backend
// implementations. A backend package runs all of it with one call from its
// own tests:
//
//	func TestConformance(t *testing.T) { kernelstest.Backend(t, mybackend.New()) }
//
// The contract checked is the one kernels.Gemm and the model code rely on:
// Sgemm and Dgemm agree with the textbook row-major product (accumulated in
// float64) to within a rounding error relative to Σ|alpha·a·b| + |beta·c|;
// the leading-dimension padding of C is never written and that of A and B
// never read into the result; C is not read when beta == 0 (so NaN there
// must not propagate); a malformed call panics before touching memory (a
// backend calling into C would otherwise read or write past a Go slice);
// and the backend may be used from many goroutines at once, also while its
// thread count changes.
//
// The building blocks (NaiveGemm, GemmCases, Operands, CheckGemm) are
// exported so that a backend's own tests can check further shapes or entry
// points against the same reference.
package kernelstest
