#!/usr/bin/env bash
# End-to-end (issue 14 item 2): no client can poison a partition. Raw Produce frames carry a batch flagged
# gzip / zstd / none whose records section is random bytes under a valid CRC: serve must answer
# CORRUPT_MESSAGE (2) and store nothing, so readers and `log verify` stay happy and the next good batch takes
# the next offset. Then the same poison batch appended to a segment file behind the server's back:
# `log verify` must decode payloads and fail naming the position (it said OK before).
E2E_NAME=poison
source "$(dirname "$0")/serve_helpers.bash"
RAW="$PY $(dirname "$0")/kafka_raw_produce.py"
"$STREAMCTL" --data-dir "$work/data" topic create t -p 1 >/dev/null 2>"$work/create.err" ||
  { echo "FAIL: cannot create topic"; exit 1; }
start_server
expect_eq "a good raw batch is stored at offset 0" "0 0" "$($RAW "$B" t 0 good first 2>"$work/raw.err")"
for codec in 1 4 0; do
  expect_eq "a random payload flagged with codec $codec gets CORRUPT_MESSAGE" "2" \
    "$($RAW "$B" t 0 poison $codec 14 2>>"$work/raw.err" | cut -d' ' -f1)"
done
expect_eq "the next good batch takes offset 1" "0 1" "$($RAW "$B" t 0 good second 2>>"$work/raw.err")"
expect_eq "consume through the server sees both records" "first second" \
  "$(timeout 20 "$STREAMCTL" --brokers "$B" consume t 2>"$work/consume.err" | tr '\n' ' ' | sed 's/ $//')"
kill9_server
"$STREAMCTL" --data-dir "$work/data" log verify t >"$work/verify.out" 2>"$work/verify.err"
expect_eq "log verify of the partition is OK" "0" "$?"

# A poison batch on disk (written by an old version, or bytes that went bad before the CRC was computed).
seg="$work/data/t-0/00000000000000000000.log"
end=$(stat -c %s "$seg")
$PY "$(dirname "$0")/kafka_raw_produce.py" --print-batch poison 1 14 >"$work/poison.bin"
# baseOffset 2 (bytes 0-7 are outside the CRC)
printf '\x00\x00\x00\x00\x00\x00\x00\x02' | dd of="$work/poison.bin" bs=1 seek=0 conv=notrunc status=none
cat "$work/poison.bin" >>"$seg"
"$STREAMCTL" --data-dir "$work/data" log verify t >"$work/verify.out" 2>"$work/verify.err"
expect_eq "log verify fails on the on-disk poison batch" "1" "$?"
check "log verify names its byte position" grep -q "at byte position $end" "$work/verify.out" "$work/verify.err"
finish
