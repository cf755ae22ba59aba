#!/usr/bin/env bash
# The spec sandbox: a spec reaches nothing but the DSL and the safe parts of
# string/table/math, cannot loop forever or exhaust memory, and every attempt
# ends with exit 1 and a message at the spec's line.
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-sandbox.XXXXXX")
trap 'rm -rf "$work"' EXIT

# check NAME REGEX: $work/NAME.lua must fail with REGEX (timeout: a safeguard, not a limit)
check() {
  local name=$1 regex=$2
  timeout 60 $SPGEN "$work/$name.lua" -o "$work/out" >/dev/null 2>"$work/err"
  local rc=$? err; err=$(head -c 300 "$work/err")
  if [ $rc -ne 1 ]; then fail "sandbox/$name" "exit $rc: $err"
  elif ! grep -Eq -- "$regex" "$work/err"; then fail "sandbox/$name" "'$err' does not match /$regex/"
  elif [ -e "$work/out" ] || [ -e "$work/pwned" ]; then fail "sandbox/$name" "left files behind"
  else pass "sandbox/$name"; fi
}

# attempt NAME REGEX LUA: a spec whose line 2 is LUA
attempt() {
  printf 'local net = network { name = "t", input = { 8, 4, 4 } }\n%s\nreturn output(spconv(net.input, { out = 8 }))\n' \
    "$3" > "$work/$1.lua"
  check "$1" "$2"
}

attempt os "os.lua:2: unknown name 'os'" 'os.execute("touch '"$work"'/pwned")'
attempt io "io.lua:2: unknown name 'io'" 'io.open("'"$work"'/pwned", "w")'
attempt require "require.lua:2: unknown name 'require'" 'require("os")'
attempt load "load.lua:2: unknown name 'load'" 'load("return 1")()'
attempt loadstring "loadstring.lua:2: unknown name 'loadstring'" 'loadstring("return 1")()'
attempt dofile "dofile.lua:2: unknown name 'dofile'" 'dofile("/etc/passwd")'
attempt debug "debug.lua:2: unknown name 'debug'" 'debug.sethook()'
attempt package "package.lua:2: unknown name 'package'" 'package.loadlib("libc.so.6", "system")'
attempt collectgarbage "collectgarbage.lua:2: unknown name 'collectgarbage'" 'collectgarbage("stop")'
attempt coroutine "coroutine.lua:2: unknown name 'coroutine'" 'coroutine.wrap(function() end)()'
attempt getmetatable "getmetatable.lua:2: unknown name 'getmetatable'" 'getmetatable("").__index.dump = nil'
attempt string_dump "string_dump.lua:2: attempt to call a nil value" 'local f = string.dump(function() end)'
attempt string_method_dump "string_method_dump.lua:2: attempt to call a nil value" 'local f = ("x"):dump()'
attempt getfenv "getfenv.lua:2: unknown name 'getfenv'" 'local e = getfenv(1)'
attempt rawget_env "rawget_env.lua:2: attempt to index a nil value" 'local o = rawget(_ENV, "os").execute'
attempt name_newline "name_newline.lua:2: spconv: name 'a" 'local y = spconv(net.input, { out = 8, name = "a\n#include <stdlib.h>" })'
attempt network_twice "network_twice.lua:2: network: called twice" 'network { name = "x", input = { 8, 4, 4 } }'
attempt global_table "global_table.lua:2: unknown name '_G'" 'local g = _G.os'
attempt env_table "env_table.lua:2: unknown name 'os'" 'local o = _ENV.os'
attempt math_random "math_random.lua:2: attempt to call a nil value" 'local r = math.random()'
attempt gc_metamethod "gc_metamethod.lua:2: setmetatable: __gc is not allowed" 'setmetatable({}, { __gc = function() while true do end end })'
printf '\x1bLua\x54\x00' > "$work/bytecode.lua"
check bytecode "attempt to load a binary chunk"
attempt infinite_loop "infinite_loop.lua:2: spec exceeded the instruction budget" 'while true do end'
attempt loop_in_pcall "loop_in_pcall.lua:2: spec exceeded the instruction budget" \
  'while true do pcall(function() while true do end end) end'
