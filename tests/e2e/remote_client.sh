#!/usr/bin/env bash
# End-to-end: `streamctl produce --brokers` through streamctl's own Kafka producer (cli/wire_producer.h)
# against a `streamctl serve` started here. Checks that it and the librdkafka path (forced with
# STREAMCTL_KAFKA_PRODUCER=librdkafka) put the same records in the same partitions, every codec, acks 0/1/all,
# that a setting only librdkafka implements switches to librdkafka, that a broker error fails the command
# with the count of failed records, and that a producer keeps going through a kill -9 and restart of the
# server with nothing lost and nothing written twice (idempotent retries); and that a broker which accepts
# connections but never answers fails commands after -X socket.timeout.ms. Env: STREAMCTL = the binary.
set -uo pipefail
E2E_NAME=remote-client
source "$(dirname "$0")/serve_helpers.bash"
export NO_COLOR=1
unset STREAMCTL_BROKERS STREAMCTL_PROFILE STREAMCTL_DATA_DIR STREAMCTL_KAFKA_PRODUCER

start_server
sc() { "$STREAMCTL" --brokers "$B" "$@"; }

# ---- the same records in the same places as librdkafka
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "k%d\tvalue %06d %s\n", i % 37, i, (i % 5 ? "x" : "") }' >"$work/keyed.txt"
sc -q topic create native -p 4 && sc -q topic create rdk -p 4 || fail "create topics"
if sc -v produce native -K $'\t' "$work/keyed.txt" 2>"$work/native.err" &&
  grep -q "own Kafka producer" "$work/native.err"; then
  pass "keyed produce goes through streamctl's own producer (-v says so)"
else
  fail "keyed produce through the own producer: $(cat "$work/native.err")"
fi
STREAMCTL_KAFKA_PRODUCER=librdkafka sc -v produce rdk -K $'\t' "$work/keyed.txt" 2>"$work/rdk.err"
grep -q "producing through librdkafka (STREAMCTL_KAFKA_PRODUCER=librdkafka)" "$work/rdk.err" &&
  pass "STREAMCTL_KAFKA_PRODUCER=librdkafka selects librdkafka" || fail "librdkafka not selected: $(cat "$work/rdk.err")"
same=1
for p in 0 1 2 3; do
  sc consume native -p "$p" -q --format '%k\t%s\n' >"$work/n$p" && sc consume rdk -p "$p" -q --format '%k\t%s\n' >"$work/r$p" || same=0
  cmp -s "$work/n$p" "$work/r$p" || same=0
  [[ -s "$work/n$p" ]] || same=0
done
if ((same)); then pass "both producers put every keyed record in the same partition, in order"; else
  fail "the two producers disagree on partitions"; fi
if cat "$work"/n0 "$work"/n1 "$work"/n2 "$work"/n3 | sort | cmp -s - <(sort "$work/keyed.txt"); then
  pass "all 20000 keyed records arrived once"; else fail "keyed records lost or duplicated"; fi

# ---- codecs and acks
seq 1 30000 | sed 's/$/ some log text to compress well, some log text to compress well/' >"$work/lines.txt"
for codec in none gzip snappy lz4 zstd; do
  sc -q produce "c-$codec" --compression "$codec" "$work/lines.txt" &&
    sc -q consume "c-$codec" | cmp -s - "$work/lines.txt" &&
    pass "--compression $codec round trip" || fail "--compression $codec round trip"
done
for acks in 0 1 all; do
  sc -q produce "a-$acks" -X acks="$acks" "$work/lines.txt" && sc -q consume "a-$acks" | cmp -s - "$work/lines.txt" &&
    pass "-X acks=$acks round trip" || fail "-X acks=$acks round trip"
done
sc -q produce small -X batch.size=2000 -X linger.ms=1 "$work/lines.txt" && sc -q consume small | cmp -s - "$work/lines.txt" &&
  pass "-X batch.size=2000: many small batches, in order" || fail "-X batch.size=2000 round trip"
