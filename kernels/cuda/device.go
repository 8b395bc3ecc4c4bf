//go:build grao_cuda

package cuda

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/grao-lab/grao/kernels/cuda/internal/probe"
)

// Available reports whether the CUDA engine can run here: the driver
// initialises and sees the device GRAO_CUDA_DEVICE (default 0).
func Available() error {
	if r := probe.Probe(); r.Err != nil {
		return fmt.Errorf("cuda: %w", r.Err)
	}
	dev, err := deviceOrdinal()
	if err != nil {
		return err
	}
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("cuda: counting devices: %w", err)
	}
	if dev >= n {
		return fmt.Errorf("cuda: device %d requested (%s), %d present", dev, EnvDevice, n)
	}
	return nil
}

func deviceOrdinal() (int, error) {
	s := os.Getenv(EnvDevice)
	if s == "" {
		return 0, nil
	}
	d, err := strconv.Atoi(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a device ordinal (0, 1, …)", EnvDevice, s)
	}
	return d, nil
}

// device is one engine's CUDA context with the kernels module loaded and a
// cuBLAS handle. Everything that touches the GPU runs inside do, on the
// context's locked OS thread, and on the default stream, so kernels and
// cuBLAS calls execute in issue order.
type device struct {
	ctx    *cu.Ctx
	fns    map[string]cu.Function
	blas   *cublas
	handle uintptr
	info   string
	prof   *profiler // nil unless EnvProfile is set
}

func openDevice() (_ *device, err error) {
	if err := Available(); err != nil {
		return nil, err
	}
	ord, _ := deviceOrdinal()
	d, err := cu.GetDevice(ord)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", ord, err)
	}
	lib, err := loadCuBLAS()
	if err != nil {
		return nil, err
	}
	defer func() { // cu.NewContext panics instead of returning errors
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: creating a context on device %d: %v", ord, r)
		}
	}()
	dv := &device{ctx: cu.NewContext(d, cu.SchedAuto), blas: lib, fns: map[string]cu.Function{}, prof: newProfiler()}
	err = dv.ctx.Do(func() error {
		mod, err := cu.LoadData(ptxSource)
		if err != nil {
			return fmt.Errorf("cuda: loading the kernels' PTX: %w", err)
		}
		for _, name := range kernelNames {
			fn, err := mod.Function(name)
			if err != nil {
				return fmt.Errorf("cuda: kernel %s: %w", name, err)
			}
			dv.fns[name] = fn
		}
		return lib.status("cublasCreate", lib.create(&dv.handle))
	})
	if err != nil {
		dv.ctx.Close()
		return nil, err
	}
	name, _ := d.Name()
	mem, _ := d.TotalMem()
	dv.info = fmt.Sprintf("cuda device %d (%s, %.0f GiB), %s", ord, name, float64(mem)/(1<<30), lib.path)
	return dv, nil
}

func (dv *device) close() error {
	err := dv.ctx.Do(func() error {
		if dv.prof != nil {
			dv.prof.release()
		}
		return dv.blas.status("cublasDestroy", dv.blas.destroy(dv.handle))
	})
	if cerr := dv.ctx.Close(); err == nil {
		err = cerr
	}
	return err
}

func (dv *device) do(f func(q *queue)) error {
	return dv.ctx.Do(func() error {
		q := &queue{dv: dv}
		f(q)
		if q.err == nil {
			q.err = cu.Synchronize()
		}
		if dv.prof != nil && q.err == nil {
			q.err = dv.prof.collect()
		}
		return q.err
	})
}

// queue issues work inside do and keeps the first error: later calls
// become no-ops, so a sequence of launches reads as straight-line code.
type queue struct {
	dv  *device
	err error
}

func (q *queue) fail(err error) {
	if q.err == nil && err != nil {
		q.err = err
	}
}

// ptr is a device address; off(p, n) is n float32s past p.
type ptr = cu.DevicePtr

func off(p ptr, n int) ptr { return p + ptr(4*n) }

// launch runs kernel name on a grid of gx×gy blocks of blockSize threads.
// Arguments must be device pointers, ints (passed as 64-bit) or float64:
// cu copies every argument as 8 bytes.
func (q *queue) launch(name string, gx, gy, shared int, args ...any) {
	if q.err != nil {
		return
	}
	fn, ok := q.dv.fns[name]
	if !ok {
		q.err = fmt.Errorf("cuda: kernel %s is not in kernelNames", name)
		return
	}
	vals := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case ptr:
			vals[i] = uint64(v)
		case int:
			vals[i] = uint64(int64(v))
		case float64:
			vals[i] = *(*uint64)(unsafe.Pointer(&v))
		default:
			q.err = fmt.Errorf("cuda: kernel %s argument %d has type %T", name, i, a)
			return
		}
		params[i] = unsafe.Pointer(&vals[i])
	}
	if gx == 0 || gy == 0 {
		return
	}
	t := q.tick()
	if err := fn.Launch(gx, gy, 1, blockSize, 1, 1, shared, cu.NoStream, params); err != nil {
		q.err = fmt.Errorf("cuda: launching %s: %w", name, err)
	}
	q.tock(t, name)
}

