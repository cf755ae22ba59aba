#!/usr/bin/env bash
# Weights written by someone else: safetensors files laid out as the official
# PyTorch SPConv_3x3 state_dict (torch names, bias on conv1x1 only) and as
# the Paddle article's module (paddle names, bias on all three convs), made
# here with mkfix rather than by spgen, for shapes the grid does not draw.
# They go through --weights and the emitted runner and must match the
# reference within 1e-4 (max abs error over max abs reference value).
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-foreign.XXXXXX")
trap 'rm -rf "$work"' EXIT

# case NAME NAMING BIAS CIN OUT H W STRIDE RATIO BATCH
run_case() {
  local name=$1 naming=$2 bias=$3 cin=$4 out=$5 h=$6 w=$7 stride=$8 ratio=$9 batch=${10}
  local r; r=$(awk -v c=$cin -v a=$ratio 'BEGIN { printf "%d", int(c * a) }')
  local p=blk.conv2 mean=running_mean var=running_var
  [ "$naming" = paddle ] && mean=_mean var=_variance
  local args=(st "$work/$name.safetensors"
    $p.gwc.weight ${out}x$((r / 2))x3x3 u:1:-0.3:0.3
    $p.pwc.weight ${out}x${r}x1x1 u:2:-0.3:0.3
    $p.conv1x1.weight ${out}x$((cin - r))x1x1 u:3:-0.3:0.3
    $p.conv1x1.bias $out u:4:-0.2:0.2)
  [ "$bias" = all ] && args+=($p.gwc.bias $out u:5:-0.2:0.2 $p.pwc.bias $out u:6:-0.2:0.2)
  for bn in bn1 bn2; do
    args+=($p.$bn.weight $out u:7:0.5:1.5 $p.$bn.bias $out u:8:-0.5:0.5
           $p.$bn.$mean $out u:9:-0.5:0.5 $p.$bn.$var $out u:10:0.5:2)
  done
  $BUILD/mkfix "${args[@]}" >/dev/null
  cat > "$work/$name.lua" <<SPEC
-- a user's spec for one block conv of their model
local net = network { name = "$name", input = { $cin, $h, $w }, batch = $batch, naming = "$naming",
                      weights = "$name.safetensors" }
return output(spconv(net.input, { out = $out, stride = $stride, ratio = $ratio, bias = "$bias",
                                  name = "$p" }))
SPEC
  if ! $SPGEN "$work/$name.lua" -o "$work/$name" >"$work/log" 2>&1 \
     || ! make -s -C "$work/$name" CFLAGS="$STRICT_CFLAGS" >>"$work/log" 2>&1; then
    fail "foreign/$name" "$(tail -2 "$work/log")"; return
  fi
  $BUILD/mknpy 11 "$work/in.npy" $batch $cin $h $w
  "$work/$name/${name}_run" "$work/in.npy" "$work/got.npy"
  $BUILD/ref_spconv --cin $cin --cout $out --h $h --w $w --batch $batch --ratio $ratio --groups 2 \
    --stride $stride --bias $bias --naming $naming --name $p "$work/$name.safetensors" "$work/in.npy" "$work/want.npy"
  local cmp
  if cmp=$($BUILD/npycmp "$work/got.npy" "$work/want.npy" 1e-4 2>&1); then pass "foreign/$name ($cmp)"
  else fail "foreign/$name" "$cmp"; fi
}

run_case torch_official torch official 40 24 9 13 1 0.5 1
run_case torch_official_s2 torch official 100 36 12 20 2 0.5 2
run_case paddle_all paddle all 56 40 14 14 1 0.25 1
run_case paddle_all_s2 paddle all 120 64 8 10 2 0.25 1
