#!/usr/bin/env bash
# End-to-end: `streamctl group list|describe|reset-offsets|delete`: committed offset, log end offset and lag
# per partition plus total lag (text and --json), every reset mode with and without --dry-run, refusal
# while members are alive (delete --topic too), delete --topic keeping the other topics' offsets, and the
# documented exit codes for bad input. Env: STREAMCTL = the binary.
# shellcheck source=cli_helpers.bash
source "$(dirname "$0")/cli_helpers.bash"
# committed P: the group's committed offset of partition P of topic t (jq), "null" when none
committed() { sc group describe g --json | jq -r ".partitions[] | select(.topic==\"t\" and .partition==$1) | .committed_offset"; }
total_lag() { sc group describe g --json | jq -r .total_lag; }

sc group list >"$work/list0" 2>&1
check "group list on a missing data directory exits 0 and prints nothing" test ! -s "$work/list0"

sc topic create t -p 3 >/dev/null 2>&1 || { echo "FAIL: cannot create topic"; exit 1; }
# Partition p gets 10 old records (3 days ago: inside the default 7-day retention) then 10 recent ones (now),
# so time resets are deterministic.
for p in 0 1 2; do
  seq -f "old-$p-%g" 1 10 | sc produce t -p "$p" --timestamp -3d
  seq -f "new-$p-%g" 1 10 | sc produce t -p "$p"
done

sc group describe g >"$work/nf" 2>"$work/nf.err"
check "describe of an unknown group exits 3" test $? -eq 3
check "describe of an unknown group says so" grep -q "consumer group 'g' does not exist" "$work/nf.err"

sc consume t --group g -n 25 >/dev/null 2>&1
check "consume -n 25 commits 25 records: total lag 35" test "$(total_lag)" = 35
sc group describe g >"$work/describe"
check "describe prints Kafka's columns" grep -q "TOPIC.*PARTITION.*CURRENT-OFFSET.*LOG-END-OFFSET.*LAG" "$work/describe"
check "describe prints the total lag" grep -q "TOTAL-LAG 35" "$work/describe"
check "describe says the group is Empty with no member" grep -q "STATE Empty" "$work/describe"
check "describe --json: per partition lag = log end - committed" \
  bash -c "\"$STREAMCTL\" group describe g --json | jq -e '[.partitions[] | .lag == .log_end_offset - .committed_offset] | all' >/dev/null"
check "describe --json: total lag = sum of lags" \
  bash -c "\"$STREAMCTL\" group describe g --json | jq -e '.total_lag == ([.partitions[].lag] | add)' >/dev/null"
check "describe --json: every log end offset is 20" \
  bash -c "\"$STREAMCTL\" group describe g --json | jq -e '[.partitions[].log_end_offset == 20] | all' >/dev/null"

sc group list >"$work/list"
check "group list names the group" grep -qx g "$work/list"
check "group list --json is an array with the group's total lag" \
  bash -c "\"$STREAMCTL\" group list --json | jq -e '.[0].group == \"g\" and .[0].total_lag == 35' >/dev/null"
sc group list -l >"$work/list_l"
check "group list -l shows state and lag" grep -q "GROUP.*STATE.*MEMBERS.*TOTAL-LAG" "$work/list_l"

# ---- reset modes: --dry-run changes nothing, then each mode applied
before=$(sc group describe g --json | jq -c '[.partitions[].committed_offset]')
sc group reset-offsets g --topic t --to-earliest --dry-run >"$work/dry" 2>"$work/dry.err"
check "dry run exits 0" test $? -eq 0
check "dry run prints NEW-OFFSET 0" grep -q "NEW-OFFSET" "$work/dry"
check "dry run says nothing changed" grep -q "dry run" "$work/dry.err"
check "dry run leaves the committed offsets alone" \
  test "$(sc group describe g --json | jq -c '[.partitions[].committed_offset]')" = "$before"
check "dry run --json reports the plan" \
  bash -c "\"$STREAMCTL\" group reset-offsets g --topic t --to-earliest --dry-run --json | jq -e '.dry_run and ([.partitions[].new_offset == 0] | all)' >/dev/null"

# Without --execute a reset is a dry run (as kafka-consumer-groups.sh).
sc group reset-offsets g --topic t --to-earliest >/dev/null 2>"$work/default.err"
check "reset without --execute exits 0" test $? -eq 0
check "reset without --execute says it was a dry run" grep -q "dry run: nothing was changed (add --execute to apply)" "$work/default.err"
check "reset without --execute leaves the committed offsets alone" \
  test "$(sc group describe g --json | jq -c '[.partitions[].committed_offset]')" = "$before"
check "reset without --execute --json says dry_run" \
  bash -c "\"$STREAMCTL\" group reset-offsets g --topic t --to-earliest --json | jq -e '.dry_run' >/dev/null"
