#!/usr/bin/env bash
# End-to-end: a corrupt byte in fsynced data (issue 14, item 1). After `produce` exited 0 the records are
# durable and covered by the recovery checkpoint; flipping one byte in the newest batch must not make the next
# command (even a read-only one) cut the batch and reuse its offsets: every command fails naming the file,
# the byte position and the offsets, the file stays as it is, and a produce never hands the offsets out again.
# A torn tail after the checkpoint (bytes appended after the last fsync) is still cut, as before.
source "$(dirname "$0")/cli_helpers.bash"
skip_if_served "storage probes read and damage the data directory directly" && finish
# patch FILE POSITION: flip the bits of one byte in place
flip_byte() {
  local old
  old=$(dd if="$1" bs=1 skip="$2" count=1 status=none | od -An -tu1 | tr -d ' ')
  printf "\\x$(printf %02x $((old ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

sc topic create t -p 1 >/dev/null 2>&1 || { echo "FAIL: cannot create topic"; exit 1; }
for i in 1 2 3 4; do echo "record-$i" | sc produce t >/dev/null 2>&1 || fail "produce $i"; done
seg="$STREAMCTL_DATA_DIR/t-0/00000000000000000000.log"
last_pos=$(sc log dump --json t-0 | jq -s '[.[] | select(.type == "batch")] | last | .position')
check "the newest batch starts after the first" test "${last_pos:-0}" -gt 0
flip_byte "$seg" $((last_pos + 61 + 3))  # a byte of its records (inside the CRC)
size_before=$(stat -c %s "$seg")
sum_before=$(sha256sum <"$seg")

expect_exit "topic describe refuses the partition" 1 sc topic describe t
stderr_has "describe names the file and the byte position" "$seg: corrupt batch at position $last_pos"
stderr_has "describe names the batch's offsets" "offsets 3..3"
expect_exit "consume refuses the partition" 1 sc consume t
stderr_has "consume names the file" "$seg: corrupt batch at position $last_pos"
expect_exit "produce refuses to append after the corrupt batch" 1 bash -c "echo new | '$STREAMCTL' produce t"
stderr_has "produce says nothing was truncated" "nothing was truncated"
expect_eq "the segment was not truncated" "$size_before" "$(stat -c %s "$seg")"
expect_eq "the segment's bytes are unchanged" "$sum_before" "$(sha256sum <"$seg")"
expect_exit "log verify reports the bad batch" 1 sc log verify t
stderr_has "log verify names the position" "position $last_pos"

# A torn tail after the last fsync is still a torn tail: restore the byte, append half a batch.
flip_byte "$seg" $((last_pos + 61 + 3))
head -c 40 "$seg" >>"$seg"
expect_exit "a torn tail after the checkpoint is cut on open" 0 sc consume t
expect_eq "the four durable records are all there" "record-1 record-2 record-3 record-4" "$(tr '\n' ' ' <"$work/out" | sed 's/ $//')"
expect_eq "the torn bytes were cut" "$size_before" "$(stat -c %s "$seg")"
echo record-5 | sc produce t >/dev/null 2>&1
expect_eq "the next record takes offset 4" "4" "$(sc consume t --format "%o\n" | tail -1)"
finish
