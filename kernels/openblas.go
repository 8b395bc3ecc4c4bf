//go:build (darwin || freebsd || linux || netbsd) && !android && !faketime && (amd64 || arm64)

package kernels

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// CBLAS enum values (cblas.h). They are part of the C ABI, not of OpenBLAS.
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// openBLAS calls OpenBLAS through purego, so that the binary needs neither
// cgo nor the library at build time.
//
// Two entry points are bound for each precision:
//   - the Fortran-style sgemm_/dgemm_ (and sgemv_/dgemv_ for single-row or
//     single-column results), which take every argument by pointer and so
//     can be called with purego.SyscallN: no reflection, one small
//     allocation, well under 1 µs of overhead. This is the default path
//     (see gemmFortran).
//   - cblas_sgemm/cblas_dgemm, which take alpha and beta by value in float
//     registers and so need purego.RegisterFunc (reflection, ~3 µs and 12
//     allocations per call). Used when the Fortran symbols are missing, and
//     by the tests as an independent cross-check of the fast path.
//
// The per-call overhead matters for KV-cache decoding, where every product
// has a single row.
//
// blasint is a 32-bit int in the standard (LP64) builds Debian ships as
// libopenblas.so.0; the ILP64 build has a different soname (libopenblas64),
// which we never load, so int32 is the right Go type here.
type openBLAS struct {
	path     string // the name dlopen accepted
	corename string // kernel family chosen by OpenBLAS (e.g. "Haswell", "SkylakeX")
	config   string // build configuration string

	sF, dF   fortranSyms // sgemm_/sgemv_, dgemm_/dgemv_ (0 when absent)
	viaCBLAS bool        // use the cblas_* path even when sgemm_ exists

	sgemm func(order, transA, transB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	dgemm func(order, transA, transB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)

	setThreads func(n int32)
	getThreads func() int32 // nil when the symbol is absent

	// mu orders SetThreads against running GEMMs: openblas_set_num_threads
	// resizes the library's global thread pool, which is not safe while
	// another OS thread is inside a GEMM. GEMMs only share the read lock,
	// so concurrent GEMMs still run in parallel. A pointer so that the
	// cblas variant used by tests shares it.
	mu *sync.RWMutex
}

// fortranArgs holds the scalars the Fortran interface takes by address. One
// block per call comes from a pool, so that concurrent calls never share one
// and it costs no allocation (the one left per call is SyscallN's variadic
// argument slice).
type fortranArgs[T Float] struct {
	transA, transB         byte
	m, n, k, lda, ldb, ldc int32
	incX, incY             int32
	alpha, beta            T
}

// fortranSyms are the Fortran entry points of one precision (0 = absent).
type fortranSyms struct{ gemm, gemv uintptr }

var (
	fortranPool32 = sync.Pool{New: func() any { return new(fortranArgs[float32]) }}
	fortranPool64 = sync.Pool{New: func() any { return new(fortranArgs[float64]) }}
)

func fortranTrans(t bool) byte {
	if t {
		return 'T'
	}
	return 'N'
}

// gemmFortran computes the row-major product through xgemm_, or through
// xgemv_ when the result is a single row or column. The GEMV route matters
// for KV-cache decoding (one token row per step): OpenBLAS 0.3.21's GEMM
// packs all of B on every call, which makes a 1×128·128×384 product slower
// than gonum, while GEMV streams B once. (OpenBLAS ≥ 0.3.27 does this
// forwarding itself; doing it here costs nothing there.) k == 0 stays on
// GEMM, because GEMV's quick return would skip the required C = beta·C.
//
// Row-major is obtained by letting column-major BLAS compute the transpose:
// a row-major r×c matrix with leading dimension ld is a column-major c×r one
// with the same ld, and C = op(A)·op(B) ⇔ Cᵀ = op(B)ᵀ·op(A)ᵀ.
//
// Pointer arguments are converted to uintptr inside the SyscallN call
// expressions, as //go:uintptrescapes (on SyscallN) requires for the
// referenced memory to stay alive and in place during the call.
func gemmFortran[T Float](f fortranSyms, pool *sync.Pool, transA, transB bool, m, n, k int, alpha T, a *T, lda int, b *T, ldb int, beta T, c *T, ldc int) {
	p := pool.Get().(*fortranArgs[T])
	defer pool.Put(p)
	*p = fortranArgs[T]{alpha: alpha, beta: beta}
	switch {
	case f.gemv != 0 && k > 0 && m == 1:
		// cᵀ (n) = op(B)ᵀ·aᵀ: the stored B is, column-major, n×k when not
		// transposed (use it as is) and k×n when transposed (use its transpose).
		p.incX, p.incY = 1, 1
		if transA {
			p.incX = int32(lda) // the row of op(A) is a column of the stored A
		}
		p.lda = int32(ldb)
		if transB {
			p.transA, p.m, p.n = 'T', int32(k), int32(n)
		} else {
			p.transA, p.m, p.n = 'N', int32(n), int32(k)
		}
		callGemv(f.gemv, p, b, a, c)
	case f.gemv != 0 && k > 0 && n == 1:
		// c (m, stride ldc) = op(A)·b: the stored A is, column-major, k×m when
		// not transposed (use its transpose) and m×k when transposed.
		p.incX, p.incY = int32(ldb), int32(ldc)
		if transB {
			p.incX = 1 // the column of op(B) is a row of the stored B
		}
		p.lda = int32(lda)
		if transA {
			p.transA, p.m, p.n = 'N', int32(m), int32(k)
		} else {
			p.transA, p.m, p.n = 'T', int32(k), int32(m)
		}
		callGemv(f.gemv, p, a, b, c)
	default:
		p.transA, p.transB = fortranTrans(transA), fortranTrans(transB)
		p.m, p.n, p.k = int32(m), int32(n), int32(k)
		p.lda, p.ldb, p.ldc = int32(lda), int32(ldb), int32(ldc)
		purego.SyscallN(f.gemm,
			uintptr(unsafe.Pointer(&p.transB)), uintptr(unsafe.Pointer(&p.transA)),
			uintptr(unsafe.Pointer(&p.n)), uintptr(unsafe.Pointer(&p.m)), uintptr(unsafe.Pointer(&p.k)),
			uintptr(unsafe.Pointer(&p.alpha)),
			uintptr(unsafe.Pointer(b)), uintptr(unsafe.Pointer(&p.ldb)),
			uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(&p.lda)),
			uintptr(unsafe.Pointer(&p.beta)),
			uintptr(unsafe.Pointer(c)), uintptr(unsafe.Pointer(&p.ldc)))
	}
}

