#!/usr/bin/env bash
# End-to-end: `consume --group` and `consume --state-file` give "everything since the last run": each run
# reads exactly what was produced since the previous one (nothing lost, nothing twice), -n and SIGTERM
# commit exactly what was written, overlapping state-file runs are refused, and bad input gives the
# documented exit codes. Runs embedded and, from served_suite.sh, through a `streamctl serve` (--group then
# uses the broker's coordinator, --state-file a librdkafka consumer). Env: STREAMCTL = the built binary.
source "$(dirname "$0")/cli_helpers.bash"

sc topic create logs -p 3 >/dev/null 2>&1 || { echo "FAIL: cannot create topic"; exit 1; }
for p in 0 1 2; do
  seq -f "first-$p-%g" 1 40 | sc produce logs -p "$p" || fail "produce first batch to partition $p"
done

# ---- group: first run reads everything, the next only what is new
sc consume logs --group cron >"$work/run1" 2>"$work/err1"
rc=$?
check "first group run exits 0" test "$rc" -eq 0
check "first group run reads all 120 records" test "$(wc -l <"$work/run1")" -eq 120
check "first group run: no duplicates" test "$(sort "$work/run1" | uniq -d | wc -l)" -eq 0

for p in 0 1 2; do
  seq -f "second-$p-%g" 1 15 | sc produce logs -p "$p"
done
sc consume logs --group cron >"$work/run2" 2>"$work/err2"
check "second group run exits 0" test $? -eq 0
check "second group run reads exactly the 45 new records" \
  test "$(sort "$work/run2" | tr '\n' ' ')" = "$(for p in 0 1 2; do seq -f "second-$p-%g" 1 15; done | sort | tr '\n' ' ')"

sc consume logs --group cron >"$work/run3" 2>"$work/err3"
rc=$?
check "third group run with nothing new exits 5 (nothing consumed)" test "$rc" -eq 5
check "third group run prints nothing" test ! -s "$work/run3"

# -o only applies to partitions without a committed offset
sc consume logs --group cron -o -1 >"$work/run4" 2>/dev/null
check "-o is ignored once the group has committed offsets" test ! -s "$work/run4"
sc consume logs --group fresh -o -2 >"$work/run5" 2>/dev/null
check "-o -2 starts a new group at the last 2 records of each partition" test "$(wc -l <"$work/run5")" -eq 6

# ---- -n: commits exactly what it wrote
sc consume logs --group counted -p 0 >/dev/null 2>"$work/err_p"
check "-p with --group is a usage error (exit 2)" test $? -eq 2
check "-p with --group says why" grep -q -- "--group" "$work/err_p"
sc consume logs --group counted -n 50 >"$work/n1" 2>/dev/null
sc consume logs --group counted -n 50 >"$work/n2" 2>/dev/null
sc consume logs --group counted >"$work/n3" 2>/dev/null
check "-n 50 writes 50 records" test "$(wc -l <"$work/n1")" -eq 50
cat "$work/n1" "$work/n2" "$work/n3" >"$work/n_all"
check "three -n runs together read all 165 records" test "$(wc -l <"$work/n_all")" -eq 165
check "three -n runs: no record twice" test "$(sort "$work/n_all" | uniq -d | wc -l)" -eq 0

# ---- SIGTERM while following: what was written is committed, the next run continues without overlap
"$STREAMCTL" consume logs --group follower -f --commit-interval 100ms >"$work/f1" 2>"$work/ferr1" &
fpid=$!
bg_pids+=("$fpid")
check "follower catches up with the 165 existing records" wait_for 20 bash -c "test -f '$work/f1' && test \$(wc -l <'$work/f1') -ge 165"
(for i in $(seq 1 30); do echo "live-$i"; sleep 0.02; done) | sc produce logs
sleep 0.3
kill -TERM "$fpid"
wait "$fpid"
rc=$?
check "SIGTERM stops the follower cleanly (exit 0: records were written)" test "$rc" -eq 0
if ((rc != 0)); then echo "  exit status $rc; stderr:"; sed 's/^/  /' "$work/ferr1"; fi
for i in $(seq 31 60); do echo "live-$i"; done | sc produce logs
sc consume logs --group follower >"$work/f2" 2>/dev/null
cat "$work/f1" "$work/f2" >"$work/f_all"
check "follower + next run read all 225 records" test "$(sort -u "$work/f_all" | wc -l)" -eq 225
check "follower + next run: no duplicates after SIGTERM" test "$(sort "$work/f_all" | uniq -d | wc -l)" -eq 0

# ---- state file: same semantics without a group
state="$work/jobs/logs.state"
sc consume logs --state-file "$state" >/dev/null 2>"$work/serr0"
check "a state file in a missing directory is not found (exit 3)" test $? -eq 3
mkdir -p "$work/jobs"
sc consume logs --state-file "$state" >"$work/s1" 2>/dev/null
check "first state-file run reads all 225 records" test "$(wc -l <"$work/s1")" -eq 225
check "the state file is JSON with offsets per partition" \
  bash -c "jq -e '.version == 1 and (.offsets.logs | length) == 3' '$state' >/dev/null"
echo "after-state" | sc produce logs -p 1
sc consume logs --state-file "$state" >"$work/s2" 2>/dev/null
check "second state-file run reads only the new record" test "$(cat "$work/s2")" = "after-state"
sc consume logs --state-file "$state" >"$work/s3" 2>/dev/null
check "third state-file run: nothing new, exit 5" test $? -eq 5

"$STREAMCTL" consume logs --state-file "$state" -f >/dev/null 2>&1 &
spid=$!
bg_pids+=("$spid")
wait_for 10 test -e "$state.lock"
sleep 0.5
sc consume logs --state-file "$state" >/dev/null 2>"$work/busy"
rc=$?
check "an overlapping run on the same state file is refused (exit 1)" test "$rc" -eq 1
check "the refusal names the state file" grep -q "logs.state" "$work/busy"
kill -TERM "$spid"
wait "$spid"

sc consume logs --group g --state-file "$state" >/dev/null 2>"$work/both"
check "--group with --state-file is a usage error (exit 2)" test $? -eq 2
echo "not json" >"$work/jobs/bad.state"
sc consume logs --state-file "$work/jobs/bad.state" >/dev/null 2>"$work/bad"
check "a damaged state file is refused (exit 1), not reset" test $? -eq 1
check "the damaged state file error names it" grep -q "bad.state" "$work/bad"
sc consume logs --group g -o 0:10 >/dev/null 2>"$work/range"
check "a range with --group is a usage error (exit 2)" test $? -eq 2
sc consume nosuchtopic --group g >/dev/null 2>"$work/nf"
check "a missing topic in group mode exits 3" test $? -eq 3

finish
