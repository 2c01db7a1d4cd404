#!/usr/bin/env bash
# End-to-end: produce/consume round trips: stdin and files, keys, headers, partitions, Kafka-compatible key
# partitioning, every compression codec, tombstones, empty lines, format tokens, -n, -p.
source "$(dirname "$0")/cli_helpers.bash"

# ---- stdin, auto-create
expect_exit "produce from stdin auto-creates" 0 sc produce t1 < <(printf 'one\ntwo\nthree\n')
stderr_has "auto-create is announced on stderr" "created topic 't1'"
expect_eq "produce prints nothing on stdout" "" "$(cat "$work/out")"
expect_eq "consume prints the values" "$(printf 'one\ntwo\nthree')" "$(sc consume t1)"
expect_exit "second produce appends" 0 sc produce t1 < <(printf 'four')
expect_eq "last line without newline is a record" "four" "$(sc consume t1 -o 3)"

# ---- files, '-' and order
printf 'f1-a\nf1-b\n' >"$work/f1"
printf 'f2-a\n' >"$work/f2"
echo "stdin-a" | sc produce files "$work/f1" - "$work/f2" 2>/dev/null
expect_eq "files and stdin in argument order" "$(printf 'f1-a\nf1-b\nstdin-a\nf2-a')" "$(sc consume files)"

# ---- empty lines, CRs, long lines
printf 'a\n\nb\r\n' | sc produce blanks 2>/dev/null
expect_eq "empty line is an empty record; CR kept" "$(printf '0:1\n1:0\n2:2')" "$(sc consume blanks --format '%o:%S\n')"
printf 'a\n\nb\n' | sc produce skips --skip-empty 2>/dev/null
expect_eq "--skip-empty drops empty lines" "$(printf 'a\nb')" "$(sc consume skips)"
head -c 300000 /dev/zero | tr '\0' 'x' >"$work/long"; echo >>"$work/long"
sc produce long "$work/long" 2>/dev/null
expect_eq "a 300 KB line round-trips" "300000" "$(sc consume long --format '%S')"

# ---- keys
printf 'k1:v1\nk2:v:with:colons\nnokey\n' | sc produce keyed -K : 2>/dev/null
expect_eq "key separator splits at the first SEP" "$(printf 'k1=v1\nk2=v:with:colons\n=nokey')" "$(sc consume keyed --format '%k=%s\n')"
expect_eq "no separator means a null key (size -1)" "-1" "$(sc consume keyed -o 2 --format '%K')"
printf 'a\tb\n' | sc produce tabkey -K '\t' 2>/dev/null
expect_eq "escaped tab separator" "a|b" "$(sc consume tabkey --format '%k|%s')"
printf 'x\ny\n' | sc produce fixedkey --key user-7 2>/dev/null
expect_eq "--key sets every key" "$(printf 'user-7 x\nuser-7 y')" "$(sc consume fixedkey --format '%k %s\n')"

# ---- headers
echo v | sc produce hdr -H trace=abc -H 'env=prod=eu' 2>/dev/null
expect_eq "headers in order, value may contain =" "trace=abc,env=prod=eu" "$(sc consume hdr --format '%h')"
expect_exit "header without =" 2 sc produce hdr -H novalue </dev/null

# ---- partitions and Kafka's key hashing (murmur2 vectors from Kafka's UtilsTest)
sc topic create parts -p 4 -q
printf '21:a\nlkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8:b\nfoobar:c\nabc:d\n' | sc produce parts -K : 2>/dev/null
expect_eq "keys land where Kafka's default partitioner puts them" "$(printf '21 0\nabc 3\nfoobar 2\nlkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8 1')" "$(sc consume parts --format '%k %p\n' | sort)"
seq 1 10 | sc produce parts -p 3 2>/dev/null
expect_eq "--partition pins records" "11" "$(sc consume parts -p 3 | wc -l | tr -d ' ')"
expect_eq "consume -p selects a partition" "c" "$(sc consume parts -p 2)"
expect_exit "produce to a partition that does not exist" 3 sc produce parts -p 9 </dev/null
stderr_has "bad partition: says how many there are" "has 4 partitions"
expect_exit "consume a partition that does not exist" 3 sc consume parts -p 7
seq 1 3000 | sc produce sticky --partitions 3 2>/dev/null
expect_eq "auto-create with --partitions" "3" "$(sc topic describe sticky --json | jq .partitions)"
expect_eq "null keys: every record once across partitions" "3000" "$(sc consume sticky | sort -n | uniq | wc -l | tr -d ' ')"