// callGemv calls xgemv_(trans, m, n, alpha, mat, lda, x, incx, beta, y, incy)
// with the scalars prepared in p.
func callGemv[T Float](fn uintptr, p *fortranArgs[T], mat, x, y *T) {
	purego.SyscallN(fn,
		uintptr(unsafe.Pointer(&p.transA)),
		uintptr(unsafe.Pointer(&p.m)), uintptr(unsafe.Pointer(&p.n)),
		uintptr(unsafe.Pointer(&p.alpha)),
		uintptr(unsafe.Pointer(mat)), uintptr(unsafe.Pointer(&p.lda)),
		uintptr(unsafe.Pointer(x)), uintptr(unsafe.Pointer(&p.incX)),
		uintptr(unsafe.Pointer(&p.beta)),
		uintptr(unsafe.Pointer(y)), uintptr(unsafe.Pointer(&p.incY)))
}

// cblasVariant returns a view of o that always takes the cblas_* path
// (tests compare it with the default path).
func (o *openBLAS) cblasVariant() Backend {
	v := *o
	v.viaCBLAS = true
	return &v
}

// openBLASCandidates lists the names tried by dlopen. Bare sonames come
// first so that LD_LIBRARY_PATH and the ldconfig cache win over fixed paths. The Debian
// alternatives directories are listed because libopenblas.so.0 may be
// registered only through them on a minimal system.
func openBLASCandidates() []string {
	if runtime.GOOS == "darwin" {
		return []string{
			"libopenblas.dylib",
			"/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
			"/usr/local/opt/openblas/lib/libopenblas.dylib",
		}
	}
	triplet := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[runtime.GOARCH]
	c := []string{"libopenblas.so.0", "libopenblas.so"}
	for _, dir := range []string{"/usr/lib/" + triplet, "/usr/lib/" + triplet + "/openblas-pthread", "/usr/lib/" + triplet + "/openblas-openmp", "/usr/lib/" + triplet + "/openblas-serial", "/usr/lib64", "/usr/local/lib"} {
		c = append(c, dir+"/libopenblas.so.0")
	}
	return c
}