// elems launches an element-wise (grid-stride) kernel over n items.
func (q *queue) elems(name string, n int, args ...any) {
	q.launch(name, min(max(1, (n+blockSize-1)/blockSize), 4096), 1, 0, args...)
}

// rows launches a row kernel: one block per row.
func (q *queue) rows(name string, n int, args ...any) { q.launch(name, n, 1, 0, args...) }

// gemm is row-major C = alpha·op(A)·op(B) + beta·C, each operand with its
// row stride (ld) as stored, like kernels.Backend.Sgemm.
func (q *queue) gemm(ta, tb bool, m, n, k int, alpha float32, a ptr, lda int, b ptr, ldb int, beta float32, c ptr, ldc int) {
	if q.err != nil || m == 0 || n == 0 {
		return
	}
	l := q.dv.blas
	t := q.tick()
	// Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ.
	q.fail(l.status("cublasSgemm", l.sgemm(q.dv.handle, op(tb), op(ta), int32(n), int32(m), int32(k), &alpha,
		uintptr(b), int32(ldb), uintptr(a), int32(lda), &beta, uintptr(c), int32(ldc))))
	if t >= 0 {
		q.tock(t, fmt.Sprintf("sgemm %s m %d n %d k %d", opNames(ta, tb), m, n, k))
	}
}

// opNames is a GEMM's transposes for the profile: NN, TN, NT or TT.
func opNames(ta, tb bool) string {
	s := []byte("NN")
	if ta {
		s[0] = 'T'
	}
	if tb {
		s[1] = 'T'
	}
	return string(s)
}

// gemmBatched is gemm over batch operand triples sa, sb, sc elements apart.
func (q *queue) gemmBatched(ta, tb bool, m, n, k int, alpha float32, a ptr, lda, sa int, b ptr, ldb, sb int,
	beta float32, c ptr, ldc, sc int, batch int) {
	if q.err != nil || m == 0 || n == 0 || batch == 0 {
		return
	}
	l := q.dv.blas
	t := q.tick()
	q.fail(l.status("cublasSgemmStridedBatched", l.sgemmStrided(q.dv.handle, op(tb), op(ta), int32(n), int32(m), int32(k), &alpha,
		uintptr(b), int32(ldb), int64(sb), uintptr(a), int32(lda), int64(sa), &beta, uintptr(c), int32(ldc), int64(sc), int32(batch))))
	if t >= 0 {
		q.tock(t, fmt.Sprintf("sgemm batched %s m %d n %d k %d ×%d", opNames(ta, tb), m, n, k, batch))
	}
}

func (q *queue) zero(p ptr, floats int) { q.fill(p, 0, floats) }

// fill sets floats 32-bit words at p to bits.
func (q *queue) fill(p ptr, bits uint32, floats int) {
	if q.err == nil && floats > 0 {
		t := q.tick()
		q.fail(cu.MemsetD32(p, bits, int64(floats)))
		q.tock(t, "memset")
	}
}

// toDevice and toHost copy whole slices of 4- or 8-byte elements.
func toDevice[T int32 | int64 | float32 | float64](q *queue, dst ptr, src []T) {
	if q.err == nil && len(src) > 0 {
		t := q.tick()
		q.fail(cu.MemcpyHtoD(dst, unsafe.Pointer(&src[0]), int64(len(src))*int64(unsafe.Sizeof(src[0]))))
		q.tock(t, "copy to the device")
	}
}

func toHost[T int32 | float32 | float64](q *queue, dst []T, src ptr) {
	if q.err == nil && len(dst) > 0 {
		t := q.tick()
		q.fail(cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), src, int64(len(dst))*int64(unsafe.Sizeof(dst[0]))))
		q.tock(t, "copy to the host")
	}
}

// arena is one device allocation carved into buffers: an engine's
// activations are reallocated as a whole when a larger batch arrives.
type arena struct {
	base ptr
	size int64
	used int64
}

// reserve makes the arena hold at least size bytes (contents are lost
// when it grows) and starts carving from its beginning.
func (a *arena) reserve(q *queue, size int64) {
	a.used = 0
	if q.err != nil || a.size >= size {
		return
	}
	a.free()
	p, err := memAlloc(max(size, 256))
	if err != nil {
		q.fail(fmt.Errorf("cuda: allocating %d MiB of activations: %w", size>>20, err))
		return
	}
	a.base, a.size = p, max(size, 256)
}

// take returns the next buffer of bytes bytes (256-byte aligned).
func (a *arena) take(bytes int64) ptr {
	p := a.base + ptr(a.used)
	a.used += (bytes + 255) &^ 255
	return p
}

func (a *arena) free() {
	if a.size > 0 {
		memFree(a.base)
		a.base, a.size, a.used = 0, 0, 0
	}
}
