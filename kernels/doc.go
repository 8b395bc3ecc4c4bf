// Package kernels holds grao's compute kernels: a swappable BLAS backend
// (OpenBLAS loaded at run time when present, gonum's pure-Go BLAS otherwise)
// and fused CPU kernels (layer norm, GELU, log-softmax + gather, causal
// attention) shared by the gorgonia training graph (kernels/ops) and the
// hand-written KV-cache sampler.
//
// All matrices are row-major. Kernels are generic over float32 (training,
// sampling) and float64 (finite-difference gradient checks).
package kernels
