#include "cli/json_record.h"

#include <nlohmann/json.hpp>

#include "cli/offset_spec.h"

namespace streamctl::cli {


namespace {

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// For each ASCII byte: 0 = copy as is, 1 = needs an escape. Bytes >= 0x80 are UTF-8 sequences.
struct EscapeTable {
  uint8_t needs[128];
  constexpr EscapeTable() : needs() {
    for (int c = 0; c < 0x20; ++c) needs[c] = 1;
    needs[int('"')] = 1;
    needs[int('\\')] = 1;
  }
};
constexpr EscapeTable kEscape;

// Length of the valid UTF-8 sequence starting at p (first byte >= 0x80), or 0 when invalid.
size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) {
  unsigned char c = p[0];
  size_t left = size_t(end - p);
  if (c >= 0xC2 && c <= 0xDF) {
    if (left >= 2 && (p[1] & 0xC0) == 0x80) return 2;
    return 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && p[1] > 0x8F) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

// Writes `"name":` then the bytes as a string, or `"name_b64":` and base64 when not UTF-8, or null.
void append_bytes_field(std::string& out, const char* name, const std::optional<std::string_view>& bytes) {
  out += '"';
  out += name;
  if (!bytes) {
    out += "\":null";
    return;
  }
  out += "\":";
  if (append_json_string(out, *bytes)) return;
  out.resize(out.size() - 2);  // drop `":`
  out += "_b64\":\"";
  append_base64(out, *bytes);
  out += '"';
}

using Json = nlohmann::ordered_json;

Error field_error(std::string_view field, std::string_view reason) {
  return Error::invalid_argument("field \"" + std::string(field) + "\": " + std::string(reason));
}

// A key or value from JSON: string -> bytes, null -> nullopt, other JSON -> its compact text when
// options.json_text, else an error naming the field (so {"value":1} is not silently the text "1").
Result<std::optional<std::string>> bytes_of(const Json& v, const std::string& field,
                                            const JsonInputOptions& options) {
  if (v.is_null()) return std::optional<std::string>();
  if (v.is_string()) return std::optional<std::string>(v.get<std::string>());
  if (!options.json_text) {
    return field_error(field, std::string("is a JSON ") + v.type_name() + ", not a string: quote it, or pass "
                              "--json-text to store non-string JSON as its compact text");
  }
  return std::optional<std::string>(v.dump());
}

// Reads the pair "<name>" / "<name>_b64" from an object into *out. Returns false (and sets *err) on error.
Result<std::optional<std::string>> read_bytes_pair(const Json& obj, const std::string& name, bool* present,
                                                   const JsonInputOptions& options) {
  auto plain = obj.find(name);
  auto b64 = obj.find(name + "_b64");
  *present = plain != obj.end() || b64 != obj.end();
  if (plain != obj.end() && b64 != obj.end()) {
    return field_error(name, "both \"" + name + "\" and \"" + name + "_b64\" given; use one");
  }
  if (b64 != obj.end()) {
    if (b64->is_null()) return std::optional<std::string>();
    if (!b64->is_string()) return field_error(name + "_b64", "must be a base64 string");
    auto decoded = decode_base64(b64->get_ref<const std::string&>());
    if (!decoded.ok()) return field_error(name + "_b64", decoded.error().message);
    return std::optional<std::string>(std::move(decoded).value());
  }
  if (plain != obj.end()) return bytes_of(*plain, name, options);
  return std::optional<std::string>();
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    size_t n = utf8_sequence_length(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

bool append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t rollback = out.size();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  out += '"';
  const unsigned char* run = p;  // start of bytes not yet copied
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      if (!kEscape.needs[c]) {
        ++p;
        continue;
      }
      out.append(reinterpret_cast<const char*>(run), size_t(p - run));
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out.append(esc, 6);
        }
      }
      ++p;
      run = p;
      continue;
    }
    size_t n = utf8_sequence_length(p, end);
    if (n == 0) {
      out.resize(rollback);
      return false;
    }
    p += n;
  }
  out.append(reinterpret_cast<const char*>(run), size_t(p - run));
  out += '"';
  return true;
}

void append_base64(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | uint32_t(p[i + 2]);
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = uint32_t(p[i]) << 16;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += "==";
  } else if (n - i == 2) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8);
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += '=';
  }
}

Result<std::string> decode_base64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return Error::invalid_argument("invalid base64: bad length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return Error::invalid_argument("invalid base64 character '" + std::string(1, c) + "'");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  return out;
}

