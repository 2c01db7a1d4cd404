#!/usr/bin/env bash
# End-to-end: kcat (librdkafka 2.0.2) against `streamctl serve` on a free loopback port with a temporary data
# directory: metadata (-L), librdkafka's feature gates (-d feature), produce with every compression codec
# (and the codec really stored), consume with -e, headers, offsets by time (-o s@, -Q), a balanced consumer
# group (-G) of two members splitting the partitions and committing, /metrics, and a clean SIGTERM stop.
# Env: STREAMCTL = the built binary. Prints PASS/FAIL per check; exits non-zero on any failure.
set -uo pipefail
E2E_NAME=serve-kcat
source "$(dirname "$0")/serve_helpers.bash"
for tool in kcat "$PY"; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/install-deps.sh)"; exit 1; }
done

start_kcat_server() {
  start_server --http 127.0.0.1:0 --flush-interval-ms 200 "$@"
  HTTP=$(grep -o 'msg="listening".* http=[0-9.:]*' "$work/server.log" | tail -1 | sed 's/.* http=//')
}
metrics() { "$PY" -c 'import sys,urllib.request; print(urllib.request.urlopen("http://"+sys.argv[1]+"/metrics", timeout=5).read().decode())' "$HTTP"; }
kc() { timeout 60 kcat -b "$B" "$@"; }

start_kcat_server
check "the listening log line names the real port" grep -q "msg=\"listening\" addr=$B port=${B#*:}" "$work/server.log"

# ---- metadata
kc -L >"$work/L" 2>&1
check "kcat -L lists this broker as the controller" grep -q "broker 0 at $B (controller)" "$work/L"
kc -L -d feature >/dev/null 2>"$work/features"
for f in MsgVer2 LZ4 ZSTD BrokerGroupCoordinator BrokerBalancedConsumer; do
  check "librdkafka enables feature $f" grep -q "Enabling feature $f\$" "$work/features"
done

# ---- produce with every codec (values long enough that librdkafka really compresses), consume with -e
value_for() { printf '%s-%s' "$1" "$(printf 'abcdefgh%.0s' $(seq 1 16))"; }
expected=""
for codec in none gzip snappy lz4 zstd; do
  : >"$work/in.$codec"
  for i in 1 2 3; do echo "k$i:$(value_for "$codec$i")" >>"$work/in.$codec"; done
  check "produce -z $codec exits 0" kc -P -t codecs -K: -H h=v -H codec="$codec" -z "$codec" -l "$work/in.$codec"
  for i in 1 2 3; do expected+="k$i:$(value_for "$codec$i") h=v,codec=$codec"$'\n'; done
done
kc -C -t codecs -o beginning -e -q -f '%k:%s %h\n' >"$work/consumed" 2>"$work/consume.err"
expect_eq "consume -e returns every record, headers included, in order" "$expected" "$(cat "$work/consumed")"$'\n'
kc -C -t codecs -o beginning -e -q -f '%o\n' >"$work/offsets"
expect_eq "offsets are 0..14" "$(seq 0 14)" "$(cat "$work/offsets")"
# stored_codecs PARTITION_DIR: the codecs of the batches in its segment files, e.g. "0 1 4" (the attributes
# byte 22 of each batch: low bits of the int16 at offset 21), then "zstd" / "lz4" when those frame magics are
# in the bytes.
stored_codecs() {
  "$PY" - "$1" <<'EOF'
import glob, sys
data = b"".join(open(p, "rb").read() for p in glob.glob(sys.argv[1] + "/*.log"))
codecs, pos = set(), 0
while pos + 61 <= len(data):
    length = int.from_bytes(data[pos + 8:pos + 12], "big")
    codecs.add(data[pos + 22] & 7)
    pos += 12 + length
frames = [name for name, magic in (("zstd", b"\x28\xb5\x2f\xfd"), ("lz4", b"\x04\x22\x4d\x18")) if magic in data]
print(" ".join(str(c) for c in sorted(codecs)), *frames)
EOF
}
# The stored batches are the client's: each codec's frame magic is in the segment file.
expect_eq "stored batches keep their compression (gzip, lz4, zstd frames and snappy data on disk)" \
  "0 1 2 3 4 zstd lz4" "$(stored_codecs "$work/data/codecs-0")"

