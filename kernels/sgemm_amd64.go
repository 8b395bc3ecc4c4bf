//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

//go:noescape
func sgemmKernelAVX512(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func sgemmKernelAVX2(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func sgemvAVX512(k int, a, b *float32, ldb int, c *float32, n int)

//go:noescape
func sgemvAVX2(k int, a, b *float32, ldb int, c *float32, n int)

//go:noescape
func sgemvTFMA(k int, a, b *float32, ldb int, c *float32, n int)

//go:noescape
func transpose8AVX(src *float32, ss int, dst *float32, ds int)

// transpose8 is transpose8AVX: every CPU with a native kernel has AVX.
func transpose8(src *float32, ss int, dst *float32, ds int) { transpose8AVX(src, ss, dst, ds) }

const hasTranspose8 = true

// nativeKernels lists the micro-kernels this CPU can run, widest first.
func nativeKernels() []sgemmKernel {
	var ks []sgemmKernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL {
		ks = append(ks, sgemmKernel{name: "avx512", mr: 8, nr: 32, kc: 128, run: sgemmKernelAVX512, row: sgemvAVX512, rowT: sgemvTFMA, rowWidth: 16})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, sgemmKernel{name: "avx2", mr: 6, nr: 16, kc: 256, run: sgemmKernelAVX2, row: sgemvAVX2, rowT: sgemvTFMA, rowWidth: 8})
	}
	return ks
}
