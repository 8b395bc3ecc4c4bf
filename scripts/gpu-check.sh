#!/bin/sh
# gpu-check.sh: the CUDA engine's device check, in two halves.
#
#   scripts/gpu-check.sh build [DIR]      on a machine with Go, cgo and the
#                                         CUDA headers (no GPU needed): builds
#                                         the kernels/cuda test binary and a
#                                         bench binary, with -tags grao_cuda,
#                                         into DIR (default gpu-check/).
#   scripts/gpu-check.sh emulate [DIR]    here, without a GPU: builds the CPU
#                                         emulator of the CUDA driver and
#                                         cuBLAS (kernels/cuda/emulator) and
#                                         both binaries linked to it into DIR
#                                         (default gpu-emulate/), runs the
#                                         tests in both emulated orders and
#                                         with GRAO_BLAS=cuda, counts the
#                                         device calls of a training step,
#                                         then a tiny gpu.toml (EMU_SWEEP=0
#                                         skips it) with its report.
#   DIR/gpu-check.sh --run DIR [OUTDIR]   on the GPU machine (no Go needed):
#                                         runs the tests verbosely and writes
#                                         summary.json, test.log and
#                                         nvidia-smi.txt into OUTDIR (default
#                                         $OUT, else DIR/results), updating
#                                         the summary after every stage.
#
# The run stage stays under 5 minutes: the tests get TEST_TIMEOUT seconds
# (default 90); then a shortened experiments/gpu.toml runs on the GPU for
# at most SWEEP_TIMEOUT seconds (default 90); then bench speed against
# PyTorch on the same GPU gets SPEED_TIMEOUT (default 70); then grao alone,
# profiled (GRAO_CUDA_PROFILE), PROFILE_TIMEOUT (default 30). A stage that
# does not stop at its limit is killed 10 seconds later. See docs/gpu.md.
set -eu

usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

# indir makes DIR (absolute) the output directory and the repository the
# working directory, for building with cgo.
indir() {
	mkdir -p "$1"
	dir=$(cd "$1" && pwd)
	cd "$(dirname "$0")/.."
	export CGO_ENABLED=1
}

build() {
	indir "${1:-gpu-check}"
	echo "building kernels/cuda test binary → $dir/cuda.test"
	# Stripped (-s -w): both binaries must travel to the GPU machine together
	# in under 64 MiB.
	go test -c -tags grao_cuda -ldflags="-s -w" -o "$dir/cuda.test" ./kernels/cuda/
	echo "building bench → $dir/bench"
	# The engine check does not need bench: a bench that fails to build is
	# reported, not fatal.
	if ! go build -tags grao_cuda -ldflags="-s -w" -o "$dir/bench" ./cmd/bench; then
		echo "warning: bench did not build; continuing with the test binary only" >&2
		rm -f "$dir/bench"
	fi
	cp experiments/gpu.toml "$dir/gpu.toml"
	cp "$0" "$dir/gpu-check.sh"
	chmod +x "$dir/gpu-check.sh"
	{
		echo "commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
		echo "dirty=$(git status --porcelain 2>/dev/null | wc -l | tr -d ' ')"
		echo "go=$(go version)"
		echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} >"$dir/BUILD_INFO"
	echo "done: copy $dir to the GPU machine and run $dir/gpu-check.sh --run $dir"
}

