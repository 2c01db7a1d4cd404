#!/usr/bin/env bash
# End-to-end: several `streamctl produce` processes at once on one topic: every record lands exactly once,
# offsets are dense and unique per partition, and each key's records keep their order.
source "$(dirname "$0")/cli_helpers.bash"

sc topic create shared -p 3 -q
writers=6
per=4000
pids=()
for w in $(seq 1 $writers); do
  seq -f "w$w:%g" 1 $per | sc produce shared -K : 2>/dev/null &
  pids+=($!)
done
for w in $(seq 1 $writers); do seq -f "n$w-%g" 1 $per | sc produce shared 2>/dev/null & pids+=($!); done
ok=0
for p in "${pids[@]}"; do wait "$p" || ok=1; done
check "every producer exits 0" test "$ok" -eq 0

total=$((2 * writers * per))
sc consume shared --format '%p %o %k %s\n' >"$work/all"
expect_eq "all $total records are there" "$total" "$(wc -l <"$work/all" | tr -d ' ')"
expect_eq "no record twice" "" "$(awk '{print $3, $4}' "$work/all" | sort | uniq -d | head -3)"
expect_eq "no offset reused" "" "$(awk '{print $1, $2}' "$work/all" | sort | uniq -d | head -3)"
for p in 0 1 2; do
  n=$(awk -v p=$p '$1==p' "$work/all" | wc -l | tr -d ' ')
  end=$(sc topic describe shared --json | jq ".partition_info[$p].log_end_offset")
  expect_eq "partition $p offsets are dense (0..$((end - 1)))" "$end" "$n"
done
for w in $(seq 1 $writers); do
  ordered=$(awk -v k="w$w" '$3==k {print $4}' "$work/all" | sort -c -n 2>&1 && echo sorted)
  expect_eq "key w$w: records in order" "sorted" "$ordered"
done
finish
