#!/usr/bin/env bash
# End-to-end: clients pinned to old protocol versions (message formats v0/v1) against `streamctl serve`.
# Produce v0-v2 message sets are converted to RecordBatch v2 on append and Fetch v0-v3 reads are
# down-converted, as Kafka 3.x brokers do (kafka/format/legacy_records.h):
# - kcat (librdkafka) with api.version.request=false and broker.version.fallback 0.9.0 (Produce v1,
#   magic 0, Fetch v1) and 0.10.0 (Produce v2, magic 1, Fetch v2), plain and gzip/snappy;
# - kafka-python with api_version=(0, 10) and (0, 9), consuming back with timestamps;
# - what old clients wrote reads back unchanged with today's clients (streamctl consume, kcat default).
# Env: STREAMCTL = the built binary.
set -uo pipefail
E2E_NAME=serve-legacy-formats
source "$(dirname "$0")/serve_helpers.bash"
command -v kcat >/dev/null || { echo "FAIL: kcat not installed (apt-get install kcat)"; exit 1; }

start_server
"$STREAMCTL" --brokers "$B" topic create old --partitions 1 >/dev/null 2>"$work/create.err" ||
  fail "create topic old"
"$STREAMCTL" --brokers "$B" topic create py-old --partitions 1 >/dev/null 2>>"$work/create.err" ||
  fail "create topic py-old"

old_kcat() {  # old_kcat FALLBACK kcat-args...
  local fallback=$1; shift
  timeout 30 kcat -b "$B" -X api.version.request=false -X broker.version.fallback="$fallback" "$@"
}

# 1. kcat as a Kafka 0.9 client (magic 0) and as a 0.10 client (magic 1), with and without compression.
seq 1 100 | sed 's/^/v09-/' | old_kcat 0.9.0 -P -t old -p 0 2>"$work/p1.err"
check "kcat 0.9.0 (Produce v1, magic 0) produces" test $? -eq 0
seq 1 100 | sed 's/^/v09gz-/' | old_kcat 0.9.0 -P -t old -p 0 -z gzip 2>"$work/p2.err"
check "kcat 0.9.0 with gzip produces" test $? -eq 0
seq 1 100 | awk '{print "k" $1 ":v010-" $1}' | old_kcat 0.10.0 -P -t old -p 0 -K : 2>"$work/p3.err"
check "kcat 0.10.0 (Produce v2, magic 1) produces" test $? -eq 0
seq 1 100 | sed 's/^/v010sn-/' | old_kcat 0.10.0 -P -t old -p 0 -z snappy 2>"$work/p4.err"
check "kcat 0.10.0 with snappy produces" test $? -eq 0

expected=$( (seq 1 100 | sed 's/^/v09-/'; seq 1 100 | sed 's/^/v09gz-/'; seq 1 100 | sed 's/^/v010-/';
             seq 1 100 | sed 's/^/v010sn-/') )
got=$("$STREAMCTL" --data-dir "$work/data" consume old -n 400 2>"$work/c1.err")
expect_eq "all 400 old-format records read back in order with streamctl consume" "$expected" "$got"
got=$(timeout 30 kcat -b "$B" -C -t old -p 0 -o beginning -e -q 2>"$work/c2.err")
expect_eq "today's kcat (Fetch v11) reads them" "$expected" "$got"
keyed=$(timeout 30 kcat -b "$B" -C -t old -p 0 -o 200 -c 1 -e -q -f '%k=%s\n' 2>"$work/c3.err")
expect_eq "magic 1 keys survive (kcat -K :)" "k1=v010-1" "$keyed"

