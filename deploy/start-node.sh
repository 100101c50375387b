#!/usr/bin/env bash
# Builds lattice-server and runs it in the foreground on 127.0.0.1:6379 with
# deploy/lattice.conf. Extra arguments are config overrides, as for
# redis-server: deploy/start-node.sh --port 7000 --threads 2
#
# Shares build/ with tests/run-all.sh, configured the same way (through
# deploy/build.sh) and building only the server. It leaves BUILD_TESTING to
# the cache (CMake's default, ON, in a new directory): passing OFF here would
# flip what run-all.sh configured and make its next run reconfigure, and
# passing nothing keeps both commands' ccache hits and build outputs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh"
"$root/deploy/build.sh" "$root/build" --target lattice-server
exec "$root/build/node/lattice-server" "$root/deploy/lattice.conf" "$@"
