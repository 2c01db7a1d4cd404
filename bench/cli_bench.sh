#!/usr/bin/env bash
# streamctl CLI benchmark: throughput of `produce` and `consume` as ratios of `cat`, measured in the same
# run (absolute times on shared machines are noise), and the start-up of a one-line `produce` beside
# `cat` of a one-line file (hyperfine).
#
#   produce:  streamctl produce bench input.txt          vs  cat input.txt > copy.txt
#             (into a fresh, existing topic; produce also fsyncs before it exits, so `cat + fdatasync`
#             is printed as a second baseline)
#   consume:  streamctl consume bench -o beginning >/dev/null   vs  cat input.txt > /dev/null
#   one-line durable produce: streamctl produce startup one.txt  vs  cat one.txt  (hyperfine -N, median;
#             into an existing topic, so this is the steady path: one fdatasync)
#   --version: streamctl --version                        vs  cat --version   (perf stat task-clock, median)
# Targets (issue 17): produce >= 50% of cat's bytes/s, consume >= 60%; one-line produce <= 2x cat of a
# one-line file; --version <= 1.5x cat --version in task-clock.
#
# Usage: bench/cli_bench.sh [path/to/streamctl]    (default: $STREAMCTL, else build/streamctl)
# Env:   LINES (default 1000000), RUNS (default 5), BENCH_DIR (work dir parent, default $TMPDIR or /tmp).
# Each measurement is the median of RUNS interleaved runs (wall clock); the CPU time (user+sys) medians
# are printed too, as they are less sensitive to a busy machine. The output is a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/install-bench-deps.sh
S=$(realpath "${1:-${STREAMCTL:-build/streamctl}}")
LINES=${LINES:-1000000}
RUNS=${RUNS:-5}
[[ -x "$S" ]] || { echo "cli_bench: no streamctl binary at $S (build it, or pass its path)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "cli_bench: hyperfine is needed (bench/install-bench-deps.sh)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "cli_bench: GNU time is needed at /usr/bin/time (bench/install-bench-deps.sh)" >&2; exit 2; }

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/streamctl-cli-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
export STREAMCTL_DATA_DIR="$work/data"
export NO_COLOR=1

# ---- input: LINES log-like lines of ~100 bytes (99 characters + newline), varied content
awk -v n="$LINES" -f bench/log_lines.awk >"$work/input.txt"
bytes=$(stat -c %s "$work/input.txt")
echo "hello" >"$work/one.txt"
cat "$work/input.txt" >/dev/null  # warm the page cache

# measure LABEL COMMAND...: appends "wall_s cpu_s" of one run (CPU = user+sys of the command and its
# children) to $work/LABEL, timed in Python for microsecond resolution.
measure() {
  local label=$1; shift
  python3 - "$work/$label" "$@" <<'PY'
import resource, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
rc = subprocess.run(cmd).returncode
wall = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
if rc != 0:
    sys.exit("cli_bench: %s exited with %d" % (" ".join(cmd), rc))
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
open(out, "a").write("%.4f %.4f\n" % (wall, cpu))
PY
}
median() {  # median of column $2 of file $1
  sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
spread() {  # "min-max" of column $2 of file $1
  sort -n -k"$2" "$1" | awk -v c="$2" 'NR == 1 {lo = $c} {hi = $c} END {print lo "-" hi}'
}

for run in $(seq 1 "$RUNS"); do
  rm -rf "$work/data" "$work/copy.txt" "$work/copy2.txt"
  measure cat_file sh -c "cat '$work/input.txt' > '$work/copy.txt'"
  measure cat_file_sync sh -c "cat '$work/input.txt' > '$work/copy2.txt' && sync -d '$work/copy2.txt'"
  "$S" -q topic create bench  # not timed: creating a topic costs a few metadata fsyncs, once
  measure produce "$S" -q produce bench "$work/input.txt"
  measure cat_null sh -c "cat '$work/input.txt' > /dev/null"
  measure consume sh -c "'$S' consume bench -o beginning > /dev/null"
done

# Correctness: what was measured must round-trip exactly.
if ! "$S" consume bench -o beginning | cmp -s - "$work/input.txt"; then
  echo "cli_bench: consume output differs from the input: results are void" >&2
  exit 1
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", (b > 0 ? a / b : 0) * 100}'; }
mbps() { awk -v s="$1" -v b="$bytes" 'BEGIN {printf "%.0f MB/s", (s > 0 ? b / s / 1e6 : 0)}'; }

p=$(median "$work/produce" 1); pc=$(median "$work/produce" 2)
cf=$(median "$work/cat_file" 1); cfc=$(median "$work/cat_file" 2)
cs=$(median "$work/cat_file_sync" 1)
c=$(median "$work/consume" 1); cc=$(median "$work/consume" 2)
cn=$(median "$work/cat_null" 1); cnc=$(median "$work/cat_null" 2)

# ---- the disk's fdatasync latency (a durable produce pays it; cat does not)
sync_ms=$(python3 - "$work/sync.probe" <<'PY'
import os, statistics, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
t = []
for _ in range(30):
    os.write(fd, b"x" * 100)
    s = time.perf_counter(); os.fdatasync(fd); t.append((time.perf_counter() - s) * 1000)
print("%.2f" % statistics.median(t))
PY
)

# ---- one-line durable produce (steady path: the topic exists) and start-up
"$S" -q topic create startup
hyperfine -N --warmup 20 --runs 300 --export-json "$work/startup.json" \
  "$S produce startup $work/one.txt" "cat $work/one.txt" >/dev/null 2>&1
read -r su_sc su_cat su_sc_cpu su_lo su_hi < <(python3 - "$work/startup.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print("%.2f %.2f %.2f %.2f %.2f" % (r[0]["median"] * 1000, r[1]["median"] * 1000, (r[0]["user"] + r[0]["system"]) * 1000,
                                    r[0]["min"] * 1000, r[0]["max"] * 1000))