# emulate runs the engine's tests and a tiny GPU sweep on the CPU emulator:
# the engine's own code as it would run on a GPU (see
# kernels/cuda/emulator/README.md for what that does and does not check).
emulate() {
	indir "${1:-gpu-emulate}"
	kernels/cuda/emulator/build.sh "$dir/lib"
	# Linked against the emulator's libcuda.so; it is found at run time
	# through LD_LIBRARY_PATH, like a real driver would be.
	CGO_LDFLAGS="-L$dir/lib ${CGO_LDFLAGS:-}" go test -c -tags grao_cuda -o "$dir/cuda.test" ./kernels/cuda/
	CGO_LDFLAGS="-L$dir/lib ${CGO_LDFLAGS:-}" go build -tags grao_cuda -o "$dir/bench" ./cmd/bench
	export LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" GRAO_CUBLAS_LIB="$dir/lib/libcublas.so"
	for order in forward reverse; do
		echo "emulate: kernels/cuda tests, $order order"
		(cd kernels/cuda && GRAO_CUDA_EMU_ORDER=$order "$dir/cuda.test" -test.count=1 -test.timeout 10m)
	done
	# The emulator must be able to fail: grao.cu without the block
	# reduction's first barrier (its first __syncthreads) must fail the
	# layer-norm kernel test in the forward order.
	echo "emulate: self-check: a missing barrier fails the kernel tests"
	awk '!cut && /__syncthreads\(\);/ { cut = 1; next } { print }' kernels/cuda/kernels/grao.cu >"$dir/mutant.cu"
	GRAO_CU="$dir/mutant.cu" kernels/cuda/emulator/build.sh "$dir/mutant" >/dev/null
	if (cd kernels/cuda && LD_LIBRARY_PATH="$dir/mutant" GRAO_CUBLAS_LIB="$dir/mutant/libcublas.so" \
		"$dir/cuda.test" -test.count=1 -test.run 'TestKernelLayerNorm' >"$dir/mutant.log" 2>&1); then
		echo "emulate: the emulator passed grao.cu without a barrier ($dir/mutant.cu)" >&2
		exit 1
	fi
	# A GPU is fast only if the host issues few calls and rarely waits: the
	# emulator's trace (kernels/cuda/emulator/README.md) counts the device
	# calls of one medium training step (LogProbs, Backward, Step), and the
	# counts must stay within what the engine's design needs.
	echo "emulate: device calls per medium training step"
	rm -f "$dir"/profile-*.txt
	GRAO_CUDA_EMU_TRACE="$dir/trace.txt" GRAO_CUDA_PROFILE="$dir/profile-%p.txt" "$dir/bench" speed --device cuda --models medium \
		--train-steps 2 --batch 1 --new-tokens 2 --rounds 1 --peak=false >"$dir/trace-speed.log" 2>&1 ||
		{ cat "$dir/trace-speed.log" >&2; exit 1; }
	python3 - "$dir/trace.txt" <<'PY'
import collections, sys
calls = [l.split() for l in open(sys.argv[1])]
# A step ends with AdamW's launch and the memset that clears the gradients.
ends = [i for i, c in enumerate(calls) if c[0] == "memset" and calls[i - 1][:2] == ["launch", "grao_adamw"]]
if len(ends) < 3:
    sys.exit(f"emulate: {len(ends)} training steps in the trace, want 3")
step = calls[ends[1] + 1:ends[2] + 1]  # the second timed step
n = collections.Counter(c[0] for c in step)
print("  " + ", ".join(f"{k} {v}" for k, v in sorted(n.items())) + f"; {len(step)} calls")
# LogProbs, Backward, the norm and the update each synchronise once; the
# host reads the log-probs and the norm's partial sums; the rest is
# kernels and GEMMs (184 calls in all when this was written).
limits = {"sync": 4, "dtoh": 2}
over = [f"{k} {n[k]} > {v}" for k, v in limits.items() if n[k] > v]
if n["launch"] + n["gemm"] > 180:
    over.append(f"launches and GEMMs {n['launch'] + n['gemm']} > 180")
if over:
    sys.exit("emulate: a medium training step makes too many device calls: " + "; ".join(over))
PY
	# The same run was profiled (the emulator's clock, not a GPU's): the
	# profile must name AdamW's kernel and the GEMMs.
	grep -q 'grao_adamw$' "$dir"/profile-*.txt && grep -q ' sgemm NN ' "$dir"/profile-*.txt ||
		{ echo "emulate: GRAO_CUDA_PROFILE wrote no profile with the training step's calls" >&2; exit 1; }
	echo "emulate: GRAO_BLAS=cuda selects the cuBLAS backend"
	(cd kernels/cuda && GRAO_BLAS=cuda "$dir/cuda.test" -test.count=1 -test.run 'TestSelectedByEnv|TestConformance')
	if [ "${EMU_SWEEP:-1}" != 0 ]; then
		echo "emulate: experiments/gpu.toml, cut to a tiny model and a few steps, with --device cuda"
		rm -rf "$dir/sweep"
		"$dir/bench" run experiments/gpu.toml --device cuda --out "$dir/sweep" \
			--set 'seeds=[1]' --set model.preset=small --set 'task.kinds=["repeat","count"]' \
			--set pretrain.steps=3 --set pretrain.batch=4 --set calibrate.prompts=1 --set calibrate.samples=2 \
			--set train.steps=2 --set train.prompts=2 --set train.max_new_tokens=8 \
			--set eval.prompts=4 --set eval.max_new_tokens=8
		"$dir/bench" report "$dir/sweep" >"$dir/sweep/report.md"
		for alg in sft dpo ppo grpo grao; do # every trial finished and has metrics
			grep -q "^$alg-s1-[0-9a-f]*,skills,small,$alg,1,RAS," "$dir/sweep/results.csv" ||
				{ echo "emulate: no RAS for $alg in $dir/sweep/results.csv" >&2; exit 1; }
		done
	fi
	echo "emulate: passed"
}

