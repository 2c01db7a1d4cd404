#!/usr/bin/env bash
# End-to-end: `streamctl serve` with SSL and SASL_SSL listeners, certificates made here with openssl (a CA, a
# server certificate for 127.0.0.1/localhost, a client certificate). kcat over SSL and SASL_SSL (SCRAM-SHA-256,
# -512, PLAIN) produces and consumes (Fetch file bytes go through TLS instead of sendfile), kafka-python over
# SASL_SSL, an untrusted server certificate is refused by the client, plaintext and garbage to a TLS port and
# a silent client end in a closed connection counted in /metrics, other connections unaffected, mTLS
# (--tls-ca) requires a client certificate, SIGHUP reloads the certificate files.
# Env: STREAMCTL = the built binary. Prints PASS/FAIL per check; exits non-zero on any failure.
set -uo pipefail
E2E_NAME=serve-tls
source "$(dirname "$0")/serve_helpers.bash"
for tool in kcat openssl "$PY"; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/install-deps.sh)"; exit 1; }
done
S() { "$STREAMCTL" --data-dir "$work/data" "$@"; }

# ---- certificates
pki=$work/pki
mkdir -p "$pki"
(
  cd "$pki" || exit 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=streamctl-test-ca"
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext
  openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=alice/OU=eng"
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2
  openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj "/CN=other-ca"
) >"$work/openssl.log" 2>&1 || { echo "FAIL: openssl could not make the test certificates"; cat "$work/openssl.log"; exit 1; }

echo 'tls-pass' | S user create alice 2>/dev/null
listen=SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0
start_server --http 127.0.0.1:0 --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-handshake-timeout-ms 1000
SSLB=127.0.0.1:$(cat "$work/port")
SASLB=127.0.0.1:$(grep -o 'msg="listening".*' "$work/server.log" | tail -1 | grep -o 'SASL_SSL://127.0.0.1:[0-9]*' | sed 's/.*://')
HTTP=$(grep -o 'msg="listening".* http=[0-9.:]*' "$work/server.log" | tail -1 | sed 's/.* http=//')
metrics() { "$PY" -c 'import sys,urllib.request; print(urllib.request.urlopen("http://"+sys.argv[1]+"/metrics", timeout=5).read().decode())' "$HTTP"; }
kssl() { timeout 60 kcat -b "$SSLB" -X security.protocol=SSL -X ssl.ca.location="$pki/ca.pem" "$@"; }
ksasl() {  # ksasl MECHANISM PASSWORD kcat-args...
  local mech=$1 pass=$2; shift 2
  timeout 60 kcat -b "$SASLB" -X security.protocol=SASL_SSL -X ssl.ca.location="$pki/ca.pem" \
    -X sasl.mechanisms="$mech" -X sasl.username=alice -X sasl.password="$pass" "$@"
}

# ---- SSL: produce enough that Fetch sends segment-file bytes (through TLS here), consume all back
seq 1 20000 | sed 's/^/record-/' >"$work/in"
kssl -P -t big -l "$work/in" 2>>"$work/kcat.err"
check "kcat produces 20000 records over SSL" test $? -eq 0
kssl -C -t big -o beginning -e -q >"$work/out" 2>>"$work/kcat.err"
check "kcat consumes them back over SSL, in order" cmp -s "$work/in" "$work/out"
kssl -L >"$work/L" 2>&1
check "Metadata over SSL advertises the SSL listener" grep -q "broker 0 at $SSLB" "$work/L"

# ---- SASL_SSL with each mechanism
for mech in SCRAM-SHA-256 SCRAM-SHA-512 PLAIN; do
  echo "via-$mech" | ksasl "$mech" tls-pass -P -t sasl 2>>"$work/kcat.err"
  check "kcat produces over SASL_SSL with $mech" test $? -eq 0
done
ksasl SCRAM-SHA-256 tls-pass -C -t sasl -o beginning -e -q >"$work/sasl.out" 2>>"$work/kcat.err"
expect_eq "kcat consumes over SASL_SSL" $'via-SCRAM-SHA-256\nvia-SCRAM-SHA-512\nvia-PLAIN' "$(cat "$work/sasl.out")"
echo nope | ksasl SCRAM-SHA-512 wrong -P -t sasl >"$work/wrong.out" 2>&1
check "a wrong password over SASL_SSL is an authentication error" grep -qi "authentication" "$work/wrong.out"

