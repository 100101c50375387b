#!/usr/bin/env bash
# Installs the Debian 12 packages Lattice builds and tests with. Idempotent:
# packages already present are skipped, so a warm machine pays nothing.
# --with-tests adds what the test command needs: the reference server and
# clients (Debian packages), and node-redis (npm, pinned by
# tests/integration/resp3_client/package-lock.json) for the RESP3 client
# test, installed into $LATTICE_NODE_DEPS (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/lattice/resp3_client), never into the
# checkout.
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

# node-redis for tests/integration/resp3_client_test.py, exactly as locked
# (versions and integrity hashes); reinstalled only when the lock changes.
if ((with_tests)); then
  src="$root/tests/integration/resp3_client"
  dest="${LATTICE_NODE_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/lattice/resp3_client}"
  if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" ||
     [[ ! -f "$dest/node_modules/redis/package.json" ]]; then
    echo "Installing node-redis into $dest"
    mkdir -p "$dest"
    cp "$src/package.json" "$src/package-lock.json" "$dest/"
    npm ci --prefix "$dest" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi
