#!/usr/bin/env bash
# End-to-end: `streamctl serve` with a SASL_PLAINTEXT listener (first, so --port-file names it) and a PLAINTEXT
# one. Users made with `streamctl user create` (password on stdin). kcat (librdkafka) produces and consumes
# with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN; kafka-python (and confluent-kafka when installed) with SCRAM;
# a wrong password fails with an authentication error and stores nothing; a request before authentication
# closes only that connection; a user created while the server runs can log in; /metrics counts the
# failures. Env: STREAMCTL = the built binary. Prints PASS/FAIL per check; exits non-zero on any failure.
set -uo pipefail
E2E_NAME=serve-sasl
source "$(dirname "$0")/serve_helpers.bash"
for tool in kcat "$PY"; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/install-deps.sh)"; exit 1; }
done
S() { "$STREAMCTL" --data-dir "$work/data" "$@"; }

# ---- users: password from stdin, never argv; salted credentials only, private file
echo 's3cret-alice' | S user create alice 2>"$work/create.err"
check "user create reads the password from stdin" test $? -eq 0
check "users.json is 0600" test "$(stat -c %a "$work/data/__meta/users.json")" = 600
check "users.json holds no password" bash -c "! grep -q s3cret '$work/data/__meta/users.json'"
S user list >"$work/users"
check "user list shows both SCRAM mechanisms at 4096 iterations" \
  grep -q 'alice.*SCRAM-SHA-256(4096),SCRAM-SHA-512(4096)' "$work/users"
check "user create refuses fewer than 4096 iterations" bash -c "echo x | '$STREAMCTL' --data-dir '$work/data' user create bob --iterations 100 2>/dev/null; test \$? -eq 2"
check "user create refuses an empty password" bash -c "printf '\n' | '$STREAMCTL' --data-dir '$work/data' user create bob 2>/dev/null; test \$? -ne 0"
check "user delete of an unknown user exits 3" bash -c "'$STREAMCTL' --data-dir '$work/data' user delete nobody 2>/dev/null; test \$? -eq 3"

# ---- the server: SASL_PLAINTEXT first (its port goes to --port-file), PLAINTEXT second
listen=SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0
start_server --http 127.0.0.1:0
SP=$(cat "$work/port")
B=127.0.0.1:$SP
PLAIN_B=$(grep -o 'msg="listening".*' "$work/server.log" | tail -1 | grep -o ',PLAINTEXT://127.0.0.1:[0-9]*' | sed 's|,PLAINTEXT://||')
HTTP=$(grep -o 'msg="listening".* http=[0-9.:]*' "$work/server.log" | tail -1 | sed 's/.* http=//')
check "the PLAINTEXT listener is up too" test -n "$PLAIN_B"
metrics() { "$PY" -c 'import sys,urllib.request; print(urllib.request.urlopen("http://"+sys.argv[1]+"/metrics", timeout=5).read().decode())' "$HTTP"; }
ks() {  # ks MECHANISM USER PASSWORD kcat-args...
  local mech=$1 user=$2 pass=$3; shift 3
  timeout 30 kcat -b "$B" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms="$mech" \
    -X sasl.username="$user" -X sasl.password="$pass" "$@"
}

# ---- kcat with each mechanism
for mech in SCRAM-SHA-256 SCRAM-SHA-512 PLAIN; do
  echo "via-$mech" | ks $mech alice s3cret-alice -P -t sasl 2>>"$work/kcat.err"
  check "kcat produces with $mech" test $? -eq 0
done
ks SCRAM-SHA-512 alice s3cret-alice -C -t sasl -o beginning -e -q >"$work/consumed" 2>>"$work/kcat.err"
expect_eq "kcat consumes what was produced" $'via-SCRAM-SHA-256\nvia-SCRAM-SHA-512\nvia-PLAIN' "$(cat "$work/consumed")"

