// OffsetSpec: the one offset grammar shared by every command that takes a position (consume -o,
// group reset-offsets, log dump). Parsing is pure; resolution needs a partition's bounds.
//
//   spec      := position | [position] ':' [position]          range A:B, B exclusive
//   position  := beginning | start | oldest                       the log start offset
//              | end | newest | latest                           the log end offset (next to be written)
//              | N                                               absolute offset N
//              | +N                                              N after the log start (as a range end: N after A)
//              | -N                                              N before the log end (the last N records)
//              | @time                                           the first record with timestamp >= time
//   time      := now | <epoch ms> | -duration | +duration        relative to now, e.g. @-1h, @-30m, @-2d, @-1h30m
//              | YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|+HH[:MM]|-HH[:MM]]   ISO-8601; no zone = local time
//   duration  := (digits unit)+   unit: ms s m h d w
//
// Relative times are resolved against the `now` given to the parser, so every partition sees the same
// instant. Out-of-range absolute offsets are clamped into [log start, log end] with a note. Values are plain.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::engine {
class Log;
}

namespace streamctl::cli {

struct OffsetPosition {
  enum class Kind {
    kBeginning,      // log start offset
    kEnd,            // log end offset
    kOffset,         // absolute offset `value`
    kFromBeginning,  // +value: log start + value (as a range end: range start + value)
    kFromEnd,        // -value: log end - value
    kTimestamp,      // first offset with timestamp >= value (ms since epoch, already absolute)
  };
  Kind kind = Kind::kBeginning;
  int64_t value = 0;

  auto operator<=>(const OffsetPosition&) const = default;
};

struct OffsetSpec {
  OffsetPosition start;               // defaults to beginning in the ":B" form
  std::optional<OffsetPosition> end;  // exclusive end of a range; nullopt = no end (or not a range)
  bool is_range = false;              // written as A:B (either side may be empty)
  std::string text;                   // as the user wrote it, for messages
};

// The grammar above as a short help text (one block, used in --help and in parse errors).
const char* offset_grammar_help();

// Parses a spec. Errors are kInvalidArgument, name the bad text and show the grammar.
Result<OffsetSpec> parse_offset_spec(std::string_view text, Timestamp now);
// Parses a single position (no range).
Result<OffsetPosition> parse_offset_position(std::string_view text, Timestamp now);
// Parses a time (without the leading '@'): now, epoch ms, +/-duration, ISO-8601.
Result<Timestamp> parse_time(std::string_view text, Timestamp now);
// Parses a duration such as 90s, 1h30m, 2d, 500ms into milliseconds.
Result<int64_t> parse_duration_ms(std::string_view text);

// What resolution needs to know about one partition. offset_for_timestamp returns the first offset whose
// timestamp is >= ts, or the log end offset when there is none (engine::Log::offset_for_timestamp).
struct PartitionBounds {
  Offset log_start;
  Offset log_end;
  std::function<Result<Offset>(Timestamp)> offset_for_timestamp;
};

// The bounds of an open Log (its current start and end, and its time lookup).
PartitionBounds bounds_of(engine::Log& log);

// A spec resolved on one partition: consume [start, end) (end = nullopt: no end).
struct ResolvedRange {
  Offset start;
  std::optional<Offset> end;
};

// Resolves a position to an offset in [log start, log end]. When the position had to be clamped, *note
// (if given) receives a sentence saying so; otherwise it is left unchanged.
Result<Offset> resolve_position(const OffsetPosition& position, const PartitionBounds& bounds,
                                                std::string* note = nullptr);
// Resolves a whole spec. A range end of +N means N records after the resolved start. An end below the
// start resolves to an empty range (end == start).
Result<ResolvedRange> resolve_offset_spec(const OffsetSpec& spec, const PartitionBounds& bounds,
                                                  std::string* note = nullptr);

}  // namespace streamctl::cli
