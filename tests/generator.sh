#!/usr/bin/env bash
# Generator properties: --summary counts, byte-identical output, the static
# memory of one layer, and --batch / --set reaching the spec.
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-gen.XXXXXX")
trap 'rm -rf "$work"' EXIT
L=specs/spconv_layer.lua

# summary NAME EXPECTED-TOTAL-LINE ARGS...
summary() {
  local name=$1 want=$2; shift 2
  local got; got=$($SPGEN $L -o "$work/s" --summary "$@" 2>&1 | grep '^total:')
  if [ "$got" = "$want" ]; then pass "summary/$name"; else fail "summary/$name" "got '$got', want '$want'"; fi
}
# 64 -> 64 at 32x32, a = 1/2, g = 2 (official): GWC 64*16*9 + PWC 64*32 + CONV1x1 64*32 + bias 64
# + bn1, bn2 4*64 = 13632, + trailing BN 128; MACs 1024 * 64 * (144 + 32 + 32).
# arena: the per-sample scratch r*9 + C + 3*Co floats; weights: G Co*r/g*9 + Q Co*C
# + B3, B1, PA, PB 4*Co floats, each array 64-byte aligned
summary default "total: params=13760 macs=13631488 arena_bytes=2176 weight_bytes=54272"
# a = 1/4: r = 16, GWC 64*8*9 + PWC 64*16 + CONV1x1 64*48 + 64 + 256 + 128; MACs 1024*64*(72+16+48)
summary ratio_quarter "total: params=9152 macs=8912896 arena_bytes=1600 weight_bytes=35840" --set ratio=0.25
# stride 2 halves the output: MACs 256*64*208; bias=all adds 128 parameters
summary stride2_all "total: params=13888 macs=3407872 arena_bytes=2176 weight_bytes=54272" --set stride=2 --set bias=all
# the vanilla row: 64*64*9 = 36864 parameters, 1024*64*64*9 MACs
row=$($SPGEN $L -o "$work/s" --summary | grep 'vanilla 3x3')
case "$row" in *36,864*37,748,736*) pass "summary/vanilla_row" ;; *) fail "summary/vanilla_row" "$row" ;; esac

# byte-identical output for the same spec, weights and options
$SPGEN $L -o "$work/a" --set cin=24 --set out=16 --set stride=2 >/dev/null
$SPGEN $L -o "$work/b" --set cin=24 --set out=16 --set stride=2 >/dev/null
if diff -r "$work/a" "$work/b" >/dev/null; then pass "determinism/same_options"; else fail "determinism/same_options" "outputs differ"; fi
$SPGEN $L -o "$work/c" --set cin=24 --set out=16 --set stride=2 --dump-weights "$work/w.safetensors" >/dev/null
$SPGEN $L -o "$work/d" --set cin=24 --set out=16 --set stride=2 --weights "$work/w.safetensors" >/dev/null
if cmp -s "$work/c/spconv_layer_weights.bin" "$work/d/spconv_layer_weights.bin"; then pass "determinism/dumped_weights_reload"
else fail "determinism/dumped_weights_reload" "weights blob differs after a dump and reload"; fi
$SPGEN $L -o "$work/e" --set cin=24 --set out=16 --set stride=2 --set seed=2 >/dev/null
if ! cmp -s "$work/a/spconv_layer_weights.bin" "$work/e/spconv_layer_weights.bin"; then pass "determinism/seed_matters"
else fail "determinism/seed_matters" "seed 2 gave the seed 1 weights"; fi

# independent of the working directory, the spelling of the spec path and the environment
mkdir -p "$work/elsewhere/specs"; cp $L "$work/elsewhere/specs/"
(cd "$work/elsewhere" && env -i PATH="$PATH" LANG=de_DE.UTF-8 LC_ALL=C.UTF-8 TZ=Asia/Tokyo \
  "$OLDPWD/$SPGEN" ./specs/spconv_layer.lua -o "$work/f" --set cin=24 --set out=16 --set stride=2 >/dev/null 2>&1)
if diff -r "$work/a" "$work/f" >/dev/null; then pass "determinism/cwd_path_env"
else fail "determinism/cwd_path_env" "$(diff -r "$work/a" "$work/f" | head -3)"; fi

