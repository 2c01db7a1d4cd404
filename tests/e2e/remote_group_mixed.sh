#!/usr/bin/env bash
# End-to-end: one consumer group with a `streamctl consume --group` member and a `kcat -G` member, both
# talking to a `streamctl serve` (--brokers): the broker's coordinator splits the partitions between them,
# a rebalance hands partitions over at the committed offsets, and no record is lost or delivered twice.
# Also: cluster info/health against that server, and remote exit codes. Env: STREAMCTL = the binary.
source "$(dirname "$0")/cli_helpers.bash"
command -v kcat >/dev/null || { echo "FAIL: kcat is not installed (scripts/install-deps.sh)"; exit 1; }

start_server "$work/served"
export STREAMCTL_BROKERS=$serve_addr
lines() { wc -l <"$1" | tr -d ' '; }
has_lines() { test "$(( $(lines "$1") + $(lines "$2") ))" -ge "$3"; }

# ---- cluster info / health
expect_exit "cluster health exits 0 on a healthy server" 0 sc cluster health
expect_exit "cluster info --json" 0 sc cluster info --json
json_check "cluster info names the broker and controller" \
  ".brokers | length == 1 and .[0].port == $(cut -d: -f2 <<<"$serve_addr")" "$work/out"
json_check "cluster info has a controller" '.controller >= 0' "$work/out"
expect_exit "cluster health --wait against a closed port fails" 1 \
  env STREAMCTL_BROKERS=127.0.0.1:1 "$STREAMCTL" cluster health --wait --timeout 2s
stderr_has "the failure says it waited" "not healthy after 2s"
# Nothing listening: the command gives up after a few seconds of refused connections (like kcat), not after
# the whole 15 s request timeout, and says what to check.
t0=$SECONDS
expect_exit "topic list against a closed port fails" 1 env STREAMCTL_BROKERS=127.0.0.1:1 "$STREAMCTL" topic list
check "a refused connection is reported within 8 s" test $((SECONDS - t0)) -le 8
stderr_has "the error says nothing answers there" "is a broker listening there?"
expect_exit "remote consume of an unknown topic exits 3" 3 sc consume nope
stderr_has "says which cluster lacks it" "does not exist on $serve_addr"

# ---- the group
sc topic create mixed -p 4 -q
seq -f 'a%g' 1 2000 | sc produce mixed 2>/dev/null  # null keys: sticky partitions
seq 1 2000 | sed 's/.*/k&:b&/' | sc produce mixed -K : 2>/dev/null  # keyed: spread over the 4 partitions
"$STREAMCTL" consume mixed --group mix -f --format '%p %s\n' >"$work/streamctl.out" 2>"$work/streamctl.err" &
sc_member=$!
bg_pids+=("$sc_member")
check "the streamctl member alone reads the backlog" wait_for 30 has_lines "$work/streamctl.out" /dev/null 4000
kcat -b "$serve_addr" -G mix -q -f '%p %s\n' -X auto.offset.reset=earliest mixed >"$work/kcat.out" 2>"$work/kcat.err" &
kcat_member=$!
bg_pids+=("$kcat_member")
check "the group shows two members" wait_for 30 bash -c \
  "'$STREAMCTL' group describe mix --json | jq -e '(.members | length) == 2 and .state == \"Stable\"' >/dev/null"
sleep 1
seq 1 2000 | sed 's/.*/n&:c&/' | sc produce mixed -K : 2>/dev/null
# kcat block-buffers its output file until it exits, so wait for the group's commits to cover everything.
check "the two members consume and commit everything (lag 0)" wait_for 40 bash -c \
  "'$STREAMCTL' group describe mix --json | jq -e '.total_lag == 0' >/dev/null"
sleep 1
kill -TERM "$sc_member" "$kcat_member" 2>/dev/null
wait "$sc_member" "$kcat_member" 2>/dev/null
cat "$work/streamctl.out" "$work/kcat.out" | cut -d' ' -f2 >"$work/all"
expect_eq "nothing lost or repeated" "6000 6000" "$(wc -l <"$work/all" | tr -d ' ') $(sort -u "$work/all" | wc -l | tr -d ' ')"
check "kcat got records after the rebalance" test "$(lines "$work/kcat.out")" -gt 0
check "streamctl got records after the rebalance" test "$(grep -c '^[0-9] c' "$work/streamctl.out")" -gt 0
kp=$(cut -d' ' -f1 "$work/kcat.out" | sort -u | tr '\n' ' ')
sp=$(grep '^[0-9] c' "$work/streamctl.out" | cut -d' ' -f1 | sort -u | tr '\n' ' ')
check "the members read disjoint partitions after the rebalance (kcat: $kp, streamctl: $sp)" \
  bash -c "comm -12 <(tr ' ' '\n' <<<'$kp' | sort) <(tr ' ' '\n' <<<'$sp' | sort) | grep -q . && exit 1 || exit 0"
finish