attempt pattern_blowup "pattern_blowup.lua: spec ran past its limit of 5 s of CPU time" \
  'local r = string.rep("a", 100000):find(".-.-.-.-.-.-b")'
attempt memory "memory.lua: spec exceeded the memory limit" 'local s = string.rep("x", 1 << 30)'
attempt memory_tables "memory_tables.lua: spec exceeded the memory limit" 'local t = {} for i = 1, 1e8 do t[i] = { string.rep("x", 4096) .. i } end'

# ---- hardening, issue 20 (items 1, 2, 8): no spec code runs outside the limits;
# the DSL reads spec tables raw and once; every message names the spec's line.
# refused_exactly NAME MESSAGE: $work/NAME.lua fails within 20 s with exit 1, exactly
# MESSAGE (one line, $work/ in front) on stderr, and writes nothing.
refused_exactly() {
  local name=$1 want="$work/$2"
  rm -rf "$work/out"
  timeout 20 $SPGEN "$work/$name.lua" -o "$work/out" >/dev/null 2>"$work/err"
  local rc=$? got; got=$(head -c 600 "$work/err")
  if [ $rc -eq 124 ]; then fail "sandbox/$name" "no answer in 20 s"
  elif [ $rc -ne 1 ]; then fail "sandbox/$name" "exit $rc: $got"
  elif [ "$got" != "$want" ]; then fail "sandbox/$name" "'$got', expected '$want'"
  elif [ -e "$work/out" ] || [ -e "$work/pwned" ]; then fail "sandbox/$name" "left files behind"
  else pass "sandbox/$name"; fi
}
# hostile_spec NAME MESSAGE LINES...: a spec of HEAD and LINES (line 2 on), checked by refused_exactly
hostile_spec() {
  local name=$1 want=$2; shift 2
  printf '%s\n' 'local net = network { name = "t", input = { 8, 6, 6 } }' "$@" > "$work/$name.lua"
  refused_exactly "$name" "$want"
}
LOOP='setmetatable({}, { __tostring = function() while true do end end })'
HUGE='setmetatable({}, { __tostring = function() return string.rep("x", 1 << 30) end })'
NOT_MESSAGE='the spec raised an error value of type'

# 1. an error value that is not a string is never converted (its __tostring
# would run after the limits end): a fixed message at the spec's line
hostile_spec error_tostring_loop "error_tostring_loop.lua:2: $NOT_MESSAGE table, not a message string" "error($LOOP)"
hostile_spec error_tostring_huge "error_tostring_huge.lua:2: $NOT_MESSAGE table, not a message string" "error($HUGE)"
hostile_spec error_table "error_table.lua:2: $NOT_MESSAGE table, not a message string" 'error({})'
hostile_spec error_number "error_number.lua:2: $NOT_MESSAGE number, not a message string" 'error(42)'
hostile_spec error_nil "error_nil.lua:2: $NOT_MESSAGE nil, not a message string" 'error()'
hostile_spec assert_table "assert_table.lua:3: $NOT_MESSAGE table, not a message string" \
  'local x = relu(net.input)' "assert(false, $LOOP)"
hostile_spec error_caught_rethrown "error_caught_rethrown.lua:3: $NOT_MESSAGE table, not a message string" \
  "local ok, e = pcall(error, $LOOP)" 'error(e)'
hostile_spec error_in_close "error_in_close.lua:2: $NOT_MESSAGE table, not a message string" \
  'local guard <close> = setmetatable({}, { __close = function() error({}) end })' 'return output(relu(net.input))'
hostile_spec error_in_function "error_in_function.lua:2: $NOT_MESSAGE function, not a message string" \
  'local function f() error(f) end' 'f()'
# what the spec returns is not inspected beyond identity: none of its metamethods runs
hostile_spec return_metamethods "return_metamethods.lua:2: the spec must return output(x)" \
  'local y = output(relu(net.input))' \
  'local loop = function() while true do end end' \
  'return setmetatable({}, { __eq = loop, __index = loop, __tostring = loop, __len = loop, __concat = loop, __name = "x" })'
