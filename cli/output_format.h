// Record output for `consume`: RecordView (a decoded record that borrows its bytes) and RecordFormatter,
// kcat's --format template compiled once and applied per record into a caller-owned output buffer.
//
// Template tokens (kcat-compatible, plus %d):
//   %t topic   %p partition   %o offset   %k key   %s value   %K key size   %S value size
//   %T timestamp (ms since epoch)   %d timestamp as ISO-8601 UTC (2024-05-01T12:00:00.123Z)
//   %h headers as name=value,name2=value2 (a null header value prints as just the name)   %% a percent sign
// Escapes: \n \r \t \0 \\ and \xHH. Null keys/values print as FormatOptions::null_text (default empty) and
// their sizes as -1, as kcat does. Formatting appends to a std::string and never allocates per record
// once the buffer has grown. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::cli {

// One header of a RecordView (borrowed bytes).
// One record header: {key, value (nullopt = null)}, pointing into someone else's bytes. The engine's own
// view type, so records decoded by RecordReader are printed without converting their headers.
using HeaderView = RecordHeaderView;

// A decoded record whose bytes belong to someone else (a read buffer); valid until that buffer changes.
struct RecordView {
  std::string_view topic;
  PartitionId partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;                 // ms since epoch; -1 = none
  std::optional<std::string_view> key;    // nullopt = null key
  std::optional<std::string_view> value;  // nullopt = null value (tombstone)
  std::span<const HeaderView> headers;
};

struct FormatOptions {
  bool color = false;     // wrap metadata tokens in ANSI colours (terminal output only)
  std::string null_text;  // what %k / %s print for null
};

// The default consume template: the value, one record per line (kcat's default).
inline constexpr std::string_view kDefaultFormat = "%s\\n";

class RecordFormatter {
 public:
  // Compiles a template. kInvalidArgument naming an unknown token or escape and listing the valid ones.
  static Result<RecordFormatter> compile(std::string_view format, const FormatOptions& options = {});

  // Appends the formatted record to out.
  void append(const RecordView& record, std::string& out) const;

  // Whether the template prints headers (lets the reader skip decoding them otherwise).
  bool uses_headers() const { return uses_headers_; }

 private:
  enum class Kind : uint8_t {
    kLiteral, kTopic, kPartition, kOffset, kKey, kValue, kKeySize, kValueSize, kTimestamp, kIsoTime, kHeaders,
  };
  struct Piece {
    Kind kind;
    std::string literal;  // kLiteral only
  };
  RecordFormatter() = default;

  std::vector<Piece> pieces_;
  FormatOptions options_;
  bool uses_headers_ = false;
  // The template is exactly "%s<literal>" (the default "%s\n"): a fast path without the piece loop.
  bool value_then_literal_ = false;
};

// Appends a decimal integer (fast, no locale).
void append_int(std::string& out, int64_t v);
// Appends ms-since-epoch as ISO-8601 UTC with milliseconds: 2024-05-01T12:00:00.123Z.
void append_iso8601_utc(std::string& out, int64_t ms);

}  // namespace streamctl::cli
