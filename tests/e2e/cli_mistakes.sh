#!/usr/bin/env bash
# End-to-end: mistakes that used to pass silently are named. A missing --data-dir on a read command is
# exit 3 naming the path (not an empty listing); produce into a new directory says it created it;
# contradicting flags are exit 2 with the reason; an empty offset range says so; produce --json needs a
# value and a string unless --json-text. (group reset-offsets' dry-run default and --create: group_admin.sh.)
source "$(dirname "$0")/cli_helpers.bash"

missing="$work/no-such-dir"
skip_if_served "--data-dir elsewhere bypasses the test's server" || {
  for cmd in "topic list" "topic describe x" "group list" "group describe g" "consume x"; do
    # shellcheck disable=SC2086
    expect_exit "$cmd on a missing --data-dir" 3 sc --data-dir "$missing" $cmd
    stderr_has "$cmd names the missing directory" "no data directory at $missing"
  done
  check "read commands did not create it" test ! -e "$missing"
  # $STREAMCTL_DATA_DIR or the XDG default before anything was produced is simply empty.
  STREAMCTL_DATA_DIR="$missing" expect_exit "topic list on a fresh \$STREAMCTL_DATA_DIR" 0 sc topic list
  (unset STREAMCTL_DATA_DIR; XDG_DATA_HOME="$work/xdg" expect_exit "topic list on the fresh default directory" 0 sc topic list)
  expect_exit "produce into a new directory" 0 bash -c "echo x | \"$STREAMCTL\" --data-dir \"$missing\" produce t"
  stderr_has "says it created the directory" "created data directory $missing"
  expect_exit "produce again: no such note" 0 bash -c "echo x | \"$STREAMCTL\" --data-dir \"$missing\" produce t"
  if grep -q "created data directory" "$work/err"; then fail "second produce claims to create"; else pass "second produce creates nothing"; fi
}

echo x | sc -q produce t
# ---- contradicting flags: exit 2 with the reason
expect_exit "-k with -K" 2 sc produce t -k a -K : </dev/null
stderr_has "-k with -K: reason" "--key and --key-separator both set the key"
expect_exit "-Z with --skip-empty" 2 sc produce t -Z --skip-empty </dev/null
stderr_has "-Z with --skip-empty: reason" "--null-empty and --skip-empty disagree"
expect_exit "-q with -v" 2 sc -q -v topic list
stderr_has "-q with -v: reason" "-q/--quiet and -v/--verbose contradict"
expect_exit "-q with -v after the command" 2 sc topic list -qv
expect_exit "--json-text without --json" 2 sc produce t --json-text </dev/null

# -Z --skip-empty with -K: empty lines skipped, "key:" lines are tombstones.
printf 'a:1\n\nb:\n' | sc -q produce kz -K : -Z --skip-empty
expect_eq "-K -Z --skip-empty: two records, b a tombstone" '{"key":"a","value":"1"} {"key":"b","value":null}' \
  "$(sc -q --json consume kz | jq -c '{key, value}' | tr '\n' ' ' | sed 's/ $//')"
# --skip-empty skips empty lines with -k too.
printf 'one\n\ntwo\n' | sc -q produce kk -k same --skip-empty
expect_eq "--skip-empty with -k skips the empty line" 2 "$(sc -q consume kk | wc -l | tr -d ' ')"

# ---- counts and ranges
expect_exit "-n 0" 2 sc consume t -n 0
stderr_has "-n 0 says at least 1" "at least 1"
expect_exit "-n -1 is refused like -n 0" 2 sc consume t -n -1
stderr_has "-n -1 says at least 1" "at least 1 (got '-1')"
expect_exit "-o 5:3" 2 sc consume t -o 5:3
stderr_has "-o 5:3 says the range is empty" "offset range '5:3' is empty"
stderr_has "-o 5:3 suggests 3:5" "did you mean '3:5'?"
expect_exit "-o 4:4" 2 sc consume t -o 4:4
expect_exit "-o -3:-5" 2 sc consume t -o -3:-5
expect_exit "-o 0:1 is fine" 0 sc consume t -o 0:1