# one 64 -> 64 layer at 32x32: no buffer the size of a branch map (64*32*32 floats);
# all static memory of the compiled kernel is the planned arena
$SPGEN $L -o "$work/m" >/dev/null
if make -s -C "$work/m" spconv_layer.o CFLAGS="$STRICT_CFLAGS" >/dev/null 2>&1; then
  arena=$(awk '/define SPCONV_LAYER_ARENA_BYTES/ { print $3 }' "$work/m/spconv_layer.h")
  bss=$(size -A "$work/m/spconv_layer.o" | awk '$1 == ".bss" { print $2 }')
  data=$(size -A "$work/m/spconv_layer.o" | awk '$1 == ".data" { print $2 }')
  if [ "${bss:-0}" -le "$arena" ] && [ "${data:-0}" -eq 0 ] && [ "$arena" -lt $((64 * 32 * 32 * 4)) ]; then
    pass "memory/layer_static_bytes (.bss $bss, arena $arena, one branch map $((64 * 32 * 32 * 4)))"
  else fail "memory/layer_static_bytes" ".bss ${bss:-0} .data ${data:-0} arena $arena"; fi
else fail "memory/layer_static_bytes" "compile failed"; fi

# --batch overrides the spec; --set values reach args as numbers
$SPGEN $L -o "$work/n" --batch 3 --set size=10 >/dev/null
if grep -q "define SPCONV_LAYER_IN_SIZE 19200 " "$work/n/spconv_layer.h"; then pass "cli/batch_and_set"
else fail "cli/batch_and_set" "$(grep IN_SIZE "$work/n/spconv_layer.h")"; fi
# default output directory is out/<name>, relative to where spgen runs
(cd "$work" && "$OLDPWD/$SPGEN" "$OLDPWD/$L" >/dev/null 2>&1)
if [ -f "$work/out/spconv_layer/spconv_layer.c" ]; then pass "cli/default_outdir"; else fail "cli/default_outdir" "no out/spconv_layer"; fi

# --help, --version: exit 0, on stdout; --help has a line for every option of the usage line
help=$($SPGEN --help 2>/dev/null); rc=$?
missing=""
for o in $(grep -o '\[-[-a-z0-9]*' <<<"$help" | tr -d '['); do
  grep -Eq "^  (-h, )?$o( |$)" <<<"$help" || missing="$missing $o"