# ---- compression
for codec in none gzip snappy lz4 zstd; do
  seq 1 2000 | sed 's/$/ some repetitive payload text/' | sc produce "c-$codec" -z "$codec" 2>/dev/null
  expect_eq "$codec round trip" "$(seq 1 2000 | sed 's/$/ some repetitive payload text/' | md5sum)" "$(sc consume "c-$codec" | md5sum)"
done
expect_exit "unknown codec" 2 sc produce c-bad -z brotli </dev/null
check "zstd data is smaller on disk than none" test "$(sc topic describe c-zstd --json | jq .size_bytes)" -lt "$(sc topic describe c-none --json | jq .size_bytes)"

# ---- tombstones
printf 'k1:v\nk1:\n:\n' | sc produce tomb -K : -Z 2>/dev/null
expect_eq "--null-empty makes null values (size -1), keys kept" "$(printf 'k1|1\nk1|-1\n|0|-1')" "$(sc consume tomb --format '%k|%K|%S\n' | sed 's/^k1|2|/k1|/')"
expect_eq "null text" "k1=NULL" "$(sc consume tomb -o 1 -n 1 --format '%k=%s' --null-text NULL)"

# ---- format tokens
echo "hello" | sc produce fmt --key kk --timestamp 2024-05-01T12:00:00.123Z -H h=1 2>/dev/null
expect_eq "all kcat tokens" "fmt|0|0|kk|hello|2|5|1714564800123|2024-05-01T12:00:00.123Z|h=1|%" "$(sc consume fmt --format '%t|%p|%o|%k|%s|%K|%S|%T|%d|%h|%%')"
expect_exit "bad format token" 2 sc consume fmt --format '%q'
stderr_has "bad token is named" "'%q'"

# ---- count and ranges
seq 1 100 | sc produce hundred 2>/dev/null
expect_eq "-n 5" "$(seq 1 5)" "$(sc consume hundred -n 5)"
expect_eq "-o 10 -n 2" "$(printf '11\n12')" "$(sc consume hundred -o 10 -n 2)"
expect_exit "-n 0 is a usage error" 2 sc consume hundred -n 0

# ---- filters
expect_eq "--grep" "$(seq 1 100 | grep -E '^9')" "$(sc consume hundred --grep '^9')"
expect_eq "--grep --invert-match" "89" "$(sc consume hundred --grep '^9' --invert-match | wc -l | tr -d ' ')"
printf 'user-1:a\nuser-12:b\nUSER-1:c\n' | sc produce km -K : 2>/dev/null
expect_eq "--key-match matches the whole key" "a" "$(sc consume km --key-match user-1)"
expect_eq "--key-match -i" "$(printf 'a\nc')" "$(sc consume km --key-match user-1 -i)"
expect_exit "bad regex" 2 sc consume km --grep '('
expect_exit "no match is exit 5" 5 sc consume km --grep zzz

# ---- rate limit
start=$(date +%s%N)
seq 1 10 | sc produce rated --rate 20/s 2>/dev/null
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "--rate 20/s takes about half a second for 10 records ($elapsed_ms ms)" test "$elapsed_ms" -ge 400
expect_eq "--rate keeps every record" "10" "$(sc consume rated | wc -l | tr -d ' ')"
expect_exit "bad rate" 2 sc produce rated --rate fast </dev/null

# ---- a pipe that stays open: records are visible before the producer exits
mkfifo "$work/fifo"
"$STREAMCTL" produce live <"$work/fifo" 2>/dev/null &
producer=$!
bg_pids+=("$producer")
exec 7>"$work/fifo"
echo first >&7
check "a slow pipe's records are appended at once" wait_for 5 bash -c "$(printf '%q ' "$STREAMCTL") consume live 2>/dev/null | grep -qx first"
exec 7>&-
wait "$producer"
check "producer exits 0 when its input closes" test $? -eq 0

# ---- a line that arrives late is stamped when it arrives, not with the previous line's time
# "late" is written only once "early" is visible (so stamped), then 1.2 s later: however slowly the producer
# starts (sanitizer builds, a loaded machine), the two stamps must be at least 1.2 s apart.
mkfifo "$work/slowfifo"
"$STREAMCTL" produce slowpipe <"$work/slowfifo" 2>/dev/null &
slow_producer=$!
bg_pids+=("$slow_producer")
exec 8>"$work/slowfifo"
echo early >&8
wait_for 10 bash -c "$(printf '%q ' "$STREAMCTL") consume slowpipe 2>/dev/null | grep -qx early"
sleep 1.2
echo late >&8
exec 8>&-
wait "$slow_producer"
gap=$(sc consume slowpipe --json | jq -s '.[1].timestamp - .[0].timestamp')
check "a slow pipe's lines carry their own arrival times (gap $gap ms)" test "${gap:-0}" -ge 1200
finish