# ---- kafka-python over SASL_SSL
"$PY" "$(dirname "$0")/kafka_python_sasl.py" "$SASLB" SASL_SSL SCRAM-SHA-256 alice tls-pass "$pki/ca.pem" >"$work/kpy.out" 2>&1
check "kafka-python produces and consumes over SASL_SSL (SCRAM-SHA-256)" grep -q "consumed \['m0', 'm1', 'm2', 'm3', 'm4'\]" "$work/kpy.out"

# ---- a client that does not trust the server's certificate refuses it
timeout 20 kcat -b "$SSLB" -X security.protocol=SSL -X ssl.ca.location="$pki/other.pem" -L >"$work/untrusted.out" 2>&1
check "a client with another CA refuses the server certificate" grep -qi "certificate verify failed\|SSL handshake failed" "$work/untrusted.out"

# ---- plaintext, garbage and silence on a TLS port
"$PY" - "${SSLB#*:}" >"$work/bad.out" 2>&1 <<'PYEOF'
import socket, struct, sys, time
port = int(sys.argv[1])
# plaintext Kafka ApiVersions, then garbage, to the TLS port ("closed" includes a TLS alert record, 0x15)
for name, payload in (("plaintext", struct.pack(">ihhih", 10, 18, 0, 1, 0)),
                      ("garbage", b"\x00" * 64 + b"GET / HTTP/1.0\r\n\r\n")):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(payload)
    try:
        data = s.recv(100)
        print(name, "closed" if not data or data[:1] == b"\x15" else "answered")
    except ConnectionResetError:
        print(name, "closed")
# silent: the server closes it after --tls-handshake-timeout-ms (1000)
q = socket.create_connection(("127.0.0.1", port), timeout=10)
t0 = time.time()
try:
    data = q.recv(100)
except ConnectionResetError:
    data = b""
print("silent", "closed" if data == b"" else "answered", "fast" if time.time() - t0 < 8 else "slow")
PYEOF
check "plaintext to a TLS port is closed" grep -q "^plaintext closed" "$work/bad.out"
check "garbage to a TLS port is closed" grep -q "^garbage closed" "$work/bad.out"
check "a client that never handshakes is closed after the deadline" grep -q "^silent closed fast" "$work/bad.out"
metrics >"$work/metrics"
check "/metrics counts the failed handshakes" awk '$1 == "streamctl_tls_handshake_failures_total" && $2 >= 3 { ok = 1 } END { exit !ok }' "$work/metrics"
check "failed handshakes are logged with the peer" grep -q 'msg="TLS handshake failed" peer=127.0.0.1:' "$work/server.log"
kssl -C -t big -o -1 -e -q >"$work/after" 2>>"$work/kcat.err"
check "other connections are unaffected" grep -qx "record-20000" "$work/after"

# ---- SIGHUP reloads the certificate files
kill -HUP "$server_pid"
check "SIGHUP reloads the TLS files" wait_for 10 grep -q 'msg="TLS certificates reloaded"' "$work/server.log"
kssl -L >/dev/null 2>&1
check "TLS still works after the reload" test $? -eq 0
kill -TERM "$server_pid"; wait "$server_pid"; rc=$?; server_pid=""
check "SIGTERM stops the server cleanly" test $rc -eq 0

# ---- mTLS: --tls-ca requires a client certificate signed by it
listen=SSL://127.0.0.1:0
start_server --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-ca "$pki/ca.pem"
SSLB=127.0.0.1:$(cat "$work/port")
timeout 20 kcat -b "$SSLB" -X security.protocol=SSL -X ssl.ca.location="$pki/ca.pem" -L >"$work/nocert.out" 2>&1
check "mTLS: a client without a certificate is refused" bash -c "! grep -q 'broker 0 at' '$work/nocert.out'"
echo mtls | kssl -X ssl.certificate.location="$pki/client.pem" -X ssl.key.location="$pki/client.key" -P -t m 2>>"$work/kcat.err"
check "mTLS: a client with a certificate from the CA produces" test $? -eq 0
kssl -X ssl.certificate.location="$pki/client.pem" -X ssl.key.location="$pki/client.key" -C -t m -o beginning -e -q \
  >"$work/m.out" 2>>"$work/kcat.err"
expect_eq "mTLS: and consumes" "mtls" "$(cat "$work/m.out")"
kill -TERM "$server_pid"; wait "$server_pid"; server_pid=""

# ---- a TLS listener needs the files
S serve --listen SSL://127.0.0.1:0 >/dev/null 2>"$work/nofiles.err"
check "a TLS listener without --tls-cert/--tls-key is a usage error naming them" grep -q -- "--tls-cert" "$work/nofiles.err"
finish