done
if [ $rc -eq 0 ] && [ -z "$missing" ] && grep -q '^usage: spgen SPEC.lua' <<<"$help"; then pass "cli/help"
else fail "cli/help" "exit $rc, no line for:$missing"; fi
version=$($SPGEN --version 2>/dev/null); rc=$?
if [ $rc -eq 0 ] && [[ $version =~ ^spgen\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then pass "cli/version"
else fail "cli/version" "exit $rc: '$version'"; fi
# the defaults --help names are the ones the pipeline gets: spelled out, they change nothing
defaults="target=c simd=0 dtype=float32 attention=float cuda-threads=32768 cuda-channel-tiles=1 cuda-tile-channels=1 cuda-stats=store cuda-spconv=tile"
args=() unnamed=""
flat=$(tr -s ' \n' '  ' <<<"$help")
for d in $defaults; do
  args+=("--${d%%=*}" "${d#*=}")
  grep -Eq -- "--${d%%=*} [^(]*\(default: ${d#*=}\)" <<<"$flat" || unnamed="$unnamed $d"
done
$SPGEN $L -o "$work/implicit" --target all --set size=8 >/dev/null
$SPGEN $L -o "$work/explicit" --set size=8 "${args[@]}" --target all >/dev/null
if [ -z "$unnamed" ] && diff -r "$work/implicit" "$work/explicit" >/dev/null; then pass "cli/defaults"
else fail "cli/defaults" "not in --help:$unnamed; $(diff -rq "$work/implicit" "$work/explicit" | head -2)"; fi

# Every destination is checked before the first write: on failure the output
# directory and the files --plan, --plan-svg and --dump-weights name are as
# they were (the old files of another --set size, so any rewrite shows).
# state DIR...: every path under each DIR with its inode, every file's checksum
state() { local d; for d in "$@"; do (cd "$d" && find . -printf '%y %i %p\n' | sort && find . -type f -exec sha256sum {} + | sort); done; }
old=(-o "$work/old/out" --set size=8 --plan "$work/old/extra/plan.txt" --plan-svg "$work/old/extra/plan.svg"
  --dump-weights "$work/old/extra/w.safetensors")
mkdir -p "$work/old/extra"
$SPGEN $L "${old[@]}" >/dev/null
# untouched NAME MESSAGE ARGS...: a copy of the old outputs in $work/t, then
# spgen ARGS exits 1 with MESSAGE ($work/t for the copy) and changes nothing
untouched() {
  local name=$1 want=${2//@/$work/t}; shift 2
  rm -rf "$work/t"; cp -a "$work/old" "$work/t"
  case $name in # destinations that are not regular files, made here only
    makefile_is_a_directory) rm "$work/t/out/Makefile" && mkdir "$work/t/out/Makefile" ;;
    makefile_is_a_symlink) rm "$work/t/out/Makefile" && ln -s ../extra/plan.txt "$work/t/out/Makefile" ;;
    plan_is_a_fifo) mkfifo "$work/t/extra/fifo" ;;
    plan_is_a_symlink) ln -s plan.txt "$work/t/extra/link" ;;
    plan_is_a_dangling_symlink) ln -s nowhere "$work/t/extra/link" ;;
    plan_is_an_output_through_a_symlink | outdir_dotdot_after_a_new_directory) ln -s out "$work/t/alias" ;;
  esac
  local before; before=$(state "$work/t")
  local err; err=$($SPGEN $L --set size=10 --set seed=2 "${@//@/$work/t}" 2>&1 >/dev/null); local rc=$?
  local after; after=$(state "$work/t")
  if [ "$before" != "$after" ]; then fail "outputs/$name" "changed: $(diff <(echo "$before") <(echo "$after") | head -3)"
  elif [ $rc -ne 1 ] || [ "$err" != "$want" ]; then fail "outputs/$name" "exit $rc: '$err', want '$want'"
  else pass "outputs/$name"; fi
}
all=(-o @/out --plan @/extra/plan.txt --plan-svg @/extra/plan.svg --dump-weights @/extra/w.safetensors)
untouched plan_in_missing_directory "/nonexistent/plan.txt: cannot write: /nonexistent: No such file or directory" \
  "${all[@]}" --plan /nonexistent/plan.txt
untouched plan_svg_in_missing_directory "@/none/plan.svg: cannot write: @/none: No such file or directory" \
  "${all[@]}" --plan-svg @/none/plan.svg
untouched plan_under_a_file "@/extra/plan.txt/p: cannot write: @/extra/plan.txt: not a directory" \
  "${all[@]}" --plan @/extra/plan.txt/p
untouched dump_weights_is_a_directory "@/extra: not a regular file (it is a directory)" "${all[@]}" --dump-weights @/extra
untouched plan_svg_is_a_directory "@/out: not a regular file (it is a directory)" "${all[@]}" --plan-svg @/out
untouched plan_is_a_fifo "@/extra/fifo: not a regular file (it is a FIFO)" "${all[@]}" --plan @/extra/fifo
untouched plan_is_a_symlink "@/extra/link: not a regular file (it is a symbolic link)" "${all[@]}" --plan @/extra/link
untouched plan_is_a_dangling_symlink "@/extra/link: not a regular file (it is a symbolic link)" \
  "${all[@]}" --plan-svg @/extra/link
untouched makefile_is_a_symlink "@/out/Makefile: not a regular file (it is a symbolic link)" "${all[@]}"
untouched plan_names_the_new_output_directory "@/new/out: is the output directory or a directory above it" \
  "${all[@]}" -o @/new/out --dump-weights @/new/out
untouched plan_names_a_new_parent "@/new: is the output directory or a directory above it" \
  "${all[@]}" -o @/new/out --plan @/new
untouched plan_names_the_new_directory_otherwise "@/extra/../new/./out: is the output directory or a directory above it" \
  "${all[@]}" -o @/new/out --plan-svg @/extra/../new/./out