void append_json_record(const RecordView& r, std::string& out) {
  out += "{\"topic\":";
  if (!append_json_string(out, r.topic)) out += "\"\"";
  out += ",\"partition\":";
  append_int(out, r.partition);
  out += ",\"offset\":";
  append_int(out, r.offset);
  out += ",\"timestamp\":";
  append_int(out, r.timestamp);
  out += ',';
  append_bytes_field(out, "key", r.key);
  out += ',';
  append_bytes_field(out, "value", r.value);
  out += ",\"headers\":[";
  bool first = true;
  for (const HeaderView& h : r.headers) {
    if (!first) out += ',';
    first = false;
    out += '{';
    append_bytes_field(out, "key", h.key);
    out += ',';
    append_bytes_field(out, "value", h.value);
    out += '}';
  }
  out += "]}\n";
}

Result<JsonRecord> parse_json_record(std::string_view line, Timestamp now, const JsonInputOptions& options) {
  Json doc;
  try {
    doc = Json::parse(line.begin(), line.end());
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1, column 5: ...".
    size_t pos = what.find("parse error");
    return Error::invalid_argument("invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos)));
  }
  if (!doc.is_object()) {
    return Error::invalid_argument("expected a JSON object per line, e.g. {\"key\":\"k\",\"value\":\"v\"}");
  }
  static const char* const kKnown[] = {"key", "key_b64", "value", "value_b64", "headers",
                                       "partition", "timestamp", "topic", "offset"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    bool known = false;
    for (const char* k : kKnown) known = known || it.key() == k;
    if (!known) {
      return field_error(it.key(), "unknown field (known: key, value, key_b64, value_b64, headers, "
                                   "partition, timestamp; topic and offset are ignored)");
    }
  }
  JsonRecord out;
  bool present = false;
  auto key = read_bytes_pair(doc, "key", &present, options);
  if (!key.ok()) return std::move(key).error();
  out.record.key = std::move(key).value();
  auto value = read_bytes_pair(doc, "value", &present, options);
  if (!value.ok()) return std::move(value).error();
  if (!present) {
    return field_error("value", "missing (a record needs \"value\" or \"value_b64\"; write \"value\":null "
                                "for a tombstone)");
  }
  out.record.value = std::move(value).value();

  if (auto it = doc.find("headers"); it != doc.end() && !it->is_null()) {
    if (it->is_array()) {
      for (const Json& h : *it) {
        if (!h.is_object()) return field_error("headers", "each header must be {\"key\":...,\"value\":...}");
        for (auto hf = h.begin(); hf != h.end(); ++hf) {
          if (hf.key() != "key" && hf.key() != "key_b64" && hf.key() != "value" && hf.key() != "value_b64") {
            return field_error("headers", "unknown header field \"" + hf.key() + "\"");
          }
        }
        bool key_present = false;
        auto hk = read_bytes_pair(h, "key", &key_present, options);
        if (!hk.ok()) return std::move(hk).error();
        if (!hk->has_value()) return field_error("headers", "a header needs a non-null \"key\"");
        auto hv = read_bytes_pair(h, "value", &present, options);
        if (!hv.ok()) return std::move(hv).error();
        out.record.headers.push_back({std::move(**hk), std::move(hv).value()});
      }
    } else if (it->is_object()) {
      for (auto hf = it->begin(); hf != it->end(); ++hf) {
        auto hv = bytes_of(hf.value(), "headers." + hf.key(), options);
        if (!hv.ok()) return std::move(hv).error();
        out.record.headers.push_back({hf.key(), std::move(hv).value()});
      }
    } else {
      return field_error("headers", "must be an array of {\"key\",\"value\"} objects or an object");
    }
  }

  if (auto it = doc.find("partition"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX) {
      return field_error("partition", "must be a non-negative integer");
    }
    out.partition = int32_t(it->get<int64_t>());
  }
  if (auto it = doc.find("timestamp"); it != doc.end() && !it->is_null()) {
    if (it->is_number_integer()) {
      int64_t ts = it->get<int64_t>();
      // -1 is Kafka's "no timestamp" (consume --json prints it for such records): the append time is used.
      if (ts < -1) return field_error("timestamp", "must be >= 0 (ms since the epoch), or -1 for none");
      out.record.timestamp = Timestamp(ts);
    } else if (it->is_string()) {
      auto ts = parse_time(it->get_ref<const std::string&>(), now);
      if (!ts.ok()) return field_error("timestamp", ts.error().message);
      out.record.timestamp = *ts;
    } else {
      return field_error("timestamp", "must be ms since the epoch or a time string");
    }
  }
  return out;
}

}  // namespace streamctl::cli
