#!/usr/bin/env bash
# End-to-end (issue 14 item 9): a Fetch that meets a corrupt batch is visible on the server. A byte of the
# first batch of a fsynced segment is flipped while the server is down (dense index entries, so opening the
# partition does not rescan it); a Fetch from offset 0 must answer CORRUPT_MESSAGE (2), the server must log
# the file and position once (not per retry), and /metrics must count it.
E2E_NAME=corruptfetch
source "$(dirname "$0")/serve_helpers.bash"
"$STREAMCTL" --data-dir "$work/data" topic create t -p 1 -c index.interval.bytes=100 >/dev/null 2>"$work/create.err" ||
  { echo "FAIL: cannot create topic"; exit 1; }
for i in 1 2 3 4 5 6; do
  printf 'record-%s with padding padding padding padding padding padding padding padding\n' "$i" |
    "$STREAMCTL" --data-dir "$work/data" produce t >/dev/null 2>>"$work/produce.err"
done
seg="$work/data/t-0/00000000000000000000.log"
# Flip a byte of the first batch's records (inside its CRC).
old=$(dd if="$seg" bs=1 skip=70 count=1 status=none | od -An -tu1 | tr -d ' ')
printf "\\x$(printf %02x $((old ^ 0xff)))" | dd of="$seg" bs=1 seek=70 conv=notrunc status=none
start_server --http 127.0.0.1:0
HTTP=$(grep -o 'msg="listening".* http=[0-9.:]*' "$work/server.log" | tail -1 | sed 's/.* http=//')
metrics() { "$PY" -c 'import sys,urllib.request; print(urllib.request.urlopen("http://"+sys.argv[1]+"/metrics", timeout=5).read().decode())' "$HTTP"; }
fetch() {  # fetch OFFSET: a raw Fetch v4 for t-0; prints the partition's error code
  "$PY" - "$B" "$1" <<'PY'
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
t = b"t"
body = struct.pack(">iiiib", -1, 100, 1, 1 << 20, 0)  # replica, max_wait, min_bytes, max_bytes, isolation
body += struct.pack(">ih", 1, len(t)) + t + struct.pack(">iiqi", 1, 0, int(sys.argv[2]), 1 << 20)
frame = struct.pack(">hhih", 1, 4, 9, 3) + b"raw" + body
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(struct.pack(">i", len(frame)) + frame)
def recv(n):
    d = b""
    while len(d) < n:
        c = s.recv(n - len(d))
        if not c: raise SystemExit("closed")
        d += c
    return d
resp = recv(struct.unpack(">i", recv(4))[0])
pos = 4 + 4 + 4  # correlation id, throttle, topic count
pos += 2 + struct.unpack_from(">h", resp, pos)[0] + 4
print(struct.unpack_from(">ih", resp, pos)[1])
PY
}
expect_eq "a Fetch of the corrupt batch gets CORRUPT_MESSAGE" "2" "$(fetch 0 2>"$work/fetch.err")"
for i in 1 2 3 4 5; do fetch 0 >/dev/null 2>>"$work/fetch.err"; done
check "the server logs the file and the position" grep -q "fetch met a corrupt batch.*$seg.*position 0" "$work/server.log"
expect_eq "six failed fetches make one log line" "1" "$(grep -c 'fetch met a corrupt batch' "$work/server.log")"
check "/metrics counts every one of them" bash -c "$(declare -f metrics); HTTP=$HTTP PY=$PY metrics | tee \"$work/metrics.err\" | grep -qx 'streamctl_fetch_corrupt_batches_total 6'"
expect_eq "a Fetch past the corrupt batch still works" "0" "$(fetch 1 2>>"$work/fetch.err")"
finish
