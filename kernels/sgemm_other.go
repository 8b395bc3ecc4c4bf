//go:build !amd64 || purego

package kernels

// nativeKernels: the native sgemm has assembly micro-kernels for amd64
// only; elsewhere Native reports itself unavailable.
func nativeKernels() []sgemmKernel { return nil }

// transpose8 is never called here: no native kernel runs.
func transpose8(src *float32, ss int, dst *float32, ds int) {
	panic("kernels: transpose8 without a native kernel")
}

const hasTranspose8 = false
