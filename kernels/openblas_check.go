package kernels

import (
	"fmt"
	"math"
)

// checkGemm validates a row-major GEMM call before any C code sees it and
// reports whether there is work to do (false when m == 0 or n == 0).
//
// It applies exactly gonum's rules (so that swapping backends never changes
// which inputs are accepted) but panics with a message that names the
// operand, the required length and the actual one. A too-short slice must
// stop here: C would read or write past the end of Go memory.
func checkGemm(op string, transA, transB bool, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) bool {
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("kernels: %s(transA=%t, transB=%t, m=%d, n=%d, k=%d): ", op, transA, transB, m, n, k) + fmt.Sprintf(format, args...))
	}
	if m < 0 || n < 0 || k < 0 {
		fail("negative dimension")
	}
	// Shape of A and B as stored (rows × cols), row-major.
	rowA, colA := m, k
	if transA {
		rowA, colA = k, m
	}
	rowB, colB := k, n
	if transB {
		rowB, colB = n, k
	}
	if lda < max(1, colA) {
		fail("lda=%d < max(1, %d columns of A)", lda, colA)
	}
	if ldb < max(1, colB) {
		fail("ldb=%d < max(1, %d columns of B)", ldb, colB)
	}
	if ldc < max(1, n) {
		fail("ldc=%d < max(1, n=%d)", ldc, n)
	}
	// The C interface takes 32-bit ints; refuse anything that would be truncated.
	for _, v := range []int{m, n, k, lda, ldb, ldc} {
		if v > math.MaxInt32 {
			fail("dimension or stride %d exceeds the 32-bit BLAS interface", v)
		}
	}
	if m == 0 || n == 0 {
		return false
	}
	if need := (rowA-1)*lda + colA; lenA < need {
		fail("len(a)=%d, need %d for a %d×%d operand with lda=%d", lenA, need, rowA, colA, lda)
	}
	if need := (rowB-1)*ldb + colB; lenB < need {
		fail("len(b)=%d, need %d for a %d×%d operand with ldb=%d", lenB, need, rowB, colB, ldb)
	}
	if need := (m-1)*ldc + n; lenC < need {
		fail("len(c)=%d, need %d for a %d×%d result with ldc=%d", lenC, need, m, n, ldc)
	}
	return true
}