sc group reset-offsets g --topic t --to-earliest --dry-run --execute >/dev/null 2>&1
check "--dry-run with --execute is a usage error (exit 2)" test $? -eq 2
# An unknown group is refused unless --create (a typo must not create a group).
sc group reset-offsets gg --topic t --to-earliest --execute >/dev/null 2>"$work/unknown.err"
check "reset of an unknown group exits 3" test $? -eq 3
check "the refusal names the group and --create" \
  bash -c "grep -q \"consumer group 'gg' does not exist\" '$work/unknown.err' && grep -q -- --create '$work/unknown.err'"
check "the unknown group was not created" bash -c "! \"$STREAMCTL\" group list | grep -qx gg"
sc group reset-offsets fresh --topic t --to-offset 3 --create --execute >/dev/null 2>&1
check "--create --execute starts a new group at the offsets" \
  bash -c "\"$STREAMCTL\" group describe fresh --json | jq -e '[.partitions[].committed_offset] == [3,3,3]' >/dev/null"
sc group delete fresh >/dev/null 2>&1

sc group reset-offsets g --topic t --to-earliest --execute >/dev/null 2>&1
check "--to-earliest: total lag 60" test "$(total_lag)" = 60
sc group reset-offsets g --topic t --to-latest --execute >/dev/null 2>&1
check "--to-latest: total lag 0" test "$(total_lag)" = 0
sc group reset-offsets g --topic t:1 --to-offset 7 --execute >/dev/null 2>&1
check "--to-offset 7 on t:1 moves only partition 1" \
  test "$(committed 0) $(committed 1) $(committed 2)" = "20 7 20"
sc group reset-offsets g --topic t --shift-by -5 --execute >/dev/null 2>&1
check "--shift-by -5 moves every partition back 5" test "$(committed 0) $(committed 1) $(committed 2)" = "15 2 15"
sc group reset-offsets g --topic t:1 --shift-by -100 --execute >/dev/null 2>"$work/clamp.err"
check "--shift-by below the log start clamps to it" test "$(committed 1)" = 0
check "clamping prints a warning" grep -q "clamped" "$work/clamp.err"
sc group reset-offsets g --topic t --to-offset 999 --execute >/dev/null 2>&1
check "--to-offset past the end clamps to the log end" test "$(total_lag)" = 0
sc group reset-offsets g --topic t --to-datetime "$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)" --execute >/dev/null 2>&1
check "--to-datetime between old and new records: offset 10 everywhere" \
  test "$(committed 0) $(committed 1) $(committed 2)" = "10 10 10"
sc group reset-offsets g --all-topics --to-earliest --execute >/dev/null 2>&1
sc group reset-offsets g --all-topics --by-duration 1h --execute >/dev/null 2>&1
check "--by-duration 1h skips the old records: offset 10 everywhere" \
  test "$(committed 0) $(committed 1) $(committed 2)" = "10 10 10"
sc consume t --group g >"$work/after_reset" 2>/dev/null
check "consume after the reset reads the 30 recent records" test "$(grep -c '^new-' "$work/after_reset")" = 30
check "consume after the reset reads no old record" test "$(grep -c '^old-' "$work/after_reset")" = 0

# ---- bad input
sc group reset-offsets g --topic t >/dev/null 2>"$work/nomode"
check "reset without a mode is a usage error (exit 2)" test $? -eq 2
sc group reset-offsets g --topic t --to-earliest --to-latest >/dev/null 2>&1
check "reset with two modes is a usage error (exit 2)" test $? -eq 2
sc group reset-offsets g --to-earliest >/dev/null 2>&1
check "reset without --topic/--all-topics is a usage error (exit 2)" test $? -eq 2
sc group reset-offsets g --topic nosuch --to-earliest >/dev/null 2>&1
check "reset on a missing topic exits 3" test $? -eq 3
sc group reset-offsets g --topic t:9 --to-earliest >/dev/null 2>&1
check "reset on a missing partition exits 3" test $? -eq 3
sc group reset-offsets g --topic t:x --to-earliest >/dev/null 2>&1
check "reset with a bad partition list is a usage error (exit 2)" test $? -eq 2
sc group reset-offsets g --topic t --to-datetime yesterday-ish >/dev/null 2>&1
check "reset with a bad time is a usage error (exit 2)" test $? -eq 2
sc group reset-offsets newgroup --topic t --shift-by 1 --create --execute >/dev/null 2>&1
check "--shift-by without committed offsets is a usage error (exit 2)" test $? -eq 2
sc group nosuchsub >/dev/null 2>&1
check "an unknown group subcommand is a usage error (exit 2)" test $? -eq 2

# ---- live members: describe shows them; reset and delete are refused
"$STREAMCTL" consume t --group g -f >/dev/null 2>&1 &
mpid=$!
bg_pids+=("$mpid")
check "a following member makes the group Stable" \
  wait_for 10 bash -c "\"$STREAMCTL\" group describe g --json | jq -e '.state == \"Stable\"' >/dev/null"
