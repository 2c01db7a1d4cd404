#!/usr/bin/env bash
# End-to-end: consume --follow picks up records produced concurrently by other processes, with low
# latency, across segment rolls, interleaving partitions, without a busy loop, and stops cleanly on
# SIGINT/SIGTERM.
source "$(dirname "$0")/cli_helpers.bash"

sc topic create live -p 2 -c segment.bytes=4096 -q
lines() { wc -l <"$1" | tr -d ' '; }
# has_lines FILE N: FILE has at least N lines (re-counted on every call, so wait_for can poll it)
has_lines() { test "$(lines "$1")" -ge "$2"; }

"$STREAMCTL" consume live -f --format '%p %s\n' >"$work/followed" 2>"$work/follow.err" &
follower=$!
bg_pids+=("$follower")
sleep 0.3
check "follower is waiting" kill -0 "$follower"

seq -f 'first-%g' 1 20 | sc produce live -p 0 2>/dev/null
start=$(date +%s%N)
check "records produced meanwhile show up" wait_for 5 has_lines "$work/followed" 20
latency_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "latency is low ($latency_ms ms after produce returned)" test "$latency_ms" -lt 1500

# Idle: the follower must not spin. CPU ticks (utime+stime) over 2 idle seconds.
ticks() { awk '{print $14 + $15}' "/proc/$follower/stat"; }
before=$(ticks); sleep 2; after=$(ticks)
check "no busy loop while idle ($((after - before)) ticks in 2 s)" test $((after - before)) -le 5

# Many records into small segments: the log rolls while we follow.
for chunk in $(seq 0 9); do
  seq -f 'second-%g with some padding to fill segments quickly.................' $((chunk * 40 + 1)) $((chunk * 40 + 40)) |
    sc produce live -p 1 2>/dev/null
done
check "records after segment rolls show up" wait_for 5 has_lines "$work/followed" 420
check "partition 1 rolled segments" test "$(sc topic describe live --json | jq '.partition_info[1].segments')" -gt 1

# Both partitions interleave in one follow.
echo p0-late | sc produce live -p 0 2>/dev/null
echo p1-late | sc produce live -p 1 2>/dev/null
check "both partitions are followed" wait_for 5 bash -c "grep -qx '0 p0-late' '$work/followed' && grep -qx '1 p1-late' '$work/followed'"
expect_eq "nothing lost or repeated" "422" "$(sort -u "$work/followed" | wc -l | tr -d ' ')"

# Concurrent producers while following.
for w in 1 2 3; do seq -f "w$w-%g" 1 300 | sc produce live 2>/dev/null & done
wait_for 10 has_lines "$work/followed" 1322
expect_eq "concurrent producers: all 900 records seen once" "900" "$(grep -c '^[01] w[123]-' "$work/followed")"

kill -INT "$follower"
wait "$follower"
rc=$?
check "SIGINT stops follow with exit 0 (exit $rc)" test "$rc" -eq 0
check "no error printed" test ! -s "$work/follow.err"

# A follow that started at the end and was stopped before any record: exit 5 (nothing consumed).
"$STREAMCTL" consume live -f -o end >/dev/null 2>&1 &
f2=$!
bg_pids+=("$f2")
wait_for 20 handles_signal "$f2" 15
sleep 0.3
kill -TERM "$f2"
wait "$f2"
expect_eq "SIGTERM with nothing consumed exits 5" "5" "$?"

# A range end stops follow by itself once reached (records arrive after the follow started).
cur=$(sc topic describe live --json | jq '.partition_info[0].log_end_offset')
(sleep 0.5; seq 1 5 | sc produce live -p 0 2>/dev/null) &
timeout 10 "$STREAMCTL" consume live -p 0 -f -o "$cur:$((cur + 3))" >"$work/ranged"
expect_eq "follow with a range end exits once the range is read" "$(printf '1\n2\n3')" "$(cat "$work/ranged")"
wait
# Retention deletes segments under a stopped follower: when it resumes it warns and continues at the new
# log start instead of failing.
sc topic create ret -c segment.bytes=2048 -c retention.bytes=4096 -q
echo first | sc produce ret 2>/dev/null
"$STREAMCTL" consume ret -f >"$work/ret.out" 2>"$work/ret.err" &
rf=$!
bg_pids+=("$rf")
check "retention follower read the first record" wait_for 5 grep -qx first "$work/ret.out"
kill -STOP "$rf"
for chunk in $(seq 1 30); do
  seq -f "chunk$chunk-%g padding padding padding padding padding" 1 10 | sc produce ret 2>/dev/null
done
check "retention deleted old segments" test "$(sc topic describe ret --json | jq '.partition_info[0].log_start_offset')" -gt 1
kill -CONT "$rf"
echo marker | sc produce ret 2>/dev/null
check "the follower continues after retention" wait_for 5 grep -qx marker "$work/ret.out"
check "it says it skipped deleted records" grep -q "deleted by retention" "$work/ret.err"
kill -TERM "$rf"
wait "$rf"
expect_eq "and exits 0 on SIGTERM" "0" "$?"
finish
