#!/usr/bin/env bash
# Runs the contract checker ($1) on every fixture: ok.c must pass, each other
# fixture must fail with the KIND named on its first line (/* expect: KIND */).
set -u
checker=${1:?usage: test_contract.sh PATH/TO/contract_check}
dir=$(cd "$(dirname "$0")/fixtures" && pwd)
fails=0

for f in "$dir"/*.c; do
    name=$(basename "$f")
    out=$("$checker" "$f" 2>&1)
    rc=$?
    if [ "$name" = ok.c ]; then
        if [ $rc -eq 0 ]; then
            echo "PASS contract/$name"
        else
            echo "FAIL contract/$name: exit $rc, expected 0: $(head -n 1 <<<"$out")"
            fails=$((fails + 1))
        fi
        continue
    fi
    kind=$(sed -n '1s|^/\* expect: \([a-z-]*\) \*/$|\1|p' "$f")
    if [ -z "$kind" ]; then
        echo "FAIL contract/$name: no /* expect: KIND */ on line 1"
        fails=$((fails + 1))
    elif [ $rc -ne 1 ]; then
        echo "FAIL contract/$name: exit $rc, expected 1: $(head -n 1 <<<"$out")"
        fails=$((fails + 1))
    elif ! grep -qF "error: $kind:" <<<"$out"; then
        echo "FAIL contract/$name: no 'error: $kind' in: $(head -n 1 <<<"$out")"
        fails=$((fails + 1))
    else
        echo "PASS contract/$name"
    fi
done
[ $fails -eq 0 ]