# ---- wrong password: an authentication error, nothing stored
echo "must-not-land" | ks SCRAM-SHA-256 alice wrong -P -t sasl >"$work/wrong.out" 2>&1
check "a wrong SCRAM password fails with an authentication error" grep -qi "authentication" "$work/wrong.out"
echo "must-not-land" | ks PLAIN alice wrong -P -t sasl >"$work/wrong2.out" 2>&1
check "a wrong PLAIN password fails with an authentication error" grep -qi "authentication" "$work/wrong2.out"
echo "must-not-land" | ks SCRAM-SHA-256 mallory whatever -P -t sasl >"$work/wrong3.out" 2>&1
check "an unknown user fails the same way" grep -qi "Invalid user credentials\|authentication" "$work/wrong3.out"
ks SCRAM-SHA-512 alice s3cret-alice -C -t sasl -o beginning -e -q >"$work/consumed2" 2>>"$work/kcat.err"
expect_eq "nothing was stored by the failed attempts" 3 "$(wc -l <"$work/consumed2")"
check "the failure is logged with the peer address" grep -q 'msg="SASL authentication failed" peer=127.0.0.1:' "$work/server.log"
metrics >"$work/metrics"
check "/metrics counts SCRAM-SHA-256 failures" grep -q 'streamctl_sasl_authentication_failures_total{mechanism="SCRAM-SHA-256"} [1-9]' "$work/metrics"
check "/metrics counts successful authentications" grep -q 'streamctl_sasl_authentications_total [1-9]' "$work/metrics"

# ---- a request before authentication closes only that connection
"$PY" - "$SP" >"$work/preauth.out" 2>&1 <<'PYEOF'
import socket, struct, sys
port = int(sys.argv[1])
def req(api, ver, corr, body=b""):
    cid = b"t"
    h = struct.pack(">hhih", api, ver, corr, len(cid)) + cid
    return struct.pack(">i", len(h) + len(body)) + h + body
other = socket.create_connection(("127.0.0.1", port), timeout=5)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(req(3, 1, 7, struct.pack(">i", -1)))  # Metadata v1, all topics, before SaslHandshake
data = s.recv(100)
print("closed" if data == b"" else "answered")
other.sendall(req(18, 0, 1))  # ApiVersions v0 on the other connection still works
size = struct.unpack(">i", other.recv(4))[0]
print("other-ok" if size > 0 else "other-broken")
PYEOF
check "Metadata before authentication closes the connection" grep -q '^closed$' "$work/preauth.out"
check "another connection is unaffected" grep -q '^other-ok$' "$work/preauth.out"
check "the close is logged" grep -q 'Metadata request before SASL authentication' "$work/server.log"
metrics >"$work/metrics"
check "/metrics counts the connection closed before authentication" grep -q 'streamctl_connections_closed_unauthenticated_total [1-9]' "$work/metrics"

# ---- kafka-python with SCRAM
"$PY" "$(dirname "$0")/kafka_python_sasl.py" "$B" SASL_PLAINTEXT SCRAM-SHA-512 alice s3cret-alice >"$work/kpy.out" 2>&1
check "kafka-python produces and consumes with SCRAM-SHA-512" grep -q "consumed \['m0', 'm1', 'm2', 'm3', 'm4'\]" "$work/kpy.out"
check "kafka-python with a wrong password is refused" grep -q "wrong-password-refused" "$work/kpy.out"

# ---- confluent-kafka (Debian's python3-confluent-kafka), when installed
if "$PY" -c 'import confluent_kafka' 2>/dev/null; then
  "$PY" - "$B" >"$work/ck.out" 2>&1 <<'PYEOF'
import sys
from confluent_kafka import Producer, Consumer
b = sys.argv[1]
conf = {"bootstrap.servers": b, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "SCRAM-SHA-256",
        "sasl.username": "alice", "sasl.password": "s3cret-alice"}
p = Producer(conf)
for i in range(3):
    p.produce("ck", f"c{i}".encode())
print("unflushed", p.flush(20))
c = Consumer(dict(conf, **{"group.id": "ckg", "auto.offset.reset": "earliest"}))
c.subscribe(["ck"])
got = []
for _ in range(60):
    m = c.poll(0.5)
    if m is not None and m.error() is None:
        got.append(m.value().decode())
    if len(got) == 3:
        break
