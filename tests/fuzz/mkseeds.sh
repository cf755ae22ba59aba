#!/bin/sh
# Regenerates tests/fuzz/corpus_safetensors/ (the committed seed corpus of
# fuzz_safetensors): a few small valid files written by spgen --dump-weights
# and build/mkfix, a few hand-made ones for the dtypes and header forms those
# tools do not write (F16, BF16, __metadata__, scalars, empty tensors), and a
# few malformed ones. Needs build/spgen and build/mkfix (make build/spgen build/mkfix).
set -eu
cd "$(dirname "$0")/../.."
D=tests/fuzz/corpus_safetensors
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$D"
rm -f "$D"/*

build/spgen specs/spconv_layer.lua --set cin=4 --set out=4 --set size=4 -o "$T/o" \
    --dump-weights "$D/spconv_layer.safetensors"
build/spgen specs/spconv_layer.lua --set cin=4 --set out=2 --set size=4 --set bias=all \
    --set naming=paddle -o "$T/o" --dump-weights "$D/spconv_paddle_all.safetensors"
build/spgen specs/conv_layer.lua --set cin=2 --set out=2 --set size=3 -o "$T/o" \
    --dump-weights "$D/conv_layer.safetensors"
build/mkfix st "$D/mkfix_two.safetensors" a.weight 2x3 v:1,2,3,4,5,6 b 1 c:0.5
build/mkfix st "$D/mkfix_8dims.safetensors" t 1x1x1x1x1x1x2x1 c:-1

# raw FILE HEADER DATA-OCTAL-ESCAPES: the u64 length, the header, the data
raw() {
    n=$(printf '%s' "$2" | wc -c)
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o\\%03o\\%03o\\%03o\\%03o' \
        $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255)) 0 0 0 0)" > "$D/$1"
    printf '%s' "$2" >> "$D/$1"
    printf "$3" >> "$D/$1"
}
# valid, other dtypes and forms
raw f16.safetensors '{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}' \
    '\000\074\000\300\001\000\000\174'
raw bf16.safetensors '{"b":{"dtype":"BF16","shape":[2,1],"data_offsets":[0,4]}}' \
    '\200\077\300\377'
raw metadata.safetensors '{"__metadata__":{"format":"pt","k":"v"},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}' \
    '\000\000\200\077'
raw empty_tensor.safetensors '{"e":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},"f":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}' \
    '\000\074'
raw empty_header.safetensors '{}' ''
raw escapes.safetensors '{"a\u00e9\n\"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' '\000\000\300\177'
# malformed
printf '\010\000\000' > "$D/short.safetensors"
raw bad_json.safetensors '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]' '\000\000\000\000'
raw bad_dtype.safetensors '{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}' '\000\000\000\000\000\000\000\000'
raw bad_span.safetensors '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}' '\000\000\000\000\000\000\000\000'
raw bad_overlap.safetensors '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}' '\000\000\000\000\000\000\000\000'
raw bad_dup.safetensors '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}' '\000\000\000\000\000\000\000\000'
raw bad_bigdims.safetensors '{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}' '\000\000\000\000'
raw bad_negative.safetensors '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,-4]}}' ''
raw bad_nested.safetensors "{\"__metadata__\":$(printf '%070d' 0 | tr 0 '[')1$(printf '%070d' 0 | tr 0 ']')}" ''
raw bad_nul.safetensors '{"a\u0000b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' '\000\000\000\000'
printf '\377\377\377\377\377\377\377\377{}' > "$D/bad_hlen.safetensors"
ls -l "$D"
