#!/usr/bin/env bash
# End-to-end: `streamctl log dump|verify` on good segments, then on deliberately damaged copies: a flipped
# byte inside a batch (CRC mismatch), a torn tail, a broken batch length and a wrong index entry. verify must
# exit 1 naming the file and the byte position of the first bad batch; dump keeps going and marks it.
# Env: STREAMCTL = the built binary.
set -uo pipefail
: "${STREAMCTL:?set STREAMCTL to the streamctl binary}"
work=$(mktemp -d "${TMPDIR:-/tmp}/streamctl-e2e-log-XXXXXX")
trap 'rm -rf "$work"' EXIT
export STREAMCTL_DATA_DIR="$work/data"
failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
sc() { "$STREAMCTL" "$@"; }
# patch FILE POSITION HEXBYTE: overwrite one byte in place
patch_byte() { printf "\\x$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# Small segments and dense indexes, so a few hundred records make several segments with index entries.
sc topic create logs -p 2 -c segment.bytes=16384 -c index.interval.bytes=512 >/dev/null 2>&1 ||
  { echo "FAIL: cannot create topic"; exit 1; }
# Each produce run appends one batch: 60 runs of 15 records make ~1 KiB batches, ~15 per segment.
for round in $(seq 1 60); do
  seq -f "round-$round line %g with some padding to fill the segments faster" 1 15 | sc produce logs -p 0
done
printf 'k1\tv1\nk2\tv2\n' | sc produce logs -p 1 -K '\t' -H source=test
p0="$STREAMCTL_DATA_DIR/logs-0"
first_seg="$p0/00000000000000000000.log"
check "the test topic has several segments" test "$(ls "$p0"/*.log | wc -l)" -ge 3

# ---- good data
sc log dump logs-0 >"$work/dump" 2>"$work/dump.err"
check "dump exits 0" test $? -eq 0
check "dump prints kafka-dump-log style batch lines" grep -q "^baseOffset: 0 lastOffset: [0-9]* count: [0-9]*" "$work/dump"
check "dump shows position, CRC and compression" grep -q "position: 0 CreateTime: [0-9]* baseTimestamp: [0-9]* size: [0-9]* magic: 2 compresscodec: none crc: [0-9]* isvalid: true" "$work/dump"
check "dump marks no batch invalid" bash -c "! grep -q 'isvalid: false' '$work/dump'"
check "dump names each segment file" test "$(grep -c '^Dumping ' "$work/dump")" -eq "$(ls "$p0"/*.log | wc -l)"
check "dump counts 900 records in partition 0" \
  test "$(awk '/^baseOffset/ { n += $6 } END { print n }' "$work/dump")" -eq 900
sc log dump --records logs-1 >"$work/records"
check "dump --records prints keys, headers and payloads" grep -q "headerKeys: \[source\] key: k1 payload: v1" "$work/records"
sc log dump --json logs >"$work/dump.json"
check "dump --json: every line is a JSON object" bash -c "jq -e 'type == \"object\"' '$work/dump.json' >/dev/null"
check "dump --json: batch counts add up to 902 records" \
  test "$(jq -s '[.[] | select(.type == "batch") | .count] | add' "$work/dump.json")" -eq 902
check "dump --json: a segment summary per file" \
  test "$(jq -s '[.[] | select(.type == "segment")] | length' "$work/dump.json")" -eq "$(ls "$p0"/*.log "$STREAMCTL_DATA_DIR"/logs-1/*.log | wc -l)"
sc log dump --json --records logs-1 >"$work/records.json"
check "dump --json --records: records in consume --json's shape" \
  bash -c "jq -s -e '[.[] | select(.type == \"batch\")][0].records[0] | .key == \"k1\" and .value == \"v1\" and .headers[0].key == \"source\"' '$work/records.json' >/dev/null"
sc log dump "$p0/00000000000000000000.index" >"$work/index"
check "dump of an .index file lists offset/position entries" grep -q "^offset: [0-9]* position: [0-9]*" "$work/index"
sc log dump "$p0/00000000000000000000.timeindex" >"$work/timeindex"
check "dump of a .timeindex file lists timestamp/offset entries" grep -q "^timestamp: [0-9]* offset: [0-9]*" "$work/timeindex"

sc log verify logs >"$work/verify" 2>"$work/verify.err"
check "verify of a good topic exits 0" test $? -eq 0
check "verify prints ok per segment" grep -q "^ok    .*00000000000000000000.log" "$work/verify"
check "verify checks the indexes" grep -q "^ok    .*00000000000000000000.index" "$work/verify"
check "verify ends with OK" grep -q "records: OK" "$work/verify"
sc log verify "$first_seg" >/dev/null 2>&1
check "verify of one segment file exits 0" test $? -eq 0
sc log verify "$STREAMCTL_DATA_DIR" >/dev/null 2>&1
check "verify of the whole data directory exits 0" test $? -eq 0
sc log verify --json logs-0 >"$work/verify.json"
check "verify --json: every file ok" bash -c "jq -s -e 'all(.[]; .ok)' '$work/verify.json' >/dev/null"

# ---- a flipped byte inside the second batch of the first segment
bad="$work/bad-crc/logs-0"
mkdir -p "$bad" && cp "$p0"/* "$bad"/
second=$(sc --json log dump "$bad/00000000000000000000.log" | jq -s '[.[] | select(.type == "batch")][1].position')
patch_byte "$bad/00000000000000000000.log" $((second + 100)) ff
sc log verify "$bad" >"$work/v_crc" 2>"$work/v_crc.err"
check "verify of a flipped byte exits 1" test $? -eq 1
check "the error names the file" grep -q "00000000000000000000.log" "$work/v_crc.err"
check "the error names the byte position of the bad batch" grep -q "at byte position $second:" "$work/v_crc.err"
check "the error says the CRC does not match" grep -qi "crc" "$work/v_crc.err"
check "verify stops at the first bad batch (no later file reported)" \
  test "$(grep -c '^\(ok\|BAD\) ' "$work/v_crc")" -eq 1
sc log dump "$bad/00000000000000000000.log" >"$work/d_crc" 2>/dev/null
check "dump still exits 0 on a damaged segment" test $? -eq 0
check "dump marks exactly one batch invalid" test "$(grep -c 'isvalid: false' "$work/d_crc")" -eq 1
check "dump goes on after the bad batch" \
  test "$(grep -c '^baseOffset' "$work/d_crc")" -eq "$(grep -c '^baseOffset' <(sc log dump "$first_seg"))"

# ---- a torn tail: the last batch of the segment cut short
torn="$work/torn/logs-0"
mkdir -p "$torn" && cp "$p0"/* "$torn"/
size=$(stat -c %s "$torn/00000000000000000000.log")
truncate -s $((size - 10)) "$torn/00000000000000000000.log"
sc log verify "$torn/00000000000000000000.log" >/dev/null 2>"$work/v_torn.err"
check "verify of a torn tail exits 1" test $? -eq 1
check "the torn tail is called so, with its position" grep -q "at byte position [0-9]*: torn tail" "$work/v_torn.err"

# ---- a broken batch length: nothing after it can be framed
len="$work/len/logs-0"
mkdir -p "$len" && cp "$p0"/* "$len"/
patch_byte "$len/00000000000000000000.log" 8 00
patch_byte "$len/00000000000000000000.log" 9 00
patch_byte "$len/00000000000000000000.log" 10 00
patch_byte "$len/00000000000000000000.log" 11 05
sc log verify "$len/00000000000000000000.log" >/dev/null 2>"$work/v_len.err"
check "verify of a broken batch length exits 1 at position 0" \
  bash -c "grep -q 'at byte position 0: batchLength is 5' '$work/v_len.err'"
sc log dump "$len/00000000000000000000.log" >"$work/d_len" 2>/dev/null
check "dump reports the unframeable rest of the file" grep -q "cannot frame the rest of the file" "$work/d_len"

# ---- a file that is no log segment at all: short text is not called a torn tail (issue 16, item 6)
mkdir -p "$work/text"
printf 'hello world, this is text\n' >"$work/text/00000000000000000000.log"
sc log verify "$work/text/00000000000000000000.log" >/dev/null 2>"$work/v_text.err"
check "verify of a short text file exits 1" test $? -eq 1
check "a short text file is not called a torn tail" bash -c "! grep -q 'torn' '$work/v_text.err'"
check "a short text file is called not a log segment" grep -q "is this a Kafka log segment" "$work/v_text.err"
printf 'x\n' >"$work/text/tiny.log"
sc log verify "$work/text/tiny.log" >/dev/null 2>"$work/v_tiny.err"
check "a 2-byte text file is text, not record batches" grep -q "the file holds text, not record batches" "$work/v_tiny.err"
head -c 20 "$p0/00000000000000000000.log" >"$work/text/00000000000000000000.log"
sc log verify "$work/text/00000000000000000000.log" >/dev/null 2>"$work/v_short.err"
check "the first 20 bytes of a real segment are still a torn tail" grep -q "torn tail" "$work/v_short.err"

# ---- an index entry pointing at the wrong place (data intact)
idx="$work/idx/logs-0"
mkdir -p "$idx" && cp "$p0"/* "$idx"/
check "the first segment has an offset index entry to damage" test "$(stat -c %s "$idx/00000000000000000000.index")" -ge 8
for b in 4 5 6 7; do patch_byte "$idx/00000000000000000000.index" "$b" ff; done
sc log verify "$idx" >"$work/v_idx" 2>"$work/v_idx.err"
check "verify of a bad index exits 1" test $? -eq 1
check "the segment itself is still ok" grep -q "^ok    .*00000000000000000000.log" "$work/v_idx"
check "the index is reported BAD naming the entry" grep -q "^BAD   .*00000000000000000000.index: .*entry [0-9]* (byte position" "$work/v_idx"
sc log verify --skip-indexes "$idx" >/dev/null 2>&1
check "verify --skip-indexes ignores the bad index" test $? -eq 0

# ---- bad arguments
sc log verify "$work/nope" >/dev/null 2>"$work/nf.err"
check "a missing path exits 3" test $? -eq 3
sc log verify nosuchtopic >/dev/null 2>&1
check "a missing topic exits 3" test $? -eq 3
sc log dump >/dev/null 2>&1
check "dump without PATH is a usage error (exit 2)" test $? -eq 2
check "log dump --help has examples" bash -c "\"$STREAMCTL\" log dump --help | grep -q Examples"
check "log verify --help has examples" bash -c "\"$STREAMCTL\" log verify --help | grep -q Examples"

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
