#!/usr/bin/env bash
# Cron job: count the log records produced since the last run by level (INFO, WARN, ERROR, ...) and service,
# and produce one JSON summary record per run into a summary topic.
#
# "Since the last run" is the consumer group's committed offsets: `consume --group` starts where the previous
# run stopped (the first run reads the topic from the beginning) and commits what it wrote before exiting.
# Summaries are spooled to a file before they are produced, so a failed produce is retried by the next run
# instead of being lost (the records it counted are already committed).
#
# Install (every 15 minutes):
#   */15 * * * * STREAMCTL_DATA_DIR=/var/lib/streamctl /opt/streamctl/samples/cron-aggregate.sh >>/var/log/streamctl-aggregate.log 2>&1
# Try it by hand:
#   streamctl produce app-logs samples/app.log && samples/cron-aggregate.sh && streamctl consume app-logs-summary
#
# Settings (environment): STREAMCTL (binary), SOURCE_TOPIC (app-logs), SUMMARY_TOPIC (app-logs-summary),
# GROUP (cron-aggregate), STATE_DIR (${XDG_STATE_HOME:-~/.local/state}/streamctl-cron: lock and spool).
# Exit status: 0 (also when there was nothing new), else the failing command's status.
set -euo pipefail

STREAMCTL=${STREAMCTL:-streamctl}
SOURCE_TOPIC=${SOURCE_TOPIC:-app-logs}
SUMMARY_TOPIC=${SUMMARY_TOPIC:-app-logs-summary}
GROUP=${GROUP:-cron-aggregate}
STATE_DIR=${STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/streamctl-cron}
mkdir -p "$STATE_DIR"
spool="$STATE_DIR/$GROUP.spool"

# One run at a time: a slow run must not overlap the next one (they would split the counts).
exec 9>"$STATE_DIR/$GROUP.lock"
if ! flock -n 9; then
  echo "$(date -Is) previous run still going; skipping" >&2
  exit 0
fi

# First deliver a summary a previous run could not produce.
if [[ -s $spool ]]; then
  "$STREAMCTL" produce "$SUMMARY_TOPIC" -k "$GROUP" <"$spool"
  rm -f "$spool"
fi

records=$(mktemp)
trap 'rm -f "$records"' EXIT
# Everything since the last run. Exit status 5 means "nothing new", which is fine for a cron job.
status=0
"$STREAMCTL" consume "$SOURCE_TOPIC" --group "$GROUP" --format '%T %s\n' >"$records" || status=$?
if ((status == 5)); then
  echo "$(date -Is) $SOURCE_TOPIC: nothing new"
  exit 0
elif ((status != 0)); then
  exit "$status"
fi

# Lines look like: 2024-11-25T09:00:04.302Z INFO  api-gateway host=web-01 request_id=... msg="..."
# (with the record timestamp in ms prepended by --format '%T %s\n'). Anything else counts as OTHER.
summary=$(awk -v group="$GROUP" -v topic="$SOURCE_TOPIC" -v now="$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
  {
    n++
    if (first == "" || $1 < first) first = $1
    if ($1 > last) last = $1
    level = ($3 ~ /^(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)$/) ? $3 : "OTHER"
    levels[level]++
    if (level != "OTHER") services[$4]++
    if (level == "ERROR" || level == "FATAL") errors[$4]++
  }
  function obj(a,   k, s, sep) {
    s = "{"; sep = ""
    for (k in a) { s = s sep "\"" k "\":" a[k]; sep = "," }
    return s "}"
  }
  END {
    printf "{\"topic\":\"%s\",\"group\":\"%s\",\"run_at\":\"%s\",\"records\":%d,", topic, group, now, n
    printf "\"first_record_ms\":%s,\"last_record_ms\":%s,", first, last
    printf "\"levels\":%s,\"records_by_service\":%s,\"errors_by_service\":%s}\n", obj(levels), obj(services), obj(errors)
  }' "$records")

printf '%s\n' "$summary" >>"$spool"
"$STREAMCTL" produce "$SUMMARY_TOPIC" -k "$GROUP" <"$spool"
rm -f "$spool"
echo "$(date -Is) $summary"
