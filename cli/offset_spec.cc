#include "cli/offset_spec.h"

#include <ctime>
#include <limits>
#include <vector>


namespace streamctl::cli {


namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// Parses a non-negative decimal that fits in int64.
std::optional<int64_t> parse_int(std::string_view s) {
  if (!all_digits(s) || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    v = v * 10 + uint64_t(c - '0');
    if (v > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
  }
  return int64_t(v);
}

Error bad_spec(std::string_view text, std::string_view reason) {
  return Error::invalid_argument("invalid offset '" + std::string(text) + "': " + std::string(reason) +
                                 "\n" + offset_grammar_help());
}

Error bad_time(std::string_view text, std::string_view reason) {
  return Error::invalid_argument("invalid time '" + std::string(text) + "': " + std::string(reason) +
                                 " (use now, epoch milliseconds, -1h, -30m, -2d, or ISO-8601 such as "
                                 "2024-05-01T12:00:00Z)");
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

// Reads exactly n digits at s[pos...], advancing pos.
bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

Result<Timestamp> parse_iso8601(std::string_view s) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!read_digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' ||
      !read_digits(s, pos, 2, month) || pos >= s.size() || s[pos++] != '-' ||
      !read_digits(s, pos, 2, day)) {
    return bad_time(s, "expected YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return bad_time(s, "month out of range");
  if (day < 1 || unsigned(day) > days_in_month(year, unsigned(month))) return bad_time(s, "day out of range");
  bool has_zone = false;
  int64_t zone_offset_min = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    ++pos;
    if (!read_digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' ||
        !read_digits(s, pos, 2, minute)) {
      return bad_time(s, "expected HH:MM after the date");
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!read_digits(s, pos, 2, second)) return bad_time(s, "expected two-digit seconds");
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && is_digit(s[pos])) {
          millis += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return bad_time(s, "expected digits after the decimal point");
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return bad_time(s, "time of day out of range");
  }
  if (pos < s.size()) {
    char z = s[pos];
    if (z == 'Z' || z == 'z') {
      has_zone = true;
      ++pos;
    } else if (z == '+' || z == '-') {
      ++pos;
      int zh = 0, zm = 0;
      if (!read_digits(s, pos, 2, zh)) return bad_time(s, "expected a zone such as +02:00");
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !read_digits(s, pos, 2, zm)) return bad_time(s, "expected a zone such as +02:00");
      if (zh > 23 || zm > 59) return bad_time(s, "zone offset out of range");
      has_zone = true;
      zone_offset_min = (z == '+' ? 1 : -1) * int64_t(zh * 60 + zm);
    }
  }
  if (pos != s.size()) return bad_time(s, "unexpected '" + std::string(s.substr(pos)) + "'");
  int64_t seconds = 0;
  if (has_zone) {
    seconds = days_from_civil(year, unsigned(month), unsigned(day)) * 86400 + hour * 3600 + minute * 60 +
              second - zone_offset_min * 60;
  } else {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    tm.tm_isdst = -1;
    std::time_t t = std::mktime(&tm);
    if (t == std::time_t(-1) && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31)) {
      return bad_time(s, "not representable in local time");
    }
    seconds = int64_t(t);
  }
  return Timestamp(seconds * 1000 + millis);
}

}  // namespace

const char* offset_grammar_help() {
  return "  offsets: beginning | end | N | +N (N after the start) | -N (N before the end) | @TIME\n"
         "  TIME:    now | epoch-ms | -1h | -30m | -2d | 2024-05-01T12:00:00Z (ISO-8601; no zone = local)\n"
         "  ranges:  A:B, B exclusive, either side optional (e.g. 100:200, -10:, @-2h:@-1h, 5:+10)";
}

