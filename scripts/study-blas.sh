#!/usr/bin/env bash
# Rounding check of the study: reruns the study's SFT, GRPO and GRAO trials
# on seeds 1 and 2 (experiments/study-subset.toml) with the pure-Go BLAS
# (GRAO_BLAS=gonum) and prints the verdicts of the same subset with
# OpenBLAS (taken from runs/study) beside them. A declared result must not
# depend on the summation order of the matrix products.
#
#   scripts/study-blas.sh          # needs a finished runs/study (scripts/study.sh)
#
# Both subsets start from the study's base model and its learning-rate
# selection (copied, not redone), so the only difference is the BLAS used
# for alignment and evaluation. About 40 minutes on 2 cores (the pure-Go
# BLAS is 4–5× slower).
set -euo pipefail
cd "$(dirname "$0")/.."

study=${STUDY_OUT:-runs/study}
sub=experiments/study-subset.toml
[ -f "$study/selection.json" ] || { echo "study-blas: $study/selection.json missing: run scripts/study.sh first" >&2; exit 2; }
bench=${BENCH:-}
if [ -z "$bench" ]; then
  go build -o "${TMPDIR:-/tmp}/grao-bench" ./cmd/bench
  bench="${TMPDIR:-/tmp}/grao-bench"
fi

for blas in openblas gonum; do
  out=runs/study-subset-$blas
  mkdir -p "$out/runs"
  cp -r "$study/base" "$out/"
  cp "$study/selection.json" "$out/"
  for d in "$study"/runs/*; do
    id=$(basename "$d")
    # gonum reruns the main trials; both keep the selection trials.
    if [ "$blas" = openblas ] || [[ "$id" == *-s1000-* ]]; then
      [ -e "$out/runs/$id" ] || cp -r "$d" "$out/runs/"
    fi
  done
  GRAO_BLAS=$blas "$bench" run "$sub" --out "$out" --resume > "$out/report.md"
done

verdicts() {
  "$bench" report "$1" --format csv | awk -F, '$1 == "compare" { n = split($17, a, " "); v = ""; k = ""; for (i = 1; i <= n; i++) { if (a[i] ~ /^verdict=/) v = substr(a[i], 9); if (a[i] ~ /^kinds=/) k = substr(a[i], 7) } print $2 "," $5 "," $6 "," $4 "," k "," v }'
}
echo "comparison (task, a, b, metric, kinds) → verdict: OpenBLAS | pure Go"
paste -d'|' <(verdicts runs/study-subset-openblas) <(verdicts runs/study-subset-gonum | cut -d, -f6)
if diff <(verdicts runs/study-subset-openblas) <(verdicts runs/study-subset-gonum) > /dev/null; then
  echo "study-blas: the verdicts agree"
else
  echo "study-blas: the verdicts DIFFER" >&2
  exit 1
fi
