# Shared helpers for the cli_*.sh end-to-end tests (sourced; not a test itself: CTest globs *.sh).
# Each test gets its own data directory under a mktemp -d work dir, removed on exit, prints PASS/FAIL per
# check and exits non-zero when any check failed. Env: STREAMCTL = the built binary.
#
# STREAMCTL_E2E_MODE=served runs the same test against a `streamctl serve` that this file starts on the
# test's data directory (127.0.0.1, a free port): every command then goes through the server (writes and
# group consumption over the Kafka protocol; reads of the directory stay direct). tests/e2e/served_suite.sh
# runs the suite that way. Checks that only make sense without a server call skip_if_served.
set -uo pipefail
: "${STREAMCTL:?set STREAMCTL to the streamctl binary}"
work=$(mktemp -d "${TMPDIR:-/tmp}/streamctl-e2e-XXXXXX")
bg_pids=()
serve_pid=
cleanup() {
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
export STREAMCTL_DATA_DIR="$work/data"
export NO_COLOR=1
unset XDG_DATA_HOME STREAMCTL_BROKERS STREAMCTL_PROFILE
failures=0
e2e_mode=${STREAMCTL_E2E_MODE:-embedded}
# start_server [DATA_DIR]: runs `streamctl serve` on the directory (default: the test's) and waits until it
# advertises itself; sets serve_pid and serve_addr (host:port).
start_server() {
  local dir=${1:-$STREAMCTL_DATA_DIR}
  rm -f "$work/serve.port"
  # Started from a subshell, so it is not a job of the test's shell: a bare `wait` in a test must not
  # wait for the server. Retention runs every 100 ms, as promptly as embedded produce applies it.
  ( "$STREAMCTL" --data-dir "$dir" serve --listen 127.0.0.1:0 --port-file "$work/serve.port" \
      --retention-check-interval-ms 100 >"$work/serve.log" 2>&1 &
    echo $! >"$work/serve.pid" )
  serve_pid=$(cat "$work/serve.pid")
  local deadline=$((SECONDS + 20))
  until [[ -s "$work/serve.port" && -s "$dir/__meta/serve.json" ]]; do
    if ((SECONDS >= deadline)) || ! kill -0 "$serve_pid" 2>/dev/null; then
      echo "FAIL: streamctl serve did not start"; sed 's/^/  serve: /' "$work/serve.log" | tail -5; exit 1
    fi
    sleep 0.05
  done
  serve_addr="127.0.0.1:$(cat "$work/serve.port")"
}
# stop_server: SIGTERM (the server flushes and exits) and wait up to 10 s for it to be gone.
stop_server() {
  if [[ -n "$serve_pid" ]]; then
    kill -TERM "$serve_pid" 2>/dev/null
    local deadline=$((SECONDS + 10))
    while kill -0 "$serve_pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    kill -9 "$serve_pid" 2>/dev/null
  fi
  serve_pid=
}
if [[ "$e2e_mode" == served ]]; then
  start_server
  echo "mode: served (streamctl serve pid $serve_pid on $serve_addr owns $STREAMCTL_DATA_DIR)"
fi
# skip_if_served REASON: returns 0 (and prints SKIP) in served mode, so `skip_if_served why || { checks; }`.
skip_if_served() {
  if [[ "$e2e_mode" == served ]]; then echo "SKIP (served mode): $1"; return 0; fi
  return 1
}
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
sc() { "$STREAMCTL" "$@"; }
# check NAME COMMAND...: passes when the command succeeds
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else
    fail "$1"; printf '  expected: %q\n  actual:   %q\n' "$2" "$3"
  fi
}
# expect_exit NAME CODE COMMAND...: runs the command (stdout to $work/out, stderr to $work/err) and checks
# its exit code.
expect_exit() {
  local name=$1 code=$2; shift 2
  "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if [[ $rc -eq $code ]]; then pass "$name (exit $code)"; else
    fail "$name: exit $rc, expected $code"; sed 's/^/  stderr: /' "$work/err" | head -5
  fi
}
# stderr_has NAME TEXT: the last expect_exit's stderr contains TEXT
stderr_has() {
  if grep -qF -- "$2" "$work/err"; then pass "$1"; else
    fail "$1: stderr lacks '$2'"; sed 's/^/  stderr: /' "$work/err" | head -5
  fi
}
# json_check NAME FILTER FILE: jq -e FILTER over FILE (one JSON document) is true
json_check() {
  if jq -e "$2" "$3" >/dev/null 2>&1; then pass "$1"; else fail "$1"; head -c 600 "$3" | sed 's/^/  json: /'; fi
}
# record_check NAME SELECT COND FILE: in a JSON-lines FILE, exactly one record matches SELECT and it
# satisfies COND
record_check() {
  if jq -e -s "[.[] | select($2)] | length == 1 and (.[0] | $3)" "$4" >/dev/null 2>&1; then pass "$1"; else
    fail "$1"; jq -c "select($2)" "$4" 2>&1 | head -3 | sed 's/^/  record: /'
  fi
}
# wait_for SECONDS COMMAND...: polls until the command succeeds
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.05
  done
}
# handles_signal PID SIGNUM: true once the process has installed a handler for the signal (SigCgt in
# /proc/PID/status). Tests that signal a freshly started command wait for this instead of sleeping: a slow
# start (sanitizers, a loaded machine) must not turn "graceful stop" into "killed by the default action".
handles_signal() {
  local mask
  mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n "$mask" ]] && (( (16#$mask >> ($2 - 1)) & 1 ))
}
finish() {
  if ((failures > 0)); then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
  exit 0
}