c.close()
print("consumed", sorted(got))
PYEOF
  check "confluent-kafka produces and consumes in a group with SCRAM-SHA-256" grep -q "consumed \['c0', 'c1', 'c2'\]" "$work/ck.out"
else
  echo "NOTE: python3-confluent-kafka is not installed; its checks are skipped"
fi

# ---- a user created while the server runs can log in at once
echo 'bobs-password' | S user create bob --mechanism SCRAM-SHA-256 2>/dev/null
echo from-bob | ks SCRAM-SHA-256 bob bobs-password -P -t sasl 2>>"$work/kcat.err"
check "a user created while serving can produce" test $? -eq 0
S user delete bob 2>/dev/null
echo "after-delete" | ks SCRAM-SHA-256 bob bobs-password -P -t sasl >"$work/deleted.out" 2>&1
check "a deleted user is refused" grep -qi "authentication" "$work/deleted.out"

# ---- PLAINTEXT listener unaffected; embedded commands on the served data dir go through it
S topic list >"$work/topics" 2>"$work/topics.err"
check "streamctl topic list on the served data dir goes through the PLAINTEXT listener" grep -qx "sasl" "$work/topics"
echo plain | timeout 30 kcat -b "$PLAIN_B" -P -t plain 2>>"$work/kcat.err"
check "the PLAINTEXT listener needs no authentication" bash -c "timeout 30 kcat -b '$PLAIN_B' -C -t plain -o beginning -e -q | grep -qx plain"
ks SCRAM-SHA-256 alice s3cret-alice -L >"$work/L" 2>&1
check "Metadata on the SASL listener advertises the SASL port" grep -q "broker 0 at $B" "$work/L"

# ---- safe default: a non-loopback plaintext listener needs --allow-plaintext
S serve --listen SASL_PLAINTEXT://0.0.0.0:0 >/dev/null 2>"$work/refuse.err" &
refuse_pid=$!
wait $refuse_pid; refuse_rc=$?
check "serve refuses a non-loopback SASL_PLAINTEXT listener without --allow-plaintext" test $refuse_rc -eq 2
check "the error names --allow-plaintext" grep -q -- "--allow-plaintext" "$work/refuse.err"

kill -TERM "$server_pid"; wait "$server_pid"; rc=$?; server_pid=""
check "SIGTERM stops the server cleanly" test $rc -eq 0

# ---- --authorizer: alice may only READ topic "sasl"
cat >"$work/data/__meta/acls.json" <<'JSON'
{"version": 1, "acls": [{"resource_type": "TOPIC", "name": "sasl", "pattern_type": "LITERAL",
  "principal": "User:alice", "host": "*", "operation": "READ", "permission": "ALLOW"}]}
JSON
listen=SASL_PLAINTEXT://127.0.0.1:0
start_server --authorizer
B=127.0.0.1:$(cat "$work/port")
ks SCRAM-SHA-256 alice s3cret-alice -C -t sasl -o beginning -e -q >"$work/acl-read" 2>>"$work/kcat.err"
check "with READ on topic sasl alice consumes it" grep -qx "via-PLAIN" "$work/acl-read"
echo denied | ks SCRAM-SHA-256 alice s3cret-alice -P -t sasl >"$work/acl-write" 2>&1
check "without WRITE alice cannot produce to it (TOPIC_AUTHORIZATION_FAILED)" grep -qi "authoriz" "$work/acl-write"
ks SCRAM-SHA-256 alice s3cret-alice -C -t kpy -o beginning -e -q >"$work/acl-other" 2>&1
check "nor read topic kpy" grep -qi "authoriz" "$work/acl-other"
ks SCRAM-SHA-256 alice s3cret-alice -C -t sasl -o beginning -e -q >"$work/acl-read2" 2>>"$work/kcat.err"
expect_eq "the refused write stored nothing" "$(wc -l <"$work/acl-read")" "$(wc -l <"$work/acl-read2")"
finish
