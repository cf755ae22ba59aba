#!/bin/sh
# Installs the Debian packages that firmware/run.sh needs: the bare-metal Arm
# toolchain with newlib, QEMU for the MPS2 boards (system) and for aarch64
# Linux binaries (user mode), and the aarch64 Linux cross compiler with its
# libc. Run as root, or it prints the one command to run. Idempotent: installs
# only what is missing. firmware/run.sh itself never installs anything; it
# prints SKIP when these are missing.
set -eu
missing=""
for p in gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "the firmware checks need:$missing" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
