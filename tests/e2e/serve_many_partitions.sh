#!/usr/bin/env bash
# End-to-end: file descriptors with many partitions (issue 14, item 3). A soft open-files limit of 256 (the
# hard one above it) must not stop serve from opening 1,000 partitions: it raises the soft limit to the hard
# one at start. When the hard limit itself is too low, serve refuses to start with an error naming the
# partitions and the limit, and never listens (no port file, no serve.json), instead of serving some of them.
source "$(dirname "$0")/cli_helpers.bash"
skip_if_served "starts its own servers under open-files limits" && finish
data=$STREAMCTL_DATA_DIR
partitions=1000
sc topic create big -p $partitions >/dev/null 2>&1 || { echo "FAIL: cannot create topic big"; exit 1; }
hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < 4 * partitions + 200)); then
  echo "PASS (skipped): the hard open-files limit ($hard) is too low to serve $partitions partitions here"
  finish
fi

# serve_under LIMIT_ARGS: starts serve in a subshell with `ulimit LIMIT_ARGS`; waits until it listens or exits.
# Sets pid; the port (if any) is in $work/port.
serve_under() {
  rm -f "$work/port"
  ( ulimit "$@" || exit 99
    exec "$STREAMCTL" --data-dir "$data" serve --listen 127.0.0.1:0 --port-file "$work/port" >"$work/serve.log" 2>&1 ) &
  pid=$!
  local deadline=$((SECONDS + 40))
  until [[ -s "$work/port" ]] || ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); do sleep 0.05; done
}

serve_under -Sn 256
if [[ -s "$work/port" ]]; then
  pass "serve starts with a soft limit of 256 and $partitions partitions"
  check "serve raised its soft open-files limit" test "$(awk '/Max open files/ {print $4}' /proc/$pid/limits)" = "$hard"
  check "serve loaded every partition" grep -q "msg=\"logs loaded\" topics=1 partitions=$partitions" "$work/serve.log"
  addr="127.0.0.1:$(cat "$work/port")"
  expect_exit "produce to the last partition through serve" 0 bash -c "echo last | '$STREAMCTL' --brokers $addr produce big -p $((partitions - 1))"
  expect_exit "consume it back" 0 bash -c "'$STREAMCTL' --brokers $addr consume big -p $((partitions - 1)) -o beginning -n 1 >'$work/last'"
  expect_eq "the record is in the last partition" "last" "$(cat "$work/last")"
  kill -TERM "$pid"; wait "$pid"
else
  fail "serve did not start with a soft limit of 256"; tail -3 "$work/serve.log" | sed 's/^/  serve: /'
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
fi

serve_under -n 256
wait "$pid"; rc=$?
expect_eq "serve refuses to start with a hard limit of 256 (exit 1)" 1 "$rc"
check "it never listened (no port file)" test ! -e "$work/port"
check "it advertised nothing (no serve.json)" test ! -e "$data/__meta/serve.json"
check "the error counts the partitions it could not open" grep -Eq "cannot open [0-9]+ of $partitions partitions, not starting" "$work/serve.log"
check "the error names the cause" grep -q "Too many open files" "$work/serve.log"
check "the error gives the limit" grep -q "open-files limit 256 (hard 256" "$work/serve.log"
finish