# the DSL shows a value that is not a string or number by its type, never by tostring
hostile_spec option_value_tostring "option_value_tostring.lua:2: spconv: option 'name' must be string, got a table" \
  "local y = spconv(net.input, { out = 8, name = $LOOP })"
hostile_spec option_key_tostring "option_key_tostring.lua:2: spconv: unknown option 'a table'" \
  "local y = spconv(net.input, { out = 8, [$LOOP] = 1 })"
hostile_spec global_key_tostring "global_key_tostring.lua:2: unknown name 'a table'" "local v = _ENV[$LOOP]"
hostile_spec tensor_key_tostring "tensor_key_tostring.lua:2: a tensor has no field 'a table' (it has channels, height, width)" \
  "local v = net.input[$LOOP]"
hostile_spec import_name_tostring "import_name_tostring.lua:2: import: the name must be a plain identifier (a file beside the spec), got a table" \
  "local lib = import($HUGE)"
printf 'local net = network { name = "t", input = { 8, 6, %s } }\n' "$LOOP" > "$work/input_tostring.lua"
refused_exactly input_tostring "input_tostring.lua:1: network: input[3] must be an integer from 1 to 1048576, got a table"

# 2. sizes and options are read raw, once, into a copy: metamethods of the
# spec's tables are never asked (this __index says 8, then -5)
SHIFTY='local reads = 0
local function shifty() reads = reads + 1 return reads <= 12 and 8 or -5 end'
printf '%s\nlocal net = network { name = "t", input = setmetatable({}, { __index = shifty, __len = function() return 3 end }) }\nreturn output(relu(net.input))\n' \
  "$SHIFTY" > "$work/input_index.lua"
refused_exactly input_index "input_index.lua:3: network: input must be { C, H, W }"
printf '%s\nlocal net = network { name = "t", input = setmetatable({ 8, 6 }, { __index = shifty, __len = function() return 3 end }) }\nreturn output(relu(net.input))\n' \
  "$SHIFTY" > "$work/input_index_partial.lua"
refused_exactly input_index_partial "input_index_partial.lua:3: network: input must be { C, H, W }"
printf '%s\nlocal net = network(setmetatable({ input = { 8, 6, 6 } }, { __index = function() return "t" end }))\n' \
  "$SHIFTY" > "$work/network_index.lua"
refused_exactly network_index "network_index.lua:3: network: option 'name' is required"
hostile_spec option_index "option_index.lua:4: conv2d: option 'out' is required" \
  "$SHIFTY" 'local y = conv2d(net.input, setmetatable({}, { __index = shifty }))'
hostile_spec option_pairs "option_pairs.lua:3: reached 8" \
  'local y = conv2d(net.input, setmetatable({ out = 8 }, { __pairs = function() error("__pairs ran") end }))' \
  'error("reached " .. y.channels)'
# raw entries work whatever the metatable says: exit 0, the header has the raw sizes
printf '%s\n' 'local net = network { name = "t", input = setmetatable({ 8, 6, 6 }, { __index = function() return -5 end, __len = function() return 7 end }) }' \
  'return output(relu(net.input))' > "$work/input_raw.lua"
if timeout 20 $SPGEN "$work/input_raw.lua" -o "$work/raw" >/dev/null 2>"$work/err" \
   && grep -q '^#define T_IN_C 8$' "$work/raw/t.h" && grep -q '^#define T_IN_SIZE 288 ' "$work/raw/t.h"; then
  pass "sandbox/input_raw"
else fail "sandbox/input_raw" "$(head -c 300 "$work/err")"; fi
rm -rf "$work/raw"

# 8. refusals name the spec's line, not the generator's
hostile_spec setmetatable_tensor "setmetatable_tensor.lua:2: setmetatable: tensors are read-only" 'setmetatable(net.input, {})'
hostile_spec setmetatable_protected "setmetatable_protected.lua:3: setmetatable: the table's metatable is protected" \
  'local t = setmetatable({}, { __metatable = "locked" })' 'setmetatable(t, {})'
