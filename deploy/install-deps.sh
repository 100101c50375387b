#!/usr/bin/env bash
# Installs the Debian 12 packages Lattice builds and tests with. Idempotent:
# packages already present are skipped, so a warm machine pays nothing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev
)
# Only the test command needs these: the reference server and clients.
if [[ "${1:-}" == "--with-tests" ]]; then
  PACKAGES+=(redis-server redis-tools python3 python3-redis clang libclang-rt-14-dev nftables)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
