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
