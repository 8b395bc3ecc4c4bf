//go:build grao_cuda

package cuda

// cu's cgo flags search /usr/lib/x86_64-linux-gnu but Debian keeps the
// driver's libcuda.so under nvidia/current.

// #cgo linux LDFLAGS: -L/usr/lib/x86_64-linux-gnu/nvidia/current
import "C"

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/grao-lab/grao/kernels"
)

// EnvDevice names the environment variable with the GPU ordinal used when
// GRAO_BLAS=cuda selects this backend.
const EnvDevice = "GRAO_CUDA_DEVICE"

func init() {
	kernels.Provide("cuda", func() (kernels.Backend, error) {
		dev := 0
		if s := os.Getenv(EnvDevice); s != "" {
			d, err := strconv.Atoi(s)
			if err != nil || d < 0 {
				return nil, fmt.Errorf("%s=%q: want a device ordinal (0, 1, …)", EnvDevice, s)
			}
			dev = d
		}
		return NewBackend(dev)
	})
}

var _ kernels.Backend = (*Backend)(nil)

// Backend runs GEMMs on one GPU. Calls are serialised: the context lives
// on one locked OS thread (cu.Ctx) and the device buffers are reused from
// call to call, growing to the largest operands seen.
type Backend struct {
	mu     sync.Mutex
	ctx    *cu.Ctx
	blas   *cublas
	handle uintptr
	bufs   [3]devBuf // A, B, C
	info   string
}

type devBuf struct {
	ptr  cu.DevicePtr
	size int64
}

// NewBackend opens device dev (0-based): a CUDA context, a cuBLAS handle on it and
// no device memory yet.
func NewBackend(dev int) (_ *Backend, err error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: counting devices: %w", err)
	}
	if dev >= n {
		return nil, fmt.Errorf("cuda: device %d requested, %d present", dev, n)
	}
	d, err := cu.GetDevice(dev)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", dev, err)
	}
	lib, err := loadCuBLAS()
	if err != nil {
		return nil, err
	}
	defer func() { // cu.NewContext panics instead of returning errors
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: creating a context on device %d: %v", dev, r)
		}
	}()
	b := &Backend{ctx: cu.NewContext(d, cu.SchedAuto), blas: lib}
	if err := b.ctx.Do(func() error {
		return lib.status("cublasCreate", lib.create(&b.handle))
	}); err != nil {
		b.ctx.Close()
		return nil, err
	}
	name, _ := d.Name()
	mem, _ := d.TotalMem()
	b.info = fmt.Sprintf("cuda device %d (%s, %.0f GiB), %s", dev, name, float64(mem)/(1<<30), lib.path)
	return b, nil
}

// Close frees the device memory, the cuBLAS handle and the context.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.ctx.Do(func() error {
		for i := range b.bufs {
			if b.bufs[i].size > 0 {
				cu.MemFree(b.bufs[i].ptr)
				b.bufs[i] = devBuf{}
			}
		}
		return b.blas.status("cublasDestroy", b.blas.destroy(b.handle))
	})
	if cerr := b.ctx.Close(); err == nil {
		err = cerr
	}
	return err
}

func (b *Backend) Name() string   { return "cuda" }
func (b *Backend) Info() string   { return b.info }
func (b *Backend) SetThreads(int) {}

func (b *Backend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	if !kernels.CheckGemm("cuda Sgemm", transA, transB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc) {
		return
	}
	gemm(b, transA, transB, m, n, k, a, lda, bm, ldb, beta == 0, c, ldc,
		func(ta, tb int32, dA, dB, dC uintptr) int32 {
			// Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ:
			// swap the operands and m, n; the strides stay as they are.
			return b.blas.sgemm(b.handle, tb, ta, int32(n), int32(m), int32(k), &alpha, dB, int32(ldb), dA, int32(lda), &beta, dC, int32(ldc))
		})
}

