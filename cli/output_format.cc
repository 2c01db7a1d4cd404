#include "cli/output_format.h"

#include <cstring>

namespace streamctl::cli {


namespace {

constexpr const char* kReset = "\x1b[0m";

Error bad_format(std::string_view format, std::string_view reason) {
  return Error::invalid_argument(
      "invalid --format '" + std::string(format) + "': " + std::string(reason) +
      "\n  tokens: %t topic, %p partition, %o offset, %k key, %s value, %K key size, %S value size,"
      "\n          %T timestamp ms, %d ISO-8601 time, %h headers, %% percent;"
      " escapes: \\n \\r \\t \\0 \\\\ \\xHH");
}

int hex_value(char h) {
  if (h >= '0' && h <= '9') return h - '0';
  if (h >= 'a' && h <= 'f') return h - 'a' + 10;
  if (h >= 'A' && h <= 'F') return h - 'A' + 10;
  return -1;
}

// Two-digit (or wider, zero-padded) decimal.
void append_padded(std::string& out, int64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = char('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n < width) buf[n++] = '0';
  while (n > 0) out += buf[--n];
}

}  // namespace

void append_int(std::string& out, int64_t v) {
  char buf[24];
  int n = 0;
  uint64_t u = v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  do {
    buf[n++] = char('0' + u % 10);
    u /= 10;
  } while (u > 0);
  if (v < 0) buf[n++] = '-';
  size_t old = out.size();
  out.resize(old + size_t(n));
  char* p = out.data() + old;
  while (n > 0) *p++ = buf[--n];
}

void append_iso8601_utc(std::string& out, int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t millis = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  // civil_from_days (H. Hinnant).
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  if (y < 0) {
    out += '-';
    y = -y;
  }
  append_padded(out, y, 4);
  out += '-';
  append_padded(out, m, 2);
  out += '-';
  append_padded(out, d, 2);
  out += 'T';
  append_padded(out, sod / 3600, 2);
  out += ':';
  append_padded(out, (sod / 60) % 60, 2);
  out += ':';
  append_padded(out, sod % 60, 2);
  out += '.';
  append_padded(out, millis, 3);
  out += 'Z';
}

Result<RecordFormatter> RecordFormatter::compile(std::string_view format, const FormatOptions& options) {
  RecordFormatter f;
  f.options_ = options;
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) {
      f.pieces_.push_back({Kind::kLiteral, literal});
      literal.clear();
    }
  };
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c == '\\') {
      if (i + 1 >= format.size()) return bad_format(format, "trailing backslash");
      char e = format[++i];
      switch (e) {
        case 'n': literal += '\n'; break;
        case 'r': literal += '\r'; break;
        case 't': literal += '\t'; break;
        case '0': literal += '\0'; break;
        case '\\': literal += '\\'; break;
        case 'x': {
          int hi = i + 1 < format.size() ? hex_value(format[i + 1]) : -1;
          int lo = i + 2 < format.size() ? hex_value(format[i + 2]) : -1;
          if (hi < 0 || lo < 0) return bad_format(format, "\\x needs two hex digits");
          literal += char(hi * 16 + lo);
          i += 2;
          break;
        }
        default: return bad_format(format, "unknown escape '\\" + std::string(1, e) + "'");
      }
      continue;
    }
    if (c != '%') {
      literal += c;
      continue;
    }
    if (i + 1 >= format.size()) return bad_format(format, "'%' at the end (write %% for a percent sign)");
    char t = format[++i];
    Kind kind;
    switch (t) {
      case '%': literal += '%'; continue;
      case 't': kind = Kind::kTopic; break;
      case 'p': kind = Kind::kPartition; break;
      case 'o': kind = Kind::kOffset; break;
      case 'k': kind = Kind::kKey; break;
      case 's': kind = Kind::kValue; break;
      case 'K': kind = Kind::kKeySize; break;
      case 'S': kind = Kind::kValueSize; break;
      case 'T': kind = Kind::kTimestamp; break;
      case 'd': kind = Kind::kIsoTime; break;
      case 'h': kind = Kind::kHeaders; break;
      default: return bad_format(format, "unknown token '%" + std::string(1, t) + "'");
    }
    flush_literal();
    if (kind == Kind::kHeaders) f.uses_headers_ = true;
    f.pieces_.push_back({kind, {}});
  }
  flush_literal();
  f.value_then_literal_ = !options.color && f.pieces_.size() == 2 && f.pieces_[0].kind == Kind::kValue &&
                          f.pieces_[1].kind == Kind::kLiteral;
  return f;
}

void RecordFormatter::append(const RecordView& r, std::string& out) const {
  if (value_then_literal_) {
    const std::string_view v = r.value ? *r.value : std::string_view(options_.null_text);
    const std::string& lit = pieces_[1].literal;
    out.append(v.data(), v.size());
    out.append(lit);
    return;
  }
  for (const Piece& piece : pieces_) {
    const char* color = nullptr;
    if (options_.color) {
      switch (piece.kind) {
        case Kind::kTopic: color = "\x1b[35m"; break;
        case Kind::kPartition:
        case Kind::kOffset: color = "\x1b[36m"; break;
        case Kind::kKey: color = "\x1b[1;33m"; break;
        case Kind::kTimestamp:
        case Kind::kIsoTime: color = "\x1b[34m"; break;
        case Kind::kHeaders: color = "\x1b[32m"; break;
        default: break;
      }
    }
    if (color) out += color;
    switch (piece.kind) {
      case Kind::kLiteral: out += piece.literal; break;
      case Kind::kTopic: out += r.topic; break;
      case Kind::kPartition: append_int(out, r.partition); break;
      case Kind::kOffset: append_int(out, r.offset); break;
      case Kind::kKey: out += r.key ? *r.key : std::string_view(options_.null_text); break;
      case Kind::kValue: out += r.value ? *r.value : std::string_view(options_.null_text); break;
      case Kind::kKeySize: append_int(out, r.key ? int64_t(r.key->size()) : -1); break;
      case Kind::kValueSize: append_int(out, r.value ? int64_t(r.value->size()) : -1); break;
      case Kind::kTimestamp: append_int(out, r.timestamp); break;
      case Kind::kIsoTime: append_iso8601_utc(out, r.timestamp); break;
      case Kind::kHeaders: {
        bool first = true;
        for (const HeaderView& h : r.headers) {
          if (!first) out += ',';
          first = false;
          out += h.key;
          if (h.value) {
            out += '=';
            out += *h.value;
          }
        }
        break;
      }
    }
    if (color) out += kReset;
  }
}

}  // namespace streamctl::cli
