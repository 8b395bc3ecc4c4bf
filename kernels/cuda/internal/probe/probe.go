// Package probe asks the CUDA driver, loaded at run time, whether it
// initialises and how many GPUs it sees. It needs neither cgo nor the CUDA
// headers, so it works in any build: gorgonia.org/cu calls cuInit in its
// own init and ends the process when that fails, and a binary built with
// -tags grao_cuda runs this first to say why.
package probe

import (
	"fmt"
	"sync"

	"github.com/ebitengine/purego"
)

// libcuda is the driver library's soname (it carries no toolkit version).
const libcuda = "libcuda.so.1"

var (
	once   sync.Once
	result Result
)

// Result is what the driver said.
type Result struct {
	// Err is nil when the driver loaded, initialised and saw a device.
	Err error
	// Devices is the number of GPUs (0 unless the driver initialised).
	Devices int
	// Loaded reports whether libcuda could be opened at all; InitFailed
	// that cuInit then failed (the condition gorgonia.org/cu exits on).
	Loaded, InitFailed bool
}

// Probe loads the driver and calls cuInit and cuDeviceGetCount, once per
// process.
func Probe() Result {
	once.Do(func() { result = probe() })
	return result
}

func probe() Result {
	h, err := purego.Dlopen(libcuda, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return Result{Err: fmt.Errorf("the NVIDIA driver library %s is not installed: %w", libcuda, err)}
	}
	var cuInit func(flags uint32) int32
	var cuDeviceGetCount func(count *int32) int32
	for sym, fn := range map[string]any{"cuInit": &cuInit, "cuDeviceGetCount": &cuDeviceGetCount} {
		if _, err := purego.Dlsym(h, sym); err != nil {
			return Result{Loaded: true, Err: fmt.Errorf("%s has no %s: %w", libcuda, sym, err)}
		}
		purego.RegisterLibFunc(fn, h, sym)
	}
	if st := cuInit(0); st != 0 {
		return Result{Loaded: true, InitFailed: true, Err: fmt.Errorf("cuInit: %s", status(st))}
	}
	var n int32
	if st := cuDeviceGetCount(&n); st != 0 {
		return Result{Loaded: true, Err: fmt.Errorf("cuDeviceGetCount: %s", status(st))}
	}
	if n == 0 {
		return Result{Loaded: true, Err: fmt.Errorf("the CUDA driver sees no GPU")}
	}
	return Result{Loaded: true, Devices: int(n)}
}

// status names the CUresult codes a missing or unusable GPU produces.
func status(st int32) string {
	names := map[int32]string{1: "CUDA_ERROR_INVALID_VALUE", 2: "CUDA_ERROR_OUT_OF_MEMORY", 3: "CUDA_ERROR_NOT_INITIALIZED",
		34: "CUDA_ERROR_STUB_LIBRARY", 35: "CUDA_ERROR_INSUFFICIENT_DRIVER", 46: "CUDA_ERROR_DEVICES_UNAVAILABLE",
		100: "CUDA_ERROR_NO_DEVICE", 101: "CUDA_ERROR_INVALID_DEVICE", 304: "CUDA_ERROR_OPERATING_SYSTEM",
		803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", 999: "CUDA_ERROR_UNKNOWN"}
	if s, ok := names[st]; ok {
		return fmt.Sprintf("%s (%d)", s, st)
	}
	return fmt.Sprintf("CUresult %d", st)
}
