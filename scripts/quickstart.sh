#!/usr/bin/env bash
# Quick start: install dependencies, build the streamctl binary (only: scripts/test.sh builds the tests),
# then pipe samples/app.log into the topic `app-logs` on the default embedded data directory and read it back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --target streamctl
./build/streamctl produce app-logs samples/app.log
./build/streamctl consume app-logs -o beginning
./build/streamctl topic describe app-logs >&2
