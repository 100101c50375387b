#!/usr/bin/env bash
# Configures and builds Lattice into build/ (or $1) with ccache and Ninja.
# Extra arguments are passed to CMake.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C "$dir" -j"${LATTICE_JOBS:-2}"