# ---- JSON input: value required, strings only unless --json-text
expect_exit "--json line without value" 2 bash -c "echo '{\"key\":\"k\"}' | \"$STREAMCTL\" --json produce j"
stderr_has "names the missing field and the line" 'stdin, line 1: field "value": missing'
stderr_has "says how to write a tombstone" '"value":null'
expect_exit "--json numeric value" 2 bash -c "echo '{\"value\":1}' | \"$STREAMCTL\" --json produce j"
stderr_has "numeric value names the type" 'field "value": is a JSON number, not a string'
expect_exit "--json numeric value with --json-text" 0 bash -c "echo '{\"value\":1}' | \"$STREAMCTL\" --json produce j --json-text"
expect_exit "--json explicit null value" 0 bash -c "echo '{\"key\":\"k\",\"value\":null}' | \"$STREAMCTL\" --json produce j"
expect_eq "stored: \"1\" and a tombstone" '"1" null' "$(sc -q --json consume j | jq -c .value | tr '\n' ' ' | sed 's/ $//')"

# ---- wrong words (issue 16 item 6): each message names the real problem
expect_exit "a topic named -dash" 2 sc topic create -dash
stderr_has "-dash: hint about --" "a name starting with '-' goes after '--'"
expect_exit "-- -dash creates it" 0 sc topic create -- -dash
if [[ -w /dev/full ]]; then
  sc consume t >/dev/full 2>"$work/err"
  stderr_has "consume > /dev/full blames the output" "the file system the output goes to is full"
  if grep -q "retention" "$work/err"; then fail "consume > /dev/full suggests retention"; else pass "no retention advice for a full output"; fi
fi
expect_exit "--brokers with a bad port" 2 sc --brokers 'localhost:x9092' topic list
stderr_has "bad port named" "broker 'localhost:x9092': bad port 'x9092'"
skip_if_served "produce goes through the server" ||
  { expect_exit "produce into __consumer_offsets" 2 bash -c "echo x | \"$STREAMCTL\" produce __consumer_offsets"
    stderr_has "internal topic refused" "is the name of an internal Kafka topic"; }
expect_exit "cluster health --wait --timeout 2s, nothing listening" 1 sc --brokers 127.0.0.1:1 cluster health --wait --timeout 2s
stderr_has "says the user's timeout" "not healthy after 2s"
if grep -q "within 15 s" "$work/err"; then fail "health speaks of 15 s"; else pass "health does not speak of another timeout"; fi
expect_exit "--brokers without a port, nothing there" 1 sc --brokers no-such-host.invalid topic list
stderr_has "portless broker: says 9092 was assumed" "no port given for no-such-host.invalid, so 9092 was tried"

# ---- the --rate progress bar moves with the records sent, not with the bytes buffered (issue 16, item 6)
# `script` gives produce a terminal on stderr, where the bar is drawn.
seq 1 30 >"$work/paced.txt"
script -qec "'$STREAMCTL' --data-dir '$work/paced' produce paced '$work/paced.txt' --rate 12" /dev/null \
  >"$work/paced.tty" 2>&1 </dev/null
tr '\r' '\n' <"$work/paced.tty" >"$work/paced.lines"
check "the paced progress bar shows a percentage strictly between 0 and 100" \
  grep -qE '^\[[=> ]*\] +([1-9]|[1-9][0-9])%' "$work/paced.lines"
check "the paced run wrote all 30 records" test "$(sc --data-dir "$work/paced" consume paced 2>/dev/null | wc -l)" -eq 30
seq 1 2 | sc -v --data-dir "$work/paced" produce one --rate 1 2>"$work/one.err" >/dev/null
if grep -q " 1 records/s" "$work/one.err"; then fail "says 1 records/s"; else pass "no '1 records/s'"; fi

finish
