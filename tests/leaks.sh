#!/usr/bin/env bash
# The generator frees everything on success and on each error path.
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-leaks.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! command -v valgrind >/dev/null; then
  skip "leaks/all" "valgrind is not installed"; exit 0
fi
printf 'local net = network { name = "t", input = { 8, 4, 4 } }\nwhile true do end\n' > "$work/loop.lua"
printf 'not a safetensors file' > "$work/junk.safetensors"
# leak NAME EXPECTED-EXIT ARGS...
leak() {
  local name=$1 code=$2; shift 2
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    $SPGEN "$@" >/dev/null 2>"$work/err"
  local rc=$?
  if [ $rc -eq "$code" ]; then pass "leaks/$name"; else fail "leaks/$name" "exit $rc: $(grep -m3 '==' "$work/err")"; fi
}
leak success 0 specs/spconv_layer.lua -o "$work/out" --summary --dump-weights "$work/w.safetensors" --set size=8
leak reload 0 specs/spconv_layer.lua -o "$work/out" --weights "$work/w.safetensors" --set size=8
leak spec_error 1 "$work/loop.lua" -o "$work/out2"
leak weights_error 1 specs/spconv_layer.lua -o "$work/out2" --weights "$work/junk.safetensors"
# an output refused by the checks, and one undone after the plan was staged
# (the weights' staging name is past NAME_MAX)
leak output_refused 1 specs/spconv_layer.lua -o "$work/new/out3" --set size=8 --plan "$work/new"
leak output_undone 1 specs/spconv_layer.lua -o "$work/out3" --set size=8 --plan "$work/p.txt" \
  --dump-weights "$work/$(printf 'w%.0s' {1..250})"
leak usage_error 2 specs/spconv_layer.lua --target
"$BUILD/mknpy" 1 "$work/calib.npy" 2 64 8 8 >/dev/null
leak int8 0 specs/spconv_layer.lua -o "$work/out4" --set size=8 --dtype int8 --calibration "$work/calib.npy" \
  --dump-int8 "$work/model.txt" --summary
leak calibration_error 1 specs/spconv_layer.lua -o "$work/out5" --dtype int8 --calibration "$work/junk.safetensors"
# the ONNX importer: a model imported, one refused while its tensors are handed to Lua
leak import_success 0 import tests/fuzz/corpus_onnx/spconv_all_s2_o11.onnx -o "$work/imp"
leak import_error 1 import tests/fuzz/corpus_onnx/bad_bigdims.onnx -o "$work/imp2"
leak import_graph_error 1 import tests/fuzz/corpus_onnx/bad_conv_shape.onnx -o "$work/imp2"
head -c 3000 tests/fuzz/corpus_onnx/spconv_official_s1_o13.onnx > "$work/cut.onnx"
leak import_truncated 1 import "$work/cut.onnx" -o "$work/imp2"

# A memory error while a spec file is read must not leave the file open. The
# spec fills the sandbox's memory in 64 KiB steps to one step short of the
# most that still runs (found by trying), then imports a 4 MB file: the error
# comes as that file is read or handed to Lua.
printf '%s\n' 'local net = network { name = "t", input = { 8, 4, 4 } }' \
  'local mib, kib = string.rep("x", 1 << 20), string.rep("x", 1 << 16)' 'local t = {}' \
  'for i = 1, args.steps // 16 do t[#t + 1] = mib .. i end' 'for i = 1, args.steps % 16 do t[#t + 1] = kib .. i end' \
  'if args.probe == 1 then error("filled") end' 'local lib = import("big")' > "$work/fill.lua"
head -c 4000000 /dev/zero | tr '\0' ' ' > "$work/big.lua"
fills() { $SPGEN "$work/fill.lua" -o "$work/out3" --set steps="$1" --set probe=1 2>&1 | grep -q ': filled$'; }
low=0 high=4096 # 64 KiB steps: fills(low), not fills(high)
if ! fills $low || fills $high; then fail "leaks/memory_error_in_read" "cannot find the fill level"
else
  while [ $((high - low)) -gt 1 ]; do
    mid=$(((low + high) / 2))
    if fills $mid; then low=$mid; else high=$mid; fi
  done
  valgrind -q --track-fds=yes $SPGEN "$work/fill.lua" -o "$work/out3" --set steps=$((low - 1)) --set probe=0 \
    >/dev/null 2>"$work/err"
  rc=$?
  if [ $rc -ne 1 ] || ! grep -q 'spec exceeded the memory limit' "$work/err"; then
    fail "leaks/memory_error_in_read" "exit $rc: $(grep -v '^==' "$work/err" | head -c 300)"
  elif grep -q 'big\.lua' "$work/err"; then
    fail "leaks/memory_error_in_read" "$(grep -m1 'big\.lua' "$work/err")"
  else pass "leaks/memory_error_in_read"; fi
fi
