#!/usr/bin/env bash
# Ship log lines into a topic as they are written: a growing file (tail -F survives rotation) or the systemd
# journal. Each line becomes one record; streamctl produce appends every line as soon as it arrives and
# flushes to disk at least once a second while the input is idle. Ctrl-C (or SIGTERM) stops cleanly: what
# was read is appended and flushed.
#
# Usage:
#   tail-into-topic.sh FILE [TOPIC]            # TOPIC defaults to the file name without extension
#   tail-into-topic.sh --journal [TOPIC] [JOURNALCTL ARGS...]
#
# Examples:
#   samples/tail-into-topic.sh /var/log/nginx/access.log nginx-access
#   samples/tail-into-topic.sh --journal journal -u ssh.service -u cron.service
#   streamctl consume nginx-access -f --format '%d %s\n'      # in another terminal
#
# Settings (environment): STREAMCTL (binary), FROM_START=1 (file: ship the existing lines first, not only new
# ones), PARTITIONS (partitions when the topic is created, default 3).
set -euo pipefail

STREAMCTL=${STREAMCTL:-streamctl}
PARTITIONS=${PARTITIONS:-3}
host=$(hostname)

usage() {
  echo "usage: tail-into-topic.sh FILE [TOPIC]" >&2
  echo "       tail-into-topic.sh --journal [TOPIC] [JOURNALCTL ARGS...]" >&2
  exit 2
}

if [[ ${1:-} == --journal ]]; then
  shift
  topic=${1:-journal}
  [[ $# -gt 0 ]] && shift
  command -v journalctl >/dev/null || { echo "tail-into-topic.sh: journalctl not found" >&2; exit 3; }
  # One JSON record per journal entry: the unit as key (so one unit's lines stay in order in one partition),
  # the message as value, the journal's own timestamp, and host/priority as headers.
  journalctl -f -o json "$@" |
    jq --unbuffered -c --arg host "$host" '{
      key: (._SYSTEMD_UNIT // .SYSLOG_IDENTIFIER // "kernel"),
      value: (.MESSAGE | if type == "array" then implode elif type == "string" then . else tostring end),
      timestamp: ((.__REALTIME_TIMESTAMP | tonumber) / 1000 | floor),
      headers: {host: $host, priority: (.PRIORITY // "6")}
    }' |
    "$STREAMCTL" --json produce "$topic" --partitions "$PARTITIONS"
  exit
fi

[[ $# -ge 1 && $1 != -* ]] || usage
file=$1
name=$(basename "$file")
topic=${2:-${name%%.*}}
# -n +1: start at the first line; -n 0: only lines written from now on.
start=0
[[ ${FROM_START:-0} == 1 ]] && start=+1
# tail writes each line as it reads it; produce appends at once whenever its input goes idle.
tail -n "$start" -F "$file" | "$STREAMCTL" produce "$topic" -H "host=$host" -H "file=$file" \
  --partitions "$PARTITIONS"
