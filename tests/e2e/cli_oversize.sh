#!/usr/bin/env bash
# End-to-end: a record too large for the topic's max.message.bytes. Everything before it is written and
# flushed (exit 4), the error names the input (stdin or the file), the line, the record's size, the limit
# and the topic; --oversize skip|truncate keeps going with a counted warning. Embedded and --brokers give
# the same exit codes and counts (the last section compares them side by side; served_suite runs the rest
# through a server too).
here=$(dirname "$0")
source "$here/cli_helpers.bash"

count() { sc -q consume "$1" 2>/dev/null | wc -l | tr -d ' '; }

sc -q topic create tiny -c max.message.bytes=1000 || fail "create topic tiny"
big=$(head -c 3000 /dev/zero | tr '\0' 'b')
{ seq 1 100; echo "$big"; seq 1 5; } >"$work/in.txt"

# ---- default (fail): the 100 lines before the bad one are kept
expect_exit "oversize line after good ones: partial" 4 sc produce tiny <"$work/in.txt"
stderr_has "names stdin and the line" "stdin line 101"
stderr_has "names the record's size" "is 3000 bytes"
stderr_has "names the limit" "max.message.bytes=1000"
stderr_has "names the topic" "topic 'tiny'"
stderr_has "hint names the topic, not a placeholder" "streamctl topic alter tiny --config max.message.bytes="
stderr_has "says what was kept" "100 records before the error were written and flushed"
expect_eq "the 100 records before it are stored" 100 "$(count tiny)"

expect_exit "oversize line in a file" 4 sc produce tiny "$work/in.txt"
stderr_has "names the file" "$work/in.txt line 101"
expect_eq "again the 100 before it" 200 "$(count tiny)"

printf '%s\nafter\n' "$big" >"$work/first.txt"
expect_exit "oversize first line: nothing written, exit 1" 1 sc produce tiny "$work/first.txt"
stderr_has "first line named" "first.txt line 1 "
expect_eq "nothing stored" 200 "$(count tiny)"

# ---- --oversize skip / truncate
expect_exit "--oversize skip" 0 sc produce tiny --oversize skip <"$work/in.txt"
stderr_has "skip warns per record" "skipped stdin line 101: record too large"
stderr_has "skip counts" "1 record over max.message.bytes=1000 of 'tiny' skipped (largest 3000 bytes)"
expect_eq "skip keeps the 105 others" 305 "$(count tiny)"

expect_exit "--oversize truncate" 0 sc produce tiny --oversize truncate -K : "$work/first.txt"
stderr_has "truncate warns per record" "truncated $work/first.txt line 1: value cut from 3000 to"
stderr_has "truncate counts" "1 record over max.message.bytes=1000 of 'tiny' truncated"
longest=$(sc -q consume tiny -o -2 -n 1 | awk '{print length($0)}')
if [[ $longest -gt 800 && $longest -lt 1000 ]]; then pass "truncated value fits the limit ($longest bytes)"; else
  fail "truncated value length $longest"; fi

# A value of 2-byte characters is cut at a character boundary.
python3 -c 'print("é" * 1500)' >"$work/utf8.txt"
expect_exit "--oversize truncate, UTF-8" 0 sc produce tiny --oversize truncate "$work/utf8.txt"
if sc -q consume tiny -o -1 | python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' 2>/dev/null; then
  pass "truncated UTF-8 value is still valid UTF-8"; else fail "truncated UTF-8 value is invalid"; fi

# A key that alone is too large cannot be truncated away.
printf '%s:v\n' "$big" >"$work/bigkey.txt"
expect_exit "--oversize truncate with an oversize key" 1 sc produce tiny --oversize truncate -K : "$work/bigkey.txt"
stderr_has "says the key and headers are too large" "key and headers alone exceed the limit"

expect_exit "--oversize bogus" 2 sc produce tiny --oversize bogus <"$work/in.txt"
stderr_has "names the choices" "fail,skip,truncate"

# ---- --json input names the line too; compressed records are measured compressed
printf '{"value":"a"}\n{"value":"%s"}\n' "$big" | { expect_exit "--json oversize" 4 sc --json produce tiny; }
stderr_has "--json names the line" "stdin line 2"
head -c 2500 /dev/zero | tr '\0' 'z' >"$work/compressible.txt"; echo >>"$work/compressible.txt"
expect_exit "a compressible record over the limit fits with -z gzip" 0 sc produce tiny -z gzip "$work/compressible.txt"

# ---- a real-size case: a 2 MB line among 1005 short ones, default topic limit
{ seq 1 1000; head -c 2000000 /dev/zero | tr '\0' 'x'; echo; seq 1 5; } >"$work/mixed.txt"
expect_exit "2 MB line after 1000 good ones" 4 sc produce logs --oversize fail <"$work/mixed.txt"
stderr_has "2 MB line named" "stdin line 1001 is 2000000 bytes"
expect_eq "the 1000 before it are stored" 1000 "$(count logs)"

# ---- embedded and --brokers side by side (served mode runs everything above through the server already)
skip_if_served "the side-by-side comparison starts its own server" || {
  start_server "$work/remote"
  sc -q --brokers "$serve_addr" topic create tiny -c max.message.bytes=1000 || fail "create remote tiny"
  expect_exit "--brokers: same exit code (4)" 4 sc --brokers "$serve_addr" produce tiny <"$work/in.txt"
  stderr_has "--brokers: names the line and the limit" "stdin line 101 is 3000 bytes (a 3070-byte batch); topic 'tiny' takes batches up to max.message.bytes=1000"
  expect_eq "--brokers: the 100 before it are stored" 100 \
    "$(sc -q --brokers "$serve_addr" consume tiny 2>/dev/null | wc -l | tr -d ' ')"
  expect_exit "--brokers: --oversize skip" 0 sc --brokers "$serve_addr" produce tiny --oversize skip <"$work/in.txt"
  stderr_has "--brokers: skip counts" "1 record over max.message.bytes=1000 of 'tiny' skipped"
  # librdkafka's batch.size is fixed before the topic's limit is known: keep its batches under 1000 bytes.
  STREAMCTL_KAFKA_PRODUCER=librdkafka expect_exit "--brokers via librdkafka: same exit code" 4 \
    sc --brokers "$serve_addr" produce tiny -X batch.size=500 <"$work/in.txt"
  stderr_has "--brokers via librdkafka: names the line" "stdin line 101 is 3000 bytes"
  stop_server
}

finish
