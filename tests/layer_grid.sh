#!/usr/bin/env bash
# The random layer grid: COUNT configurations drawn from a seeded generator
# (channels 2..96 with odd splits, ratios 1/2 1/4 1/8 and others, groups
# 1/2/4 where they divide, stride 1 and 2, H and W 2..33, batch 1..3, both
# bias variants and namings, with and without batchnorm and relu, portable or
# --simd 8/16 vector code), each run
# through layer_one.sh, nproc at a time.
# usage: layer_grid.sh [--list] [COUNT] [SEED]
# (--list prints the configurations, one "NAME DIR ARGS..." line each, and runs
# nothing: tests/cuda.sh draws its sample from the same generator)
set -u
list=0
if [ "${1:-}" = --list ]; then list=1; shift; fi
count=${1:-64} seed=${2:-20261128}
here=$(dirname "$0")
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-grid.XXXXXX")
trap 'rm -rf "$work"' EXIT
RANDOM=$seed
ratios=(0.5 0.25 0.125 0.5 0.25 0.375 0.75 0.3)
# pick VAR CHOICES...: no subshell, so RANDOM's sequence advances
pick() { local var=$1; shift; local a=("$@"); printf -v "$var" '%s' "${a[RANDOM % ${#a[@]}]}"; }
configs=()
while [ ${#configs[@]} -lt "$count" ]; do
  pick ratio "${ratios[@]}"; pick groups 1 2 2 4; pick stride 1 2
  pick bias official all; pick naming torch paddle
  batch=$((1 + RANDOM % 3)) bn=$((RANDOM % 2)) relu=$((RANDOM % 2)) wseed=$((RANDOM % 1000))
  pick simd 0 0 8 16
  cin=$((2 + RANDOM % 95)) out=$((2 + RANDOM % 95))
  h=$((2 + RANDOM % 32)) w=$((2 + RANDOM % 32))
  # floor(C * a) as the official int(c * ratio), in double
  r=$(awk -v c=$cin -v a=$ratio 'BEGIN { printf "%d", int(c * a) }')
  [ "$r" -ge 1 ] && [ $((cin - r)) -ge 1 ] && [ $((r % groups)) -eq 0 ] && [ $((out % groups)) -eq 0 ] || continue
  if [ "$stride" = 2 ]; then h=$((h - h % 2)); w=$((w - w % 2)); fi
  i=${#configs[@]}
  configs+=("grid/$i:c${cin}o${out}_${h}x${w}_n${batch}_a${ratio}_g${groups}_s${stride}_${bias}_${naming}_bn${bn}_relu${relu}_v${simd} \
$work/$i $cin $out $h $w $batch $ratio $groups $stride $bias $naming $bn $relu $wseed $simd")
done
if [ "$list" = 1 ]; then [ ${#configs[@]} = 0 ] || printf '%s\n' "${configs[@]}"; exit 0; fi
printf '%s\n' "${configs[@]}" | xargs -P "$(nproc)" -L 1 bash "$here/layer_one.sh"
