#!/usr/bin/env bash
# Installs dependencies, builds streamctl twice (Release, and ASan+UBSan) and runs every test with CTest
# in both builds. Exits non-zero if any test fails. Prints the time each step took.
# The sanitizer tree carries line tables only (-g1: enough for symbolized sanitizer reports, file:line per
# frame), which keeps its build and link shorter than full -g.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
step() { echo "== $1: $((SECONDS - step_start)) s" >&2; step_start=$SECONDS; }
step_start=$SECONDS

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
step "Release build"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTREAMCTL_SANITIZE=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build-asan -j"$jobs"
step "ASan+UBSan build"

status=0
echo "== Release build =="
ctest --test-dir build --output-on-failure -j"$jobs" || status=1
step "Release tests"
echo "== ASan+UBSan build =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" || status=1
step "ASan+UBSan tests"
exit $status
