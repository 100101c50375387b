#!/usr/bin/env bash
# Builds lattice-server and runs it in the foreground on 127.0.0.1:6379 with
# deploy/lattice.conf. Extra arguments are config overrides, as for
# redis-server: deploy/start-node.sh --port 7000 --threads 2
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
ninja -C "$root/build" -j"${LATTICE_JOBS:-2}" lattice-server
exec "$root/build/node/lattice-server" "$root/deploy/lattice.conf" "$@"
