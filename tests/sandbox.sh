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
