# Shared by the test scripts: result lines the runner counts, and tools.
# Each case prints exactly one of: PASS name | FAIL name: why | SKIP name: why
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
BUILD=${BUILD:-build}
# SPGEN may point at the sanitizer build (tests/run.sh does for the bad-input suites)
SPGEN=${SPGEN:-$BUILD/spgen}
# The strictest flags users compile the emitted C with.
STRICT_CFLAGS="-std=c99 -O1 -Wall -Wextra -Werror -pedantic"
# Emitted kernels also run under AddressSanitizer and UBSan: any report fails.
# (with gcc: clang 14 takes minutes on some kernels with -fno-sanitize-recover)
SAN_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# The CUDA compiler: NVCC when set (set and empty: none), else nvcc on PATH,
# else CUDA's default place; empty when there is none.
find_nvcc() {
  if [ -n "${NVCC+set}" ]; then echo "$NVCC"; return; fi
  command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; } || true
}
# net_input DIR SEED OUT: a random input of the network generated in DIR
# (its shape from the header's NAME_BATCH and NAME_IN_C/H/W), written to OUT
# by mknpy; prints the network's name.
net_input() {
  local net NET
  net=$(basename "$(ls "$1"/*_cuda.h)" _cuda.h) NET=$(echo "$net" | tr a-z A-Z)
  set -- "$1" "$2" "$3" $(for k in BATCH IN_C IN_H IN_W; do
    awk -v k="#define ${NET}_$k" 'index($0, k " ") == 1 { print $3 }' "$1/$net.h"
  done)
  "$BUILD/mknpy" "$2" "$3" "$4" "$5" "$6" "$7" >&2 && echo "$net"
}
# Whether a GPU answers.
have_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
