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
//   - the Fortran-style sgemm_/dgemm_, which take every argument by pointer
//     and so can be called with purego.SyscallN: no reflection, no
//     allocation, ~0.2 µs of overhead. This is the default path; row-major is
//     obtained by computing Cᵀ = op(B)ᵀ·op(A)ᵀ in column-major.
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

	sgemmF, dgemmF uintptr // sgemm_, dgemm_ (0 when absent)
	viaCBLAS       bool    // use the cblas_* path even when sgemm_ exists

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
// and the hot path does not allocate.
type fortranArgs[T Float] struct {
	transA, transB         byte
	m, n, k, lda, ldb, ldc int32
	alpha, beta            T
}

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

// callFortran calls xgemm_ for the row-major product: with the roles of A
// and B swapped (and m, n swapped), column-major xgemm_ writes exactly the
// row-major C. Pointer arguments are converted to uintptr inside the call
// expression, which SyscallN's //go:uintptrescapes requires to keep the
// referenced memory alive and in place during the call.
func callFortran[T Float](fn uintptr, p *fortranArgs[T], a, b, c *T) {
	purego.SyscallN(fn,
		uintptr(unsafe.Pointer(&p.transB)), uintptr(unsafe.Pointer(&p.transA)),
		uintptr(unsafe.Pointer(&p.n)), uintptr(unsafe.Pointer(&p.m)), uintptr(unsafe.Pointer(&p.k)),
		uintptr(unsafe.Pointer(&p.alpha)),
		uintptr(unsafe.Pointer(b)), uintptr(unsafe.Pointer(&p.ldb)),
		uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(&p.lda)),
		uintptr(unsafe.Pointer(&p.beta)),
		uintptr(unsafe.Pointer(c)), uintptr(unsafe.Pointer(&p.ldc)))
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
	if p, err := sym("sgemm_"); err == nil {
		o.sgemmF = p
	}
	if p, err := sym("dgemm_"); err == nil {
		o.dgemmF = p
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

// Info is e.g. "openblas libopenblas.so.0, core Haswell, 2 threads (OpenBLAS 0.3.21 ...)".
func (o *openBLAS) Info() string {
	s := "openblas " + o.path
	if o.corename != "" {
		s += ", core " + o.corename
	}
	if n := o.Threads(); n > 0 {
		s += fmt.Sprintf(", %d threads", n)
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
	if o.sgemmF != 0 && !o.viaCBLAS {
		p := fortranPool32.Get().(*fortranArgs[float32])
		*p = fortranArgs[float32]{fortranTrans(transA), fortranTrans(transB), int32(m), int32(n), int32(k), int32(lda), int32(ldb), int32(ldc), alpha, beta}
		callFortran(o.sgemmF, p, pa, pb, pc)
		fortranPool32.Put(p)
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
	if o.dgemmF != 0 && !o.viaCBLAS {
		p := fortranPool64.Get().(*fortranArgs[float64])
		*p = fortranArgs[float64]{fortranTrans(transA), fortranTrans(transB), int32(m), int32(n), int32(k), int32(lda), int32(ldb), int32(ldc), alpha, beta}
		callFortran(o.dgemmF, p, pa, pb, pc)
		fortranPool64.Put(p)
	} else {
		o.dgemm(cblasRowMajor, cblasOp(transA), cblasOp(transB), int32(m), int32(n), int32(k),
			alpha, pa, int32(lda), pb, int32(ldb), beta, pc, int32(ldc))
	}
	o.mu.RUnlock()
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}
