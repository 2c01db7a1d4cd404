#!/usr/bin/env bash
# End-to-end: bad input gives a clear `streamctl: error:` on stderr (with a hint where one helps), nothing
# on stdout, and the documented exit code; SIGPIPE and SIGINT stop cleanly.
source "$(dirname "$0")/cli_helpers.bash"

# ---- not found (3)
expect_exit "consume with no data directory yet" 3 sc consume nope
stderr_has "says the topic does not exist" "topic 'nope' does not exist"
echo x | sc produce exists 2>/dev/null
expect_exit "consume an unknown topic" 3 sc consume nope
stderr_has "error prefix" "streamctl: error: "
stderr_has "hint" "hint: "
expect_eq "nothing on stdout" "" "$(cat "$work/out")"
expect_exit "produce from a missing file" 3 sc produce fresh "$work/missing.txt"
stderr_has "names the file" "missing.txt"
expect_exit "nothing was created by the failed produce" 3 sc topic describe fresh
expect_exit "produce --no-create to a missing topic" 3 sc produce fresh --no-create </dev/null

# ---- usage (2)
expect_exit "no command" 2 sc
stderr_has "no command prints usage" "Usage"
expect_exit "unknown command" 2 sc frobnicate
expect_exit "unknown flag" 2 sc consume exists --bogus
stderr_has "unknown flag: hint names the command" "streamctl consume --help"
expect_exit "bad offset spec" 2 sc consume exists -o tomorrow
stderr_has "bad offset: grammar" "offsets: beginning | end"
expect_exit "invalid topic name on produce" 2 sc produce 'no/slash' </dev/null
expect_exit "invalid topic name on create" 2 sc topic create '..'
expect_exit "bad config" 2 sc topic create t2 -c retention.ms=-5x
expect_exit "-X without =" 2 sc -X batch.size produce exists </dev/null
expect_exit "--format with --json" 2 sc consume exists --json --format '%s'
expect_exit "input is a directory" 2 sc produce exists "$work"
expect_exit "--delimiter of two bytes" 2 sc produce exists -D ab </dev/null
if [[ $(id -u) -ne 0 ]]; then
  echo secret >"$work/locked"; chmod 000 "$work/locked"
  expect_exit "unreadable input file" 1 sc produce exists "$work/locked"
  stderr_has "permission denied named" "locked"
else
  echo "PASS: unreadable input file (skipped: root reads everything)"
fi

# ---- nothing consumed (5)
expect_exit "empty range" 5 sc consume exists -o end
sc topic create empty -q
expect_exit "empty topic" 5 sc consume empty

# ---- clean stops
seq 1 200000 | sc produce big 2>/dev/null
sc consume big | head -n 1 >/dev/null
expect_eq "SIGPIPE (| head) ends consume with exit 0" "0" "${PIPESTATUS[0]}"
mkfifo "$work/fifo"
"$STREAMCTL" produce interrupted <"$work/fifo" 2>"$work/int.err" &
pid=$!
bg_pids+=("$pid")
exec 7>"$work/fifo"
seq 1 1000 >&7
wait_for 5 bash -c "$(printf '%q ' "$STREAMCTL") consume interrupted 2>/dev/null | wc -l | grep -qx 1000"
kill -INT "$pid"
wait "$pid"
rc=$?
exec 7>&-
expect_eq "SIGINT during produce exits 130" "130" "$rc"
expect_eq "what was read before SIGINT is kept" "1000" "$(sc consume interrupted | wc -l | tr -d ' ')"

# ---- data directory problems
echo file >"$work/notadir"
expect_exit "data dir is a file" 2 sc --data-dir "$work/notadir" produce x </dev/null
stderr_has "names the data dir" "notadir"
STREAMCTL_DATA_DIR="$work/envdir" sc produce viaenv <<<"hello" 2>/dev/null
check "STREAMCTL_DATA_DIR is honoured" test -d "$work/envdir"
expect_eq "--data-dir overrides the environment" "hello" "$(STREAMCTL_DATA_DIR=/nonexistent sc --data-dir "$work/envdir" consume viaenv)"
# ---- a directory served by `streamctl serve`: embedded commands go through the server
echo before | sc --data-dir "$work/served" produce t 2>/dev/null
"$STREAMCTL" --data-dir "$work/served" -q serve --listen 127.0.0.1:0 2>"$work/serve.err" &
server=$!
bg_pids+=("$server")
if wait_for 10 test -s "$work/served/__meta/serve.json"; then
  expect_exit "produce on a served directory goes through the server" 0 sc --data-dir "$work/served" -v produce t <<<"x"
  stderr_has "-v names the server it went through" "served by streamctl serve (pid $server"
  expect_exit "topic create on a served directory goes through the server" 0 sc --data-dir "$work/served" topic create u
  check "the server knows the new topic" grep -q "created topic" "$work/err"
  expect_eq "reading sees both records" "before x" "$(sc --data-dir "$work/served" consume t 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
  # A stale advertisement: the server dies without cleaning up (kill -9); its lock dies with it.
  kill -9 "$server"; wait "$server" 2>/dev/null
  check "a killed server leaves its advertisement behind" test -s "$work/served/__meta/serve.json"
  expect_exit "a stale advertisement is detected: produce runs embedded" 0 sc --data-dir "$work/served" -v produce t <<<"after"
  if grep -q "going through it" "$work/err"; then fail "produce went to a dead server"; else pass "no routing to a dead server"; fi
  expect_eq "everything is there" "before x after" "$(sc --data-dir "$work/served" consume t 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
else
  fail "serve did not advertise itself"; cat "$work/serve.err"
  kill -TERM "$server"; wait "$server"
fi
finish
