#!/usr/bin/env bash
# A tmux dashboard for a topic, three panes:
#   left         every record as it arrives (last 20 first), with time, partition and offset
#   right top    only WARN/ERROR/FATAL records, highlighted by grep
#   right bottom the topic's partitions and a consumer group's lag, refreshed every 2 s
# Detach with C-b d, come back with `tmux attach -t streamctl-TOPIC`; close everything with
# `tmux kill-session -t streamctl-TOPIC`. Inside tmux already, the session is opened with switch-client.
#
# Usage: tmux-tail.sh [TOPIC] [GROUP]       (defaults: app-logs, cron-aggregate)
# Example, with the sample log arriving slowly:
#   samples/tmux-tail.sh app-logs &
#   streamctl produce app-logs --rate 20/s samples/app.log
# Settings (environment): STREAMCTL (binary), SESSION (tmux session name), NO_ATTACH=1 (create the session
# detached and return, e.g. from a script).
set -euo pipefail

STREAMCTL=${STREAMCTL:-streamctl}
topic=${1:-app-logs}
group=${2:-cron-aggregate}
session=${SESSION:-streamctl-$topic}
command -v tmux >/dev/null || { echo "tmux-tail.sh: tmux is not installed (apt-get install tmux)" >&2; exit 3; }

# Commands run by the panes' shells; %q quotes them for the shell tmux starts.
q_sc=$(printf %q "$STREAMCTL")
q_topic=$(printf %q "$topic")
q_group=$(printf %q "$group")
all="$q_sc consume $q_topic -o -20 -f --format '%d p%p@%o  %s\n'"
errors="$q_sc consume $q_topic -o -20 -f --grep ' (WARN|ERROR|FATAL) ' | grep --line-buffered --color=always -E 'WARN|ERROR|FATAL'"
status="watch -n 2 -t \"$q_sc topic describe $q_topic; echo; $q_sc group describe $q_group 2>&1\""

if tmux has-session -t "=$session" 2>/dev/null; then
  echo "tmux-tail.sh: session $session exists already; attaching" >&2
else
  tmux new-session -d -s "$session" -n "$topic" "$all; read -rp 'consume ended; press Enter'"
  tmux split-window -h -t "$session:0" "$errors; read -rp 'consume ended; press Enter'"
  tmux split-window -v -t "$session:0.1" "$status"
  tmux select-pane -t "$session:0.0"
  tmux set-option -t "$session" status-right "streamctl: $topic" >/dev/null
fi

if [[ ${NO_ATTACH:-0} == 1 ]]; then
  echo "tmux session $session is running: tmux attach -t $session"
elif [[ -n ${TMUX:-} ]]; then
  tmux switch-client -t "$session"
else
  exec tmux attach -t "$session"
fi