untouched plan_spelled_otherwise_is_an_output "@/out/./Makefile: named for two outputs" "${all[@]}" --plan @/out/./Makefile
untouched plan_is_an_output_through_a_symlink "@/alias/Makefile: named for two outputs" "${all[@]}" --plan @/alias/Makefile
untouched same_file_spelled_twice "@/extra//../extra/plan.txt: named for two outputs" \
  "${all[@]}" --plan-svg @/extra//../extra/plan.txt
untouched plan_names_a_directory "@/extra/: bad file name or path too long" "${all[@]}" --plan @/extra/
# a ".." after a directory still to be created names what only that directory
# could resolve (here alias, a link to out: the plan would overwrite out/Makefile)
untouched outdir_dotdot_after_a_new_directory \
  "@/new/../alias: bad output directory name ('..' after a directory that does not exist)" \
  "${all[@]}" -o @/new/../alias --plan @/out/Makefile
untouched outdir_dotdot_onto_an_existing_directory \
  "@/newx/../extra: bad output directory name ('..' after a directory that does not exist)" \
  "${all[@]}" -o @/newx/../extra
untouched plan_dotdot_after_a_new_directory \
  "@/new2/../extra/p.txt: bad file name or path too long ('..' after a directory that does not exist)" \
  "${all[@]}" --plan @/new2/../extra/p.txt
untouched same_file_twice "@/extra/plan.txt: named for two outputs" "${all[@]}" --plan-svg @/extra/plan.txt
untouched plan_is_an_output "@/out/Makefile: named for two outputs" "${all[@]}" --plan @/out/Makefile
untouched makefile_is_a_directory "@/out/Makefile: not a regular file (it is a directory)" "${all[@]}"
untouched outdir_under_a_file "@/extra/plan.txt/out: cannot write: @/extra/plan.txt: not a directory" \
  "${all[@]}" -o @/extra/plan.txt/out
# nothing created either: not the output directory nor its parents
rm -rf "$work/t"; mkdir "$work/t"
err=$($SPGEN $L -o "$work/t/a/b" --plan /nonexistent/plan.txt 2>&1); rc=$?
if [ $rc -eq 1 ] && [ -z "$(ls -A "$work/t")" ]; then pass "outputs/no_directory_created"
else fail "outputs/no_directory_created" "exit $rc: $err; $(ls -A "$work/t")"; fi
# a failure after some files were written undoes them all: here the weights'
# staging name (.spgen- and six letters added) is a file name past NAME_MAX
rm -rf "$work/t"; cp -a "$work/old" "$work/t"
weights_file="$work/t/extra/$(printf 'w%.0s' {1..250})"
before=$(state "$work/t")
err=$($SPGEN $L --set size=10 --set seed=2 -o "$work/t/new/out" --plan "$work/t/extra/plan.txt" \
  --dump-weights "$weights_file" 2>&1); rc=$?
after=$(state "$work/t")
if [ "$before" != "$after" ]; then fail "outputs/undone_after_a_late_failure" "changed: $(diff <(echo "$before") <(echo "$after") | head -3)"
elif [ $rc -ne 1 ] || [[ $err != "$weights_file.spgen-"??????": cannot write: File name too long" ]]; then
  fail "outputs/undone_after_a_late_failure" "exit $rc: ${err:0:80}...${err: -80}"