# 2. Old consumers: Fetch v1 (magic 0) and Fetch v2 (magic 1), down-converted, from the middle.
got=$(old_kcat 0.9.0 -C -t old -p 0 -o 150 -c 3 -e -q 2>"$work/c4.err")
expect_eq "kcat 0.9.0 (Fetch v1, magic 0) reads from offset 150" "$(printf 'v09gz-51\nv09gz-52\nv09gz-53')" "$got"
got=$(old_kcat 0.10.0 -C -t old -p 0 -o 398 -e -q 2>"$work/c5.err")
expect_eq "kcat 0.10.0 (Fetch v2, magic 1) reads the end" "$(printf 'v010sn-99\nv010sn-100')" "$got"
# Records written by today's clients (RecordBatch v2, headers) reach old consumers too.
echo "modern" | timeout 30 kcat -b "$B" -P -t old -p 0 -H h=1 2>"$work/p5.err"
got=$(old_kcat 0.10.0 -C -t old -p 0 -o 400 -c 1 -e -q 2>"$work/c6.err")
expect_eq "an old consumer reads a RecordBatch v2 record" "modern" "$got"
ts=$(old_kcat 0.10.0 -C -t old -p 0 -o 400 -c 1 -e -q -f '%T\n' 2>>"$work/c6.err")
check "magic 1 down-conversion keeps the timestamp" test "${ts:-0}" -gt 1600000000000

# 3. kafka-python pinned to 0.10 and 0.9.
timeout 120 "$PY" - "$B" >"$work/py.out" 2>"$work/py.err" <<'EOF'
import sys, time
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
B = sys.argv[1]
failed = 0
def check(name, ok, detail=""):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not detail else "  (" + str(detail) + ")"), flush=True)
    failed += 0 if ok else 1

for version, topic_part in (((0, 10), 0), ((0, 9), 0)):
    tag = "%d.%d" % version
    p = KafkaProducer(bootstrap_servers=B, api_version=version, acks=1, compression_type="gzip", linger_ms=5)
    t0 = int(time.time() * 1000)
    futs = [p.send("py-old", key=b"k%d" % i, value=b"%s-%d" % (tag.encode(), i), timestamp_ms=t0 + i if version >= (0, 10) else None)
            for i in range(30)]
    p.flush()
    metas = [f.get(timeout=10) for f in futs]
    check("kafka-python api_version=%s: 30 gzip sends acknowledged" % tag, len(metas) == 30)
    p.close()
    c = KafkaConsumer(bootstrap_servers=B, api_version=version, consumer_timeout_ms=5000, auto_offset_reset="earliest")
    tp = TopicPartition("py-old", 0)
    c.assign([tp])
    c.seek(tp, metas[0].offset)
    got = []
    for m in c:
        got.append(m)
        if len(got) == 30:
            break
    check("kafka-python api_version=%s reads its 30 records back" % tag,
          [m.value for m in got] == [b"%s-%d" % (tag.encode(), i) for i in range(30)], [m.value for m in got][:3])
    check("kafka-python api_version=%s keys survive" % tag, [m.key for m in got] == [b"k%d" % i for i in range(30)])
    if version >= (0, 10):
        check("kafka-python api_version=0.10 timestamps survive", [m.timestamp for m in got] == [t0 + i for i in range(30)],
              [m.timestamp for m in got][:3])
    c.close()
sys.exit(1 if failed else 0)
EOF
py_rc=$?
cat "$work/py.out"
failures=$((failures + $(grep -c '^FAIL' "$work/py.out")))
if ((py_rc != 0)) && ! grep -q '^FAIL' "$work/py.out"; then fail "kafka-python script exited $py_rc"; tail -5 "$work/py.err"; fi

# 4. A corrupt old-format message is refused with CORRUPT_MESSAGE, and nothing is stored.
last_offset() { timeout 30 kcat -b "$B" -C -t old -p 0 -o -1 -c 1 -e -q -f '%o\n' 2>>"$work/raw.err"; }
before=$(last_offset)
raw() { "$PY" "$(dirname "$0")/kafka_raw_produce.py" "$B" old 0 "$@" 2>>"$work/raw.err" | cut -d' ' -f1; }
expect_eq "a message set with a bad CRC gets CORRUPT_MESSAGE (2)" "2" "$(raw legacy-corrupt)"
expect_eq "a RecordBatch v2 in Produce v2 gets INVALID_RECORD (87)" "87" "$(raw v2-on-old nope)"
after=$(last_offset)
expect_eq "nothing of the refused requests was stored" "$before" "$after"
expect_eq "a raw magic 1 message in Produce v2 is stored" "0" "$(raw legacy-good raw-one)"
got=$(timeout 30 kcat -b "$B" -C -t old -p 0 -o -1 -c 1 -e -q 2>>"$work/raw.err")
expect_eq "and reads back" "raw-one" "$got"

finish
