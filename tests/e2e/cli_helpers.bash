# Shared helpers for the cli_*.sh end-to-end tests (sourced; not a test itself: CTest globs *.sh).
# Each test gets its own data directory under a mktemp -d work dir, removed on exit, prints PASS/FAIL per
# check and exits non-zero when any check failed. Env: STREAMCTL = the built binary.
set -uo pipefail
: "${STREAMCTL:?set STREAMCTL to the streamctl binary}"
work=$(mktemp -d "${TMPDIR:-/tmp}/streamctl-e2e-XXXXXX")
bg_pids=()
cleanup() {
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
export STREAMCTL_DATA_DIR="$work/data"
export NO_COLOR=1
unset XDG_DATA_HOME
failures=0
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
finish() {
  if ((failures > 0)); then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
  exit 0
}
