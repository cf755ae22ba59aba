#!/bin/sh
# Installs the Debian packages spgen needs to build and test. Run as root, or
# it prints the one command to run. Idempotent: installs only what is missing.
set -eu
missing=""
for p in liblua5.4-dev libclang-dev pkg-config valgrind gcc clang make binutils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "spgen needs:$missing" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
