#!/usr/bin/env bash
# End-to-end: a consumer group of 3 `consume --group` processes on one 6-partition topic, with no server.
#   1. The members split the partitions 2/2/2 while a producer keeps writing.
#   2. One member is killed with kill -9 midway: its partitions are taken over, nothing is lost, and the
#      only duplicates are records the killed member wrote after its last commit (a suffix of what it wrote
#      per partition; Kafka's at-least-once), never between the survivors.
#   3. Same run with SIGTERM instead of kill -9: every record is written exactly once.
# Env: STREAMCTL = the built binary.
set -uo pipefail
: "${STREAMCTL:?set STREAMCTL to the streamctl binary}"
work=$(mktemp -d "${TMPDIR:-/tmp}/streamctl-e2e-group-kill-XXXXXX")
bg_pids=()
cleanup() {
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
export STREAMCTL_DATA_DIR="$work/data"
failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
sc() { "$STREAMCTL" "$@"; }
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.1
  done
}
group_json() { sc group describe "$1" --json 2>/dev/null; }
# balanced GROUP: 3 live members owning 2 partitions each
balanced() {
  group_json "$1" | jq -e '(.members | length) == 3 and ([.members[].partitions | length] == [2,2,2])' >/dev/null
}
# taken_over GROUP: 2 live members owning all 6 partitions between them
taken_over() {
  group_json "$1" | jq -e '(.members | length) == 2 and ([.members[].partitions | length] | add) == 6' >/dev/null
}
# drained GROUP: the producer finished and the group has committed everything
drained() { group_json "$1" | jq -e '.total_lag == 0 and ([.partitions[].committed_offset] | all(. != null))' >/dev/null; }

# run_scenario NAME SIGNAL: 3 members, a producer, one member stopped with SIGNAL midway.
run_scenario() {
  local name=$1 signal=$2 group="g-$1" total=60000
  local dir="$work/$name"
  mkdir -p "$dir"
  # Keyed records spread over the 6 partitions; the value names the record uniquely.
  seq 1 20000 | awk -v n="$name" '{ print "k" $1 "\t" n "-" $1 }' | sc produce "$topic" -K '\t' ||
    fail "$name: initial produce"
  local pids=()
  for m in 1 2 3; do
    "$STREAMCTL" consume "$topic" --group "$group" -f --commit-interval 200ms --format '%p %o %s\n' \
      >"$dir/out.$m" 2>"$dir/err.$m" &
    pids+=($!)
    bg_pids+=($!)
  done
  check "$name: the 3 members split the 6 partitions 2/2/2" wait_for 15 balanced "$group"
  # Keep producing while members run; stop one member midway.
  (
    for chunk in $(seq 1 8); do
      seq $((20000 + (chunk - 1) * 5000 + 1)) $((20000 + chunk * 5000)) |
        awk -v n="$name" '{ print "k" $1 "\t" n "-" $1 }' | sc produce "$topic" -K '\t'
      sleep 0.2
    done
  ) &
  local producer=$!
  bg_pids+=("$producer")
  sleep 0.8
  local victim=${pids[1]}
  local victim_owned
  victim_owned=$(group_json "$group" | jq -r --argjson pid "$victim" \
    '[.members[] | select(.pid == $pid) | .partitions[].partition] | sort | join(",")')
  kill "-$signal" "$victim"
  wait "$victim" 2>/dev/null
  check "$name: the stopped member owned partitions before it stopped ($victim_owned)" test -n "$victim_owned"
  check "$name: its partitions are taken over within 5 s" wait_for 5 taken_over "$group"
  wait "$producer"
  check "$name: the survivors take over and drain the topic" wait_for 60 drained "$group"
  check "$name: 2 members remain, sharing all 6 partitions" taken_over "$group"
  kill -TERM "${pids[0]}" "${pids[2]}"
  wait "${pids[0]}" "${pids[2]}" 2>/dev/null

  # What was produced for this scenario, and what the members wrote.
  seq 1 "$total" | awk -v n="$name" '{ print n "-" $1 }' | sort >"$dir/expected"
  cat "$dir/out.1" "$dir/out.2" "$dir/out.3" | awk '{ print $3 }' | sort >"$dir/got_all"
  sort -u "$dir/got_all" >"$dir/got_unique"
  check "$name: every produced record was written by some member (nothing lost)" \
    cmp -s "$dir/expected" "$dir/got_unique"
  check "$name: nothing but produced records was written" test "$(wc -l <"$dir/got_unique")" -eq "$total"
  cat "$dir/out.1" "$dir/out.3" | awk '{ print $3 }' | sort | uniq -d >"$dir/dup_survivors"
  check "$name: no record written twice by the survivors" test ! -s "$dir/dup_survivors"
  for m in 1 2 3; do
    check "$name: member $m wrote no record twice itself" \
      test "$(awk '{ print $3 }' "$dir/out.$m" | sort | uniq -d | wc -l)" -eq 0
  done
  # Records written by the stopped member that a survivor wrote too.
  awk 'NR == FNR { seen[$1 " " $2] = 1; next } ($1 " " $2) in seen { print $1, $2 }' \
    <(cat "$dir/out.1" "$dir/out.3") "$dir/out.2" >"$dir/dup_victim"
  local dups
  dups=$(wc -l <"$dir/dup_victim")
  if [[ $signal == TERM ]]; then
    check "$name: SIGTERM: zero duplicates (the member committed what it wrote before leaving)" test "$dups" -eq 0
  else
    echo "info: $name: the killed member re-delivered $dups uncommitted record(s)"
    # Per partition, the duplicates must be the tail of what the killed member wrote: every offset it
    # wrote at or after its first duplicated offset is duplicated (it lost only its uncommitted suffix).
    local bad
    bad=$(awk 'NR == FNR { dup[$1 " " $2] = 1; if (!($1 in first) || $2 < first[$1]) first[$1] = $2; next }
               ($1 in first) && $2 >= first[$1] && !(($1 " " $2) in dup) { bad++ }
               END { print bad + 0 }' "$dir/dup_victim" "$dir/out.2")
    check "$name: kill -9: duplicates are only the killed member's uncommitted tail" test "$bad" -eq 0
    check "$name: kill -9: duplicates are bounded (< 20000)" test "$dups" -lt 20000
  fi
}

topic=events
sc topic create "$topic" -p 6 >/dev/null 2>&1 || { echo "FAIL: cannot create topic"; exit 1; }
run_scenario kill9 KILL
topic=events2
sc topic create "$topic" -p 6 >/dev/null 2>&1 || { echo "FAIL: cannot create topic"; exit 1; }
run_scenario sigterm TERM

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
