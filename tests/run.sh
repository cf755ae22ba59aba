#!/usr/bin/env bash
# The whole suite. Every case prints PASS, FAIL or SKIP; this counts them and
# ends with "N passed, N failed, N skipped". Exit 1 on any failure.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
log=$(mktemp "${TMPDIR:-/tmp}/spgen-test.XXXXXX")
trap 'rm -f "$log"' EXIT
suite() {
  echo "== $*"
  "$@" 2>&1 | tee -a "$log"
}
suite $BUILD/test_safetensors
suite bash tests/ref/test_ref.sh $BUILD
suite bash tests/ref/test_ref_net.sh $BUILD
suite bash tests/contract/test_contract.sh $BUILD/contract_check
suite bash tests/plan/test_plan.sh $BUILD/plan_check
# bad input, the sandbox and the generator's own checks run on the ASan/UBSan build
SPGEN=$BUILD/asan/spgen suite bash tests/errors.sh
SPGEN=$BUILD/asan/spgen suite bash tests/sandbox.sh
SPGEN=$BUILD/asan/spgen suite bash tests/generator.sh
suite bash tests/foreign_weights.sh
suite bash tests/golden/check.sh
suite bash firmware/run.sh
suite bash tests/leaks.sh
suite bash tests/fuzz/smoke.sh
suite bash tests/zoo.sh
suite bash tests/layer_grid.sh "${GRID_COUNT:-72}"
suite bash tests/cuda.sh
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ "$failed" -gt 0 ]; then
  echo "== failures"
  grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