# summary writes OUTDIR/summary.json from what the run has produced so far.
summary() {
	stage=$1
	python3 - "$out" "$stage" "$dir" <<'PY'
import json, os, re, sys
out, stage, d = sys.argv[1:4]
def read(name, base=out):
    p = os.path.join(base, name)
    return open(p, errors="replace").read() if os.path.exists(p) else ""
tests = []
for m in re.finditer(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \(([0-9.]+)s\)", read("test.log"), re.M):
    tests.append({"name": m.group(2), "result": m.group(1).lower(), "seconds": float(m.group(3))})
rc = read("test.rc").strip()
s = {
    "stage": stage,
    "build": dict(l.split("=", 1) for l in read("BUILD_INFO", d).splitlines() if "=" in l),
    "nvidia_smi": read("nvidia-smi.csv").strip(),
    "test_exit_code": int(rc) if rc else None,
    "tests": tests,
    "test_log_tail": read("test.log")[-3000:] if rc not in ("", "0") else "",
    "passed": sum(t["result"] == "pass" for t in tests),
    "failed": sum(t["result"] == "fail" for t in tests),
    "skipped": sum(t["result"] == "skip" for t in tests),
    "sweep_exit_code": int(read("sweep.rc").strip()) if read("sweep.rc").strip() else None,
    "sweep_log_tail": read("sweep.log")[-2000:],
    "sweep_results_csv": read("sweep/results.csv"),
    "seconds": {k: float(v) for k, v in (l.split("=", 1) for l in read("timings.txt").splitlines() if "=" in l)},
    "speed_exit_code": int(read("speed.rc").strip()) if read("speed.rc").strip() else None,
    "speed": json.loads(read("speed.json")) if read("speed.json").strip().startswith("{") else None,
    "speed_log_tail": read("speed.log")[-2000:],
    "profile_exit_code": int(read("profile.rc").strip()) if read("profile.rc").strip() else None,
    "profiles": {f: "\n".join(read(f).splitlines()[:25]) for f in sorted(os.listdir(out)) if f.startswith("profile-")},
}
json.dump(s, open(os.path.join(out, "summary.json.tmp"), "w"), indent=1)
os.replace(os.path.join(out, "summary.json.tmp"), os.path.join(out, "summary.json"))
PY
}

run() {
	dir=$(cd "$1" && pwd)
	out=${2:-${OUT:-$dir/results}}
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	: >"$out/timings.txt"
	summary started
	nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
	nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader >"$out/nvidia-smi.csv" 2>/dev/null || true
	summary device
	t0=$(date +%s)
	set +e
	(cd "$dir" && timeout -k 10 "${TEST_TIMEOUT:-90}" ./cuda.test -test.v -test.timeout "${TEST_TIMEOUT:-90}s") >"$out/test.log" 2>&1
	echo $? >"$out/test.rc"
	set -e
	echo "tests=$(($(date +%s) - t0))" >>"$out/timings.txt"
	summary tests
	# A short GPU sweep: one seed of the GPU preset, fewer steps, its report.
	if [ -x "$dir/bench" ]; then
		t0=$(date +%s)
		set +e
		(cd "$dir" && timeout -k 10 "${SWEEP_TIMEOUT:-90}" ./bench run gpu.toml --device cuda --out "$out/sweep" \
			--set 'seeds=[1]' --set pretrain.steps=200 --set train.steps=20 --set eval.prompts=64) >"$out/sweep.log" 2>&1
		echo $? >"$out/sweep.rc"
		set -e
		echo "sweep=$(($(date +%s) - t0))" >>"$out/timings.txt"
		summary sweep
	fi
	# Speed against idiomatic PyTorch eager on the same GPU and shapes.
	if [ -x "$dir/bench" ]; then
		t0=$(date +%s)
		set +e
		(cd "$dir" && timeout -k 10 "${SPEED_TIMEOUT:-70}" ./bench speed --device cuda --torch "${TORCH_PYTHON:-python3}" \
			--models medium,large --rounds 1 --train-steps 5 --json) >"$out/speed.json" 2>"$out/speed.log"
		echo $? >"$out/speed.rc"
		set -e
		echo "speed=$(($(date +%s) - t0))" >>"$out/timings.txt"
		summary speed
		# Where the GPU's time goes, call by call (one file per model).
		t0=$(date +%s)
		set +e
		(cd "$dir" && GRAO_CUDA_PROFILE="$out/profile-%p.txt" timeout -k 10 "${PROFILE_TIMEOUT:-30}" ./bench speed --device cuda \
			--models medium,large --rounds 1 --train-steps 3 --new-tokens 16 --peak=false) >"$out/profile.log" 2>&1
		echo $? >"$out/profile.rc"
		set -e
		echo "profile=$(($(date +%s) - t0))" >>"$out/timings.txt"
		summary profile
	fi
	summary done
	cat "$out/summary.json"
	[ "$(cat "$out/test.rc")" = 0 ]
}

case "${1:-}" in
build) shift; build "$@" ;;
emulate) shift; emulate "$@" ;;
--run) [ $# -ge 2 ] || usage; shift; run "$@" ;;
*) usage ;;
esac
