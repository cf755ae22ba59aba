#!/usr/bin/env bash
# spgen import on bad models: hand-made ones (build/mkonnx), a truncated and
# a corrupted seed of the fuzz corpus, bad command lines. Each exits with
# the documented code and the exact message and leaves the output directory
# absent; a good model writes exactly NAME.lua and NAME.safetensors.
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-onnx-errors.XXXXXX")
trap 'rm -rf "$work"' EXIT
MKONNX=${MKONNX:-$BUILD/mkonnx}
SEED=tests/fuzz/corpus_onnx/spconv_official_s1_o13.onnx

# refused NAME CODE WANT ARGS...: spgen exits CODE, its stderr is exactly
# WANT, no internal error, and $work/out was not created.
refused() {
  local name=$1 code=$2 want=$3; shift 3
  rm -rf "$work/out"
  timeout 60 $SPGEN "$@" >"$work/stdout" 2>"$work/stderr" </dev/null
  local rc=$? err; err=$(head -c 600 "$work/stderr")
  if [ $rc -ne "$code" ]; then fail "onnx_errors/$name" "exit $rc, expected $code: $err"
  elif [ "$(head -n 1 "$work/stderr")" != "$want" ]; then fail "onnx_errors/$name" "message '$err', expected '$want'"
  elif grep -q "internal error" "$work/stderr"; then fail "onnx_errors/$name" "internal error: $err"
  elif [ -e "$work/out" ]; then fail "onnx_errors/$name" "the output directory was created: $(ls -A "$work/out" | tr '\n' ' ')"
  else pass "onnx_errors/$name"; fi
}
# model NAME KIND ARGS... WANT: a model of KIND from mkonnx, refused with WANT
model() {
  local name=$1 kind=$2 want=$3
  "$MKONNX" "$kind" "$work/$name.onnx" || { fail "onnx_errors/$name" "mkonnx $kind failed"; return; }
  refused "$name" 1 "$want" import "$work/$name.onnx" -o "$work/out"
}

model cycle cycle "$work/cycle.onnx: node 'conv' (Conv) is on a cycle: it depends on its own output"
model undefined undefined "$work/undefined.onnx: node 'conv' (Conv) reads tensor 'nowhere', which no node, initializer or graph input defines"
model bigdims bigdims "$work/bigdims.onnx: tensor 'conv.weight': dimensions past 2^31 elements"
model conv_shape conv_shape "$work/conv_shape.onnx: node 'conv' (Conv): weight shape [2, 3, 3, 3] disagrees with kernel 3x3, 2 input channels and group 1"
model badname badname "$work/badname.onnx: node 1: name 'conv\\x0aos.exit()' is not printable ASCII without quotes (at most 256 characters)"
model unsupported unsupported "$work/unsupported.onnx: node 'relu' (Tanh): Tanh is not supported; spgen imports Conv, BatchNormalization, Relu, Add, MaxPool, AveragePool, GlobalAveragePool, ReduceMean (over H and W), Flatten, Reshape (to (N, -1)), Squeeze (of [N, C, 1, 1]), Gemm, MatMul (+ Add), Softmax, Identity, Dropout, a Pad of zeros around H and W before a Conv or an AveragePool, the option-A shortcut (Slice, Pad), the SPConv pattern, and the shape arithmetic feeding a Reshape"
model dilation dilation "$work/dilation.onnx: node 'conv' (Conv): dilation 2x2 is not supported (only 1)"
model asym_pad asym_pad "$work/asym_pad.onnx: node 'conv' (Conv): asymmetric padding (top 0, left 0, bottom 1, right 1) is not supported: the spec pads all sides alike"
model nan nan "$work/nan.onnx: tensor 'conv.weight' (conv.weight of the spec) holds a non-finite value at index 5"
model deep deep "$work/deep.onnx: messages nested deeper than 32 levels"
model old_opset old_opset "$work/old_opset.onnx: opset 9 is not supported (11 to 17 are: torch.onnx.export(..., opset_version=17))"
model int8 int8 "$work/int8.onnx: tensor 'conv.weight': data type INT8 is not supported (FLOAT, INT64 and INT32 are)"
model external external "$work/external.onnx: tensor 'conv.weight': external data is not supported (save the model with its weights inside: onnx.save_model(model, path, save_as_external_data=False))"

# a committed model cut short, and with its first field's wire type changed
head -c 3000 "$SEED" > "$work/truncated.onnx"
refused truncated 1 "$work/truncated.onnx: not an ONNX model (the protobuf decoder refused it)" import "$work/truncated.onnx" -o "$work/out"
{ printf '\012'; tail -c +2 "$SEED"; } > "$work/wire_type.onnx"
refused wire_type 1 "$work/wire_type.onnx: not an ONNX model (the protobuf decoder refused it)" import "$work/wire_type.onnx" -o "$work/out"
printf 'not protobuf at all\n' > "$work/text.onnx"
refused not_onnx 1 "$work/text.onnx: not an ONNX model (the protobuf decoder refused it)" import "$work/text.onnx" -o "$work/out"
refused missing 1 "$work/nope.onnx: cannot open: No such file or directory" import "$work/nope.onnx" -o "$work/out"
mkfifo "$work/fifo.onnx"
refused fifo 1 "$work/fifo.onnx: not a regular file (it is a FIFO)" import "$work/fifo.onnx" -o "$work/out"
refused bad_name 1 "--name '1net' must be a C identifier of at most 64 characters (not a C keyword or main)" import "$SEED" -o "$work/out" --name 1net

# usage: exit 2
refused usage_no_model 2 "spgen: no model given" import
refused usage_unknown_option 2 "spgen: unknown option: --frob" import "$SEED" --frob
refused usage_two_models 2 "spgen: more than one model given: $SEED" import "$SEED" "$SEED"
refused usage_missing_value 2 "spgen: option needs a value: -o" import "$SEED" -o

# a good model: both files, the SPConv counted, the spec generates
rm -rf "$work/out"
if ! $SPGEN import "$SEED" -o "$work/out" --name sp >"$work/stdout" 2>"$work/stderr"; then
  fail onnx_errors/good "exit $?: $(head -c 300 "$work/stderr")"
elif [ "$(ls "$work/out" | tr '\n' ' ')" != "sp.lua sp.safetensors " ]; then
  fail onnx_errors/good "wrote $(ls -A "$work/out" | tr '\n' ' ')"
elif ! grep -q "1 SPConv recognised" "$work/stdout" || [ "$(grep -c '= spconv(' "$work/out/sp.lua")" != 1 ]; then
  fail onnx_errors/good "the SPConv was not recognised: $(head -n 1 "$work/stdout")"
elif ! $SPGEN "$work/out/sp.lua" -o "$work/gen" --strict >"$work/stdout" 2>"$work/stderr"; then
  fail onnx_errors/good "the imported spec does not generate: $(head -c 300 "$work/stderr")"
else pass onnx_errors/good; fi
