#!/bin/sh
# build.sh DIR: builds the CPU emulator of the CUDA driver and cuBLAS into
# DIR as libgraoemu.so, with the links a CUDA program looks for:
# libcuda.so.1 and libcuda.so (link and run time) and libcublas.so.
#
# Needs g++, Boost.Context (Debian: libboost-context-dev) and cuda.h (the
# driver API header; Debian: nvidia-cuda-dev, or any directory given as
# CUDA_INCLUDE). GRAO_CU names another kernel source than
# ../kernels/grao.cu (gpu-check.sh's self-check builds a broken one). See
# README.md.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
inc=${CUDA_INCLUDE:-/usr/include}
if [ ! -f "$inc/cuda.h" ]; then
	echo "build.sh: no cuda.h in $inc (set CUDA_INCLUDE)" >&2
	exit 2
fi
CXX=${CXX:-g++}
CC=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The kernels as the host compiles them: a dynamic shared array becomes a
# pointer to the launch's dynamic shared memory (shim.h has the rest).
sed -E 's/extern __shared__ ([A-Za-z0-9_]+) ([A-Za-z0-9_]+)\[\];/\1* \2 = (\1*)grao_emu_dynamic_shared();/' \
	"${GRAO_CU:-$here/../kernels/grao.cu}" >"$tmp/grao_host.cu"
grep -oE '__global__ void [A-Za-z0-9_]+' "$tmp/grao_host.cu" | awk '{print "X(" $3 ")"}' >"$tmp/kernels.inc"

# -ffp-contract=off: no fused multiply-adds, as the PTX is built.
"$CXX" -std=c++17 -O2 -g -fPIC -ffp-contract=off -Wall -Wno-unused-function -I"$inc" -I"$tmp" -I"$here" \
	-c "$here/emulator.cc" -o "$tmp/emulator.o"

# A stub for every other entry point cuda.h declares, under the name the
# header's version macros give it (cuMemAlloc → cuMemAlloc_v2), so that a
# program linked against the real driver loads: calling one reports it.
grep -oE '(CUDAAPI[[:space:]]+|^)cu[A-Za-z0-9_]+[[:space:]]*\(' "$inc/cuda.h" | sed -E 's/^CUDAAPI[[:space:]]+//; s/[[:space:]]*\($//' |
	sort -u >"$tmp/declared"
{
	echo '#include <cuda.h>'
	sed 's/^/GRAO_NAME /' "$tmp/declared"
} >"$tmp/expand.c"
"$CC" -E -P -I"$inc" "$tmp/expand.c" | awk '$1 == "GRAO_NAME" && NF == 2 {print $2}' | sort -u >"$tmp/names"
nm -g --defined-only "$tmp/emulator.o" | awk '$2 == "T" {print $3}' | sort -u >"$tmp/defined"
{
	echo 'int grao_emu_unsupported(const char*);'
	comm -23 "$tmp/names" "$tmp/defined" | awk '{printf "int %s(void) { return grao_emu_unsupported(\"%s\"); }\n", $1, $1}'
} >"$tmp/stubs.c"
"$CC" -O2 -fPIC -c "$tmp/stubs.c" -o "$tmp/stubs.o"

"$CXX" -shared -o "$out/libgraoemu.so" -Wl,-soname,libcuda.so.1 "$tmp/emulator.o" "$tmp/stubs.o" -lboost_context
for link in libcuda.so.1 libcuda.so libcublas.so; do
	ln -sf libgraoemu.so "$out/$link"
done
echo "built $out/libgraoemu.so ($(wc -l <"$tmp/kernels.inc") kernels, $(comm -23 "$tmp/names" "$tmp/defined" | wc -l) stubs)"
