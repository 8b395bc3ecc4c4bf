//go:build grao_cuda

package main

// The CUDA engine registers itself as train.device = "cuda" in binaries
// built for GPU machines (go build -tags grao_cuda ./cmd/bench).
import _ "github.com/grao-lab/grao/kernels/cuda"
