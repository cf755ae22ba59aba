#!/usr/bin/env bash
# Bad input: each bad command line, spec and weights file gets the documented
# exit code (2 usage, 1 spec/weights), a message naming the file and line or
# the tensor, and leaves the output directory as it was.
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-errors.XXXXXX")
trap 'rm -rf "$work"' EXIT

# refused NAME SECONDS CODE MATCH WANT SPGEN-ARGS...: spgen exits CODE within
# SECONDS (a hang fails), its stderr matches WANT (MATCH: regex, or exact: the
# whole of it), no internal error, and the output directory $work/out (one
# sentinel file) is untouched. The cases below call it through expect,
# limit_expect and fails_exactly.
refused() {
  local name=$1 seconds=$2 code=$3 match=$4 want=$5; shift 5
  rm -rf "$work/out"; mkdir -p "$work/out"; echo keep > "$work/out/sentinel"
  timeout "$seconds" $SPGEN "$@" >"$work/stdout" 2>"$work/stderr" </dev/null
  local rc=$? err; err=$(head -c 400 "$work/stderr")
  if [ $rc -eq 124 ]; then fail "errors/$name" "no answer within $seconds s"
  elif [ $rc -ne "$code" ]; then fail "errors/$name" "exit $rc, expected $code: $err"
  elif [ "$match" = regex ] && ! grep -Eq -- "$want" "$work/stderr"; then
    fail "errors/$name" "message '$err' does not match /$want/"
  elif [ "$match" = exact ] && [ "$(cat "$work/stderr")" != "$want" ]; then
    fail "errors/$name" "message '$err', expected '$want'"
  elif grep -q "internal error" "$work/stderr"; then fail "errors/$name" "internal error: $err"
  elif [ "$(ls -A "$work/out")" != sentinel ]; then fail "errors/$name" "output directory changed: $(ls -A "$work/out" | tr '\n' ' ')"
  else pass "errors/$name"; fi
}
# expect NAME CODE REGEX SPGEN-ARGS...
expect() { local name=$1 code=$2; shift 2; refused "$name" 60 "$code" regex "$@"; }

# spec NAME: writes the spec body from stdin to $work/NAME.lua
spec() { cat > "$work/$1.lua"; }