func (b *Backend) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, bm []float64, ldb int, beta float64, c []float64, ldc int) {
	if !kernels.CheckGemm("cuda Dgemm", transA, transB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc) {
		return
	}
	gemm(b, transA, transB, m, n, k, a, lda, bm, ldb, beta == 0, c, ldc,
		func(ta, tb int32, dA, dB, dC uintptr) int32 {
			return b.blas.dgemm(b.handle, tb, ta, int32(n), int32(m), int32(k), &alpha, dB, int32(ldb), dA, int32(lda), &beta, dC, int32(ldc))
		})
}

// gemm copies the spans of A, B and C that the call reads to the device,
// runs call there and copies C's span back. C is uploaded too unless the
// call ignores it (beta == 0) and the span has no gaps (ldc == n): the
// columns between n and ldc must come back unchanged.
func gemm[T kernels.Float](b *Backend, transA, transB bool, m, n, k int, a []T, lda int, bm []T, ldb int, betaZero bool, c []T, ldc int,
	call func(ta, tb int32, dA, dB, dC uintptr) int32) {
	rowA, colA := m, k
	if transA {
		rowA, colA = k, m
	}
	rowB, colB := k, n
	if transB {
		rowB, colB = n, k
	}
	var z T
	es := int64(unsafe.Sizeof(z))
	spanA, spanB, spanC := span(rowA, colA, lda), span(rowB, colB, ldb), span(m, n, ldc)
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.ctx.Do(func() error {
		dA, err := b.reserve(0, spanA*es)
		if err != nil {
			return err
		}
		dB, err := b.reserve(1, spanB*es)
		if err != nil {
			return err
		}
		dC, err := b.reserve(2, spanC*es)
		if err != nil {
			return err
		}
		if spanA > 0 {
			if err := cu.MemcpyHtoD(dA, unsafe.Pointer(&a[0]), spanA*es); err != nil {
				return fmt.Errorf("copying A to the device: %w", err)
			}
		}
		if spanB > 0 {
			if err := cu.MemcpyHtoD(dB, unsafe.Pointer(&bm[0]), spanB*es); err != nil {
				return fmt.Errorf("copying B to the device: %w", err)
			}
		}
		if !betaZero || ldc != n {
			if err := cu.MemcpyHtoD(dC, unsafe.Pointer(&c[0]), spanC*es); err != nil {
				return fmt.Errorf("copying C to the device: %w", err)
			}
		}
		if err := b.blas.status("gemm", call(op(transA), op(transB), uintptr(dA), uintptr(dB), uintptr(dC))); err != nil {
			return err
		}
		if err := cu.MemcpyDtoH(unsafe.Pointer(&c[0]), dC, spanC*es); err != nil {
			return fmt.Errorf("copying C from the device: %w", err)
		}
		return nil
	})
	if err != nil {
		// The kernels.Backend contract has no error return, like BLAS: a
		// failing device is a fatal condition for the computation.
		panic(fmt.Sprintf("kernels/cuda: %v", err))
	}
}

// span is the number of elements a rows×cols row-major operand with
// leading dimension ld occupies (0 when empty).
func span(rows, cols, ld int) int64 {
	if rows == 0 || cols == 0 {
		return 0
	}
	return int64((rows-1)*ld + cols)
}

// reserve returns device buffer i with at least size bytes, reallocating
// (with 25% headroom) when it is too small. It runs on the context thread.
func (b *Backend) reserve(i int, size int64) (cu.DevicePtr, error) {
	size = max(size, 8) // cuBLAS wants a valid address even when k == 0
	if b.bufs[i].size >= size {
		return b.bufs[i].ptr, nil
	}
	if b.bufs[i].size > 0 {
		cu.MemFree(b.bufs[i].ptr)
		b.bufs[i] = devBuf{}
	}
	grown := min(size+size/4, math.MaxInt64)
	p, err := cu.MemAlloc(grown)
	if err != nil {
		return 0, fmt.Errorf("allocating %d bytes on the device: %w", grown, err)
	}
	b.bufs[i] = devBuf{ptr: p, size: grown}
	return p, nil
}

func op(trans bool) int32 {
	if trans {
		return opT
	}
	return opN
}
