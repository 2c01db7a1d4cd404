#!/usr/bin/env bash
# Installs dependencies, builds streamctl twice (Release, and ASan+UBSan) and runs every test with CTest
# in both builds. Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTREAMCTL_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"

status=0
echo "== Release build =="
ctest --test-dir build --output-on-failure -j"$jobs" || status=1
echo "== ASan+UBSan build =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" || status=1
exit $status
