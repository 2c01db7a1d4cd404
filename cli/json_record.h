// The lossless JSON line shape of a record, written by `consume --json` and read by `produce --json`, so
// `consume --json | produce --json` copies a topic exactly. One object per line:
//
//   {"topic":"orders","partition":0,"offset":5,"timestamp":1714564800123,
//    "key":"k","value":"v","headers":[{"key":"trace","value":"abc"},{"key":"flag","value":null}]}
//
//   key, value     a JSON string when the bytes are valid UTF-8; null for a null key / tombstone value;
//                  "" for an empty (non-null) one. Bytes that are not valid UTF-8 are written instead as
//                  "key_b64" / "value_b64": standard base64 with padding (the plain field is then absent).
//   headers        always an array, in record order; each {"key": ..., "value": ...} with the same rules
//                  ("key_b64" / "value_b64" for non-UTF-8 bytes, "value": null for a null header value).
//   timestamp      ms since the Unix epoch (the record's timestamp as stored).
//
// Reading (produce --json) accepts that shape and, for hand-written input, also: a missing key means null
// ("value" or "value_b64" is required: write "value":null for a tombstone); a non-string JSON key or value
// (object, array, number, true/false) is an error unless JsonInputOptions::json_text (produce --json-text)
// says to store its compact JSON text;
// "headers" may be an object {"name":"value",...} (order kept); "timestamp" may be a string in the
// --timestamp grammar (ISO-8601, -1h, now); "topic" and "offset" are accepted and ignored. Any other field
// is an error (so a typo such as "payload" never silently produces a null record). Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/output_format.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::cli {

// Appends one JSON line (with the trailing '\n') for the record.
void append_json_record(const RecordView& record, std::string& out);

// Appends s as a JSON string literal (quotes included) when it is valid UTF-8 and returns true; returns
// false and leaves out unchanged otherwise. Control characters are escaped (\n, \t, \u0001, ...).
bool append_json_string(std::string& out, std::string_view s);
// Whether s is valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Standard base64 (RFC 4648, with padding).
void append_base64(std::string& out, std::string_view bytes);
// Decodes standard base64 (padding optional); kInvalidArgument on a bad character or length.
Result<std::string> decode_base64(std::string_view text);

// A record read from a JSON line, with the partition it names (if any).
struct JsonRecord {
  Record record;               // timestamp kNoTimestamp when the line has none
  std::optional<int32_t> partition;
};

struct JsonInputOptions {
  bool json_text = false;  // a non-string key/value (number, object, ...) is stored as its compact JSON text
};

// Parses one JSON line. `now` resolves relative timestamps ("-1h"). kInvalidArgument naming the field.
Result<JsonRecord> parse_json_record(std::string_view line, Timestamp now,
                                             const JsonInputOptions& options = {});

}  // namespace streamctl::cli
