#!/usr/bin/env bash
# TLS cost in `streamctl serve`: kcat produce and consume msgs/s over an SSL listener and over SASL_SSL
# (SCRAM-SHA-256) as ratios of a PLAINTEXT listener of the same server, measured in the same run, runs
# interleaved; plus the time of a SASL_SSL metadata round trip (TLS handshake + SCRAM + Metadata) beside a
# PLAINTEXT one. Target (issue 13): TLS produce and consume >= 0.7 of PLAINTEXT.
#
# Usage: bench/serve_tls_bench.sh [path/to/streamctl]   (default: $STREAMCTL, else build/streamctl)
# Env:   MESSAGES (default 300000, 200 bytes each), RUNS (default 3). Output: a Markdown table of medians.
set -euo pipefail
cd "$(dirname "$0")/.."
S=$(realpath "${1:-${STREAMCTL:-build/streamctl}}")
MESSAGES=${MESSAGES:-300000}
RUNS=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/streamctl-tls-bench-XXXXXX")
pid=""
trap '[[ -n $pid ]] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; rm -rf "$work"' EXIT
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=bench-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
  -extfile san.ext 2>/dev/null
echo bench-pass | "$S" --data-dir data user create bench 2>/dev/null
"$S" --data-dir data serve --listen PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0 \
  --tls-cert server.pem --tls-key server.key --port-file port 2>server.log &
pid=$!
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.1; done
line=$(grep 'msg="listening"' server.log)
plain=127.0.0.1:$(cat port)
ssl=127.0.0.1:$(grep -o ',SSL://127.0.0.1:[0-9]*' <<<"$line" | sed 's/.*://')
sasl=127.0.0.1:$(grep -o 'SASL_SSL://127.0.0.1:[0-9]*' <<<"$line" | sed 's/.*://')
python3 -c "import sys; sys.stdout.write(('x' * 200 + '\n') * $MESSAGES)" >msgs.txt

args_for() {
  case $1 in
    PLAINTEXT) echo "-b $plain" ;;
    SSL) echo "-b $ssl -X security.protocol=SSL -X ssl.ca.location=ca.pem" ;;
    SASL_SSL)
      echo "-b $sasl -X security.protocol=SASL_SSL -X ssl.ca.location=ca.pem -X sasl.mechanisms=SCRAM-SHA-256" \
        "-X sasl.username=bench -X sasl.password=bench-pass" ;;
  esac
}
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A prod cons meta
for run in $(seq "$RUNS"); do
  for proto in PLAINTEXT SSL SASL_SSL; do
    read -ra a <<<"$(args_for $proto)"
    t0=$(now); kcat "${a[@]}" -P -t "b-$proto-$run" -l msgs.txt; t1=$(now)
    n=$(kcat "${a[@]}" -C -t "b-$proto-$run" -o beginning -e -q | wc -l); t2=$(now)
    [[ $n -eq $MESSAGES ]] || { echo "consumed $n of $MESSAGES over $proto" >&2; exit 1; }
    kcat "${a[@]}" -L >/dev/null; t3=$(now)
    prod[$proto]+="$(echo "$MESSAGES / ($t1 - $t0)" | bc -l) "
    cons[$proto]+="$(echo "$MESSAGES / ($t2 - $t1)" | bc -l) "
    meta[$proto]+="$(echo "($t3 - $t2) * 1000" | bc -l) "
  done
done
pp=$(tr ' ' '\n' <<<"${prod[PLAINTEXT]}" | median); pc=$(tr ' ' '\n' <<<"${cons[PLAINTEXT]}" | median)
echo "| listener | produce msgs/s | ratio | consume msgs/s | ratio | kcat -L ms (connect+auth+metadata) |"
echo "|---|---|---|---|---|---|"
for proto in PLAINTEXT SSL SASL_SSL; do
  p=$(tr ' ' '\n' <<<"${prod[$proto]}" | median); c=$(tr ' ' '\n' <<<"${cons[$proto]}" | median)
  m=$(tr ' ' '\n' <<<"${meta[$proto]}" | median)
  printf '| %s | %.0f | %.2f | %.0f | %.2f | %.0f |\n' "$proto" "$p" "$(echo "$p / $pp" | bc -l)" "$c" \
    "$(echo "$c / $pc" | bc -l)" "$m"
done