out=$(sc -q produce bad -X acks=maybe <<<"x" 2>&1); rc=$?
[[ $rc -eq 2 && $out == *"acks=maybe"* ]] && pass "a malformed -X acks is refused, naming it" ||
  fail "-X acks=maybe: rc=$rc: $out"
sc -v produce viardk -X debug=protocol <<<"one" 2>"$work/fallback.err" >/dev/null
grep -q "producing through librdkafka (-X debug)" "$work/fallback.err" && [[ $(sc -q consume viardk) == one ]] &&
  pass "a property only librdkafka implements (-X debug) switches to librdkafka" ||
  fail "-X debug fallback: $(head -3 "$work/fallback.err")"

# ---- a record over the topic's max.message.bytes (read by DescribeConfigs) is found at its input line
# before it is sent, on both producer paths: the record before it is kept (exit 4). Delivery failures the
# broker reports are counted below ('gone').
sc -q topic create tiny -c max.message.bytes=1000 || fail "create topic tiny"
big=$(head -c 3000 /dev/zero | tr '\0' 'b')
printf 'ok1\n%s\nok2\n' "$big" >"$work/big.txt"
out=$(sc -q produce tiny -X batch.size=500 "$work/big.txt" 2>&1); rc=$?
STREAMCTL_KAFKA_PRODUCER=librdkafka sc -q produce tiny -X batch.size=500 "$work/big.txt" >/dev/null 2>&1; rc_rdk=$?
if [[ $rc -eq 4 && $rc -eq $rc_rdk && $out == *"big.txt line 2 is 3000 bytes"* && $out == *"max.message.bytes=1000"* ]]; then
  pass "a record over max.message.bytes stops the produce at its line (exit $rc, as with librdkafka): $out"
else
  fail "record too large: rc=$rc (librdkafka $rc_rdk): $out"
fi

# ---- kill -9 and restart of the server under a running producer
N=150000
seq -f 'rec %06g' 1 "$N" >"$work/stream.txt"
sc -q topic create stream -p 2 || fail "create topic stream"
sc -q produce stream --rate 50000/s "$work/stream.txt" 2>"$work/stream.err" &
producer_pid=$!
sleep 1
kill9_server
sleep 1
start_server
wait "$producer_pid"; rc=$?; producer_pid=""
if [[ $rc -eq 0 ]]; then pass "the producer rode out kill -9 and restart (exit 0)"; else
  fail "the producer exited $rc across the restart: $(cat "$work/stream.err")"; fi
sc -q consume stream | sort >"$work/stream.got"
if cmp -s "$work/stream.got" <(sort "$work/stream.txt"); then
  pass "after the restart: all $N records, none twice"
else
  fail "after the restart: $(wc -l <"$work/stream.got") records, $(sort "$work/stream.got" | uniq -d | wc -l) duplicated"
fi
ordered=1
for p in 0 1; do
  sc -q consume stream -p "$p" | sort -c 2>/dev/null || ordered=0
done
((ordered)) && pass "each partition kept the records in order" || fail "records out of order within a partition"

# ---- a broker that stays away: the producer gives up after the delivery timeout, saying how many failed
kill9_server
start_server
sc -q topic create gone || fail "create topic gone"
seq 1 100000 | sc -q produce gone --rate 20000/s -X message.timeout.ms=2000 2>"$work/gone.err" &
producer_pid=$!
sleep 1
kill9_server
wait "$producer_pid"; rc=$?; producer_pid=""
if [[ $rc -ne 0 ]] && grep -q "records failed delivery to 'gone'" "$work/gone.err"; then
  pass "with the broker gone, produce fails after message.timeout.ms: $(tail -1 "$work/gone.err")"
else
  fail "broker gone: rc=$rc: $(cat "$work/gone.err")"
fi

# ---- a connection that stalls after a produce request was sent (the request lost) or after the broker
# took it (the response lost): the batch is resent on a new connection after request.timeout.ms and lands
# exactly once (the broker recognises the retry by its producer id and sequence). A proxy in front of the
# server (which advertises the proxy) stalls the first connection that carries a Produce request.
cat >"$work/proxy.py" <<'EOF'
import os, socket, struct, sys, threading
port_file, upstream_file, mode = sys.argv[1:4]
armed = [True]
lock = threading.Lock()
def recv_exact(s, n):
    b = b""
    while len(b) < n:
        try:
            chunk = s.recv(n - len(b))
        except OSError:
            return None
        if not chunk:
            return None
        b += chunk
    return b
