#!/usr/bin/env bash
# Installs the Debian 12 packages Lattice builds and tests with. Idempotent:
# packages already present are skipped, so a warm machine pays nothing.
# --with-tests adds what the test command needs: the reference server and
# clients (Debian packages), and the npm packages of the Node.js tests, each
# pinned by its package-lock.json and installed into a cache directory, never
# into the checkout: node-redis (tests/integration/resp3_client) for the
# RESP3 client test into $LATTICE_NODE_DEPS, and BullMQ
# (tests/integration/bullmq_app) for the BullMQ test into
# $LATTICE_BULLMQ_DEPS (defaults ${XDG_CACHE_HOME:-$HOME/.cache}/lattice/
# resp3_client and .../lattice/bullmq_app).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
with_tests=0
[[ "${1:-}" == "--with-tests" ]] && with_tests=1

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev
  libssl-dev liblua5.1-0-dev lua-cjson-dev lua-bitop-dev
)
# Only the test command needs these: the reference server and clients.
if ((with_tests)); then
  PACKAGES+=(redis-server redis-tools python3 python3-redis clang libclang-rt-14-dev nftables
             nodejs)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs comes without npm (a package of its own); NodeSource's
# nodejs includes it and conflicts with Debian's npm: ask for the package
# only when there is no npm at all.
if ((with_tests)) && ! command -v npm >/dev/null; then
  missing+=(npm)
fi
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm packages of the Node.js tests, exactly as locked (versions and
# integrity hashes); each reinstalled only when its lock changes. No install
# scripts: nothing here needs one (msgpackr, under BullMQ, loads its prebuilt
# native part when there is one and falls back to plain JavaScript).
#   install_npm_app <folder in tests/integration> <cache dir> <a package it installs>
install_npm_app() {
  local src="$root/tests/integration/$1" dest="$2" probe="$3"
  if cmp -s "$src/package-lock.json" "$dest/package-lock.json" &&
     [[ -f "$dest/node_modules/$probe/package.json" ]]; then
    return 0
  fi
  echo "Installing $1 ($probe) into $dest"
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  # A failed install must not look current on the next run.
  npm ci --prefix "$dest" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null ||
    { rm -f "$dest/package-lock.json"; return 1; }
}
if ((with_tests)); then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/lattice"
  install_npm_app resp3_client "${LATTICE_NODE_DEPS:-$cache/resp3_client}" redis
  install_npm_app bullmq_app "${LATTICE_BULLMQ_DEPS:-$cache/bullmq_app}" bullmq
fi
