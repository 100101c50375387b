#!/usr/bin/env bash
# Configures and builds Lattice into build/ (or $1) with ccache and Ninja.
# Extra arguments are passed to CMake, except `--target T...` (last), which
# builds only those targets. Every build made through this script (run-all.sh,
# start-node.sh) uses the same ccache directory and base directory, so they
# share cache hits; paths are relative to the checkout, so clones share them
# too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
dir="${1:-$root/build}"
shift || true
cmake_args=()
targets=()
while (($#)); do
  if [[ "$1" == "--target" ]]; then
    shift
    targets=("$@")
    break
  fi
  cmake_args+=("$1")
  shift
done
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_args[@]}" >/dev/null
ninja -C "$dir" -j"${LATTICE_JOBS:-2}" "${targets[@]}"
