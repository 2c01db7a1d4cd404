#!/usr/bin/env bash
# Installs every build, test and demo dependency of streamctl from Debian 12 packages (the PACKAGES list
# below). Benchmark-only peers (hyperfine, redis, nats) are not here: bench/install-bench-deps.sh installs
# them when a benchmark runs. tests/tools/external_commands.py checks that every external command the
# tests, scripts and benchmarks run comes from a package listed in one of the two.
# Usage: scripts/install-deps.sh [PACKAGE...]   (with arguments: installs those packages instead)
#        scripts/install-deps.sh --build-only   only what building the streamctl binary needs (the quick start:
#                                               no test tools, no clang; scripts/test.sh installs the rest)
# Idempotent: does nothing (and needs no network) when everything is already installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libcli11-dev nlohmann-json3-dev doctest-dev
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev
  libasio-dev librdkafka-dev libssl-dev openssl
  kcat python3 python3-kafka python3-confluent-kafka xxd jq
  clang libclang-rt-14-dev
)
# The part of PACKAGES that building the binary needs.
BUILD_ONLY=(
  build-essential cmake ninja-build pkg-config ccache
  libcli11-dev nlohmann-json3-dev doctest-dev
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev
  libasio-dev librdkafka-dev libssl-dev
)
if [ "${1:-}" = "--build-only" ]; then
  PACKAGES=("${BUILD_ONLY[@]}")
elif [ $# -gt 0 ]; then
  PACKAGES=("$@")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "streamctl: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