else pass "outputs/undone_after_a_late_failure"; fi
# staging names are not predictable: symlinks planted at the names a
# process-id scheme would use (the process id being bash's, which execs
# spgen) are neither followed nor replaced. (The random names themselves
# cannot be planted; their O_EXCL|O_NOFOLLOW creation is gen/outdir.c's
# create_new.)
rm -rf "$work/t"; mkdir -p "$work/t/o"; echo precious > "$work/t/victim"
err=$(bash -c 'for f in p.txt.spgen-tmp-$$ w.st.spgen-tmp-$$ w.st.spgen-tmp-$$.st_write.tmp o/.spgen-tmp-$$; do
    ln -s "$1/victim" "$1/$f"; done; exec '"$SPGEN"' "$2" -o "$1/o" --plan "$1/p.txt" --dump-weights "$1/w.st"' \
  _ "$work/t" "$L" 2>&1); rc=$?
links=$(find "$work/t" -type l | wc -l)
if [ $rc -eq 0 ] && [ "$(cat "$work/t/victim")" = precious ] && [ "$links" = 4 ] && [ -f "$work/t/p.txt" ] &&
  [ ! -L "$work/t/p.txt" ] && [ -f "$work/t/w.st" ] && [ ! -L "$work/t/w.st" ] && [ -f "$work/t/o/Makefile" ]; then
  pass "outputs/planted_symlinks_not_followed"
else fail "outputs/planted_symlinks_not_followed" "exit $rc: $err; victim: $(head -c 40 "$work/t/victim"); $links links"; fi
# the extra files may go into the output directory, or a directory created for it
rm -rf "$work/t"; mkdir "$work/t"
err=$($SPGEN $L -o "$work/t/a/out" --plan "$work/t/a/out/plan.txt" --plan-svg "$work/t/a/plan.svg" \
  --dump-weights "$work/t/a/w.safetensors" 2>&1); rc=$?
if [ $rc -eq 0 ] && [ -s "$work/t/a/out/plan.txt" ] && [ -s "$work/t/a/plan.svg" ] && [ -s "$work/t/a/w.safetensors" ] &&
  [ -z "$(find "$work/t" -name '*.spgen-*')" ]; then pass "outputs/extras_in_new_directories"
else fail "outputs/extras_in_new_directories" "exit $rc: $err; $(find "$work/t" | head -5)"; fi
# on success every file is replaced, as a fresh run writes it, and no temporary file is left
rm -rf "$work/t" "$work/fresh"; cp -a "$work/old" "$work/t"; mkdir -p "$work/fresh/extra"
$SPGEN $L --set size=10 --set seed=2 "${all[@]//@/$work/t}" >/dev/null 2>&1; rc=$?
$SPGEN $L --set size=10 --set seed=2 "${all[@]//@/$work/fresh}" >/dev/null 2>&1
left=$(find "$work/t" -name '*.spgen-*')
if [ $rc -eq 0 ] && [ -z "$left" ] && diff -r "$work/fresh" "$work/t" >/dev/null &&
  ! cmp -s "$work/t/extra/w.safetensors" "$work/old/extra/w.safetensors"; then pass "outputs/all_replaced"
else fail "outputs/all_replaced" "exit $rc; left: $left; $(diff -rq "$work/fresh" "$work/t" | head -2)"; fi

# A spec at the weights limit (gen/lua/spgen/limits.lua: 2^26 floats, here
# one 8192 x 8192 linear without bias) generates in about a second, its
# weights drawn and folded natively: the case fails if it takes 10 s, as a
# loop over each weight in Lua would. Always on the optimized build, as the
# ASan one is several times slower. The seed's weights are pinned by their
# checksum.
fast=$BUILD/spgen
cat > "$work/at_limit.lua" <<'SPEC'
local net = network { name = "t", input = { 8192, 1, 1 } }
return output(linear(flatten(net.input), { out = 8192, bias = false, name = "fc" }))
SPEC
if [ ! -x "$fast" ]; then skip "limits/weights_at_limit" "no $fast"
else
  err=$(timeout 10 "$fast" "$work/at_limit.lua" -o "$work/at_limit" 2>&1); rc=$?
  size=$(stat -c %s "$work/at_limit/t_weights.bin" 2>/dev/null)
  sum=$(sha256sum < "$work/at_limit/t_weights.bin" 2>/dev/null | cut -d' ' -f1)
  if [ $rc -ne 0 ]; then fail "limits/weights_at_limit" "exit $rc (124: over 10 s): $err"
  elif [ "$size" != $((4 << 26)) ]; then fail "limits/weights_at_limit" "weights file of $size bytes, want $((4 << 26))"
  elif [ "$sum" != 786aa34c3d4a2532a7e7a43149022d45c5d774bc379c3461edae688b16d32681 ]; then
    fail "limits/weights_at_limit" "the seed's weights changed: sha256 $sum"
  else pass "limits/weights_at_limit"; fi
  rm -rf "$work/at_limit"
fi
