#!/usr/bin/env bash
# End-to-end: the lossless JSON line shape. `consume --json | produce --json` copies a topic exactly:
# keys, values, null vs empty, binary (base64), headers (with null values), timestamps and partitions.
source "$(dirname "$0")/cli_helpers.bash"

sc topic create src -p 3 -q
cat >"$work/in.jsonl" <<'JSON'
{"key":"k1","value":"plain","partition":0,"timestamp":1714564800000}
{"key":null,"value":"","partition":1,"timestamp":1714564800001}
{"key":"","value":null,"partition":2,"timestamp":1714564800002}
{"key_b64":"/wD+","value_b64":"AAECA/8=","partition":0,"timestamp":1714564800003}
{"key":"h","value":"with headers","headers":[{"key":"a","value":"1"},{"key":"n","value":null},{"key":"b","value_b64":"gA=="}],"partition":1,"timestamp":1714564800004}
{"key":"uni","value":"caf\u00e9 \u20ac \ud83d\ude00 \"quoted\" back\\slash tab\t nul\u0000 ctl\u0001","partition":2,"timestamp":1714564800005}

{"value":{"nested":[1,2,{"x":null}]},"partition":0,"timestamp":"2024-05-01T12:00:00.006Z"}
JSON
expect_exit "produce --json" 0 sc produce src --json --json-text "$work/in.jsonl"  # --json-text: the last line's value is an object
sc consume src --json >"$work/src.jsonl"
expect_eq "seven records (blank line skipped)" "7" "$(wc -l <"$work/src.jsonl" | tr -d ' ')"
record_check "null vs empty kept" '.timestamp==1714564800001' '.key == null and .value == ""' "$work/src.jsonl"
record_check "empty key and null value kept" '.timestamp==1714564800002' '.key == "" and .value == null' "$work/src.jsonl"
record_check "binary comes back as base64" '.timestamp==1714564800003' '.key_b64 == "/wD+" and .value_b64 == "AAECA/8=" and (has("value") | not)' "$work/src.jsonl"
record_check "headers keep order, nulls and binary" '.timestamp==1714564800004' '.headers == [{"key":"a","value":"1"},{"key":"n","value":null},{"key":"b","value_b64":"gA=="}]' "$work/src.jsonl"
record_check "unicode, quotes and control characters round-trip" '.timestamp==1714564800005' '.value == "café € 😀 \"quoted\" back\\slash tab\t nul\u0000 ctl\u0001"' "$work/src.jsonl"
record_check "a JSON object value is stored as its text" '.timestamp==1714564800006' '.value == "{\"nested\":[1,2,{\"x\":null}]}"' "$work/src.jsonl"
record_check "partitions kept" '.key=="k1"' '.partition == 0 and .offset == 0' "$work/src.jsonl"

# ---- copy and compare byte for byte (except the topic name)
sc topic create dst -p 3 -q
sc consume src --json | sc produce dst --json 2>/dev/null
check "copy exits 0" test "${PIPESTATUS[1]}" -eq 0
sc consume dst --json >"$work/dst.jsonl"
expect_eq "consume --json | produce --json copies exactly" "$(sed 's/"topic":"src"/"topic":"dst"/' "$work/src.jsonl" | md5sum)" "$(md5sum <"$work/dst.jsonl")"
expect_eq "per-partition order and offsets kept" "$(sc consume src --format '%p %o %T %K %S\n' | md5sum)" "$(sc consume dst --format '%p %o %T %K %S\n' | md5sum)"

# ---- copying into a topic with fewer partitions fails clearly and keeps what it wrote
sc topic create narrow -p 1 -q
expect_exit "record naming a missing partition" 4 sc produce narrow --json "$work/src.jsonl"
# consume merges the partitions by time: the first record of partition 1 is where the copy stops
first_p1=$(grep -n '"partition":1' "$work/src.jsonl" | head -1 | cut -d: -f1)
stderr_has "names the line and the partition" "line $first_p1: partition 1 does not exist"
stderr_has "says how many records before it were kept" "$((first_p1 - 1)) record"
expect_exit "--partition overrides the JSON partition" 0 sc produce narrow --json --partition 0 "$work/src.jsonl"

# ---- bad JSON lines
printf '{"value":"ok"}\n{"payload":"x"}\n' >"$work/bad.jsonl"
expect_exit "unknown field after a good line is a partial failure" 4 sc produce badjson --json "$work/bad.jsonl"
stderr_has "names file, line and field" "line 2: field \"payload\""
expect_eq "the good line was written" "ok" "$(sc consume badjson)"
printf 'not json\n' >"$work/bad2.jsonl"
expect_exit "invalid JSON on the first line is a usage error" 2 sc produce badjson2 --json "$work/bad2.jsonl"
stderr_has "says invalid JSON" "invalid JSON"
expect_exit "--json with --key-separator is refused" 2 sc produce x --json -K : </dev/null
finish