Result<int64_t> parse_duration_ms(std::string_view text) {
  if (text.empty()) return Error::invalid_argument("empty duration (examples: 90s, 30m, 1h30m, 2d)");
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    auto n = parse_int(text.substr(start, pos - start));
    if (!n) {
      return Error::invalid_argument("invalid duration '" + std::string(text) +
                                     "': expected a number then a unit (ms, s, m, h, d, w), e.g. 1h30m");
    }
    size_t ustart = pos;
    while (pos < text.size() && !is_digit(text[pos])) ++pos;
    std::string_view unit = text.substr(ustart, pos - ustart);
    int64_t scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m" || unit == "min") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else if (unit == "w") scale = 7 * 86'400'000LL;
    if (scale == 0) {
      return Error::invalid_argument("invalid duration '" + std::string(text) + "': " +
                                     (unit.empty() ? std::string("missing unit")
                                                   : "unknown unit '" + std::string(unit) + "'") +
                                     " (units: ms, s, m, h, d, w)");
    }
    if (*n > std::numeric_limits<int64_t>::max() / scale - total / scale) {
      return Error::invalid_argument("invalid duration '" + std::string(text) + "': too large");
    }
    total += *n * scale;
  }
  return total;
}

Result<Timestamp> parse_time(std::string_view text, Timestamp now) {
  if (text.empty()) return bad_time(text, "empty");
  if (text == "now") return now;
  if (text[0] == '-' || text[0] == '+') {
    auto d = parse_duration_ms(text.substr(1));
    if (!d.ok()) return bad_time(text, d.error().message);
    return text[0] == '-' ? Timestamp(now.value - *d) : Timestamp(now.value + *d);
  }
  if (all_digits(text)) {
    auto v = parse_int(text);
    if (!v) return bad_time(text, "number too large");
    return Timestamp(*v);
  }
  if (text.size() >= 10 && is_digit(text[0]) && text[4] == '-') return parse_iso8601(text);
  return bad_time(text, "not a time");
}

Result<OffsetPosition> parse_offset_position(std::string_view text, Timestamp now) {
  using Kind = OffsetPosition::Kind;
  if (text.empty()) return bad_spec(text, "empty");
  if (text == "beginning" || text == "start" || text == "oldest" || text == "earliest") {
    return OffsetPosition{Kind::kBeginning, 0};
  }
  if (text == "end" || text == "newest" || text == "latest") return OffsetPosition{Kind::kEnd, 0};
  if (text[0] == '@') {
    auto t = parse_time(text.substr(1), now);
    if (!t.ok()) return bad_spec(text, t.error().message);
    return OffsetPosition{Kind::kTimestamp, t->value};
  }
  if (text[0] == '+' || text[0] == '-') {
    auto n = parse_int(text.substr(1));
    if (!n) {
      std::string hint = text[0] == '-' ? "expected -N (N records before the end)"
                                        : "expected +N (N records after the start)";
      if (text.size() > 1 && !all_digits(text.substr(1))) hint += "; for a time write @" + std::string(text);
      return bad_spec(text, hint);
    }
    return OffsetPosition{text[0] == '+' ? Kind::kFromBeginning : Kind::kFromEnd, *n};
  }
  if (all_digits(text)) {
    auto n = parse_int(text);
    if (!n) return bad_spec(text, "offset too large");
    return OffsetPosition{Kind::kOffset, *n};
  }
  return bad_spec(text, "expected beginning, end, N, +N, -N or @TIME");
}