check "describe --json lists the member's pid and its 3 partitions" \
  bash -c "\"$STREAMCTL\" group describe g --json | jq -e '.members[0].pid == $mpid and (.members[0].partitions | length) == 3' >/dev/null"
sc group describe g --members >"$work/members"
check "describe --members shows the member" grep -q "$mpid" "$work/members"
sc group reset-offsets g --topic t --to-earliest --execute >/dev/null 2>"$work/busy"
check "reset while a member is alive is refused (exit 1)" test $? -eq 1
check "the refusal says the group is active" grep -q "active member" "$work/busy"
sc group reset-offsets g --topic t --to-earliest --dry-run >/dev/null 2>&1
check "a dry run while a member is alive still works (exit 0)" test $? -eq 0
sc group delete g >/dev/null 2>"$work/delbusy"
check "delete while a member is alive is refused (exit 1)" test $? -eq 1
sc group delete g --topic t >/dev/null 2>"$work/deltopicbusy"
check "delete --topic while a member is alive is refused (exit 1)" test $? -eq 1
check "the delete --topic refusal says the group is active" grep -q "active member" "$work/deltopicbusy"
check "the refused delete --topic kept t's offsets" test "$(committed 0)" != null
kill -TERM "$mpid"
wait "$mpid"
check "after the member stops the group is Empty" \
  bash -c "\"$STREAMCTL\" group describe g --json | jq -e '.state == \"Empty\" and (.members | length) == 0' >/dev/null"

# ---- delete
sc topic create t2 -p 1 >/dev/null 2>&1 || { echo "FAIL: cannot create topic t2"; exit 1; }
seq 1 5 | sc produce t2
sc consume t2 --group g -n 2 >/dev/null 2>&1
sc group delete g --topic t --json >"$work/deltopic.json" 2>/dev/null
check "delete --topic exits 0" test $? -eq 0
json_check "delete --topic --json counts t's 3 offsets" '.deleted_offsets == 3 and .topics == ["t"]' "$work/deltopic.json"
sc group describe g --json >"$work/kept.json" 2>/dev/null
json_check "delete --topic keeps the offsets of other topics (t2 at 2, nothing of t)" \
  '([.partitions[] | select(.topic == "t2") | .committed_offset] == [2]) and ([.partitions[] | select(.topic == "t")] | length) == 0' \
  "$work/kept.json"
sc group delete g --topic t2 >/dev/null 2>&1
check "delete --topic forgets that topic's offsets (describe: no partitions)" \
  bash -c "\"$STREAMCTL\" group describe g >/dev/null 2>&1; test \$? -eq 3"
sc consume t --group g -n 1 >/dev/null 2>&1
sc group delete g >/dev/null 2>&1
check "delete exits 0" test $? -eq 0
sc group describe g >/dev/null 2>&1
check "a deleted group is not found (exit 3)" test $? -eq 3
sc group delete g >/dev/null 2>&1
check "deleting a missing group exits 3" test $? -eq 3
sc group delete g --if-exists >/dev/null 2>&1
check "deleting a missing group with --if-exists exits 0" test $? -eq 0
# ---- a running `streamctl serve` owns the directory: group commands go through its coordinator, which
# shares the committed offsets with embedded mode
if ! skip_if_served "this section starts its own server on the directory"; then
  sc group delete served --if-exists >/dev/null 2>&1
  sc consume t --group served -n 1 >/dev/null 2>&1
  start_server
  first_remote=$(sc consume t --group served -n 1 2>"$work/served.err")
  check "consume --group through the server exits 0" test $? -eq 0
  sc group describe served --json >"$work/served.json" 2>/dev/null
  json_check "the server's coordinator sees the embedded commit, then its own (offset 2)" \
    '[.partitions[] | select(.partition == 0) | .committed_offset] == [2] or ([.partitions[].committed_offset] | add) == 2' "$work/served.json"
  sc group reset-offsets served --topic t --to-earliest --execute >/dev/null 2>&1
  check "reset-offsets through the server exits 0" test $? -eq 0
  sc group reset-offsets served --topic t --to-earliest --dry-run >/dev/null 2>&1
  check "a dry run through the server works (exit 0)" test $? -eq 0
  sc group describe served >/dev/null 2>&1
  check "describe through the server works (exit 0)" test $? -eq 0
  sc group delete served >/dev/null 2>&1
  check "delete through the server exits 0" test $? -eq 0
  sc group describe served >/dev/null 2>&1
  check "the deleted group is gone (exit 3)" test $? -eq 3
  stop_server
  sc group describe served >/dev/null 2>&1
  check "after the server stops, embedded mode sees the deletion too (exit 3)" test $? -eq 3
  [[ -n "$first_remote" ]] && pass "consume through the server printed a record" || fail "consume through the server printed nothing"
fi

check "group --help has examples" bash -c "\"$STREAMCTL\" group --help | grep -q Examples"
check "group reset-offsets --help has examples" bash -c "\"$STREAMCTL\" group reset-offsets --help | grep -q Examples"

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
