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
# Whether a GPU answers.
have_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
