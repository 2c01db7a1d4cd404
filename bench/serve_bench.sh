#!/usr/bin/env bash
# serve_bench: `streamctl serve` against Redis Streams and NATS JetStream, same machine, same run, same
# 100-byte records. Every server is started here on 127.0.0.1 (a free port, a temp dir) and stopped after.
#
#   streamctl  bench/kafka_load.cc (librdkafka): produce acks=1 and acks=all (client batching, linger 5 ms),
#              produce with at most 256 records unacknowledged (linger 0: the latency comparison), consume
#              from the beginning. Pages cache durability, as Kafka (fsync per topic flush.* / on stop).
#              Every client sends with TCP_NODELAY, as the peers' clients do (librdkafka needs
#              socket.nagle.disable=true for that; redis-benchmark's hiredis and the NATS client below set it).
#   Redis      redis-server 7 (Debian), appendonly yes + appendfsync everysec; redis-benchmark XADD with
#              4 connections x 64 pipelined (256 in flight) for produce and its latency; XREAD COUNT 1000
#              for consume (as shared/peers/redis_streams.sh measures it: the first 1000 entries again and
#              again, which flatters Redis).
#   NATS       nats-server 2.9 (Debian) JetStream, file storage; a plain-socket client (below): async publish
#              with PubAcks, at most 4096 in flight for throughput and 256 for latency; a push consumer
#              (ack none) over the whole stream for consume.
# Output: RESULT|<metric>|<run>|<value>|<unit>|<what> lines (the peers' format), then a side-by-side table of
# medians with streamctl's ratio to the best peer. Server CPU is the server process's utime+stime over the
# run, in % of one core.
# Consume uses CONSUMERS librdkafka handles (default 2, partition p read by handle p % 2): librdkafka parses
# fetch responses on its one broker-connection thread, so a single handle measures that thread (~4.5M/s
# here), not the server (under 20% of a core at that rate). Set CONSUMERS=1 for the single-handle figure.
# Usage: bench/serve_bench.sh [BUILD_DIR]    (default: build)   env: N=2000000 RUNS=3 PARTITIONS=4 CONSUMERS=2
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
STREAMCTL=$BUILD/streamctl
LOAD=$BUILD/kafka_load
N=${N:-2000000}
RUNS=${RUNS:-3}
PARTITIONS=${PARTITIONS:-4}
CONSUMERS=${CONSUMERS:-2}
WINDOW=256
PY=/usr/bin/python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/serve-bench.XXXXXX")
SPID=""
cleanup() {
  [[ -n "$SPID" ]] && kill -9 "$SPID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
bash "$ROOT/bench/install-bench-deps.sh" || { echo "bench/install-bench-deps.sh failed"; exit 1; }
for f in "$STREAMCTL" "$LOAD"; do [[ -x "$f" ]] || { echo "missing $f (cmake --build $BUILD)"; exit 1; }; done
for t in redis-server redis-benchmark redis-cli nats-server "$PY"; do
  command -v "$t" >/dev/null || { echo "missing $t (bash bench/install-bench-deps.sh)"; exit 1; }
done

note() { printf 'NOTE|%s\n' "$*"; }
result() { printf 'RESULT|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5"; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
  local i
  for i in $(seq 1 100); do
    "$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$1)))" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)
now_ns() { date +%s%N; }
cpu_pct() { "$PY" -c "print(round(100*($2-$1)/$CLK_TCK/(($4-$3)/1e9)))"; }  # t0 t1 ns0 ns1
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
}

