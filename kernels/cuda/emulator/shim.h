// shim.h: the CUDA C++ that grao.cu uses, for a host C++ compiler. The
// emulator runs every CUDA thread of a block as a fibre on the calling OS
// thread; __syncthreads switches to the next fibre until all have arrived.
#pragma once
#include <math.h>

struct grao_emu_dim3 {
    unsigned x, y, z;
};
// The built-in variables, set by the launcher before it resumes a fibre.
extern grao_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

void __syncthreads();
// The launch's dynamic shared memory (build.sh rewrites grao.cu's
// `extern __shared__ T name[];` into a pointer to it).
void* grao_emu_dynamic_shared();

#define __global__
#define __device__ static inline
// Every fibre of a block runs on the launching thread, one block at a
// time, so a function-static array is the block's shared memory.
#define __shared__ static
