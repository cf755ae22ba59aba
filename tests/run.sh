#!/usr/bin/env bash
# The suite: `make test` runs tests/run.sh, every kind of case at least once;
# `make test-full` runs tests/run.sh --full, the same plus the expensive
# repetitions (the whole zoo under sanitizers, every CUDA variant on the
# emulator, the 72-case layer grid). tests/README.md lists what each suite
# covers and what each costs.
# Every case prints PASS, FAIL or SKIP; this counts them and ends with
# "N passed, N failed, N skipped". Exit 1 on any failure.
# The suites run two at a time (SUITE_JOBS), the longest first, so that the
# two cores stay busy to the end; each suite's output is printed whole, in
# the order below. The zoo, grid and CUDA suites run their own cases nproc at
# a time.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
full=
if [ "${1:-}" = --full ]; then full=--full; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spgen-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
log=$tmp/log
suites=(
  "bash tests/cuda.sh $full"
  "bash tests/zoo.sh $full"
  "bash tests/layer_grid.sh ${GRID_COUNT:-$([ -n "$full" ] && echo 72 || echo 32)}"
  "bash tests/fuzz/smoke.sh"
  "bash tests/onnx.sh"
  "bash firmware/run.sh"
  "bash tests/golden/check.sh"
  "bash tests/leaks.sh"
  # bad input, the sandbox and the generator's own checks run on the ASan/UBSan build
  "SPGEN=$BUILD/asan/spgen bash tests/sandbox.sh"
  "SPGEN=$BUILD/asan/spgen bash tests/errors.sh"
  "SPGEN=$BUILD/asan/spgen bash tests/generator.sh"
  "SPGEN=$BUILD/asan/spgen bash tests/onnx_errors.sh"
  "bash tests/ref/test_ref_net.sh $BUILD"
  "bash tests/snapshots.sh"
  "bash tests/foreign_weights.sh"
  "bash tests/ref/test_ref.sh $BUILD"
  "bash tests/contract/test_contract.sh $BUILD/contract_check"
  "bash tests/plan/test_plan.sh $BUILD/plan_check"
  "$BUILD/test_safetensors"
)
# A suite that exits non-zero (a crash, a sanitizer abort, a script error)
# without a FAIL line of its own fails once more, and one that runs past
# SUITE_SECONDS is stopped and fails.
# Runs suite i into $tmp/out.i; $tmp/done.i, its wall time and exit status,
# marks its end.
start() {
  local t0=$SECONDS rc
  timeout -k 10 "${SUITE_SECONDS:-2400}" bash -c "${suites[$1]}" >"$tmp/out.$1" 2>&1 </dev/null
  rc=$?
  echo "$((SECONDS - t0)) $rc" >"$tmp/done.$1.part" && mv "$tmp/done.$1.part" "$tmp/done.$1"
}
# Prints the finished suites that are next in order.
next=0
flush() {
  local secs rc
  while [ "$next" -lt "${#suites[@]}" ] && [ -e "$tmp/done.$next" ]; do
    read -r secs rc <"$tmp/done.$next"
    echo "== ${suites[$next]} ($secs s)"
    {
      cat "$tmp/out.$next"
      if [ "$secs" -ge "${SUITE_SECONDS:-2400}" ]; then
        echo "FAIL suite: ${suites[$next]}: still running after ${SUITE_SECONDS:-2400} s, stopped"
      elif [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$tmp/out.$next"; then
        echo "FAIL suite: ${suites[$next]}: exited $rc"
      fi
    } | tee -a "$log"
    next=$((next + 1))
  done
}
for i in "${!suites[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "${SUITE_JOBS:-2}" ]; do wait -n; flush; done
  start "$i" &
done
wait
# a suite whose runner itself died left no mark: it fails too
for i in "${!suites[@]}"; do [ -e "$tmp/done.$i" ] || echo "0 255" >"$tmp/done.$i"; done
flush
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ "$failed" -gt 0 ]; then
  echo "== failures"
  grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
