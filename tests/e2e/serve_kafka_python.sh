#!/usr/bin/env bash
# End-to-end: kafka-python 2.0.2 (Debian python3-kafka) against `streamctl serve` on a free loopback port:
# its pipelined ApiVersions v0 + Metadata v0 probe, admin create/describe/delete topic, a producer with
# acks=all, a consumer group that commits and resumes where it stopped, offsets_for_times,
# beginning/end offsets, list/describe consumer groups. Env: STREAMCTL = the built binary.
set -uo pipefail
E2E_NAME=serve-kafka-python
source "$(dirname "$0")/serve_helpers.bash"
if ! "$PY" -c 'import kafka' 2>/dev/null; then
  echo "FAIL: $PY cannot import kafka (apt-get install python3-kafka)"; exit 1
fi

start_server

# Each step prints PASS:/FAIL: lines itself; the script counts the FAILs.
timeout 240 "$PY" - "$B" >"$work/py.out" 2>"$work/py.err" <<'EOF'
import sys, time
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, NewTopic
from kafka.errors import TopicAlreadyExistsError

B = sys.argv[1]
failed = 0
def check(name, ok, detail=""):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not detail else "  (" + str(detail) + ")"), flush=True)
    failed += 0 if ok else 1

# The version probe (ApiVersions v0 + Metadata v0 pipelined, 2 s budget) must find a >= 2.1 broker, so that
# kafka-python uses RecordBatch v2, Produce v7 and Fetch v4.
probe = KafkaConsumer(bootstrap_servers=B)
check("kafka-python infers broker version >= 2.1 from ApiVersions v0", probe.config["api_version"] >= (2, 1),
      probe.config["api_version"])
probe.close()

admin = KafkaAdminClient(bootstrap_servers=B, request_timeout_ms=10000)
admin.create_topics([NewTopic("orders", num_partitions=3, replication_factor=1,
                              topic_configs={"retention.ms": "3600000"})])
check("admin create_topics creates a 3-partition topic", "orders" in admin.list_topics())
try:
    admin.create_topics([NewTopic("orders", num_partitions=1, replication_factor=1)])
    check("creating it again fails with TopicAlreadyExistsError", False)
except TopicAlreadyExistsError:
    check("creating it again fails with TopicAlreadyExistsError", True)
cfg = admin.describe_configs([ConfigResource("TOPIC", "orders")])
cfg_text = str(cfg)
check("describe_configs shows the retention.ms override", "3600000" in cfg_text, cfg_text[:200])

t_before = int(time.time() * 1000)
producer = KafkaProducer(bootstrap_servers=B, acks="all", linger_ms=5)
futures = [producer.send("orders", key=b"k%d" % i, value=b"order-%03d" % i, partition=i % 3,
                         headers=[("n", b"%d" % i)]) for i in range(60)]
producer.flush()
metas = [f.get(timeout=10) for f in futures]
check("60 acks=all sends are acknowledged", len(metas) == 60)
check("offsets are consecutive per partition", sorted(m.offset for m in metas if m.partition == 0) == list(range(20)))
producer.close()
time.sleep(1.1)
t_middle = int(time.time() * 1000)
time.sleep(0.1)
producer = KafkaProducer(bootstrap_servers=B, acks="all", compression_type="gzip")
for i in range(60, 90):
    producer.send("orders", key=b"k%d" % i, value=b"order-%03d" % i, partition=i % 3)
producer.flush()
producer.close()

def consume(n, **kw):
    c = KafkaConsumer("orders", bootstrap_servers=B, group_id="billing", auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=6000, **kw)
    out = []
    for m in c:
        out.append(m)
        if len(out) >= n:
            break
    c.commit()
    c.close()
    return out

first = consume(40)
check("a group member reads 40 records and commits", len(first) == 40)
check("headers arrive", all(dict(m.headers).get("n") == b"%d" % int(m.value[6:]) for m in first if int(m.value[6:]) < 60))
rest = consume(1000)
check("a new member of the same group resumes after the commit: 50 more, none twice",
      len(rest) == 50 and not ({m.value for m in first} & {m.value for m in rest}), len(rest))
check("every record was read exactly once by the group",
      sorted(m.value for m in first + rest) == [b"order-%03d" % i for i in range(90)])
again = consume(1000)
check("nothing is left for the group", len(again) == 0, len(again))

c = KafkaConsumer(bootstrap_servers=B)
tps = [TopicPartition("orders", p) for p in range(3)]
check("beginning_offsets are 0", c.beginning_offsets(tps) == {tp: 0 for tp in tps})
check("end_offsets are 30 each", c.end_offsets(tps) == {tp: 30 for tp in tps}, c.end_offsets(tps))
times = c.offsets_for_times({tp: t_middle for tp in tps})
check("offsets_for_times finds the first record after the pause (offset 20 on each partition)",
      all(times[tp] is not None and times[tp].offset == 20 and times[tp].timestamp >= t_middle for tp in tps), times)
early = c.offsets_for_times({tps[0]: t_before - 60000})
check("offsets_for_times before everything gives offset 0", early[tps[0]].offset == 0, early)
late = c.offsets_for_times({tps[0]: int(time.time() * 1000) + 3600000})
check("offsets_for_times after everything gives None", late[tps[0]] is None, late)
committed = KafkaConsumer(bootstrap_servers=B, group_id="billing", enable_auto_commit=False)
check("the group's committed offsets are the end offsets",
      all(committed.committed(tp) == 30 for tp in tps), [committed.committed(tp) for tp in tps])
committed.close()
c.close()

groups = admin.list_consumer_groups()
check("list_consumer_groups shows billing", any(g[0] == "billing" for g in groups), groups)
info = admin.describe_consumer_groups(["billing"])[0]
check("describe_consumer_groups: billing is Empty after its members left", info.state == "Empty", info)

admin.delete_topics(["orders"])
deadline = time.time() + 10
while "orders" in admin.list_topics() and time.time() < deadline:
    time.sleep(0.2)
check("admin delete_topics removes the topic", "orders" not in admin.list_topics())
admin.close()
sys.exit(1 if failed else 0)
EOF
rc=$?
cat "$work/py.out"
failures=$((failures + $(grep -c '^FAIL' "$work/py.out")))
if [[ $rc -ne 0 ]] && ! grep -q '^FAIL' "$work/py.out"; then
  fail "the kafka-python script crashed (rc=$rc)"; tail -20 "$work/py.err"
fi
if grep -q 'level=error' "$work/server.log"; then fail "the server logged errors"; grep 'level=error' "$work/server.log" | head -5; fi

kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=""
if [[ $rc -eq 0 ]]; then pass "serve exits 0 on SIGTERM"; else fail "serve exited $rc on SIGTERM"; fi

if ((failures > 0)); then echo "$failures check(s) failed"; exit 1; fi
echo "all serve_kafka_python checks passed"