HEAD='local net = network { name = "t", input = { 8, 6, 6 } }'
GOOD="$HEAD
local x = spconv(net.input, { out = 8, name = \"sp\" })
return output(x)"
echo "$GOOD" | spec good

# usage errors: exit 2
expect usage_no_spec 2 "no spec given"
expect usage_unknown_option 2 "unknown option: --frobnicate" "$work/good.lua" --frobnicate
expect usage_missing_value 2 "option needs a value: -o" "$work/good.lua" -o
expect usage_bad_target 2 "--target must be c, cuda or all" "$work/good.lua" --target fpga
expect usage_bad_cuda_threads 2 "--cuda-threads needs an integer" "$work/good.lua" --cuda-threads 0
expect usage_bad_cuda_stats 2 "--cuda-stats must be store or kernel" "$work/good.lua" --cuda-stats both
expect usage_bad_cuda_spconv 2 "--cuda-spconv must be tile, map or map-staged" "$work/good.lua" --cuda-spconv warp
expect usage_bad_cuda_channel_tiles 2 "--cuda-channel-tiles must be 1, 2, 4, 8 or 16" "$work/good.lua" --cuda-channel-tiles 3
expect usage_bad_cuda_tile_channels 2 "--cuda-tile-channels must be 1, 2, 4 or 8" "$work/good.lua" --cuda-tile-channels 16
expect usage_bad_simd 2 "--simd must be 0, 4, 8 or 16" "$work/good.lua" --simd 04
expect usage_bad_batch 2 "--batch needs an integer" "$work/good.lua" --batch 0
expect usage_bad_set 2 "--set needs KEY=VALUE" "$work/good.lua" --set ratio
expect usage_two_specs 2 "more than one spec" "$work/good.lua" "$work/good.lua"

# spec errors: exit 1, file:line
expect missing_spec 1 "nope.lua: cannot open" "$work/nope.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8 \nreturn output(x)\n' "$HEAD" | spec syntax
expect syntax 1 "syntax.lua:3: .*expected" "$work/syntax.lua" -o "$work/out"


printf '%s\nlocal x = frob(net.input)\nreturn output(x)\n' "$HEAD" | spec unknown_op
expect unknown_op 1 "unknown_op.lua:2: unknown name 'frob'" "$work/unknown_op.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8, strde = 2 })\nreturn output(x)\n' "$HEAD" | spec unknown_option
expect unknown_option 1 "unknown_option.lua:2: spconv: unknown option 'strde'" "$work/unknown_option.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = "8" })\nreturn output(x)\n' "$HEAD" | spec wrong_type
expect wrong_type 1 "wrong_type.lua:2: spconv: option 'out' must be integer" "$work/wrong_type.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8, ratio = 1.5 })\nreturn output(x)\n' "$HEAD" | spec bad_ratio
expect bad_ratio 1 "bad_ratio.lua:2: spconv: option 'ratio' = 1.5 is outside \(0, 1\)" "$work/bad_ratio.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8, stride = 3 })\nreturn output(x)\n' "$HEAD" | spec bad_stride
expect bad_stride 1 "bad_stride.lua:2: spconv: option 'stride' must be one of 1, 2" "$work/bad_stride.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8, ratio = 0.1 })\nreturn output(x)\n' "$HEAD" | spec empty_split
expect empty_split 1 "empty_split.lua:2: spconv: 8 input channels at ratio 0.1 leave no representative channel" "$work/empty_split.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8, groups = 3 })\nreturn output(x)\n' "$HEAD" | spec groups_r
expect groups_split 1 "groups_r.lua:2: spconv: the 4 representative channels .* not divisible by groups = 3" "$work/groups_r.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 6, groups = 4 })\nreturn output(x)\n' "$HEAD" | spec groups_out
expect groups_out 1 "groups_out.lua:2: spconv: out = 6 is not divisible by groups = 4" "$work/groups_out.lua" -o "$work/out"
printf 'local net = network { name = "t", input = { 8, 7, 6 } }\nlocal x = spconv(net.input, { out = 8, stride = 2 })\nreturn output(x)\n' | spec odd_stride2
expect odd_stride2 1 "odd_stride2.lua:2: spconv: stride 2 needs an even input height and width, got 7x6" "$work/odd_stride2.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8, bn2 = 0 })\nreturn output(x)\n' "$HEAD" | spec bad_bn2
expect bad_bn2 1 "bad_bn2.lua:2: spconv: option 'bn2' must be boolean, got 0" "$work/bad_bn2.lua" -o "$work/out"
printf '%s\nlocal x = maxpool(net.input, { k = 2, count_include_pad = false })\nreturn output(x)\n' "$HEAD" | spec max_count_pad
expect max_count_pad 1 "max_count_pad.lua:2: maxpool: unknown option 'count_include_pad'" "$work/max_count_pad.lua" -o "$work/out"
printf '%s\nlocal x = avgpool(net.input, { k = 2, count_include_pad = 0 })\nreturn output(x)\n' "$HEAD" | spec avg_count_pad
expect avg_count_pad 1 "avg_count_pad.lua:2: avgpool: option 'count_include_pad' must be boolean, got 0" "$work/avg_count_pad.lua" -o "$work/out"
printf 'local x = spconv(nil, { out = 8 })\n' | spec no_network
expect no_network 1 "no_network.lua:1: spconv: call network" "$work/no_network.lua" -o "$work/out"
printf '%s\nlocal x = spconv(42, { out = 8 })\nreturn output(x)\n' "$HEAD" | spec not_tensor
expect not_tensor 1 "not_tensor.lua:2: spconv: first argument must be a tensor, got number" "$work/not_tensor.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8 })\n' "$HEAD" | spec no_output
expect no_output 1 "no_output.lua: the spec never calls output" "$work/no_output.lua" -o "$work/out"
printf 'local net = network { name = "bad-name", input = { 8, 6, 6 } }\n' | spec bad_name
expect bad_net_name 1 "bad_name.lua:1: network: name 'bad-name' must be a C identifier" "$work/bad_name.lua" -o "$work/out"
printf 'local net = network { name = "t", input = { 8, 6 } }\n' | spec bad_input
expect bad_input 1 "bad_input.lua:1: network: input must be" "$work/bad_input.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8, name = "a*/b" })\nreturn output(x)\n' "$HEAD" | spec bad_key
expect bad_layer_name 1 "bad_key.lua:2: spconv: name 'a\*/b' must be" "$work/bad_key.lua" -o "$work/out"
printf '%s\nlocal x = spconv(net.input, { out = 8, name = "a" })\nx = spconv(x, { out = 8, name = "a" })\nreturn output(x)\n' "$HEAD" | spec dup_name
expect duplicate_name 1 "dup_name.lua:3: spconv: name 'a' is already used at .*dup_name.lua:2" "$work/dup_name.lua" -o "$work/out"
printf '%s\nerror("custom failure")\n' "$HEAD" | spec user_error
expect spec_error_call 1 "user_error.lua:2: custom failure" "$work/user_error.lua" -o "$work/out"
printf 'local net = network { name = "t", input = { 4096, 4096, 4096 } }\n' | spec huge
expect huge_tensor 1 "huge.lua:1: network: input of .* is too large" "$work/huge.lua" -o "$work/out"
printf 'local net = network { name = "t", input = { 64, 1024, 1024 }, batch = 16 }\nreturn output(spconv(spconv(net.input, { out = 64 }), { out = 64 }))\n' | spec huge_arena
expect huge_arena 1 "huge_arena.lua:1: the activation arena of .* bytes is past what a 32-bit target can address" "$work/huge_arena.lua" -o "$work/out"
# a configuration the CUDA backend cannot launch: a clean error, nothing written
printf 'local net = network { name = "t", input = { 4, 2, 2 }, batch = 65536 }\nreturn output(spconv(net.input, { out = 2, name = "sp" }))\n' | spec cuda_grid
expect cuda_grid_limit 1 "cuda_grid.lua:2: --target cuda: spconv needs a grid dimension of 65536 blocks, past CUDA's 65535" \
  "$work/cuda_grid.lua" -o "$work/out" --target cuda
printf 'local net = network { name = "big", input = { 16384, 1, 1 } }\nreturn output(linear(net.input, { out = 65536 }))\n' | spec huge_weights
expect huge_weights 1 "huge_weights.lua:2: linear 'linear1': its 1073807360 weights take the network to 1073807360, past the limit of" "$work/huge_weights.lua" -o "$work/out"
printf '%s\nlocal lib = import("../etc/passwd")\n' "$HEAD" | spec import_path
expect import_path 1 "import_path.lua:2: import: the name must be a plain identifier" "$work/import_path.lua" -o "$work/out"
printf '%s\nlocal lib = import("nowhere")\n' "$HEAD" | spec import_missing
expect import_missing 1 "import_missing.lua:2: import: .*nowhere.lua: cannot open" "$work/import_missing.lua" -o "$work/out"
printf 'local me = import("cyc")\nreturn me\n' > "$work/cyc.lua"
printf '%s\nlocal lib = import("cyc")\n' "$HEAD" | spec import_cycle
expect import_cycle 1 "cyc.lua:1 \(from .*import_cycle.lua:2\): import: 'cyc' imports itself" "$work/import_cycle.lua" -o "$work/out"
printf 'return function(x) local y = spconv(x, { out = 8, ratio = 0.1 }) return y end\n' > "$work/badlib.lua"
printf '%s\nlocal f = import("badlib")\nreturn output(f(net.input))\n' "$HEAD" | spec import_error
expect import_error_location 1 "badlib.lua:1 \(from .*import_error.lua:3\): spconv: 8 input channels" "$work/import_error.lua" -o "$work/out"
expect set_bad_value 1 "spconv: option 'ratio' must be number, got abc" specs/spconv_layer.lua --set ratio=abc -o "$work/out"

# weights errors: exit 1, naming the file and the tensor
$SPGEN "$work/good.lua" -o "$work/gen" --dump-weights "$work/good.safetensors" >/dev/null 2>&1
MKFIX=$BUILD/mkfix
$MKFIX st "$work/missing.safetensors" sp.gwc.weight 8x2x3x3 c:0.1 >/dev/null
expect weights_missing_tensor 1 "missing.safetensors: tensor 'sp.pwc.weight' is missing \(needed by spconv 'sp' at .*good.lua:2\)" \
  "$work/good.lua" --weights "$work/missing.safetensors" -o "$work/out"
$MKFIX st "$work/shape.safetensors" sp.gwc.weight 8x4x3x3 c:0.1 >/dev/null
expect weights_wrong_shape 1 "shape.safetensors: tensor 'sp.gwc.weight' has shape \[8, 4, 3, 3\] but spconv 'sp' at .*good.lua:2 needs \[8, 2, 3, 3\]" \
  "$work/good.lua" --weights "$work/shape.safetensors" -o "$work/out"
head -c 100 "$work/good.safetensors" > "$work/trunc.safetensors"
expect weights_truncated 1 "trunc.safetensors: .*header" "$work/good.lua" --weights "$work/trunc.safetensors" -o "$work/out"
size=$(stat -c %s "$work/good.safetensors")
head -c $((size - 4)) "$work/good.safetensors" > "$work/short.safetensors"
expect weights_data_short 1 "short.safetensors: .*tensor '" "$work/good.lua" --weights "$work/short.safetensors" -o "$work/out"
printf 'not a safetensors file' > "$work/junk.safetensors"
expect weights_junk 1 "junk.safetensors: " "$work/good.lua" --weights "$work/junk.safetensors" -o "$work/out"
expect weights_absent 1 "nowhere.safetensors: " "$work/good.lua" --weights "$work/nowhere.safetensors" -o "$work/out"
$MKFIX st "$work/nan.safetensors" sp.gwc.weight 8x2x3x3 c:nan sp.pwc.weight 8x4x1x1 c:0 >/dev/null
expect weights_nan 1 "nan.safetensors: tensor 'sp.gwc.weight' holds a non-finite value" \
  "$work/good.lua" --weights "$work/nan.safetensors" -o "$work/out"

# extra tensors: a warning, or an error with --strict
printf '%s\nlocal x = spconv(net.input, { out = 8, name = "sp" })\nx = spconv(x, { out = 8, name = "sp2" })\nreturn output(x)\n' \
  "$HEAD" | spec two
$SPGEN "$work/two.lua" -o "$work/gen" --dump-weights "$work/two.safetensors" >/dev/null 2>&1
if $SPGEN "$work/good.lua" -o "$work/gen" --weights "$work/two.safetensors" 2>"$work/stderr" >/dev/null \
   && grep -q "two.safetensors: warning: 12 tensor(s) not used by the spec, first 'sp2.bn1.bias'" "$work/stderr"; then
  pass "errors/extra_tensors_warn"
else fail "errors/extra_tensors_warn" "$(head -c 300 "$work/stderr")"; fi
expect extra_tensors_strict 1 "two.safetensors: 12 tensor\(s\) not used by the spec, first 'sp2.bn1.bias' \(--strict\)" \
  "$work/good.lua" --weights "$work/two.safetensors" --strict -o "$work/out"

# the output directory is replaced only on success, and only our files change
rm -rf "$work/out"; mkdir -p "$work/out"; echo keep > "$work/out/sentinel"
if $SPGEN "$work/good.lua" -o "$work/out" >/dev/null 2>&1 && [ -f "$work/out/sentinel" ] && [ -f "$work/out/t.c" ] \
   && [ -z "$(ls -A "$work/out" | grep -F .spgen-)" ]; then pass "errors/success_keeps_other_files"
else fail "errors/success_keeps_other_files" "$(ls -A "$work/out" | tr '\n' ' ')"; fi
if $SPGEN "$work/bad_ratio.lua" -o "$work/fresh/sub" >/dev/null 2>&1 || [ -e "$work/fresh" ]; then
  fail "errors/failure_creates_no_directory" "$work/fresh exists"
else pass "errors/failure_creates_no_directory"; fi

# ---- limits, and the files spgen reads (issue 20: items 5, 6 and --weights of 8) ----
# Each case: exit 1 within a bound (a hang fails), stderr exactly the one line
# given, the output directory untouched. The limits are in
# gen/lua/spgen/limits.lua and gen/safetensors.h.
lim=$work/lim
mkdir -p "$lim/sub" "$lim/elsewhere"
# limit_expect NAME SECONDS MESSAGE SPGEN-ARGS...: exit 1, exactly MESSAGE
limit_expect() {
  local name=$1 seconds=$2 message=$3; shift 3
  refused "$name" "$seconds" 1 exact "$message" "$@" -o "$work/out"
}
# limit_ok NAME SECONDS SPGEN-ARGS...: generates, within the bound
limit_ok() {
  local name=$1 seconds=$2; shift 2
  rm -rf "$work/ok"
  timeout "$seconds" $SPGEN "$@" -o "$work/ok" >/dev/null 2>"$work/stderr" </dev/null
  local rc=$?
  if [ $rc -eq 124 ]; then fail "errors/$name" "no answer within $seconds s"
  elif [ $rc -ne 0 ] || [ ! -f "$work/ok/t.c" ]; then fail "errors/$name" "exit $rc: $(head -c 300 "$work/stderr")"
  else pass "errors/$name"; fi
}
# st_header PATH: a safetensors file whose header is stdin (its length field
# written little-endian) and whose data section is empty
st_header() {
  local header; header=$(cat)
  local n=${#header} len="" i
  for i in 0 1 2 3 4 5 6 7; do len+=$(printf '\\%03o' $(( (n >> (8 * i)) & 255 ))); done
  { printf "$len"; printf '%s' "$header"; } > "$1"
}

# Layers: a chain, and a fan of branches summed (the memory planner's worst
# case), at the limit of 2048 operations generate in seconds; one more is
# refused at the line that declares it, before any pass runs.
printf '%s\n' 'local net = network { name = "t", input = { 1, 4, 4 } }' 'local x = net.input' \
  'for i = 1, args.n do x = conv2d(x, { out = 1 }) end' 'return output(x)' > "$lim/chain.lua"
printf '%s\n' 'local net = network { name = "t", input = { 1, 4, 4 } }' 'local branch = {}' \
  'for i = 1, args.n do branch[i] = conv2d(net.input, { out = 1 }) end' 'local x = branch[1]' \
  'for i = 2, args.n do x = add(x, branch[i]) end' 'return output(relu(x))' > "$lim/fan.lua"
limit_ok limit_chain_at_limit 60 "$lim/chain.lua" --set n=2048
limit_ok limit_fan_at_limit 60 "$lim/fan.lua" --set n=1024
limit_expect limit_chain_past 30 "$lim/chain.lua:3: conv2d: the spec declares more than 2048 operations (the limit)" \
  "$lim/chain.lua" --set n=2049
limit_expect limit_chain_far_past 30 "$lim/chain.lua:3: conv2d: the spec declares more than 2048 operations (the limit)" \
  "$lim/chain.lua" --set n=100000
limit_expect limit_fan_past 30 "$lim/fan.lua:5: add: the spec declares more than 2048 operations (the limit)" \
  "$lim/fan.lua" --set n=1025

# Weights: counted as each layer is declared, so a layer asking for 128M
# seeded weights is refused at once, alone or as the one that passes the sum.
printf '%s\n' 'local net = network { name = "t", input = { 128, 1, 1 } }' \
  'return output(linear(net.input, { out = 1 << 20 }))' > "$lim/wide.lua"
limit_expect limit_weights_one_layer 10 \
  "$lim/wide.lua:2: linear 'linear1': its 135266304 weights take the network to 135266304, past the limit of 67108864 (256 MiB as float32)" \
  "$lim/wide.lua"
printf '%s\n' 'local net = network { name = "t", input = { 4096, 1, 1 } }' 'local x = net.input' \
  'for i = 1, 5 do x = linear(x, { out = 4096, bias = false, name = "fc" .. i }) end' 'return output(x)' > "$lim/deep.lua"
limit_expect limit_weights_sum 10 \
  "$lim/deep.lua:3: linear 'fc5': its 16777216 weights take the network to 83886080, past the limit of 67108864 (256 MiB as float32)" \
  "$lim/deep.lua"
printf '%s\n' 'local net = network { name = "t", input = { 4096, 8, 8 } }' \
  'return output(conv2d(net.input, { out = 2048, k = 3 }))' > "$lim/conv.lua"
limit_expect limit_weights_conv 10 \
  "$lim/conv.lua:2: conv2d 'conv2d1': its 75497472 weights take the network to 75497472, past the limit of 67108864 (256 MiB as float32)" \
  "$lim/conv.lua"

# Spec files: at most 4 MiB, the spec and each import.
{ echo "$HEAD"; head -c 4194304 /dev/zero | tr '\0' ' '; } > "$lim/long.lua"
limit_expect limit_spec_bytes 10 "$lim/long.lua: 4194360 bytes, past the limit of 4 MiB for a spec file" "$lim/long.lua"
head -c 4194305 /dev/zero | tr '\0' ' ' > "$lim/longlib.lua"
printf '%s\nlocal lib = import("longlib")\n' "$HEAD" > "$lim/import_long.lua"
limit_expect limit_import_bytes 10 \
  "$lim/import_long.lua:2: import: $lim/longlib.lua: 4194305 bytes, past the limit of 4 MiB for a spec file" "$lim/import_long.lua"

# Weights headers: too many tensors, too many JSON values (refused while
# parsing), too long (refused before reading it).
{ printf '{'; seq 0 65536 | awk '{ printf "%s\"t%d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}", (NR > 1 ? "," : ""), $1 }'
  printf '}'; } | st_header "$lim/many.safetensors"
limit_expect limit_header_tensors 30 "$lim/many.safetensors: the header lists 65537 tensors, past the limit of 65536" \
  "$work/good.lua" --weights "$lim/many.safetensors"
{ printf '{"a":{"dtype":"F32","data_offsets":[0,0],"shape":[0'; yes ,0 | head -n 1100000 | tr -d '\n'; printf ']}}'; } \
  | st_header "$lim/values.safetensors"
limit_expect limit_header_values 30 \
  "$lim/values.safetensors: the header holds more than 1048576 JSON values, more than 65536 tensors can need" \
  "$work/good.lua" --weights "$lim/values.safetensors"
printf '\010\000\000\001\000\000\000\000{}' > "$lim/long_header.safetensors" # a header of 16 MiB + 8 bytes
truncate -s $(( 8 + (16 << 20) + 8 )) "$lim/long_header.safetensors"
limit_expect limit_header_bytes 10 "$lim/long_header.safetensors: the header is longer than the limit of 16 MiB" \
  "$work/good.lua" --weights "$lim/long_header.safetensors"

# Files a spec names: relative to its directory and inside its tree, symlinks
# resolved. Every file read (spec, import, weights from the spec or from
# --weights) must be a regular file, and is never waited on. A file that is
# not a safetensors file is refused without quoting its bytes.
weights_spec() { # NAME WEIGHTS: $lim/NAME.lua, naming that weights file
  printf 'local net = network { name = "t", input = { 8, 6, 6 }, weights = "%s" }\nreturn output(spconv(net.input, { out = 8, name = "sp" }))\n' \
    "$2" > "$lim/$1.lua"
}
for case in "absolute /etc/passwd" "stdin /dev/stdin" "parent ../good.safetensors" "inner_parent sub/../w.safetensors" \
            "parent_only .."; do
  read -r name path <<< "$case"
  weights_spec "$name" "$path"
  limit_expect "files_weights_$name" 10 \
    "$lim/$name.lua:1: network: weights '$path' must be a path inside the spec's directory (relative, without '..')" "$lim/$name.lua"
done
ln -s /etc/passwd "$lim/passwd.safetensors"
weights_spec link_out passwd.safetensors
limit_expect files_weights_symlink_out 10 \
  "$lim/link_out.lua:1: network: weights 'passwd.safetensors': outside the spec's directory (symlinks resolved)" "$lim/link_out.lua"
ln -s ../../good.safetensors "$lim/sub/up.safetensors"
weights_spec link_up sub/up.safetensors
limit_expect files_weights_symlink_up 10 \
  "$lim/link_up.lua:1: network: weights 'sub/up.safetensors': outside the spec's directory (symlinks resolved)" "$lim/link_up.lua"
cp "$work/good.safetensors" "$lim/sub/w.safetensors"
ln -s w.safetensors "$lim/sub/alias.safetensors"
weights_spec inside sub/alias.safetensors
limit_ok files_weights_symlink_inside 30 "$lim/inside.lua"
weights_spec directory sub
limit_expect files_weights_directory 10 "$lim/directory.lua:1: network: weights 'sub': not a regular file (it is a directory)" \
  "$lim/directory.lua"
mkfifo "$lim/pipe.safetensors" "$lim/pipe.lua" "$lim/elsewhere/pipe.safetensors"
weights_spec fifo pipe.safetensors
limit_expect files_weights_fifo 10 "$lim/fifo.lua:1: network: weights 'pipe.safetensors': not a regular file (it is a FIFO)" \
  "$lim/fifo.lua"
printf '%s\nlocal lib = import("pipe")\n' "$HEAD" > "$lim/import_fifo.lua"
limit_expect files_import_fifo 10 "$lim/import_fifo.lua:2: import: $lim/pipe.lua: not a regular file (it is a FIFO)" "$lim/import_fifo.lua"
ln -s /etc/passwd "$lim/escape.lua"
printf '%s\nlocal lib = import("escape")\n' "$HEAD" > "$lim/import_escape.lua"
limit_expect files_import_symlink_out 10 \
  "$lim/import_escape.lua:2: import: $lim/escape.lua: outside the spec's directory (symlinks resolved)" "$lim/import_escape.lua"
limit_expect files_spec_fifo 10 "$lim/pipe.lua: not a regular file (it is a FIFO)" "$lim/pipe.lua"
limit_expect files_spec_directory 10 "$lim/sub: not a regular file (it is a directory)" "$lim/sub"
# --weights is the user's own choice: anywhere, but a regular file all the same
limit_expect files_cmdline_fifo 10 "$lim/elsewhere/pipe.safetensors: not a regular file (it is a FIFO)" \
  "$work/good.lua" --weights "$lim/elsewhere/pipe.safetensors"
limit_expect files_cmdline_dev_zero 10 "/dev/zero: not a regular file (it is a character device)" \
  "$work/good.lua" --weights /dev/zero
cp "$work/good.safetensors" "$lim/elsewhere/w.safetensors"
limit_ok files_cmdline_elsewhere 30 "$lim/inside.lua" --weights "$lim/elsewhere/w.safetensors"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$lim/text.safetensors" # its first 8 bytes read as 3475222254926655346
limit_expect files_cmdline_text 10 \
  "$lim/text.safetensors: not a safetensors file: the header length field exceeds the file size (32 bytes)" \
  "$work/good.lua" --weights "$lim/text.safetensors"
weights_spec text text.safetensors
limit_expect files_weights_text 10 \
  "$lim/text.lua:1: network: weights 'text.safetensors': not a safetensors file: the header length field exceeds the file size (32 bytes)" \
  "$lim/text.lua"
weights_spec missing missing.safetensors
limit_expect files_weights_missing 10 \
  "$lim/missing.lua:1: network: weights 'missing.safetensors': cannot open: No such file or directory" "$lim/missing.lua"
# a link to a FIFO outside the tree is refused before it is opened: a writer
# waiting on that FIFO is not released and runs out its time
mkfifo "$work/outside.fifo"
ln -s ../outside.fifo "$lim/fifo_out.safetensors"
weights_spec link_fifo_out fifo_out.safetensors
timeout 4 sh -c 'exec 3>"$1"' sh "$work/outside.fifo" & writer=$!
sleep 1 # the writer is waiting in its open
limit_expect files_weights_symlink_fifo_out 10 \
  "$lim/link_fifo_out.lua:1: network: weights 'fifo_out.safetensors': outside the spec's directory (symlinks resolved)" \
  "$lim/link_fifo_out.lua"
wait $writer; rc=$?
if [ $rc -eq 124 ]; then pass errors/files_weights_symlink_fifo_out_not_opened
else fail errors/files_weights_symlink_fifo_out_not_opened "the FIFO was opened: its writer ended with exit $rc"; fi
# ---- end of limits and files ----
# ---- hardening, issue 20 (items 3, 4, 8): sizes checked before they are
# formed, spec errors where there were internal errors, parse errors placed.
# fails_exactly NAME MESSAGE [SPGEN-ARGS...]: $work/NAME.lua fails within 20 s with
# exit 1 and exactly MESSAGE ($work/ in front)
fails_exactly() {
  local name=$1 want="$work/$2"; shift 2
  refused "$name" 20 1 exact "$want" "$work/$name.lua" -o "$work/out" "$@"
}
# repeat_text TEXT N: TEXT N times
repeat_text() { local i; for ((i = 0; i < $2; i++)); do printf '%s' "$1"; done; }

# 3. size products that would wrap around 2^64 (to 0 elements, or past the
# weight total's check) are refused at the spec's line
printf 'local net = network { name = "t", input = { 1 << 20, 1 << 20, 1 << 20 }, batch = 16 }\nreturn output(relu(net.input))\n' | spec wrap_input
fails_exactly wrap_input "wrap_input.lua:1: network: input of 16 x 1048576 x 1048576 x 1048576 elements is too large (the limit is 2^31)"
printf 'local net = network { name = "t", input = { 1 << 20, 1 << 20, 1 << 8 }, batch = 65536 }\nreturn output(relu(net.input))\n' | spec wrap_input_batch
fails_exactly wrap_input_batch "wrap_input_batch.lua:1: network: input of 65536 x 1048576 x 1048576 x 256 elements is too large (the limit is 2^31)"
printf 'local net = network { name = "t", input = { 1, 32768, 65535 } }\nreturn output(conv2d(net.input, { out = 65536, k = 1 }))\n' | spec wide_layer
fails_exactly wide_layer "wide_layer.lua:2: conv2d output of 1 x 65536x32768x65535 elements is past 2^31"
# --batch can take a tensor past 2^31 after the spec's checks: named, at its line
printf 'local net = network { name = "t", input = { 1024, 256, 256 } }\nreturn output(relu(net.input))\n' | spec batch_input
fails_exactly batch_input "batch_input.lua:1: the network input of 65536 x 1024x256x256 = 4398046511104 elements is past 2^31" \
  --batch 65536
printf 'local net = network { name = "t", input = { 1, 256, 256 } }\nreturn output(relu(conv2d(net.input, { out = 64 })))\n' | spec batch_layer
fails_exactly batch_layer "batch_layer.lua:2: conv2d output of 1024 x 64x256x256 = 4294967296 elements is past 2^31" --batch 1024
printf 'local net = network { name = "t", input = { 2048, 1, 1 } }\nreturn output(linear(net.input, { out = 1 << 20 }))\n' | spec wide_weight
fails_exactly wide_weight "wide_weight.lua:2: linear: weight 'linear1.weight' of shape [1048576, 2048] has 2^31 elements or more"
# 2^14 layers of 2^50 weights each: their total wraps to 0
printf 'local net = network { name = "t", input = { 1 << 20, 1 << 10, 1 } }\nlocal flat = flatten(net.input)\nfor i = 1, 1 << 14 do linear(flat, { out = 1 << 20, bias = false }) end\nreturn output(flat)\n' | spec wrap_weights
fails_exactly wrap_weights "wrap_weights.lua:3: linear: weight 'linear1.weight' of shape [1048576, 1073741824] has 2^31 elements or more"

# 4. two layers whose names make the same weight key: both lines named
printf '%s\nlocal b = batchnorm(conv2d(net.input, { out = 16 }), "a.bn1")\nreturn output(spconv(b, { out = 8, name = "a" }))\n' "$HEAD" | spec same_key_bn
fails_exactly same_key_bn "same_key_bn.lua:3: spconv: weight 'a.bn1.weight' is also a weight of batchnorm 'a.bn1' at $work/same_key_bn.lua:2"
printf '%s\nlocal x = conv2d(net.input, { out = 8, name = "a.gwc" })\nreturn output(spconv(x, { out = 8, name = "a" }))\n' "$HEAD" | spec same_key_conv
fails_exactly same_key_conv "same_key_conv.lua:3: spconv: weight 'a.gwc.weight' is also a weight of conv2d 'a.gwc' at $work/same_key_conv.lua:2"
printf '%s\nlocal x = spconv(net.input, { out = 8, name = "a" })\nreturn output(batchnorm(x, { name = "a.bn2" }))\n' "$HEAD" | spec same_key_after
fails_exactly same_key_after "same_key_after.lua:3: batchnorm: weight 'a.bn2.weight' is also a weight of spconv 'a' at $work/same_key_after.lua:2"
printf '%s\nlocal x = spconv(net.input, { out = 8, name = "a" })\nreturn output(linear(flatten(x), { out = 8, name = "a.conv1x1" }))\n' "$HEAD" | spec same_key_linear
fails_exactly same_key_linear "same_key_linear.lua:3: linear: weight 'a.conv1x1.weight' is also a weight of spconv 'a' at $work/same_key_linear.lua:2"
# the parser's nesting limit: a spec error at the line it had reached
NESTED="the code nests too deeply for Lua's parser (C stack overflow)"
printf '%s\nlocal x = %s1%s\nreturn output(relu(net.input))\n' "$HEAD" "$(repeat_text '(' 200)" "$(repeat_text ')' 200)" | spec nested_parens
fails_exactly nested_parens "nested_parens.lua:2: $NESTED"
printf '%s\nlocal x = %s\n%s1%s\n' "$HEAD" "$(repeat_text '(' 150)" "$(repeat_text '(' 100)" "$(repeat_text ')' 250)" | spec nested_lines
fails_exactly nested_lines "nested_lines.lua:3: $NESTED"
printf '%s\n%s\n%s\n' "$HEAD" "$(repeat_text 'do ' 250)" "$(repeat_text 'end ' 250)" | spec nested_blocks
fails_exactly nested_blocks "nested_blocks.lua:2: $NESTED"
printf '%s\nlocal t = %s%s\n' "$HEAD" "$(repeat_text '{' 250)" "$(repeat_text '}' 250)" | spec nested_tables
fails_exactly nested_tables "nested_tables.lua:2: $NESTED"
printf '%s\nlocal x = %s"b"\n' "$HEAD" "$(repeat_text '"a" .. ' 300)" | spec nested_concat
fails_exactly nested_concat "nested_concat.lua:2: $NESTED"
printf 'local x = 1\nlocal y = %s1%s\n' "$(repeat_text '(' 200)" "$(repeat_text ')' 200)" > "$work/deeplib.lua"
printf '%s\nlocal lib = import("deeplib")\n' "$HEAD" | spec import_nested
fails_exactly import_nested "deeplib.lua:2 (from $work/import_nested.lua:2): $NESTED"

# 8. an imported file's parse error: its line, and the spec's, no marker
printf 'local x = 1\nlocal y = \n' > "$work/brokenlib.lua"
printf '%s\nlocal lib = import("brokenlib")\n' "$HEAD" | spec import_syntax
fails_exactly import_syntax "brokenlib.lua:3 (from $work/import_syntax.lua:2): unexpected symbol near <eof>"
printf 'local x = 1\nlocal y = nil + x\n' > "$work/faultylib.lua"
printf '%s\nlocal lib = import("faultylib")\n' "$HEAD" | spec import_runtime
fails_exactly import_runtime "faultylib.lua:2 (from $work/import_runtime.lua:2): attempt to perform arithmetic on a nil value"
printf '%s\n%s\n' "$HEAD" 'local x = 1 +' | spec spec_syntax_eof
fails_exactly spec_syntax_eof "spec_syntax_eof.lua:3: unexpected symbol near <eof>"
# ---- end of hardening, issue 20
