#!/usr/bin/env bash
# Builds Lattice and runs every test: unit tests, integration tests against
# real lattice-server and redis-server processes, then the unit tests again
# under AddressSanitizer + UBSan. Installs what is missing first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh" --with-tests
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

"$root/deploy/build.sh" "$root/build"
(cd "$root/build" && ctest --output-on-failure --timeout 900)

# Sanitizer pass over the unit tests (integration tests use the plain build).
"$root/deploy/build.sh" "$root/build-asan" -DLATTICE_SANITIZE=ON -DLATTICE_WERROR=OFF
(cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -L unit --timeout 900)
