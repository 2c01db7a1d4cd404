#!/usr/bin/env bash
# End-to-end durability: a kafka-python producer streams records with acks=all while `streamctl serve` is
# restarted twice under it, once with SIGTERM and once with kill -9 (same data directory, same port). The
# producer retries through the outages; afterwards every record the server acknowledged must be in the
# log, and the stream must have continued after each restart. Env: STREAMCTL = the built binary.
set -uo pipefail
E2E_NAME=serve-restart
source "$(dirname "$0")/serve_helpers.bash"
"$PY" -c 'import kafka' 2>/dev/null || { echo "FAIL: $PY cannot import kafka (apt-get install python3-kafka)"; exit 1; }

acked_count() { local n; n=$(cat "$work/progress" 2>/dev/null); echo "${n:-0}"; }
acked_more_than() { (($(acked_count) > $1)); }

start_server
B=$listen
"$PY" - "$B" <<'EOF' || fail "create topic stream (3 partitions)"
import sys
from kafka.admin import KafkaAdminClient, NewTopic
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
a.create_topics([NewTopic("stream", num_partitions=3, replication_factor=1)])
a.close()
EOF

# The producer: N records, paced, acks=all, retrying through outages. It writes the number of acks so far
# to $work/progress and, at the end, every acknowledged value to $work/acked.
N=40000
"$PY" - "$B" "$N" "$work" >"$work/producer.out" 2>"$work/producer.err" <<'EOF' &
import sys, time, threading
from kafka import KafkaProducer
B, n, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
acked, failed = [], [0]
lock = threading.Lock()
p = KafkaProducer(bootstrap_servers=B, acks="all", retries=1000, retry_backoff_ms=100,
                  reconnect_backoff_ms=50, reconnect_backoff_max_ms=300, request_timeout_ms=3000,
                  max_block_ms=60000, linger_ms=2, metadata_max_age_ms=1000)
def on_ok(v):
    def cb(md):
        with lock:
            acked.append(v)
    return cb
def on_err(_):
    with lock:
        failed[0] += 1
last = time.time()
for i in range(n):
    v = b"%08d" % i
    p.send("stream", value=v, partition=i % 3).add_callback(on_ok(v)).add_errback(on_err)
    if i % 50 == 49:
        time.sleep(0.01)  # ~4000 records/s: the stream spans both restarts
    if time.time() - last > 0.1:
        with lock:
            open(work + "/progress.tmp", "w").write(str(len(acked)))
        __import__("os").replace(work + "/progress.tmp", work + "/progress")
        last = time.time()
p.flush(timeout=120)
p.close(timeout=30)
with lock:
    open(work + "/acked", "w").write("\n".join(x.decode() for x in acked) + "\n")
    open(work + "/progress", "w").write(str(len(acked)))
print("acked", len(acked), "failed", failed[0], flush=True)
EOF
producer_pid=$!

# Outage 1: SIGTERM mid-stream, restart.
wait_for 60 acked_more_than 2000 || fail "the producer got acknowledgements before the first restart"
before=$(acked_count)
kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=""
if [[ $rc -eq 0 ]]; then pass "SIGTERM mid-stream: serve exits 0"; else fail "SIGTERM mid-stream: serve exited $rc"; fi
start_server
if wait_for 60 acked_more_than $((before + 2000)); then pass "the stream continues after a clean restart"; else
  fail "the stream did not continue after a clean restart ($(acked_count) acks, $before before)"; fi

# Outage 2: kill -9 mid-stream (acknowledged data is in the page cache; recovery must keep all of it).
before=$(acked_count)
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null
server_pid=""
start_server
if wait_for 60 acked_more_than $((before + 2000)); then pass "the stream continues after kill -9 and restart"; else
  fail "the stream did not continue after kill -9 ($(acked_count) acks, $before before)"; fi

wait "$producer_pid"
producer_pid=""
cat "$work/producer.out"
acked=$(wc -l <"$work/acked" 2>/dev/null || echo 0)
if ((acked >= N * 9 / 10)); then pass "the producer finished with $acked of $N records acknowledged"; else
  fail "only $acked of $N records acknowledged"; fi

# One more kill -9 with the stream finished, then read everything back from a fresh server process.
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null
server_pid=""
start_server
"$PY" - "$listen" "$work" <<'EOF'
import sys
from kafka import KafkaConsumer, TopicPartition
B, work = sys.argv[1], sys.argv[2]
c = KafkaConsumer(bootstrap_servers=B, enable_auto_commit=False, consumer_timeout_ms=5000)
tps = [TopicPartition("stream", p) for p in range(3)]
c.assign(tps)
c.seek_to_beginning()
end = c.end_offsets(tps)
seen = set()
while any(c.position(tp) < end[tp] for tp in tps):
    for recs in c.poll(timeout_ms=2000).values():
        for r in recs:
            seen.add(r.value.decode())
c.close()
acked = [l for l in open(work + "/acked").read().split("\n") if l]
missing = [v for v in acked if v not in seen]
print(("PASS" if not missing else "FAIL") + ": every acknowledged record is in the log after the restarts "
      "(%d acknowledged, %d stored, %d missing%s)" % (len(acked), len(seen), len(missing),
                                                     ", e.g. " + ", ".join(missing[:5]) if missing else ""))
sys.exit(1 if missing else 0)
EOF
[[ $? -eq 0 ]] || failures=$((failures + 1))
if grep -q 'msg="stopped" flushed=true' "$work/server.log"; then pass "the clean stop flushed"; else fail "no clean-stop log line"; fi
if grep -q 'level=error' "$work/server.log"; then fail "the server logged errors"; grep 'level=error' "$work/server.log" | head -5; fi

kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
if ((failures > 0)); then echo "$failures check(s) failed"; exit 1; fi
echo "all serve_restart checks passed"
