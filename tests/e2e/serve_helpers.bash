# Shared by the end-to-end tests that start their own `streamctl serve` (serve_*.sh, remote_produce.sh).
# Source it with E2E_NAME set. It makes $work, counts PASS/FAIL lines, and on exit kills the server
# ($server_pid) and background processes ($producer_pid, $bg_pids), printing the tails of the server log
# and of $work/*.err when a check failed. start_server [serve flags...] starts `streamctl serve` on $listen
# (first a free port; restarts reuse the port, so clients reconnect by themselves) and sets B to it.
: "${STREAMCTL:?set STREAMCTL to the streamctl binary}"
: "${E2E_NAME:?set E2E_NAME before sourcing serve_helpers.bash}"
PY=/usr/bin/python3  # Debian's python3 with python3-kafka (tests must not depend on a pyenv shim)
work=$(mktemp -d "${TMPDIR:-/tmp}/streamctl-e2e-$E2E_NAME-XXXXXX")
server_pid=""
producer_pid=""
bg_pids=()
failures=0
listen=127.0.0.1:0
cleanup() {
  local p f
  for p in "${bg_pids[@]}" $producer_pid; do kill -9 "$p" 2>/dev/null; done
  if [[ -n "$server_pid" ]]; then kill -9 "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  if ((failures > 0)); then
    if [[ -f "$work/server.log" ]]; then echo "--- server log (last 40 lines)"; tail -40 "$work/server.log"; fi
    for f in "$work"/*.err; do
      if [[ -s "$f" ]]; then echo "--- ${f##*/} (last 20 lines)"; tail -20 "$f"; fi
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
expect_eq() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1"; printf '  expected: %q\n  actual:   %q\n' "$2" "$3"; fi
}
wait_for() { # wait_for SECONDS COMMAND...: polls until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS >= deadline)) && return 1; sleep 0.05; done
}
start_server() {
  rm -f "$work/port"
  "$STREAMCTL" --data-dir "$work/data" serve --listen "$listen" --port-file "$work/port" "$@" \
    2>>"$work/server.log" &
  server_pid=$!
  if ! wait_for 15 test -s "$work/port"; then
    echo "FAIL: the server did not start"; tail -20 "$work/server.log"; exit 1
  fi
  listen="127.0.0.1:$(cat "$work/port")"
  B=$listen
}
# kill9_server: kill -9 the server and reap it.
kill9_server() {
  if [[ -n "$server_pid" ]]; then kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null; fi
  server_pid=""
}
# finish: the summary line and exit status.
finish() {
  if ((failures > 0)); then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
}
