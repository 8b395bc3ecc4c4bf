// Package kernels holds grao's compute kernels: a swappable BLAS backend
// (grao's own sgemm on amd64 CPUs with AVX2 and FMA, OpenBLAS loaded at run
// time, or gonum's pure-Go BLAS) and fused CPU kernels (layer norm, GELU,
// log-softmax + gather, causal attention) shared by the gorgonia training
// graph (kernels/ops) and the hand-written KV-cache sampler.
//
// The native sgemm computes every element of C as one chain of fused
// multiply-adds in k order, so its results are the same bits on every
// AVX2/AVX-512 CPU and for any split of a product over cores or rows
// (sgemm.go).
//
// GRAO_BLAS=auto|native|openblas|gonum chooses the backend at start-up and
// GRAO_OPENBLAS_LIB names a specific library (see docs/blas.md);
// Current().Info() says which is in use and why. Optional backends built
// in with a tag (kernels/cuda, -tags grao_cuda) register with Provide; every
// backend passes the kernels/kernelstest conformance suite.
//
// On amd64 with AVX2, exp, GELU, dot and axpy run 8 floats at a time in
// assembly (vec_amd64.s) that performs the scalar Go code's IEEE operations
// in the same order, so results are the same bits either way; -tags purego
// builds without it.
//
// All matrices are row-major. Kernels are generic over float32 (training,
// sampling) and float64 (finite-difference gradient checks).
package kernels
