#!/usr/bin/env bash
# End-to-end: the offset grammar (beginning|end|N|+N|-N|@time, ranges A:B) on consume, including times in
# epoch ms, ISO-8601 and relative form, and clear errors for bad specs.
source "$(dirname "$0")/cli_helpers.bash"

# Ten records with timestamps 1714564800000 + i*1000 (2024-05-01T12:00:0i Z), values 0..9. They are older than
# the default retention.ms (7 days), so the topic keeps records forever or retention would rightly drop them.
sc topic create t --config retention.ms=-1 >/dev/null 2>&1
for i in $(seq 0 9); do
  echo "$i" | sc produce t --timestamp $((1714564800000 + i * 1000)) 2>/dev/null
done
c() { sc consume t "$@" | tr '\n' ' ' | sed 's/ $//'; }
expect_eq "beginning" "0 1 2 3 4 5 6 7 8 9" "$(c -o beginning)"
expect_eq "default is beginning" "0 1 2 3 4 5 6 7 8 9" "$(c)"
expect_eq "N" "7 8 9" "$(c -o 7)"
expect_eq "+N" "3 4 5 6 7 8 9" "$(c -o +3)"
expect_eq "-N" "8 9" "$(c -o -2)"
expect_eq "A:B" "3 4 5" "$(c -o 3:6)"
expect_eq ":B" "0 1" "$(c -o :2)"
expect_eq "-N:" "7 8 9" "$(c -o -3:)"
expect_eq "A:+N" "4 5" "$(c -o 4:+2)"
expect_eq "@epoch-ms" "5 6 7 8 9" "$(c -o @1714564805000)"
expect_eq "@epoch-ms between records" "6 7 8 9" "$(c -o @1714564805500)"
expect_eq "@ISO-8601 Z" "2 3 4 5 6 7 8 9" "$(c -o @2024-05-01T12:00:02Z)"
expect_eq "@ISO-8601 with offset" "2 3 4 5 6 7 8 9" "$(c -o @2024-05-01T14:00:02+02:00)"
expect_eq "time range" "2 3 4" "$(c -o @2024-05-01T12:00:02Z:@2024-05-01T12:00:05Z)"
expect_eq "time to offset" "2 3" "$(c -o @1714564802000:4)"
expect_eq "@-1h: all are older than an hour" "" "$(c -o @-1h)"
expect_eq "@-100000d: all" "0 1 2 3 4 5 6 7 8 9" "$(c -o @-100000d)"
expect_exit "end: nothing to read is exit 5" 5 sc consume t -o end
expect_exit "past the end clamps with a warning" 5 sc consume t -o 50
stderr_has "clamp warning" "past the log end offset 10"
expect_eq "-N larger than the log" "0 1 2 3 4 5 6 7 8 9" "$(c -o -500)"
echo new | sc produce t 2>/dev/null
expect_eq "@-1m finds the record just produced" "new" "$(c -o @-1m)"
expect_eq "@now: nothing newer than now" "" "$(c -o @now)"

# ---- bad specs: exit 2, the spec is named, the grammar shown
for bad in begining 1h -1h @-5 @2024-13-01 @yesterday 1:2:3 ''; do
  expect_exit "bad offset '$bad'" 2 sc consume t -o "$bad"
  stderr_has "bad offset '$bad' shows the grammar" "beginning | end | N"
done
stderr_has "bad offset names the spec" "invalid offset ''"
expect_exit "'-1h' suggests the time form" 2 sc consume t -o -1h
stderr_has "suggestion" "@-1h"
finish
