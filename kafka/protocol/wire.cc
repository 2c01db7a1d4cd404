#include "kafka/protocol/wire.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace streamctl::kafka::protocol {

namespace {

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

// ---- Uuid

bool Uuid::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string Uuid::to_string() const {
  // 16 bytes = 128 bits = 21 full sextets + 2 bits: 22 characters, no padding.
  std::string out;
  out.reserve(22);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64Url[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kBase64Url[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Result<Uuid> Uuid::from_string(std::string_view text) {
  if (text.size() != 22) {
    return Error::invalid_argument("uuid '" + std::string(text) +
                                           "' is not 22 base64url characters");
  }
  Uuid u;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    int v = base64url_value(c);
    if (v < 0) {
      return Error::invalid_argument("uuid '" + std::string(text) +
                                             "' has a character outside base64url");
    }
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      u.bytes[n++] = uint8_t(acc >> bits);
    }
  }
  // The last character carries 2 data bits; the 4 padding bits must be zero (canonical form).
  if ((acc & ((1u << bits) - 1)) != 0) {
    return Error::invalid_argument("uuid '" + std::string(text) + "' is not canonical");
  }
  return u;
}

// ---- Reader

void Reader::fail(const char* field, std::string reason) {
  if (error_field_ != nullptr) return;
  error_field_ = field != nullptr ? field : "?";
  error_reason_ = std::move(reason);
  error_position_ = in_.position();
  in_.fail();
}

Status Reader::status(std::string_view what) const {
  if (ok()) return ok_status();
  std::string msg = "malformed " + std::string(what) + ": ";
  if (error_field_ != nullptr) {
    msg += std::string(error_field_) + ": " + error_reason_ + " (at byte " +
           std::to_string(error_position_) + ")";
  } else {
    msg += "read failed at byte " + std::to_string(in_.position());
  }
  return Error::corruption(std::move(msg));
}

bool Reader::need(size_t n, const char* field) {
  if (!ok()) return false;
  if (in_.remaining() < n) {
    fail(field, "truncated: needs " + std::to_string(n) + " bytes, " +
                    std::to_string(in_.remaining()) + " remain");
    return false;
  }
  return true;
}

int16_t Reader::int16(const char* field) {
  if (!need(2, field)) return 0;
  return in_.i16();
}

int32_t Reader::int32(const char* field) {
  if (!need(4, field)) return 0;
  return in_.i32();
}

int64_t Reader::int64(const char* field) {
  if (!need(8, field)) return 0;
  return in_.i64();
}

double Reader::float64(const char* field) {
  if (!need(8, field)) return 0;
  return in_.f64();
}

Uuid Reader::uuid(const char* field) {
  Uuid u;
  if (!need(16, field)) return u;
  ByteSpan b = in_.raw(16);
  for (size_t i = 0; i < 16; ++i) u.bytes[i] = uint8_t(b[i]);
  return u;
}

uint8_t Reader::uint8(const char* field) {
  if (!need(1, field)) return 0;
  return in_.u8();
}

int32_t Reader::varint(const char* field) {
  if (!ok()) return 0;
  int32_t v = in_.varint();
  if (!in_.ok()) {
    fail(field, "truncated or malformed varint");
    return 0;
  }
  return v;
}

int64_t Reader::varlong(const char* field) {
  if (!ok()) return 0;
  int64_t v = in_.varlong();
  if (!in_.ok()) {
    fail(field, "truncated or malformed varlong");
    return 0;
  }
  return v;
}

uint32_t Reader::uvarint(const char* field) {
  if (!ok()) return 0;
  uint64_t v = in_.uvarint();
  if (!in_.ok()) {
    fail(field, "truncated or malformed unsigned varint");
    return 0;
  }
  if (v > std::numeric_limits<uint32_t>::max()) {
    fail(field, "unsigned varint " + std::to_string(v) + " does not fit 32 bits");
    return 0;
  }
  return uint32_t(v);
}

int64_t Reader::length(const char* field, bool is_string, bool nullable) {
  int64_t len;
  if (flexible_) {
    len = int64_t(uvarint(field)) - 1;
  } else if (is_string) {
    len = int16(field);
  } else {
    len = int32(field);
  }
  if (!ok()) return 0;
  if (len == -1) {
    if (!nullable) {
      fail(field, "null in a version where the field is not nullable");
      return 0;
    }
    return -1;
  }
  if (len < 0) {
    fail(field, "negative length " + std::to_string(len));
    return 0;
  }
  if (is_string && size_t(len) > kMaxStringLength) {
    fail(field, "string length " + std::to_string(len) + " exceeds 32767");
    return 0;
  }
  if (size_t(len) > in_.remaining()) {
    fail(field, "length " + std::to_string(len) + " exceeds the " +
                    std::to_string(in_.remaining()) + " remaining bytes");
    return 0;
  }
  return len;
}

std::string Reader::string(const char* field) {
  int64_t len = length(field, /*is_string=*/true, /*nullable=*/false);
  if (len <= 0) return {};
  return std::string(as_string_view(in_.raw(size_t(len))));
}

std::optional<std::string> Reader::nullable_string(const char* field, bool nullable) {
  int64_t len = length(field, /*is_string=*/true, nullable);
  if (len < 0) return std::nullopt;
  if (len == 0) return std::string();
  return std::string(as_string_view(in_.raw(size_t(len))));
}

Bytes Reader::bytes(const char* field) {
  int64_t len = length(field, /*is_string=*/false, /*nullable=*/false);
  if (len <= 0) return {};
  ByteSpan b = in_.raw(size_t(len));
  return Bytes(b.begin(), b.end());
}

std::optional<Bytes> Reader::nullable_bytes(const char* field, bool nullable) {
  int64_t len = length(field, /*is_string=*/false, nullable);
  if (len < 0) return std::nullopt;
  if (len == 0) return Bytes();
  ByteSpan b = in_.raw(size_t(len));
  return Bytes(b.begin(), b.end());
}

int64_t Reader::nullable_array_length(const char* field, bool nullable) {
  int64_t n = flexible_ ? int64_t(uvarint(field)) - 1 : int64_t(int32(field));
  if (!ok()) return 0;
  if (n == -1) {
    if (!nullable) {
      fail(field, "null array in a version where the field is not nullable");
      return 0;
    }
    return -1;
  }
  if (n < 0) {
    fail(field, "negative array length " + std::to_string(n));
    return 0;
  }
  if (size_t(n) > in_.remaining()) {
    fail(field, "array length " + std::to_string(n) + " exceeds the " +
                    std::to_string(in_.remaining()) + " remaining bytes");
    return 0;
  }
  return n;
}

size_t Reader::array_length(const char* field) {
  int64_t n = nullable_array_length(field, /*nullable=*/false);
  return n < 0 ? 0 : size_t(n);
}

bool Reader::struct_present(const char* field, bool nullable) {
  if (!nullable) return ok();  // no marker in versions where the field is not nullable
  int8_t marker = int8(field);
  return ok() && marker >= 0;
}

uint32_t Reader::tagged_field_count(const char* field) {
  uint32_t n = uvarint(field);
  if (!ok()) return 0;
  // Each entry takes at least two bytes (tag and size).
  if (size_t(n) > in_.remaining() / 2) {
    fail(field, "tagged field count " + std::to_string(n) + " exceeds what the " +
                    std::to_string(in_.remaining()) + " remaining bytes can hold");
    return 0;
  }
  return n;
}

TaggedFieldHeader Reader::tagged_field_header(const char* field) {
  TaggedFieldHeader h;
  h.tag = uvarint(field);
  h.size = uvarint(field);
  if (ok() && size_t(h.size) > in_.remaining()) {
    fail(field, "tagged field " + std::to_string(h.tag) + " size " + std::to_string(h.size) +
                    " exceeds the " + std::to_string(in_.remaining()) + " remaining bytes");
  }
  h.start = in_.position();
  return h;
}

void Reader::end_tagged_field(const TaggedFieldHeader& header, const char* field) {
  if (!ok()) return;
  const size_t used = in_.position() - header.start;
  if (used > header.size) {
    fail(field, "tagged field " + std::to_string(header.tag) + " read " + std::to_string(used) +
                    " bytes but its size is " + std::to_string(header.size));
    return;
  }
  in_.skip(header.size - used);
}

void Reader::unknown_tagged_field(const TaggedFieldHeader& header, std::vector<RawTaggedField>& out) {
  if (!ok()) return;
  // Tags must ascend (Kafka's rule); a duplicate or out-of-order unknown tag could not be re-encoded as sent.
  if (!out.empty() && header.tag <= out.back().tag) {
    fail("tagged fields", "tag " + std::to_string(header.tag) + " follows tag " + std::to_string(out.back().tag) +
                              " (tags must be strictly ascending)");
    return;
  }
  ByteSpan b = in_.raw(header.size);
  out.push_back(RawTaggedField{header.tag, Bytes(b.begin(), b.end())});
}

void Reader::tagged_fields(const char* field, std::vector<RawTaggedField>& out) {
  const uint32_t n = tagged_field_count(field);
  for (uint32_t i = 0; i < n && ok(); ++i) {
    TaggedFieldHeader h = tagged_field_header(field);
    unknown_tagged_field(h, out);
  }
}

// ---- Writer

void Writer::fail(const char* field, std::string reason) {
  if (error_field_ != nullptr) return;
  error_field_ = field != nullptr ? field : "?";
  error_reason_ = std::move(reason);
}

void Writer::unsupported_field(const char* field, int16_t version) {
  fail(field, "has a non-default value but does not exist in version " + std::to_string(version));
}

void Writer::absorb(const Writer& other) {
  if (!other.ok()) fail(other.error_field_, other.error_reason_);
}

Status Writer::status(std::string_view what) const {
  if (ok()) return ok_status();
  return Error::invalid_argument("cannot encode " + std::string(what) + ": " +
                                         std::string(error_field_) + ": " + error_reason_);
}

void Writer::uuid(const Uuid& v) {
  std::byte tmp[16];
  for (size_t i = 0; i < 16; ++i) tmp[i] = std::byte(v.bytes[i]);
  w_.raw(ByteSpan(tmp, 16));
}

void Writer::string(std::string_view v, const char* field) {
  if (v.size() > kMaxStringLength) {
    fail(field, "string of " + std::to_string(v.size()) + " bytes exceeds 32767");
    return;
  }
  if (flexible_) {
    w_.uvarint(uint64_t(v.size()) + 1);
  } else {
    w_.i16(int16_t(v.size()));
  }
  w_.raw(v);
}

void Writer::nullable_string(const std::optional<std::string>& v, bool nullable, const char* field) {
  if (v.has_value()) {
    string(*v, field);
    return;
  }
  if (!nullable) {
    fail(field, "null in a version where the field is not nullable");
    return;
  }
  if (flexible_) {
    w_.uvarint(0);
  } else {
    w_.i16(-1);
  }
}

void Writer::bytes(ByteSpan v, const char* field) {
  if (v.size() > size_t(std::numeric_limits<int32_t>::max() - 1)) {
    fail(field, "bytes value too long");
    return;
  }
  if (flexible_) {
    w_.uvarint(uint64_t(v.size()) + 1);
  } else {
    w_.i32(int32_t(v.size()));
  }
  w_.raw(v);
}

bool Writer::external_record_field(size_t length_of_value, const char* field) {
  const size_t ordinal = records_written_++;
  if (external_ == nullptr || next_external_ >= external_->fields.size() ||
      external_->fields[next_external_].ordinal != ordinal) {
    return false;
  }
  ExternalRecords::Field& f = external_->fields[next_external_++];
  if (length_of_value != 0) {
    fail(field, "an external records field also holds " + std::to_string(length_of_value) + " bytes");
  } else if (f.length > uint64_t(std::numeric_limits<int32_t>::max() - 1)) {
    fail(field, "external records of " + std::to_string(f.length) + " bytes are too long");
  } else if (flexible_) {
    w_.uvarint(f.length + 1);
  } else {
    w_.i32(int32_t(f.length));
  }
  f.position = out_.size();
  return true;
}

void Writer::finish_external() {
  if (external_ == nullptr || next_external_ == external_->fields.size()) return;
  fail("records", "external records field " + std::to_string(external_->fields[next_external_].ordinal) +
                      " was not written (the message has " + std::to_string(records_written_) +
                      " records fields)");
}

void Writer::records(ByteSpan v, const char* field) {
  if (external_record_field(v.size(), field)) return;
  bytes(v, field);
}

void Writer::nullable_records(const std::optional<Bytes>& v, bool nullable, const char* field) {
  if (external_record_field(v ? v->size() : 0, field)) return;
  nullable_bytes(v, nullable, field);
}

void Writer::nullable_bytes(const std::optional<Bytes>& v, bool nullable, const char* field) {
  if (v.has_value()) {
    bytes(*v, field);
    return;
  }
  if (!nullable) {
    fail(field, "null in a version where the field is not nullable");
    return;
  }
  if (flexible_) {
    w_.uvarint(0);
  } else {
    w_.i32(-1);
  }
}

void Writer::array_length(size_t n, const char* field) {
  if (n > size_t(std::numeric_limits<int32_t>::max() - 1)) {
    fail(field, "array too long");
    return;
  }
  if (flexible_) {
    w_.uvarint(uint64_t(n) + 1);
  } else {
    w_.i32(int32_t(n));
  }
}

void Writer::null_array(bool nullable, const char* field) {
  if (!nullable) {
    fail(field, "null array in a version where the field is not nullable");
    return;
  }
  if (flexible_) {
    w_.uvarint(0);
  } else {
    w_.i32(-1);
  }
}

void Writer::struct_marker(bool present, bool nullable, const char* field) {
  if (!nullable) {
    if (!present) fail(field, "null struct in a version where the field is not nullable");
    return;
  }
  w_.i8(present ? 1 : -1);
}

namespace {

void write_tagged_entry(ByteWriter& w, const RawTaggedField& f) {
  w.uvarint(f.tag);
  w.uvarint(f.data.size());
  w.raw(f.data);
}

}  // namespace

void Writer::tagged_fields(const std::vector<RawTaggedField>& unknown) {
  w_.uvarint(unknown.size());
  if (unknown.empty()) return;
  std::vector<const RawTaggedField*> sorted;
  sorted.reserve(unknown.size());
  for (const auto& f : unknown) sorted.push_back(&f);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const RawTaggedField* a, const RawTaggedField* b) { return a->tag < b->tag; });
  for (const RawTaggedField* f : sorted) write_tagged_entry(w_, *f);
}

// ---- TaggedFieldWriter

void TaggedFieldWriter::close_current() {
  if (current_) {
    parent_.absorb(*current_);
    current_.reset();
  }
}

Writer& TaggedFieldWriter::add(uint32_t tag) {
  close_current();
  fields_.push_back(RawTaggedField{tag, {}});
  current_ = std::make_unique<Writer>(fields_.back().data, parent_.flexible());
  return *current_;
}

void TaggedFieldWriter::finish(const std::vector<RawTaggedField>& unknown) {
  close_current();
  if (fields_.empty()) {
    parent_.tagged_fields(unknown);
    return;
  }
  std::vector<RawTaggedField> all = std::move(fields_);
  all.insert(all.end(), unknown.begin(), unknown.end());
  std::stable_sort(all.begin(), all.end(),
                   [](const RawTaggedField& a, const RawTaggedField& b) { return a.tag < b.tag; });
  // Known fields came first and the sort is stable, so a known field precedes an unknown duplicate.
  Bytes section;
  ByteWriter w(section);
  w.uvarint(all.size());
  for (const auto& f : all) write_tagged_entry(w, f);
  parent_.raw(section);
}

}  // namespace streamctl::kafka::protocol
