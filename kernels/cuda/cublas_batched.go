//go:build grao_cuda

package cuda

// cublasSgemmStridedBatched takes 18 arguments, more than purego calls
// (15), so the loader only resolves its address and this trampoline calls
// it. Device pointers travel as integers so that no Go pointer rule
// applies to them; alpha and beta are read by cuBLAS during the call.

/*
typedef int (*grao_sgemm_strided_fn)(void*, int, int, int, int, int, const float*, const float*, int, long long,
	const float*, int, long long, const float*, float*, int, long long, int);

static int grao_sgemm_strided(unsigned long long fn, unsigned long long h, int ta, int tb, int m, int n, int k,
	const float* alpha, unsigned long long a, int lda, long long sa, unsigned long long b, int ldb, long long sb,
	const float* beta, unsigned long long c, int ldc, long long sc, int batch) {
	return ((grao_sgemm_strided_fn)fn)((void*)h, ta, tb, m, n, k, alpha, (const float*)a, lda, sa,
		(const float*)b, ldb, sb, beta, (float*)c, ldc, sc, batch);
}
*/
import "C"

// sgemmStrided is cublasSgemmStridedBatched (column-major, as cuBLAS).
func (l *cublas) sgemmStrided(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, sa int64,
	b uintptr, ldb int32, sb int64, beta *float32, c uintptr, ldc int32, sc int64, batch int32) int32 {
	return int32(C.grao_sgemm_strided(C.ulonglong(l.sgemmStridedFn), C.ulonglong(h), C.int(ta), C.int(tb), C.int(m), C.int(n), C.int(k),
		(*C.float)(alpha), C.ulonglong(a), C.int(lda), C.longlong(sa), C.ulonglong(b), C.int(ldb), C.longlong(sb),
		(*C.float)(beta), C.ulonglong(c), C.int(ldc), C.longlong(sc), C.int(batch)))
}