def frame(s):
    h = recv_exact(s, 4)
    if h is None:
        return None
    body = recv_exact(s, struct.unpack(">i", h)[0])
    return None if body is None else h + body
def close(*socks):
    for x in socks:
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(c):
    u = socket.create_connection(("127.0.0.1", int(open(upstream_file).read())))
    stalled = [False, False]  # requests, responses: nothing more passes (the connection hangs)
    def client_to_upstream():
        while (f := frame(c)) is not None:
            with lock:
                if struct.unpack(">h", f[4:6])[0] == 0 and armed[0]:
                    armed[0] = False
                    stalled[0 if mode == "drop-request" else 1] = True
            if not stalled[0]:
                u.sendall(f)
        close(c, u)
    def upstream_to_client():
        while (f := frame(u)) is not None:
            if not stalled[1]:
                c.sendall(f)
        close(c, u)
    threading.Thread(target=client_to_upstream, daemon=True).start()
    threading.Thread(target=upstream_to_client, daemon=True).start()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
open(port_file + ".tmp", "w").write(str(ls.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    conn, _ = ls.accept()
    serve(conn)
EOF
kill9_server
for mode in drop-request drop-response; do
  "$PY" "$work/proxy.py" "$work/proxy-$mode.port" "$work/port" "$mode" 2>"$work/proxy-$mode.err" &
  proxy_pid=$!
  bg_pids+=("$proxy_pid")
  disown "$proxy_pid"
  wait_for 10 test -s "$work/proxy-$mode.port" || fail "the proxy did not start"
  proxied="127.0.0.1:$(cat "$work/proxy-$mode.port")"
  start_server --advertise "$proxied"
  start=$SECONDS
  seq -f "$mode %g" 1 20000 | "$STREAMCTL" --brokers "$proxied" -q produce "lost-$mode" -X request.timeout.ms=1000 \
    2>"$work/lost-$mode.err"
  rc=$?
  took=$((SECONDS - start))
  sc -q consume "lost-$mode" | sort >"$work/lost-$mode.got"
  if [[ $rc -eq 0 && $took -ge 1 ]] && cmp -s "$work/lost-$mode.got" <(seq -f "$mode %g" 1 20000 | sort); then
    pass "$mode: the batch was resent after the request timeout and stored exactly once ($took s)"
  else
    fail "$mode: rc=$rc after $took s, $(wc -l <"$work/lost-$mode.got") records stored: $(cat "$work/lost-$mode.err")"
  fi
  kill9_server
  kill -9 "$proxy_pid" 2>/dev/null
done

# ---- a "broker" that accepts connections and never answers: commands give up after socket.timeout.ms
"$PY" - "$work/mute.port" <<'EOF' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # never read, never answer
EOF
bg_pids+=($!)
disown "$!"
wait_for 10 test -s "$work/mute.port" || fail "the mute listener did not start"
mute="127.0.0.1:$(cat "$work/mute.port")"
start=$SECONDS
out=$("$STREAMCTL" --brokers "$mute" -X socket.timeout.ms=1500 topic list 2>&1); rc=$?
took=$((SECONDS - start))
if [[ $rc -ne 0 && $took -le 6 && $out == *"within 1.5 s"* ]]; then
  pass "a broker that never answers: topic list fails after socket.timeout.ms ($took s): $out"
else
  fail "mute broker: rc=$rc after $took s: $out"
fi
start=$SECONDS
out=$(echo x | "$STREAMCTL" --brokers "$mute" -X socket.timeout.ms=1500 produce t 2>&1); rc=$?
took=$((SECONDS - start))
if [[ $rc -ne 0 && $took -le 6 ]]; then pass "and so does produce ($took s): $out"; else
  fail "mute broker produce: rc=$rc after $took s: $out"; fi

finish
