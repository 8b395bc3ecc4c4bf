// Package cuda is a kernels.Backend that runs matrix products on an NVIDIA
// GPU: gorgonia.org/cu owns the CUDA context and device memory, and cuBLAS
// (libcublas.so.12 or .11, loaded at run time, so one binary works with
// either toolkit) does the GEMMs. Operands are copied to the device and the
// result back on every call, so it can only pay off for large products
// (wide models, big batches).
//
// The package is empty unless built with -tags cuda: gorgonia.org/cu needs
// the CUDA headers to compile (Debian: nvidia-cuda-dev) and its init ends
// the process when no GPU is present. A binary built with the tag selects
// the backend with GRAO_BLAS=cuda (the device with GRAO_CUDA_DEVICE,
// default 0); without it, grao never touches the GPU.
//
// Conformance: the package's tests run kernels/kernelstest.Backend, the
// same suite as the CPU backends.
package cuda