{
note "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
note "N=$N records of 100 B per run, RUNS=$RUNS, streamctl topics with $PARTITIONS partitions"

# ---------------------------------------------------------------- streamctl
"$STREAMCTL" --data-dir "$TMP/streamctl" serve --listen 127.0.0.1:0 --port-file "$TMP/port" \
  --default-partitions "$PARTITIONS" --log-level warn 2>"$TMP/serve.log" &
SPID=$!
for _ in $(seq 1 100); do [[ -s "$TMP/port" ]] && break; sleep 0.1; done
[[ -s "$TMP/port" ]] || { echo "streamctl serve did not start"; cat "$TMP/serve.log"; exit 1; }
B="127.0.0.1:$(cat "$TMP/port")"
note "streamctl serve at $B ($("$STREAMCTL" --version 2>&1 | head -1))"
for r in $(seq 1 "$RUNS"); do
  timeout 300 "$LOAD" produce -b "$B" -t "a1-$r" -n "$N" --acks 1 --partitions "$PARTITIONS" --server-pid "$SPID" --run "$r" ||
    note "kafka_load produce acks=1 run $r failed"
  timeout 300 "$LOAD" produce -b "$B" -t "aall-$r" -n "$N" --acks all --partitions "$PARTITIONS" --server-pid "$SPID" --run "$r" ||
    note "kafka_load produce acks=all run $r failed"
  timeout 300 "$LOAD" produce -b "$B" -t "win-$r" -n $((N / 4)) --acks all --partitions "$PARTITIONS" --linger-ms 0 \
    --window "$WINDOW" --server-pid "$SPID" --run "$r" || note "kafka_load windowed produce run $r failed"
  timeout 300 "$LOAD" consume -b "$B" -t "a1-$r" -n "$N" --partitions "$PARTITIONS" --clients "$CONSUMERS" \
    --server-pid "$SPID" --run "$r" ||
    note "kafka_load consume run $r failed"
done
note "streamctl data dir after the runs: $(du -sm "$TMP/streamctl" | cut -f1) MB"
stop_pid "$SPID"
SPID=""

# ---------------------------------------------------------------- Redis Streams, AOF everysec
PORT=$(free_port)
mkdir -p "$TMP/redis"
redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes --dir "$TMP/redis" --save "" \
  --appendonly yes --appendfsync everysec --auto-aof-rewrite-percentage 0 --logfile "$TMP/redis/log" &
SPID=$!
wait_port "$PORT" || { echo "redis-server did not start"; exit 1; }
note "$(redis-server --version | cut -d' ' -f1-3), appendonly yes, appendfsync everysec"
VAL=$(printf 'v%.0s' $(seq 1 100))
rb() { timeout 300 redis-benchmark -h 127.0.0.1 -p "$PORT" --csv "$@" 2>/dev/null | tail -1 | tr -d '"' | cut -d, -f2,5,7; }
for r in $(seq 1 "$RUNS"); do
  redis-cli -p "$PORT" DEL s >/dev/null
  c0=$(cpu_ticks "$SPID"); t0=$(now_ns)
  IFS=, read -r rps p50 p99 < <(rb -n "$N" -c 4 -P 64 XADD s '*' f "$VAL")
  t1=$(now_ns); c1=$(cpu_ticks "$SPID")
  result redis-produce "$r" "${rps%.*}" msgs/s "redis-benchmark -n $N -c 4 -P 64 XADD s * f <100 B> (256 in flight)"
  result redis-produce-mbps "$r" "$("$PY" -c "print(round(${rps}*100/1e6, 1))")" MB/s "same run, payload bytes"
  result redis-produce-p50 "$r" "$("$PY" -c "print(round(${p50}*1000))")" us "same run: request latency p50"
  result redis-produce-p99 "$r" "$("$PY" -c "print(round(${p99}*1000))")" us "same run: request latency p99"
  result redis-produce-server-cpu "$r" "$(cpu_pct "$c0" "$c1" "$t0" "$t1")" "% of a core" "redis-server CPU during that run"
  c0=$(cpu_ticks "$SPID"); t0=$(now_ns)
  IFS=, read -r rps _ _ < <(rb -n 2000 -c 1 -P 1 XREAD COUNT 1000 STREAMS s 0)
  t1=$(now_ns); c1=$(cpu_ticks "$SPID")
  result redis-consume "$r" "$("$PY" -c "print(int(${rps}*1000))")" msgs/s "redis-benchmark -n 2000 XREAD COUNT 1000 STREAMS s 0 (the first 1000 entries, repeatedly)"
  result redis-consume-mbps "$r" "$("$PY" -c "print(round(${rps}*1000*100/1e6, 1))")" MB/s "same run, payload bytes"
  result redis-consume-server-cpu "$r" "$(cpu_pct "$c0" "$c1" "$t0" "$t1")" "% of a core" "redis-server CPU during that run"
done
redis-cli -p "$PORT" SHUTDOWN NOSAVE >/dev/null 2>&1
stop_pid "$SPID"
SPID=""

# ---------------------------------------------------------------- NATS JetStream, file storage
PORT=$(free_port)
cat >"$TMP/nats.conf" <<EOF
listen: 127.0.0.1:$PORT
max_payload: 1MB
jetstream { store_dir: "$TMP/js", max_memory_store: 256MB, max_file_store: 16GB }
EOF
nats-server -c "$TMP/nats.conf" -l "$TMP/nats.log" &
SPID=$!
wait_port "$PORT" || { echo "nats-server did not start"; cat "$TMP/nats.log"; exit 1; }
note "nats-server $(nats-server --version | awk '{print $2}') with JetStream, file storage"
for r in $(seq 1 "$RUNS"); do
  timeout 300 "$PY" - "$PORT" "$SPID" "$r" "$N" "$WINDOW" <<'EOF' || note "NATS run failed"
# A minimal NATS client on a plain socket: JetStream async publish (PubAck per message), a push consumer.
import collections, json, os, select, socket, sys, time
PORT, SPID, RUN, N, LAT_WINDOW = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
PAYLOAD, TCK = b"p" * 100, os.sysconf("SC_CLK_TCK")
def result(m, v, unit, what): print(f"RESULT|{m}|{RUN}|{v}|{unit}|{what}", flush=True)
def ticks():
    f = open(f"/proc/{SPID}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
s = socket.create_connection(("127.0.0.1", PORT))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def recv(timeout=5.0):
    if not select.select([s], [], [], timeout)[0]:
        return b""
    d = s.recv(4 << 20)
    if not d:
        raise ConnectionError("nats-server closed the connection")
    if b"PING\r\n" in d:
        s.sendall(b"PONG\r\n")
    return d
buf = b""
while b"\r\n" not in buf: buf += recv()
s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\nPING\r\n')
buf = b""
while b"PONG" not in buf: buf += recv()
def request(subject, body, sink=None):
    s.sendall(b"SUB _R 9\r\nPUB " + subject.encode() + b" _R " + str(len(body)).encode() + b"\r\n" + body + b"\r\n")
    data = b""
    while True:
        i = data.find(b"MSG _R 9 ")
        if i >= 0:
            e = data.find(b"\r\n", i)
            if e > 0:
                size = int(data[i:e].split()[-1])
                if len(data) >= e + 2 + size:
                    s.sendall(b"UNSUB 9\r\n")
                    return json.loads(data[e + 2:e + 2 + size])
        d = recv()
        if not d: raise TimeoutError("no reply to " + subject)
        if sink: sink(d)  # deliveries that race the reply still count
        data += d
class Count:  # occurrences of a token in a stream of chunks (tokens may straddle chunks)
    def __init__(self, tok): self.tok, self.tail, self.n = tok, b"", 0
    def feed(self, d):
        d = self.tail + d; self.n += d.count(self.tok); self.tail = d[-(len(self.tok) - 1):]
stream = "B" + RUN
request("$JS.API.STREAM.DELETE." + stream, b"")
r = request("$JS.API.STREAM.CREATE." + stream, json.dumps({"name": stream, "subjects": [stream + ".x"],
            "storage": "file", "retention": "limits", "discard": "old", "num_replicas": 1}).encode())
if "error" in r: raise RuntimeError(r)
s.sendall(b"SUB _A 1\r\n")
msg = b"PUB " + stream.encode() + b".x _A 100\r\n" + PAYLOAD + b"\r\n"
def publish(n, window, latencies=None):
    acks, sent, sent_at = Count(b"MSG _A "), 0, collections.deque()
    deadline = time.time() + 240
    while acks.n < n:
        if time.time() > deadline: raise TimeoutError(f"{acks.n}/{n} PubAcks")
        k = min(window - (sent - acks.n), n - sent, 256)
        if k > 0:
            s.sendall(msg * k)
            if latencies is not None:
                t = time.perf_counter(); sent_at.extend([t] * k)
            sent += k
        d = recv(0 if k > 0 and sent < n else 5)
        if d:
            before = acks.n; acks.feed(d)
            if latencies is not None:
                t = time.perf_counter()
                for _ in range(acks.n - before): latencies.append(t - sent_at.popleft())
    return sent
c0, t0 = ticks(), time.perf_counter()
publish(N, 4096)
dt = time.perf_counter() - t0
result("nats-produce", int(N / dt), "msgs/s", f"JetStream async publish x{N} (100 B), PubAck each, 4096 in flight")
result("nats-produce-mbps", round(N * 100 / dt / 1e6, 1), "MB/s", "same run, payload bytes")
result("nats-produce-server-cpu", round(100 * (ticks() - c0) / TCK / dt), "% of a core", "nats-server CPU during that run")
lat = []
publish(N // 4, LAT_WINDOW, lat)
lat.sort()
result("nats-produce-p50", round(lat[len(lat) // 2] * 1e6), "us", f"JetStream publish -> PubAck, {LAT_WINDOW} in flight: p50")
result("nats-produce-p99", round(lat[int(len(lat) * 0.99)] * 1e6), "us", f"same run: p99")
total = N + N // 4
got = Count(b"MSG " + stream.encode() + b".x ")  # deliveries carry the stored subject
s.sendall(b"SUB _D 3\r\n")
c0, t0 = ticks(), time.perf_counter()
r = request("$JS.API.CONSUMER.CREATE." + stream, json.dumps({"stream_name": stream, "config": {
    "deliver_subject": "_D", "ack_policy": "none", "deliver_policy": "all", "replay_policy": "instant"}}).encode(),
    sink=got.feed)
if "error" in r: raise RuntimeError(r)
deadline = time.time() + 240
while got.n < total:
    if time.time() > deadline: raise TimeoutError(f"{got.n}/{total} delivered")
    got.feed(recv())
dt = time.perf_counter() - t0
result("nats-consume", int(total / dt), "msgs/s", f"JetStream push consumer (ack none) over the whole stream ({total} messages)")
result("nats-consume-mbps", round(total * 100 / dt / 1e6, 1), "MB/s", "same run, payload bytes")
result("nats-consume-server-cpu", round(100 * (ticks() - c0) / TCK / dt), "% of a core", "nats-server CPU during that run")
s.sendall(b"UNSUB 3\r\n")
request("$JS.API.STREAM.DELETE." + stream, b"")
EOF
done
stop_pid "$SPID"
SPID=""
note "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$TMP/raw.txt"

# ---------------------------------------------------------------- side by side
"$PY" - "$TMP/raw.txt" <<'EOF'
import statistics, sys
vals = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT|"):
        _, metric, _run, value, unit, _ = line.rstrip("\n").split("|", 5)
        vals.setdefault(metric, []).append(float(value))
med = {k: statistics.median(v) for k, v in vals.items()}
def g(k): return med.get(k)
def fmt(v, unit=""):
    if v is None: return "-"
    return f"{v:,.0f}{unit}" if abs(v) >= 100 else f"{v:.1f}{unit}"
rows = [
    ("produce msgs/s", "streamctl-produce-acks1", "streamctl-produce-acksall", "redis-produce", "nats-produce", "max"),
    ("produce MB/s", "streamctl-produce-acks1-mbps", "streamctl-produce-acksall-mbps", "redis-produce-mbps", "nats-produce-mbps", "max"),
    ("produce server CPU %", "streamctl-produce-acks1-server-cpu", "streamctl-produce-acksall-server-cpu", "redis-produce-server-cpu", "nats-produce-server-cpu", None),
    ("produce p50 us (256 in flight)", "streamctl-produce-acksall-window256-p50", "streamctl-produce-acksall-window256-p50", "redis-produce-p50", "nats-produce-p50", "min"),
    ("produce p99 us (256 in flight)", "streamctl-produce-acksall-window256-p99", "streamctl-produce-acksall-window256-p99", "redis-produce-p99", "nats-produce-p99", "min"),
    ("consume msgs/s", "streamctl-consume", "streamctl-consume", "redis-consume", "nats-consume", "max"),
    ("consume MB/s", "streamctl-consume-mbps", "streamctl-consume-mbps", "redis-consume-mbps", "nats-consume-mbps", "max"),
    ("consume server CPU %", "streamctl-consume-server-cpu", "streamctl-consume-server-cpu", "redis-consume-server-cpu", "nats-consume-server-cpu", None),
]
print()
print("| medians | streamctl acks=1 | streamctl acks=all | Redis Streams (everysec) | NATS JetStream (file) | streamctl / best peer |")
print("|---|---|---|---|---|---|")
for name, s1, sall, red, nat, better in rows:
    a, b, r, n = g(s1), g(sall), g(red), g(nat)
    ratio = "-"
    peers = [x for x in (r, n) if x is not None]
    mine = b if b is not None else a
    if better and peers and mine:
        best = max(peers) if better == "max" else min(peers)
        ratio = f"{mine / best:.2f}x" if better == "max" else f"{best / mine:.2f}x lower" if mine <= best else f"{mine / best:.2f}x higher"
    same = s1 == sall
    print(f"| {name} | {fmt(a)} | {'(same)' if same else fmt(b)} | {fmt(r)} | {fmt(n)} | {ratio} |")
print()
print("streamctl/best-peer ratios use streamctl acks=all for produce (the stricter setting); latency rows compare")
print("each system with 256 records in flight (streamctl: librdkafka, linger.ms=0, acks=all).")
EOF