PY
)
# --version: task-clock (CPU ms) of each, median of 51 runs, interleaved; perf stat when available, else
# the CPU time (user+sys) of the process.
version_ms() {  # prints the median task-clock ms of "$@" over 51 runs
  for _ in $(seq 1 51); do
    if command -v perf >/dev/null && perf stat -x, -e task-clock true >/dev/null 2>&1; then
      perf stat -x, -e task-clock "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'
    else
      /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | awk '{print ($1 + $2) * 1000}'
    fi
  done | sort -n | awk '{v[NR] = $1} END {printf "%.2f", v[(NR + 1) / 2]}'
}
v_sc=$(version_ms "$S" --version)
v_cat=$(version_ms cat --version)

echo
echo "streamctl CLI benchmark: $LINES lines, $((bytes / 1000000)) MB, median of $RUNS runs, $(nproc) CPUs, $(date -u +%Y-%m-%d)"
echo
echo "| measurement | streamctl | baseline | ratio | target |"
echo "|---|---|---|---|---|"
echo "| produce (wall) | ${p} s ($(spread "$work/produce" 1)), $(mbps "$p") | cat > file: ${cf} s ($(spread "$work/cat_file" 1)), $(mbps "$cf") | $(ratio "$cf" "$p") | >= 50% |"
echo "| produce vs a durable copy (wall) | ${p} s | cat > file + fdatasync: ${cs} s | $(ratio "$cs" "$p") | |"
echo "| produce (CPU user+sys) | ${pc} s | cat > file: ${cfc} s | $(ratio "$cfc" "$pc") | |"
echo "| consume -o beginning > /dev/null (wall) | ${c} s ($(spread "$work/consume" 1)), $(mbps "$c") | cat > /dev/null: ${cn} s ($(spread "$work/cat_null" 1)), $(mbps "$cn") | $(ratio "$cn" "$c") | >= 60% |"
echo "| consume (CPU user+sys) | ${cc} s | cat > /dev/null: ${cnc} s | $(ratio "$cnc" "$cc") | |"
echo "| one-line durable produce (median wall) | ${su_sc} ms (${su_lo}-${su_hi}) | cat one-line file: ${su_cat} ms | $(awk -v a="$su_sc" -v b="$su_cat" 'BEGIN {printf "%.1fx", a / b}') | <= 2x |"
echo "| one-line produce (mean CPU user+sys) | ${su_sc_cpu} ms | | | |"
echo "| --version (median task-clock) | ${v_sc} ms | cat --version: ${v_cat} ms | $(awk -v a="$v_sc" -v b="$v_cat" 'BEGIN {printf "%.2fx", a / b}') | <= 1.5x |"
echo
echo "Ratios are baseline time / streamctl time (= streamctl bytes/s as a share of cat's)."
echo "This disk's fdatasync latency: ${sync_ms} ms (median of 30); a produce exits only after its data is durable."
