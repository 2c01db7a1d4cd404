#!/usr/bin/env bash
# End-to-end, served mode: the CLI suite again, each test with a `streamctl serve` started on its data
# directory (cli_helpers.bash, STREAMCTL_E2E_MODE=served), so every command goes through the Kafka-protocol
# server instead of the embedded engine, and must pass the same assertions. Not run here:
#   group_members_kill.sh  serverless membership: kill -9 takeover within a second is a property of embedded
#                          groups; a broker coordinator waits for the session timeout (45 s in librdkafka)
#   log_dump_verify.sh     `log` reads segment files offline: it has no server mode
#   serve_*.sh             start their own servers
# Env: STREAMCTL = the binary.
set -uo pipefail
: "${STREAMCTL:?set STREAMCTL to the streamctl binary}"
here=$(dirname "$0")
failed=()
for t in cli_concurrent cli_errors cli_follow cli_json_copy cli_mistakes cli_offsets cli_oversize cli_produce_consume cli_topic cli_typos group_admin group_resume; do
  echo "=== $t (served)"
  if STREAMCTL_E2E_MODE=served bash "$here/$t.sh"; then :; else failed+=("$t"); fi
done
if ((${#failed[@]} > 0)); then
  echo "served mode failed: ${failed[*]}"
  exit 1
fi
echo "all served-mode tests passed"
