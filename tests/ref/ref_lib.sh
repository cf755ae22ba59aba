# tests/ref/ref_lib.sh - sourced by the tests/ref scripts: one result line per
# case, prefixed with the script's REF_PREFIX, the counts, and the check of a
# command that must fail. Needs T, the script's temporary directory.
nfail=0
npass=0
pass() { echo "PASS $REF_PREFIX/$1"; npass=$((npass + 1)); }
fail() { echo "FAIL $REF_PREFIX/$1: $2"; nfail=$((nfail + 1)); }
oneline() { tr '\n' ' ' < "$1" | cut -c 1-400; }

# expect_err NAME STATUS PATTERN CMD...: CMD exits STATUS, its stderr matches PATTERN
expect_err() {
    name=$1 want=$2 pat=$3
    shift 3
    "$@" > "$T/err.out" 2> "$T/err.txt"
    st=$?
    if [ $st -ne "$want" ]; then
        fail "$name" "exit status $st, want $want ($(oneline "$T/err.txt"))"
    elif ! grep -q -- "$pat" "$T/err.txt"; then
        fail "$name" "message lacks '$pat': $(oneline "$T/err.txt")"
    else
        pass "$name"
    fi
}
