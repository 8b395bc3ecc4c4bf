//go:build !amd64 || purego

package kernels

// nativeKernels: the native sgemm has assembly micro-kernels for amd64
// only; elsewhere Native reports itself unavailable.
func nativeKernels() []sgemmKernel { return nil }
