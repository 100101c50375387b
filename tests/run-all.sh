#!/usr/bin/env bash
# Builds Lattice and runs every test: a bounded fuzz run of the RESP parser,
# every test under AddressSanitizer + UBSan, then every test on the optimized
# build: unit tests and integration tests against real lattice-server and
# redis-server processes (and node-redis as a RESP3 client). Installs what is
# missing first.
#
# Every configure passes -DBUILD_TESTING=ON: build directories are reused
# with their CMake cache, and a cache that says OFF would leave ctest with
# nothing to run. deploy/start-node.sh shares build/ and never sets
# BUILD_TESTING, so it does not flip it back. ctest runs with
# --no-tests=error: a pass that finds no tests fails instead of passing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/install-deps.sh" --with-tests

"$root/deploy/build.sh" "$root/build" -DBUILD_TESTING=ON

# Fuzz the RESP parser for a bounded time from the seed corpus (clang's
# libFuzzer; new inputs go to a scratch directory, never into the repo).
fuzz_dir="$root/build-fuzz"
mkdir -p "$fuzz_dir"
clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I"$root" \
  "$root/tests/fuzz/resp_parser_fuzz.cc" "$root/resp/parser.cc" -o "$fuzz_dir/resp_parser_fuzz"
rm -rf "$fuzz_dir/corpus" && cp -r "$root/tests/fuzz/corpus/resp_parser" "$fuzz_dir/corpus"
"$fuzz_dir/resp_parser_fuzz" -max_total_time="${LATTICE_FUZZ_SECONDS:-30}" -print_final_stats=1 \
  "$fuzz_dir/corpus" 2>&1 | tail -n 5
echo "fuzz: resp parser ran ${LATTICE_FUZZ_SECONDS:-30}s without a crash"

# ThreadSanitizer over the command tests that run several workers (cross-
# shard messages, the exclusive section, concurrent clients).
"$root/deploy/build.sh" "$root/build-tsan" -DBUILD_TESTING=ON -DLATTICE_WERROR=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1 -g" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  --target string_family_test server_family_test generic_family_test
for t in string_family_test server_family_test generic_family_test; do
  TSAN_OPTIONS=halt_on_error=1 "$root/build-tsan/tests/$t" --gtest_brief=1
done

# Sanitizer build: every test again, integration tests included (their
# servers are the ASan/UBSan lattice-server), halting on any report.
"$root/deploy/build.sh" "$root/build-asan" -DBUILD_TESTING=ON -DLATTICE_SANITIZE=ON \
  -DLATTICE_WERROR=OFF

(cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --no-tests=error --output-on-failure --timeout 900)
# Two at a time on the optimized build (RUN_SERIAL tests still run alone).
(cd "$root/build" && ctest --no-tests=error --output-on-failure --timeout 900 -j2)
