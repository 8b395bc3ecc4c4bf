#!/bin/sh
# Compiles grao.cu to the PTX the engine embeds (ptx/grao_sm80.ptx). Run by
# `go generate ./kernels/cuda`; the Go build itself never needs nvcc.
#
# sm_80 PTX is JIT-compiled by the driver for any later GPU (H100 included).
# FMA contraction is off so that the kernels round as the Go reference
# kernels do (Go on amd64 does not fuse either).
set -eu
cd "$(dirname "$0")"
NVCC=${NVCC:-nvcc}
out=${1:-../ptx/grao_sm80.ptx}
# nvcc preprocesses with a host compiler even for PTX; CUDA 11.8 refuses
# gcc newer than 11, so fall back to clang-14 (Debian bookworm) then.
ccbin=${NVCC_CCBIN:-}
if [ -z "$ccbin" ] && command -v gcc >/dev/null && [ "$(gcc -dumpversion | cut -d. -f1)" -gt 11 ] && command -v clang-14 >/dev/null; then
	ccbin=clang-14
fi
"$NVCC" -ptx -arch=sm_80 --fmad=false -O3 ${ccbin:+-ccbin "$ccbin"} -o "$out.tmp" grao.cu
mv "$out.tmp" "$out"
