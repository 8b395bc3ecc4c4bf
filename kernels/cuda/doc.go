// Package cuda runs grao on an NVIDIA GPU. It holds two things:
//
//   - Engine, a core.Engine whose weights, AdamW moments, activations and
//     KV caches live in device memory: only token ids and per-token
//     vectors cross to the host. Its kernels (kernels/*.cu) are compiled
//     to PTX ahead of time (ptx/grao_sm80.ptx, committed and embedded, so
//     building the Go code needs no nvcc); the matrix products and the
//     attention scores run on cuBLAS.
//   - Backend, a kernels.Backend that runs single GEMMs on the GPU, copying
//     operands in and out on every call (GRAO_BLAS=cuda).
//
// Both exist only in binaries built with -tags grao_cuda, which needs the
// CUDA headers (Debian: nvidia-cuda-dev) and cgo. The tag is not "cuda"
// because gorgonia's own cuda tag would pull in cuDNN. gorgonia.org/cu,
// which owns the CUDA context, ends the process at start-up when the
// driver finds no GPU, so a tagged binary runs only on a GPU machine; the
// package checks the driver first (internal/probe) to say why in plain
// words. In the default build the package only reports, through
// Available, that it was left out, and lists the kernels the engine
// launches (for the test that the committed PTX defines them).
//
// cuBLAS (libcublas.so.13, .12 or .11, or GRAO_CUBLAS_LIB) is loaded at run
// time, so one binary works with any of those toolkits.
//
// docs/gpu.md describes the build and the device check script.
package cuda