Result<OffsetSpec> parse_offset_spec(std::string_view text, Timestamp now) {
  OffsetSpec spec;
  spec.text = std::string(text);
  if (text.find(':') == std::string_view::npos || text[0] == '@') {
    auto whole = parse_offset_position(text, now);
    if (whole.ok()) {
      spec.start = *whole;
      return spec;
    }
    if (text.find(':') == std::string_view::npos) return std::move(whole).error();
  }
  // A range: find the colon where both sides (each possibly empty) are valid positions. Times contain
  // colons themselves (@2024-05-01T12:00), which is why the whole text was tried as one position first.
  std::vector<std::pair<OffsetSpec, size_t>> candidates;
  Error first_error = bad_spec(text, "not a position or a range A:B");
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ':') continue;
    std::string_view left = text.substr(0, i);
    std::string_view right = text.substr(i + 1);
    OffsetSpec candidate;
    candidate.text = spec.text;
    candidate.is_range = true;
    if (!left.empty()) {
      auto l = parse_offset_position(left, now);
      if (!l.ok()) {
        first_error = bad_spec(text, "range start '" + std::string(left) + "' is not a position");
        continue;
      }
      candidate.start = *l;
    }
    if (!right.empty()) {
      auto r = parse_offset_position(right, now);
      if (!r.ok()) {
        first_error = bad_spec(text, "range end '" + std::string(right) + "' is not a position");
        continue;
      }
      candidate.end = *r;
    }
    candidates.emplace_back(std::move(candidate), i);
  }
  if (candidates.empty()) return first_error;
  if (candidates.size() > 1) {
    return bad_spec(text, "ambiguous range (more than one ':' could split it); write times in full, "
                          "e.g. @2024-05-01T10:00:00Z:@2024-05-01T11:00:00Z");
  }
  OffsetSpec& range = candidates.front().first;
  // A range whose two ends are of a kind comparable without the log is checked now: an empty one would
  // only end the command with "nothing consumed" and no word why.
  if (range.end && range.end->kind == range.start.kind) {
    using Kind = OffsetPosition::Kind;
    const int64_t a = range.start.value;
    const int64_t b = range.end->value;
    bool empty = false;
    switch (range.start.kind) {
      case Kind::kOffset:
      case Kind::kTimestamp: empty = b <= a; break;
      case Kind::kFromEnd: empty = b >= a; break;  // -3:-5: the end is before the start
      default: break;
    }
    if (empty) {
      const size_t colon = candidates.front().second;
      std::string message = "offset range '" + std::string(text) + "' is empty: its end (exclusive) is not after its start";
      if (a != b) {
        message += " (did you mean '" + std::string(text.substr(colon + 1)) + ":" + std::string(text.substr(0, colon)) + "'?)";
      }
      return Error::invalid_argument(message);
    }
  }
  return std::move(range);
}

Result<Offset> resolve_position(const OffsetPosition& position, const PartitionBounds& bounds, std::string* note) {
  using Kind = OffsetPosition::Kind;
  const int64_t start = bounds.log_start.value;
  const int64_t end = bounds.log_end.value;
  switch (position.kind) {
    case Kind::kBeginning: return bounds.log_start;
    case Kind::kEnd: return bounds.log_end;
    case Kind::kOffset:
      if (position.value < start) {
        if (note) {
          *note = "offset " + std::to_string(position.value) + " is below the log start offset " +
                  std::to_string(start) + " (older records were deleted by retention); starting at " +
                  std::to_string(start);
        }
        return bounds.log_start;
      }
      if (position.value > end) {
        if (note) {
          *note = "offset " + std::to_string(position.value) + " is past the log end offset " +
                  std::to_string(end) + "; starting at the end";
        }
        return bounds.log_end;
      }
      return Offset(position.value);
    case Kind::kFromBeginning:
      return Offset(position.value >= end - start ? end : start + position.value);
    case Kind::kFromEnd:
      return Offset(position.value >= end - start ? start : end - position.value);
    case Kind::kTimestamp: {
      if (!bounds.offset_for_timestamp) return bounds.log_end;
      auto r = bounds.offset_for_timestamp(Timestamp(position.value));
      if (!r.ok()) return std::move(r).error();
      int64_t o = r->value;
      if (o < start) o = start;
      if (o > end) o = end;
      return Offset(o);
    }
  }
  return bounds.log_start;
}

Result<ResolvedRange> resolve_offset_spec(const OffsetSpec& spec, const PartitionBounds& bounds, std::string* note) {
  ResolvedRange range;
  auto start = resolve_position(spec.start, bounds, note);
  if (!start.ok()) return std::move(start).error();
  range.start = *start;
  if (spec.end) {
    if (spec.end->kind == OffsetPosition::Kind::kFromBeginning) {
      int64_t e = range.start.value + spec.end->value;
      if (e < range.start.value) e = std::numeric_limits<int64_t>::max();  // overflow
      range.end = Offset(e);
    } else if (spec.end->kind == OffsetPosition::Kind::kOffset) {
      // An absolute end is not clamped: with --follow a range may end in the future.
      range.end = Offset(spec.end->value);
    } else {
      auto end = resolve_position(*spec.end, bounds, nullptr);
      if (!end.ok()) return std::move(end).error();
      range.end = *end;
    }
    if (*range.end < range.start) range.end = range.start;
  }
  return range;
}

}  // namespace streamctl::cli
