#!/usr/bin/env bash
# --dtype int8 (docs/int8.md): the calibration file's errors and the
# options int8 needs or excludes (exact message, exit code, nothing written).
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-int8.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat > "$work/net.lua" <<'SPEC'
local net = network { name = "q", input = { 8, 6, 6 } }
return output(relu(spconv(net.input, { out = 8, name = "sp" })))
SPEC

# npy OUT DESCR SHAPE DATA_BYTES: a version-1 .npy header for that dtype and
# shape (text as numpy writes it), then DATA_BYTES zero bytes
npy() {
  local hdr="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  local len=$(( (10 + ${#hdr} + 1 + 63) / 64 * 64 - 10 ))
  { printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
    printf '%-*s\n' $((len - 1)) "$hdr"
    head -c "$4" /dev/zero; } > "$1"
}
# poke FILE DATA_BYTES FLOAT_INDEX BYTES: overwrites float FLOAT_INDEX of the
# data (the file's last DATA_BYTES)
poke() {
  printf "$4" | dd of="$1" bs=1 seek=$(($(stat -c %s "$1") - $2 + 4 * $3)) conv=notrunc status=none
}

# refuses NAME CODE MESSAGE ARGS...: spgen exits CODE with exactly MESSAGE on
# stderr, and neither $work/out nor $work/plan.txt appears
refuses() {
  local name=$1 code=$2 want=$3; shift 3
  rm -rf "$work/out" "$work/plan.txt"
  $SPGEN "$work/net.lua" -o "$work/out" --plan "$work/plan.txt" "$@" >/dev/null 2>"$work/stderr"
  local rc=$? got; got=$(head -c 600 "$work/stderr")
  if [ $rc -ne "$code" ]; then fail "int8/$name" "exit $rc, expected $code: $got"
  elif [ "$code" = 1 ] && [ "$got" != "$want" ]; then fail "int8/$name" "message '$got', expected '$want'"
  elif [ "$code" = 2 ] && [ "$(head -n 1 "$work/stderr")" != "$want" ]; then
    fail "int8/$name" "message '$got', expected '$want' first"
  elif [ -e "$work/out" ] || [ -e "$work/plan.txt" ]; then fail "int8/$name" "something was written"
  else pass "int8/$name"; fi
}

c=$work/calib.npy
"$BUILD/mknpy" 1 "$c" 2 8 6 6
refuses no_calibration 2 "spgen: --dtype int8 needs --calibration CALIB.npy" --dtype int8
refuses calibration_without_int8 2 "spgen: --calibration is only for --dtype int8" --calibration "$c"
refuses simd 2 "spgen: --dtype int8 has portable C only: --simd must be 0" --dtype int8 --calibration "$c" --simd 8
refuses target 2 "spgen: --dtype int8 has the C backend only: --target must be c" --dtype int8 --calibration "$c" --target all
refuses bad_dtype 2 "spgen: --dtype must be float32 or int8: int4" --dtype int4

"$BUILD/mknpy" 1 "$work/shape.npy" 2 8 5 6
refuses shape_mismatch 1 "$work/shape.npy: shape (2, 8, 5, 6) does not match the network input (N, 8, 6, 6)" \
  --dtype int8 --calibration "$work/shape.npy"
"$BUILD/mknpy" 1 "$work/rank.npy" 8 6 6
refuses rank_mismatch 1 "$work/rank.npy: shape (8, 6, 6) does not match the network input (N, 8, 6, 6)" \
  --dtype int8 --calibration "$work/rank.npy"
npy "$work/nan.npy" '<f4' '(2, 8, 6, 6)' $((4 * 576))
poke "$work/nan.npy" $((4 * 576)) $((288 + 2 * 36 + 3 * 6 + 4)) '\x00\x00\xc0\x7f'
refuses nan 1 "$work/nan.npy: sample 1 holds NaN at (2, 3, 4)" --dtype int8 --calibration "$work/nan.npy"
npy "$work/inf.npy" '<f4' '(2, 8, 6, 6)' $((4 * 576))
poke "$work/inf.npy" $((4 * 576)) 5 '\x00\x00\x80\xff'
refuses inf 1 "$work/inf.npy: sample 0 holds Inf at (0, 0, 5)" --dtype int8 --calibration "$work/inf.npy"
: > "$work/empty.npy"
refuses empty_file 1 "$work/empty.npy: empty file" --dtype int8 --calibration "$work/empty.npy"
npy "$work/none.npy" '<f4' '(0, 8, 6, 6)' 0
refuses no_samples 1 "$work/none.npy: empty: shape (0, 8, 6, 6) holds no sample" --dtype int8 --calibration "$work/none.npy"
npy "$work/short.npy" '<f4' '(2, 8, 6, 6)' 1000
refuses truncated 1 "$work/short.npy: truncated: shape (2, 8, 6, 6) needs 2304 bytes of data, the file has 1000" \
  --dtype int8 --calibration "$work/short.npy"
head -c 40 "$work/nan.npy" > "$work/cut.npy"
refuses truncated_header 1 "$work/cut.npy: truncated .npy header" --dtype int8 --calibration "$work/cut.npy"
npy "$work/long.npy" '<f4' '(1, 8, 6, 6)' 1200
refuses trailing 1 "$work/long.npy: 48 bytes past the data of shape (1, 8, 6, 6)" --dtype int8 --calibration "$work/long.npy"
npy "$work/f8.npy" '<f8' '(1, 8, 6, 6)' $((8 * 288))
refuses dtype 1 "$work/f8.npy: dtype must be little-endian float32 ('<f4'), not '<f8'" \
  --dtype int8 --calibration "$work/f8.npy"
echo 'not numpy at all' > "$work/text.npy"
refuses not_npy 1 "$work/text.npy: not a .npy file" --dtype int8 --calibration "$work/text.npy"
refuses missing 1 "$work/nope.npy: cannot open: No such file or directory" --dtype int8 --calibration "$work/nope.npy"
mkfifo "$work/fifo.npy"
refuses fifo 1 "$work/fifo.npy: not a regular file (it is a FIFO)" --dtype int8 --calibration "$work/fifo.npy"
