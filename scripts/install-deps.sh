#!/bin/sh
# Installs the Debian packages spgen needs. Run as root, or it prints the one
# command to run. Idempotent: installs only what is missing.
#   install-deps.sh            the generator, its tests and the reference (required)
#   install-deps.sh firmware   the Arm and aarch64 cross tools and QEMU for
#                              firmware/run.sh, which prints SKIP without them
set -eu
case "${1:-required}" in
  required) pkgs="liblua5.4-dev libclang-dev libclang-rt-14-dev pkg-config valgrind gcc clang make binutils libxml2-utils cmake libprotobuf-c-dev protobuf-c-compiler libonnx-dev" ;;
  firmware) pkgs="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;;
  *) echo "usage: install-deps.sh [required|firmware]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "spgen (${1:-required}) needs:$missing" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
