#!/usr/bin/env bash
# make demo: generate the shipped one-layer network, build it, run it on a
# random input and verify it against the independent reference.
set -eu
cd "$(dirname "$0")/.."
spec=specs/spconv_layer.lua out=out/spconv_layer work=build/demo
mkdir -p $work
echo "== generate: build/spgen $spec --summary"
build/spgen $spec -o $out --summary --dump-weights $work/weights.safetensors | tee $work/summary
echo "== compile: make -C $out"
make -s -C $out CFLAGS="-std=c99 -O2 -Wall -Wextra -Werror -pedantic"
echo "== run: $out/spconv_layer_run in.npy out.npy"
build/mknpy 1 $work/in.npy 1 64 32 32
$out/spconv_layer_run $work/in.npy $work/out.npy
echo "== verify against tests/ref (double precision, branches materialized, BN unfolded)"
build/ref_spconv --cin 64 --cout 64 --h 32 --w 32 --batch 1 --ratio 0.5 --groups 2 --stride 1 \
  --bias official --naming torch --name conv --bn bn --relu $work/weights.safetensors $work/in.npy $work/want.npy
build/npycmp $work/out.npy $work/want.npy 1e-4
arena=$(awk '/define SPCONV_LAYER_ARENA_BYTES/ { print $3 }' $out/spconv_layer.h)
echo "== figures"
awk '$1 == "conv" { printf "SPConv 64->64 3x3 at 32x32: %s params, %s MACs\n", $4, $5 }
     $1 == "vanilla" && $2 == "3x3" { printf "vanilla 3x3 it replaces:    %s params, %s MACs\n", $5, $6 }' $work/summary
echo "static activation memory: $arena bytes (a framework holds both branch maps: $((2 * 64 * 32 * 32 * 4)) bytes)"