hostile_spec setmetatable_number "setmetatable_number.lua:2: setmetatable: the first argument must be a table, got number" 'setmetatable(5, {})'
hostile_spec setmetatable_bad_mt "setmetatable_bad_mt.lua:2: setmetatable: the metatable must be a table or nil, got string" \
  'setmetatable({}, "x")'
hostile_spec library_error "library_error.lua:2: bad argument #1 to 'rep' (string expected, got no value)" 'local s = string.rep()'
hostile_spec forged_marker "forged_marker.lua:2: forged" 'error("@@forged", 0)'
hostile_spec budget_in_dsl "budget_in_dsl.lua:2: spec exceeded the instruction budget (50 million Lua instructions)" \
  'for i = 1, 1e9 do local c = net.input.channels end'
hostile_spec memory_in_pcall "memory_in_pcall.lua: spec exceeded the memory limit of 256 MiB" \
  'local ok = pcall(string.rep, "x", 1 << 30)' 'error("went on")'
hostile_spec output_tail_call "output_tail_call.lua:3: output: the input is already the network output" \
  'local y = output(relu(net.input))' 'return output(y)'
# a path Lua would shorten ("...") is named in full
long=long_path_that_lua_shortens
mkdir -p "$work/$long"
hostile_spec "$long/runtime" "$long/runtime.lua:2: attempt to perform arithmetic on a nil value" 'local x = nil + 1'
hostile_spec "$long/budget" "$long/budget.lua:2: spec exceeded the instruction budget (50 million Lua instructions)" \
  'while true do end'
printf 'local net = network { name = "t", input = { 8, 6, 6 } }\nlocal x = = 1\n' > "$work/$long/syntax.lua"
refused_exactly "$long/syntax" "$long/syntax.lua:2: unexpected symbol near '='"
# ... also where Lua chose the position: error(message, 2), and a message
# caught and raised again (the spec's, and an imported file's)
hostile_spec "$long/error_level2" "$long/error_level2.lua:3: boom" 'local function f() error("boom", 2) end' 'f()'
hostile_spec "$long/rethrown" "$long/rethrown.lua:2: attempt to perform arithmetic on a nil value" \
  'local ok, e = pcall(function() return nil + 1 end)' 'error(e, 0)'
printf '%s\n' 'local lib = {}' 'function lib.fails() return nil + 1 end' 'function lib.blames() error("boom", 2) end' \
  'return lib' > "$work/$long/shortened_lib.lua"
hostile_spec "$long/import_rethrown" "$long/shortened_lib.lua:2: attempt to perform arithmetic on a nil value" \
  'local lib = import("shortened_lib")' 'local ok, e = pcall(lib.fails)' 'error(e, 0)'
hostile_spec "$long/import_level2" "$long/import_level2.lua:3: boom" 'local lib = import("shortened_lib")' 'lib.blames()'
# two files Lua shortens alike: the shortened name stays, never the other file's
xs=$(printf 'x%.0s' $(seq 70))
printf '%s\n' 'local lib = {}' 'function lib.fails() return nil + 1 end' 'return lib' > "$work/$long/a$xs.lua"
printf '%s\n' 'return {}' > "$work/$long/b$xs.lua"
printf '%s\n' 'local net = network { name = "t", input = { 8, 6, 6 } }' "local a = import(\"a$xs\")" \
  "local b = import(\"b$xs\")" 'local ok, e = pcall(a.fails)' 'error(e, 0)' > "$work/$long/ambiguous.lua"
got=$(timeout 20 $SPGEN "$work/$long/ambiguous.lua" -o "$work/out" 2>&1 >/dev/null)
case $got in
  "...x"*"x.lua:2: attempt to perform arithmetic on a nil value") pass "sandbox/$long/ambiguous" ;;
  *) fail "sandbox/$long/ambiguous" "'$got'" ;;
esac
# ---- end of hardening, issue 20
