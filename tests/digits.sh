#!/usr/bin/env bash
# Accuracy on real data: the digits network that tests/digits/train.py
# trained on sklearn's 8x8 handwritten digits, run by the float32 and the
# int8 builds on the 400 held-out images (one run at --batch 400), against
# the fixtures PyTorch wrote (tests/digits/, no Python here).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
dir=tests/digits
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-digits.XXXXXX")
trap 'rm -rf "$work"' EXIT
read -r torch_correct total <"$dir/torch_accuracy.txt"

# field NAME LINE: the value of NAME=value in a line top1 printed
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# top1 counts the held-out predictions as PyTorch did
got=$("$BUILD/top1" "$dir/torch_logits.npy" "$dir/heldout_labels.npy" 2>&1)
if [ "$got" = "correct=$torch_correct total=$total" ]; then pass "digits/top1_counts_as_torch ($torch_correct of $total)"
else fail "digits/top1_counts_as_torch" "top1 says '$got', torch_accuracy.txt $torch_correct of $total"; fi
# and refuses a label that is not a class, naming the file and the sample
"$BUILD/mknpy" 1 "$work/bad_labels.npy" "$total" >/dev/null
got=$("$BUILD/top1" "$dir/torch_logits.npy" "$work/bad_labels.npy" 2>&1); rc=$?
want="$work/bad_labels.npy: label 0 is 0.13312304, not a class in [0, 10)"
if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then pass "digits/top1_bad_label"
else fail "digits/top1_bad_label" "exit $rc, '$got', expected exit 1, '$want'"; fi

# build NAME ARGS...: generates the network at --batch $total with ARGS into
# $work/NAME, compiles it with the strict flags under ASan and UBSan, runs it
# on the held-out images into $work/NAME.npy; prints why on failure
build() {
  local name=$1; shift
  if ! $SPGEN "$dir/sp_digits.lua" --batch "$total" --strict -o "$work/$name" "$@" >/dev/null 2>"$work/err"; then
    echo "spgen: $(head -c 300 "$work/err")"
  elif ! make -s -C "$work/$name" CFLAGS="$STRICT_CFLAGS $SAN_CFLAGS" >"$work/err" 2>&1; then
    echo "build: $(head -c 300 "$work/err")"
  elif ! "$work/$name/sp_digits_run" "$dir/heldout_images.npy" "$work/$name.npy" 2>"$work/err"; then
    echo "run: $(head -c 300 "$work/err")"
  fi
}

# float32: PyTorch's logits within the goldens' tolerance, and the same
# prediction on every image (the smallest top-1 margin PyTorch saw, 0.63, is
# 370 times the tolerance's 1.7e-3), hence PyTorch's accuracy
why=$(build f32)
if [ -n "$why" ]; then fail "digits/float32" "$why"
elif ! cmp=$("$BUILD/npycmp" "$work/f32.npy" "$dir/torch_logits.npy" 1e-4 2>&1); then fail "digits/float32" "$cmp"
elif ! got=$("$BUILD/top1" "$work/f32.npy" "$dir/heldout_labels.npy" "$dir/torch_logits.npy" 2>&1); then
  fail "digits/float32" "top1: $got"
elif [ "$(field correct "$got")" != "$torch_correct" ] || [ "$(field agree "$got")" != "$total" ]; then
  fail "digits/float32" "$got against PyTorch's $torch_correct of $total"
else pass "digits/float32 ($(field correct "$got") of $total as PyTorch; $cmp)"; fi
f32_correct=
if [ -e "$work/f32.npy" ]; then
  f32_correct=$(field correct "$("$BUILD/top1" "$work/f32.npy" "$dir/heldout_labels.npy" 2>/dev/null)")
fi

# int8, both attention forms, calibrated on 200 training images: the int8
# reference's bits on the model file the generator wrote (--dump-int8), top-1
# accuracy within 1 point of float32's, and the logits' SQNR against float32
# at least 28 dB. Measured 30.2 dB (float attention) and 30.4 dB (fixed): an
# error of 1.5 output steps rms (the output's own rounding alone would give
# 44.7 dB); the floor lets that rms grow by 29%. Worse quantization fails it
# where accuracy alone would not: ranges from 8 calibration images give
# 27.5 dB (395 right), ranges 4 times too wide 15.2 dB (392 right, within the
# point), ranges half too narrow 2.3 dB (231 right).
sqnr_floor=28
for attention in float fixed; do
  name=int8_$attention
  why=$(build "$name" --dtype int8 --calibration "$dir/calib.npy" --attention "$attention" --dump-int8 "$work/$name.txt")
  if [ -n "$why" ]; then fail "digits/$name" "$why"; continue; fi
  # on real data too, the kernels give the int8 reference's bits
  if ! "$BUILD/ref_net_q" "$work/$name.txt" "$dir/heldout_images.npy" "$work/${name}_ref.npy" 2>"$work/err"; then
    fail "digits/$name" "reference: $(head -c 300 "$work/err")"; continue
  fi
  if ! cmp=$("$BUILD/npycmp" "$work/$name.npy" "$work/${name}_ref.npy" 0 2>&1); then
    fail "digits/$name" "not bit-exact against build/ref_net_q: $cmp"; continue
  fi
  if [ -z "$f32_correct" ]; then fail "digits/$name" "no float32 logits to compare with"; continue; fi
  if ! got=$("$BUILD/top1" "$work/$name.npy" "$dir/heldout_labels.npy" "$work/f32.npy" 2>&1); then
    fail "digits/$name" "top1: $got"; continue
  fi
  correct=$(field correct "$got") sqnr=$(field sqnr_db "$got")
  diff=$((correct - f32_correct)); diff=${diff#-}
  if [ $((100 * diff)) -gt "$total" ]; then
    fail "digits/$name" "$correct of $total correct, float32 $f32_correct: more than 1 point apart"
  elif ! awk -v s="$sqnr" -v f="$sqnr_floor" 'BEGIN { exit !(s >= f) }'; then
    fail "digits/$name" "SQNR against float32 $sqnr dB < $sqnr_floor dB"
  else pass "digits/$name ($correct of $total, float32 $f32_correct; SQNR against float32 $sqnr dB >= $sqnr_floor; bit-exact against build/ref_net_q)"; fi
done