# A topic with compression.type=zstd stores what kcat sends uncompressed as zstd (Kafka recompresses), and
# reads back the same.
"$STREAMCTL" --brokers "$B" -q topic create zstdtopic -c compression.type=zstd || fail "create topic zstdtopic"
seq 1 200 | sed 's/^/compress me please /' >"$work/zin"
kc -P -t zstdtopic -z none -l "$work/zin"
kc -C -t zstdtopic -o beginning -e -q -f '%s\n' >"$work/zout"
check "compression.type=zstd: kcat reads back what it produced" cmp -s "$work/zin" "$work/zout"
expect_eq "compression.type=zstd: kcat's uncompressed batches are stored as zstd" "4 zstd" \
  "$(stored_codecs "$work/data/zstdtopic-0")"

# ---- offsets by time
printf 'early-1\nearly-2\n' | kc -P -t timed
sleep 1.2
ts=$(($(date +%s%3N) - 100))
sleep 0.2
printf 'late-1\nlate-2\n' | kc -P -t timed
kc -C -t timed -o "s@$ts" -e -q -f '%s\n' >"$work/bytime"
expect_eq "-o s@<ts> starts at the first record at or after ts" $'late-1\nlate-2' "$(cat "$work/bytime")"
kc -Q -t "timed:0:$ts" >"$work/query" 2>&1
check "-Q returns offset 2 for that time" grep -q "offset 2" "$work/query"
kc -Q -t "timed:0:$(($(date +%s%3N) + 60000))" >"$work/query2" 2>&1
check "-Q for a future time returns the end (-1 = no such record)" grep -qE "offset (-1|4)" "$work/query2"

# ---- consumer group: two members split four partitions
"$PY" - "$B" <<'EOF' || fail "create topic grouped (4 partitions) with kafka-python admin"
import sys
from kafka.admin import KafkaAdminClient, NewTopic
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
a.create_topics([NewTopic("grouped", num_partitions=4, replication_factor=1)])
a.close()
EOF
for m in 1 2; do
  timeout 120 kcat -b "$B" -G gk -X auto.offset.reset=earliest -X heartbeat.interval.ms=500 -q -u \
    -f '%p %s\n' grouped >"$work/member$m" 2>"$work/member$m.err" &
  bg_pids+=($!)
done
members_stable() { grep -q 'msg="group stable" group=gk .*members=2' "$work/server.log"; }
check "two kcat -G members form one group" wait_for 30 members_stable
for p in 0 1 2 3; do
  for i in $(seq 1 10); do echo "p$p-m$i"; done | kc -P -t grouped -p "$p"
done
total_consumed() { (($(cat "$work/member1" "$work/member2" | wc -l) >= 40)); }
check "the group consumes all 40 records" wait_for 30 total_consumed
n1=$(wc -l <"$work/member1")
n2=$(wc -l <"$work/member2")
check "both members got records ($n1 + $n2)" test "$n1" -gt 0 -a "$n2" -gt 0
p1=$(cut -d' ' -f1 "$work/member1" | sort -u | tr '\n' ' ')
p2=$(cut -d' ' -f1 "$work/member2" | sort -u | tr '\n' ' ')
check "the members' partitions are disjoint ($p1/ $p2)" test -z "$(comm -12 <(cut -d' ' -f1 "$work/member1" | sort -u) <(cut -d' ' -f1 "$work/member2" | sort -u))"
expect_eq "together they read every record exactly once" "$(for p in 0 1 2 3; do for i in $(seq 1 10); do echo "$p p$p-m$i"; done; done | sort)" "$(cat "$work/member1" "$work/member2" | sort)"
for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
bg_pids=()
lag_zero() { metrics | grep '^streamctl_group_lag{group="gk"' | awk '{s+=$2; n++} END {exit !(n == 4 && s == 0)}'; }
check "the members committed their positions on exit (lag 0 on all 4 partitions)" wait_for 10 lag_zero
check "/metrics counts Produce requests" bash -c "$(declare -f metrics); HTTP=$HTTP PY=$PY metrics | grep -qE '^streamctl_requests_total\{api=\"Produce\"\} [1-9]'"

# ---- a second server on the same directory is refused; SIGTERM stops cleanly
"$STREAMCTL" --data-dir "$work/data" serve --listen 127.0.0.1:0 >"$work/second.out" 2>"$work/second.err"
rc=$?
check "a second serve on the same data directory exits 1" test "$rc" -eq 1
check "and says who serves it" grep -q "is served by streamctl serve (pid $server_pid) on $B" "$work/second.err"
kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=""
expect_eq "serve exits 0 on SIGTERM" 0 "$rc"
check "the shutdown is logged with a successful flush" grep -q 'msg="stopped" flushed=true' "$work/server.log"
check "the advertisement is removed" test ! -e "$work/data/__meta/serve.json"

if ((failures > 0)); then echo "$failures check(s) failed"; exit 1; fi
echo "all serve_kcat checks passed"
