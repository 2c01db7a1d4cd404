#!/usr/bin/env bash
# End-to-end: `streamctl topic` create/list/describe/alter/add-partitions/delete, text and --json output,
# --if-exists/--if-not-exists, and the documented exit codes for mistakes.
source "$(dirname "$0")/cli_helpers.bash"

# ---- empty data dir
expect_exit "list on a fresh data dir" 0 sc topic list
expect_eq "list prints nothing" "" "$(cat "$work/out")"
expect_eq "list --json on a fresh data dir is []" "[]" "$(sc topic list --json)"

# ---- create
expect_exit "create orders" 0 sc topic create orders --partitions 3 --config retention.ms=3600000
stderr_has "create says so on stderr" "created topic 'orders' with 3 partitions"
expect_eq "create prints nothing on stdout" "" "$(cat "$work/out")"
expect_exit "create json" 0 sc --json topic create events -p 2 -c cleanup.policy=compact -c segment.bytes=1048576
json_check "create --json reports the topic" '.name == "events" and .partitions == 2 and .created == true and .configs["cleanup.policy"] == "compact"' "$work/out"
expect_exit "create an existing topic fails" 1 sc topic create orders
stderr_has "create existing: message" "already exists"
stderr_has "create existing: hint" "--if-not-exists"
expect_exit "create --if-not-exists accepts it" 0 sc topic create orders --if-not-exists
expect_exit "create several" 0 sc topic create a1 a2 -q
expect_eq "-q silences the note" "" "$(cat "$work/err")"

# ---- list
expect_eq "list is sorted names" "$(printf 'a1\na2\nevents\norders')" "$(sc topic list)"
expect_exit "list -l" 0 sc topic list -l
check "list -l has a header and the partition count" grep -Eq '^orders +3 +0 ' "$work/out"
check "list --json" bash -c "$(printf '%q ' "$STREAMCTL") topic list --json | jq -e 'length == 4 and (map(select(.name==\"orders\"))[0].partitions == 3)' >/dev/null"

# ---- describe
seq 1 100 | sc produce orders -p 1 2>/dev/null
expect_exit "describe" 0 sc topic describe orders
check "describe names the topic" grep -q '^Topic: *orders' "$work/out"
check "describe shows partition 1 end offset 100" grep -Eq '^1 +0 +100 +100 ' "$work/out"
check "describe shows partition 0 empty" grep -Eq '^0 +0 +0 +0 ' "$work/out"
check "describe marks the override" grep -Eq '^retention.ms +3600000 +override \(default 604800000\)' "$work/out"
check "describe marks defaults" grep -Eq '^segment.bytes +1073741824 +default' "$work/out"
expect_exit "describe --json" 0 sc topic describe orders --json
json_check "describe --json: offsets, sizes, segments" '.partitions == 3 and .partition_info[1].log_end_offset == 100 and .partition_info[1].size_bytes > 0 and .partition_info[1].segments >= 1 and .partition_info[0].log_end_offset == 0' "$work/out"
json_check "describe --json: configs with defaults flagged" '(.configs[] | select(.name=="retention.ms") | .default == false and .value == "3600000") and (.configs[] | select(.name=="segment.bytes") | .default == true)' "$work/out"
expect_exit "describe a missing topic" 3 sc topic describe nope
stderr_has "describe missing: message" "streamctl: error:"
stderr_has "describe missing: hint" "hint: list topics with: streamctl topic list"

# ---- alter
expect_exit "alter set" 0 sc topic alter orders --config retention.ms=7200000 --config max.message.bytes=2000000
check "alter applied" bash -c "$(printf '%q ' "$STREAMCTL") topic describe orders --json | jq -e '.configs[] | select(.name==\"retention.ms\") | .value == \"7200000\"' >/dev/null"
expect_exit "alter delete-config" 0 sc topic alter orders --delete-config retention.ms
check "deleted override is back to default" bash -c "$(printf '%q ' "$STREAMCTL") topic describe orders --json | jq -e '.configs[] | select(.name==\"retention.ms\") | .default == true' >/dev/null"
expect_exit "alter with a bad value" 2 sc topic alter orders --config retention.ms=abc
stderr_has "bad config value is named" "retention.ms"
expect_exit "alter with an unknown config" 2 sc topic alter orders --config retention.msx=1
stderr_has "unknown config is named" "retention.msx"
expect_exit "alter with nothing to do" 2 sc topic alter orders
expect_exit "alter a missing topic" 3 sc topic alter nope -c retention.ms=1
expect_exit "create with a bad config" 2 sc topic create badcfg -c cleanup.policy=sometimes
expect_exit "config without =" 2 sc topic create badcfg2 -c retention.ms

# ---- add-partitions
expect_exit "add-partitions" 0 sc topic add-partitions orders --partitions 5
check "now 5 partitions" bash -c "$(printf '%q ' "$STREAMCTL") topic describe orders --json | jq -e '.partitions == 5 and (.partition_info | length) == 5' >/dev/null"
expect_exit "add-partitions must grow" 2 sc topic add-partitions orders -p 5
stderr_has "add-partitions explains" "already has 5 partitions"

# ---- names
expect_exit "invalid topic name" 2 sc topic create 'bad name!'
stderr_has "invalid name: says why" "streamctl: error:"
expect_exit "name too long" 2 sc topic create "$(printf 'x%.0s' {1..250})"

# ---- delete
expect_exit "delete" 0 sc topic delete a1 a2
expect_eq "deleted topics are gone" "$(printf 'events\norders')" "$(sc topic list)"
expect_exit "delete a missing topic" 3 sc topic delete a1
stderr_has "delete missing: hint" "--if-exists"
expect_exit "delete --if-exists" 0 sc topic delete a1 --if-exists
expect_exit "delete --json" 0 sc --json topic delete events nope --if-exists
json_check "delete --json lists deleted and missing" '.deleted == ["events"] and .missing == ["nope"]' "$work/out"

# ---- usage
expect_exit "topic without a subcommand" 2 sc topic
expect_exit "unknown flag" 2 sc topic list --bogus
stderr_has "unknown flag hint" "streamctl topic list --help"
expect_exit "--help" 0 sc topic create --help
check "--help has examples" grep -q "Example" "$work/out"
expect_exit "--version" 0 sc --version
check "version printed" grep -q "streamctl 0" "$work/out"
finish
