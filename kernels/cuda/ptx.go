package cuda

import _ "embed"

//go:generate sh kernels/build.sh

// ptxSource is kernels/grao.cu compiled for sm_80 (JIT-compiled by the
// driver for newer GPUs).
//
//go:embed ptx/grao_sm80.ptx
var ptxSource string
