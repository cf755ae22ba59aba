#!/usr/bin/env bash
# scripts/emit-all.sh SPGEN OUTROOT: emits every zoo network (--target all) at
# the default options, at --simd 16 and at --simd 4 with batch 2, the CUDA
# variants on sp_resnet18_cifar, and every golden case and test spec at the
# default and --simd 16, under OUTROOT; weight blobs are kept as their
# sha256. A change of structure must leave the emitted code byte-identical:
#   scripts/emit-all.sh OLD/build/spgen /tmp/a; scripts/emit-all.sh build/spgen /tmp/b; diff -r /tmp/a /tmp/b
set -eu
SPGEN=$(readlink -f "$1") OUT=$2
cd "$(dirname "$0")/.."
rm -rf "$OUT"; mkdir -p "$OUT"
for s in conv_layer resnet18_cifar sp_resnet18 sp_resnet18_cifar sp_resnet20_cifar sp_resnet50 sp_tiny_cifar sp_vgg16_cifar spconv_layer; do
  "$SPGEN" specs/$s.lua --target all -o "$OUT/$s" >/dev/null
  "$SPGEN" specs/$s.lua --target all --simd 16 -o "$OUT/$s-simd16" >/dev/null
  "$SPGEN" specs/$s.lua --target all --simd 4 --batch 2 -o "$OUT/$s-simd4-b2" >/dev/null
done
for v in "--cuda-spconv map" "--cuda-spconv map-staged" "--cuda-threads 65536" "--cuda-tile-channels 4" \
         "--batch 256 --cuda-channel-tiles 4" "--cuda-stats kernel"; do
  "$SPGEN" specs/sp_resnet18_cifar.lua --target all $v -o "$OUT/sp_resnet18_cifar$(echo " $v" | tr ' ' '_')" >/dev/null
done
for f in tests/golden/*.lua tests/specs/*.lua; do
  b=$(basename "$f" .lua)
  # a spec that needs --set values fails alike before and after (messages may differ)
  "$SPGEN" "$f" --target all -o "$OUT/g-$b" >/dev/null 2>&1 || echo failed >"$OUT/g-$b.failed"
  "$SPGEN" "$f" --target all --simd 16 -o "$OUT/g-$b-simd16" >/dev/null 2>&1 || echo failed >"$OUT/g-$b-simd16.failed"
done
find "$OUT" -name '*_weights.bin' | while read -r f; do sha256sum "$f" | cut -d' ' -f1 >"$f.sha256"; rm "$f"; done
