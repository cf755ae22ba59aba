#!/usr/bin/env bash
# The plan checker catches each kind of violation planted in a fixture; the
# picture of a plan (--plan-svg) is valid XML with one rectangle per buffer.
set -u
. "$(dirname "$0")/../lib.sh"
check=$1 dir=$(dirname "$0")/fixtures
for f in "$dir"/*.txt; do
  name=plan/$(basename "$f" .txt)
  want=$(sed -n 's/^# expect: //p' "$f")
  out=$(grep -v '^#' "$f" | "$check" /dev/stdin 2>&1); rc=$?
  if [ -z "$want" ]; then
    [ $rc -eq 0 ] && echo "PASS $name" || echo "FAIL $name: exit $rc: $out"
  elif [ $rc -eq 1 ] && grep -q -- "$want" <<<"$out"; then echo "PASS $name"
  else echo "FAIL $name: exit $rc, expected '$want': $out"; fi
done

# The buffers of a --plan text: each kernel's scratch, and each output in the
# arena that is not written in place (at the offset of one of its inputs).
plan_buffers() {
  awk '/^kernel / {
    ins = ""; out = ""
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^in=/) ins = substr($i, 4)
      if ($i ~ /^out=/) out = substr($i, 5)
      if ($i ~ /^scratch=/) n++
    }
    split(out, o, ":")
    if (o[1] ~ /^[0-9]+$/) {
      in_place = 0; m = split(ins, refs, ",")
      for (j = 1; j <= m; j++) { split(refs[j], r, ":"); if (r[1] == o[1]) in_place = 1 }
      if (!in_place) n++
    }
  } END { print n + 0 }' "$1"
}
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-plan.XXXXXX")
trap 'rm -rf "$work"' EXIT
for spec in specs/spconv_layer.lua specs/sp_tiny_cifar.lua specs/resnet18_cifar.lua; do
  name=plan_svg/$(basename "$spec" .lua)
  if ! command -v xmllint >/dev/null; then skip "$name" "xmllint is not installed (libxml2-utils)"; continue; fi
  if ! $SPGEN "$spec" -o "$work/out" --plan "$work/plan.txt" --plan-svg "$work/plan.svg" 2>"$work/err"; then
    fail "$name" "spgen: $(head -c 300 "$work/err")"; continue
  fi
  want=$(plan_buffers "$work/plan.txt") rects=$(grep -o '<rect ' "$work/plan.svg" | wc -l)
  if ! xmllint --noout "$work/plan.svg" 2>"$work/err"; then fail "$name" "not XML: $(head -c 300 "$work/err")"
  elif [ "$rects" -ne "$want" ] || [ "$want" -eq 0 ]; then fail "$name" "$rects rectangles for $want buffers"
  else pass "$name ($want buffers)"; fi
done
