#!/usr/bin/env bash
# Installs dependencies and builds streamctl (Release) into build/.
# Usage: scripts/build.sh [--target T]... [extra cmake args]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
targets=()
while [ $# -ge 2 ] && [ "$1" = "--target" ]; do
  targets+=(--target "$2")
  shift 2
done
# Building only the binary (the quick start) needs only the build packages; every other build installs all.
if [ "${targets[*]:-}" = "--target streamctl" ]; then
  bash scripts/install-deps.sh --build-only
else
  bash scripts/install-deps.sh
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)" "${targets[@]}"