// loadOpenBLAS dlopens the first candidate that loads and binds the symbols.
// It never panics: a missing library or symbol is an error naming every
// attempt, so that the caller can fall back to gonum.
func loadOpenBLAS(candidates []string) (_ Backend, err error) {
	// purego.RegisterFunc panics on a malformed signature; turn that (a
	// programming error, but one we do not want to crash init with) into an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kernels: binding OpenBLAS: %v", r)
		}
	}()
	var tried []string
	var handle uintptr
	var path string
	for _, name := range candidates {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		handle, path = h, name
		break
	}
	if handle == 0 {
		return nil, fmt.Errorf("kernels: OpenBLAS not found: %s", strings.Join(tried, "; "))
	}
	o := &openBLAS{path: path, mu: new(sync.RWMutex)}
	sym := func(name string) (uintptr, error) {
		p, err := purego.Dlsym(handle, name)
		if err != nil || p == 0 {
			return 0, fmt.Errorf("kernels: %s: symbol %s missing: %v", path, name, err)
		}
		return p, nil
	}
	// Required symbols.
	for _, s := range []struct {
		name string
		fn   any
	}{
		{"cblas_sgemm", &o.sgemm},
		{"cblas_dgemm", &o.dgemm},
		{"openblas_set_num_threads", &o.setThreads},
	} {
		p, err := sym(s.name)
		if err != nil {
			_ = purego.Dlclose(handle)
			return nil, err
		}
		purego.RegisterFunc(s.fn, p)
	}
	// The fast path; its absence only costs speed.
	for _, f := range []struct {
		name string
		dst  *uintptr
	}{{"sgemm_", &o.sF.gemm}, {"sgemv_", &o.sF.gemv}, {"dgemm_", &o.dF.gemm}, {"dgemv_", &o.dF.gemv}} {
		if p, err := sym(f.name); err == nil {
			*f.dst = p
		}
	}
	// Optional symbols: only used for Info.
	if p, err := sym("openblas_get_num_threads"); err == nil {
		purego.RegisterFunc(&o.getThreads, p)
	}
	for _, s := range []struct {
		name string
		dst  *string
	}{{"openblas_get_corename", &o.corename}, {"openblas_get_config", &o.config}} {
		if p, err := sym(s.name); err == nil {
			var f func() string // purego copies the C string
			purego.RegisterFunc(&f, p)
			*s.dst = strings.TrimSpace(f())
		}
	}
	// The handle is never closed: the backend lives for the whole process.
	return o, nil
}

func (o *openBLAS) Name() string { return "openblas" }

// Info is e.g. "openblas libopenblas.so.0, core Haswell, threads 1 (OpenBLAS 0.3.21 ...)".
func (o *openBLAS) Info() string {
	s := "openblas " + o.path
	if o.corename != "" {
		s += ", core " + o.corename
	}
	if n := o.Threads(); n > 0 {
		s += fmt.Sprintf(", threads %d", n)
	}
	if o.config != "" {
		s += " (" + o.config + ")"
	}
	return s
}

// Threads reports the library's current thread count, or 0 when unknown.
func (o *openBLAS) Threads() int {
	if o.getThreads == nil {
		return 0
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	return int(o.getThreads())
}

// SetThreads sets OpenBLAS's (process-wide) thread count; n < 1 is taken as 1.
func (o *openBLAS) SetThreads(n int) {
	n = max(n, 1)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.setThreads(int32(min(n, 1<<16)))
}

// dummy32/dummy64 stand in for an empty operand (k == 0): C code must be
// given a valid address even when it reads nothing from it.
var (
	dummy32 [1]float32
	dummy64 [1]float64
)

func ptr[T Float](s []T, dummy *T) *T {
	if len(s) == 0 {
		return dummy
	}
	return unsafe.SliceData(s)
}

func cblasOp(t bool) int32 {
	if t {
		return cblasTrans
	}
	return cblasNoTrans
}

func (o *openBLAS) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !checkGemm("openblas Sgemm", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	pa, pb, pc := ptr(a, &dummy32[0]), ptr(b, &dummy32[0]), ptr(c, &dummy32[0])
	o.mu.RLock()
	if o.sF.gemm != 0 && !o.viaCBLAS {
		gemmFortran(o.sF, &fortranPool32, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)
	} else {
		o.sgemm(cblasRowMajor, cblasOp(transA), cblasOp(transB), int32(m), int32(n), int32(k),
			alpha, pa, int32(lda), pb, int32(ldb), beta, pc, int32(ldc))
	}
	o.mu.RUnlock()
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}

func (o *openBLAS) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !checkGemm("openblas Dgemm", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	pa, pb, pc := ptr(a, &dummy64[0]), ptr(b, &dummy64[0]), ptr(c, &dummy64[0])
	o.mu.RLock()
	if o.dF.gemm != 0 && !o.viaCBLAS {
		gemmFortran(o.dF, &fortranPool64, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)
	} else {
		o.dgemm(cblasRowMajor, cblasOp(transA), cblasOp(transB), int32(m), int32(n), int32(k),
			alpha, pa, int32(lda), pb, int32(ldb), beta, pc, int32(ldc))
	}
	o.mu.RUnlock()
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}
