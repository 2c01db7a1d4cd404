#!/usr/bin/env bash
# streamctl remote produce benchmark: `streamctl --brokers HOST:PORT produce` of LINES ~100-byte lines through
# a `streamctl serve` started here (127.0.0.1, a free port, its own data directory) as a ratio of embedded
# `streamctl produce` of the same file into another data directory, measured in the same run (absolute
# times on shared machines are noise). Both exit only once every record is durable/acknowledged (embedded:
# fsync; remote: acks=all delivery reports, the server having appended). Each side runs RUNS times,
# interleaved, into a fresh topic; medians are compared. Target (issue 5): remote >= 50% of embedded.
#
# Usage: bench/remote_bench.sh [path/to/streamctl]   (default: $STREAMCTL, else build/streamctl)
# Env:   LINES (default 1000000), RUNS (default 3), BENCH_DIR (work dir parent, default $TMPDIR or /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
S=$(realpath "${1:-${STREAMCTL:-build/streamctl}}")
LINES=${LINES:-1000000}
RUNS=${RUNS:-3}
[[ -x "$S" ]] || { echo "remote_bench: no streamctl binary at $S (build it, or pass its path)" >&2; exit 2; }

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/streamctl-remote-bench-XXXXXX")
server=
cleanup() {
  if [[ -n "$server" ]]; then kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export NO_COLOR=1
unset STREAMCTL_BROKERS STREAMCTL_PROFILE STREAMCTL_DATA_DIR

# ---- input: LINES log-like lines of ~100 bytes (99 characters + newline)
awk -v n="$LINES" -f bench/log_lines.awk >"$work/input.txt"
bytes=$(stat -c %s "$work/input.txt")

# ---- the server
"$S" --data-dir "$work/served" serve --listen 127.0.0.1:0 --port-file "$work/port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 200); do [[ -s "$work/port" ]] && break; sleep 0.05; done
[[ -s "$work/port" ]] || { echo "remote_bench: streamctl serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
brokers="127.0.0.1:$(cat "$work/port")"
"$S" --brokers "$brokers" cluster health --wait --timeout 20s -q

now_ns() { date +%s%N; }
# run_once KIND N: seconds for one produce of the input into a fresh topic
run_once() {
  local kind=$1 n=$2 t0 t1
  if [[ $kind == embedded ]]; then
    "$S" --data-dir "$work/embedded" -q topic create "e$n"
    t0=$(now_ns); "$S" --data-dir "$work/embedded" -q produce "e$n" "$work/input.txt"; t1=$(now_ns)
  else
    "$S" --brokers "$brokers" -q topic create "r$n"
    t0=$(now_ns); "$S" --brokers "$brokers" -q produce "r$n" "$work/input.txt"; t1=$(now_ns)
  fi
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

emb=(); rem=()
for i in $(seq 1 "$RUNS"); do
  emb+=("$(run_once embedded "$i")")
  rem+=("$(run_once remote "$i")")
done
check=$("$S" --brokers "$brokers" consume r1 -q | wc -l)
[[ "$check" -eq "$LINES" ]] || { echo "remote_bench: remote topic has $check records, expected $LINES" >&2; exit 1; }
e=$(printf '%s\n' "${emb[@]}" | median)
r=$(printf '%s\n' "${rem[@]}" | median)
mib() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", b / s / 1048576 }'; }
ratio=$(awk -v e="$e" -v r="$r" 'BEGIN { printf "%.2f", e / r }')
echo "| produce of $LINES lines ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }')) | median s | MiB/s | runs |"
echo "|---|---|---|---|"
echo "| embedded (--data-dir) | $e | $(mib "$e") | ${emb[*]} |"
echo "| remote (--brokers, streamctl serve on loopback) | $r | $(mib "$r") | ${rem[*]} |"
echo
echo "remote/embedded throughput ratio: $ratio (target >= 0.50)"
