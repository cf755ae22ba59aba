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
log=$tmp/log
suites=(
  "bash tests/cuda.sh $full"
  "bash tests/zoo.sh $full"
  "bash tests/layer_grid.sh ${GRID_COUNT:-$([ -n "$full" ] && echo 72 || echo 32)}"
  "bash tests/fuzz/smoke.sh"
  "bash firmware/run.sh"
  "bash tests/golden/check.sh"
  "bash tests/leaks.sh"
  # bad input, the sandbox and the generator's own checks run on the ASan/UBSan build
  "SPGEN=$BUILD/asan/spgen bash tests/sandbox.sh"
  "SPGEN=$BUILD/asan/spgen bash tests/errors.sh"
  "SPGEN=$BUILD/asan/spgen bash tests/generator.sh"
  "bash tests/ref/test_ref_net.sh $BUILD"
  "bash tests/snapshots.sh"
  "bash tests/foreign_weights.sh"
  "bash tests/ref/test_ref.sh $BUILD"
  "bash tests/contract/test_contract.sh $BUILD/contract_check"
  "bash tests/plan/test_plan.sh $BUILD/plan_check"
  "$BUILD/test_safetensors"
)
# Runs suite i into $tmp/out.i; $tmp/done.i, its wall time, marks its end.
start() {
  local t0=$SECONDS
  { eval "${suites[$1]}"; } >"$tmp/out.$1" 2>&1 </dev/null
  echo $((SECONDS - t0)) >"$tmp/done.$1"
}
# Prints the finished suites that are next in order.
next=0
flush() {
  while [ "$next" -lt "${#suites[@]}" ] && [ -e "$tmp/done.$next" ]; do
    echo "== ${suites[$next]} ($(cat "$tmp/done.$next") s)"
    tee -a "$log" <"$tmp/out.$next"
    next=$((next + 1))
  done
}
for i in "${!suites[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "${SUITE_JOBS:-2}" ]; do wait -n; flush; done
  start "$i" &
done
while [ "$next" -lt "${#suites[@]}" ]; do wait -n; flush; done
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ "$failed" -gt 0 ]; then
  echo "== failures"
  grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
