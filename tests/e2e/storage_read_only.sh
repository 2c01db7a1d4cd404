#!/usr/bin/env bash
# End-to-end: a read-only data directory (issue 14, item 10: backups, snapshots, read-only mounts). Every read
# command works without write access: consume, topic list/describe, group list/describe, log dump/verify,
# including a directory a server once owned (__meta/serve.lock) and a partition with a torn tail (which a
# reader must leave as it is). Writes fail with an error naming the file, and nothing in the directory changes.
# As root (CI) permission bits do not apply, so the checks run in a private mount namespace on a read-only
# bind mount (unshare -m); otherwise the directory is made read-only with chmod -R a-w.
source "$(dirname "$0")/cli_helpers.bash"
skip_if_served "the data directory is made read-only under the test" && finish

data=$STREAMCTL_DATA_DIR
sc topic create t -p 2 >/dev/null 2>&1 || { echo "FAIL: cannot create topic"; exit 1; }
printf 'k1\tv1\nk2\tv2\nk3\tv3\nk4\tv4\n' | sc produce t --key-separator $'\t' >/dev/null 2>&1 || fail "produce"
sc consume t --group g1 >/dev/null 2>&1 || fail "consume --group g1 commits"
start_server
stop_server
check "the server left its lock file" test -e "$data/__meta/serve.lock"
# A torn tail in partition 0's active segment: bytes after the last fsync that a writer would cut.
seg0="$data/t-0/00000000000000000000.log"
seg1="$data/t-1/00000000000000000000.log"
size0=$(stat -c %s "$seg0")
head -c 30 "$seg1" >>"$seg0"
torn_size=$(stat -c %s "$seg0")
sums_before=$(cd "$data" && find . -type f | sort | xargs sha256sum)

cat >"$work/reads.sh" <<'INNER'
# Runs inside the read-only view; prints one "name rc" line per command, outputs in $work/ro-*.
cd "$work" || exit 1
run() { local name=$1; shift; "$STREAMCTL" "$@" >"ro-$name.out" 2>"ro-$name.err"; echo "$name $?"; }
run consume consume t --format '%k=%s\n'
run consume_p0 consume t -p 0
run topic_list topic list
run topic_describe topic describe t --json
run group_list group list
run group_describe group describe g1 --json
run log_dump log dump t
run log_verify log verify t-1
INNER
cat >"$work/writes.sh" <<'INNER'
cd "$work" || exit 1
echo new | "$STREAMCTL" produce t >ro-produce.out 2>ro-produce.err; echo "produce $?"
INNER

mode=
if [[ $(id -u) -eq 0 ]]; then
  if unshare -m bash -c "mount --bind '$data' '$data' && mount -o remount,ro,bind '$data' && ! touch '$data/x'" \
      2>/dev/null; then
    mode=mount
  fi
else
  mode=chmod
fi
if [[ -z "$mode" ]]; then
  echo "PASS (skipped): running as root without mount namespaces (unshare -m): cannot make $data read-only"
  finish
fi
in_read_only() {
  if [[ $mode == mount ]]; then
    unshare -m bash -c "mount --bind '$data' '$data' && mount -o remount,ro,bind '$data' && source '$1'"
  else
    chmod -R a-w "$data"
    bash "$1"
    chmod -R u+w "$data"
  fi
}
echo "read-only by: $mode"
export work
in_read_only "$work/reads.sh" >"$work/rcs"
in_read_only "$work/writes.sh" >>"$work/rcs"
rc_of() { awk -v n="$1" '$1 == n {print $2}' "$work/rcs"; }
show_err() { sed 's/^/  stderr: /' "$work/ro-$1.err" | head -3; }
for name in consume topic_list topic_describe group_list group_describe log_dump log_verify; do
  if [[ $(rc_of "$name") == 0 ]]; then pass "$name works read-only"; else fail "$name read-only: exit $(rc_of "$name")"; show_err "$name"; fi
done
expect_eq "consume read every record up to the torn tail" "k1=v1 k2=v2 k3=v3 k4=v4" \
  "$(sort "$work/ro-consume.out" | tr '\n' ' ' | sed 's/ $//')"
if [[ $(rc_of consume_p0) == 0 || $(rc_of consume_p0) == 5 ]]; then pass "consume -p 0 (torn tail) works read-only"; else
  fail "consume -p 0 read-only: exit $(rc_of consume_p0)"; show_err consume_p0; fi
json_check "topic describe shows both partitions" '.partition_info | length == 2' "$work/ro-topic_describe.out"
json_check "topic describe counts the 4 records" '[.partition_info[].log_end_offset] | add == 4' "$work/ro-topic_describe.out"
check "group list shows g1" grep -qx g1 "$work/ro-group_list.out"
json_check "group describe shows g1's committed offsets" '[.partitions[].committed_offset] | add == 4' "$work/ro-group_describe.out"
if [[ $(rc_of produce) == 1 ]]; then pass "produce fails (exit 1)"; else fail "produce: exit $(rc_of produce), expected 1"; fi
check "produce names the file it could not open" grep -q "$data/t-[01]/.lock" "$work/ro-produce.err"
expect_eq "the torn tail is still there (a reader cut nothing)" "$torn_size" "$(stat -c %s "$seg0")"
expect_eq "no file in the directory changed" "$sums_before" "$(cd "$data" && find . -type f | sort | xargs sha256sum)"
# With write access again, the next writer cuts the torn tail as usual.
sc consume t -p 0 >/dev/null 2>&1
expect_eq "a writer still cuts the torn tail" "$size0" "$(stat -c %s "$seg0")"
finish
