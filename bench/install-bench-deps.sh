#!/usr/bin/env bash
# Installs what the benchmarks need beyond scripts/install-deps.sh (the build and test dependencies): the
# peers and measuring tools only a benchmark runs. Called by bench/*.sh; idempotent, no network when all
# are installed. Usage: bench/install-bench-deps.sh
set -euo pipefail

PACKAGES=(
  hyperfine time linux-perf
  redis-server redis-tools nats-server
)
exec bash "$(dirname "$0")/../scripts/install-deps.sh" "${PACKAGES[@]}"
