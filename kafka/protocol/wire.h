// Reader and Writer: the Kafka protocol's primitive types on top of base/coding.h.
//
// The generated message codecs (produce.h, fetch.h, ...) call only these classes, so every rule about
// *how* a value is laid out lives here: a Reader/Writer is created for one message version and knows
// whether that version is "flexible" (KIP-482). In flexible versions strings, bytes and arrays use
// compact encodings (unsigned varint length + 1, 0 = null) and every struct ends with a tagged-field
// section; in classic versions lengths are int16 (strings) or int32 (bytes, arrays), -1 = null.
//
// Hostile input: a Reader never allocates what a frame merely claims. An array count must be <= the
// remaining bytes (every element takes at least one byte), string/bytes lengths must fit in the
// remaining bytes, and negative lengths other than -1 (null, where the version allows it) fail.
// Failure is sticky: after the first error every read returns a zero value, loops stop (callers test
// ok()), and status() names the first field that failed, the reason and the byte position.
// A Writer records an error (instead of writing garbage) when a value cannot be represented in its
// version: null in a non-nullable version, a string longer than 32767 bytes, a non-default value of a
// non-ignorable field the version lacks.
// Thread-compatible; a Reader views a caller-owned buffer that must outlive it, a Writer appends to a
// caller-owned vector.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/result.h"

namespace streamctl::kafka::protocol {

// Kafka's 128-bit UUID (topic ids). Wire form: 16 bytes, most significant first.
struct Uuid {
  std::array<uint8_t, 16> bytes{};

  bool is_zero() const;
  // Kafka's text form: URL-safe base64 without padding (22 characters), e.g. "AAAAAAAAAAAAAAAAAAAAAA".
  std::string to_string() const;
  // Parses the text form; kInvalidArgument unless it is 22 base64url characters encoding 16 bytes.
  static Result<Uuid> from_string(std::string_view text);

  bool operator==(const Uuid&) const = default;
};

// A tagged field this codec does not know. Kept so that re-encoding a decoded message reproduces it.
struct RawTaggedField {
  uint32_t tag = 0;
  Bytes data;

  bool operator==(const RawTaggedField&) const = default;
};

// Tag number and size of one entry of a tagged-field section (see Reader::tagged_field_header).
struct TaggedFieldHeader {
  uint32_t tag = 0;
  uint32_t size = 0;
  size_t start = 0;  // reader position of the value's first byte
};

// Longest string a Kafka string can carry (int16 length, and the same limit in compact form).
inline constexpr size_t kMaxStringLength = 0x7fff;

class Reader {
 public:
  // `in` must outlive the reader. `flexible` selects compact encodings and tagged-field sections.
  Reader(ByteSpan in, bool flexible) : in_(in), flexible_(flexible) {}

  bool flexible() const { return flexible_; }
  bool ok() const { return in_.ok() && error_field_ == nullptr; }
  size_t position() const { return in_.position(); }
  size_t remaining() const { return ok() ? in_.remaining() : 0; }
  bool at_end() const { return in_.at_end(); }

  // Every read takes the name of the field being read (a string literal, "Struct.member"), used only
  // in the error message if this read is the first to fail.
  bool boolean(const char* field) { return uint8(field) != 0; }
  uint8_t uint8(const char* field);
  int8_t int8(const char* field) { return int8_t(uint8(field)); }
  int16_t int16(const char* field);
  uint16_t uint16(const char* field) { return uint16_t(int16(field)); }
  int32_t int32(const char* field);
  uint32_t uint32(const char* field) { return uint32_t(int32(field)); }
  int64_t int64(const char* field);
  double float64(const char* field);
  Uuid uuid(const char* field);
  // Zigzag varint (must fit 32 bits) / varlong.
  int32_t varint(const char* field);
  int64_t varlong(const char* field);
  // Unsigned LEB128 limited to 32 bits (Kafka's readUnsignedVarint).
  uint32_t uvarint(const char* field);

  // Strings and bytes: int16/int32 length in classic versions, uvarint(length + 1) in flexible ones.
  // The plain forms fail on null; the nullable forms accept null only when `nullable` (the version's
  // nullableVersions) is true.
  std::string string(const char* field);
  std::optional<std::string> nullable_string(const char* field, bool nullable);
  Bytes bytes(const char* field);
  std::optional<Bytes> nullable_bytes(const char* field, bool nullable);

  // Array element count: int32 in classic versions, uvarint(count + 1) in flexible ones.
  // array_length fails on null; nullable_array_length returns -1 for null (if `nullable`).
  // The count is always <= remaining(), so a loop over it is bounded by the frame size.
  size_t array_length(const char* field);
  int64_t nullable_array_length(const char* field, bool nullable);
  // The int8 presence marker of a nullable struct field (-1 = null): true if the struct follows.
  // Versions where the field is not nullable have no marker (`nullable` false): returns ok().
  bool struct_present(const char* field, bool nullable);

  // Tagged-field section (flexible versions only): uvarint count, then {uvarint tag, uvarint size,
  // value}. Generated code reads the count, then each header, then either reads a known field and calls
  // end_tagged_field, or stores the entry with unknown_tagged_field.
  uint32_t tagged_field_count(const char* field);
  TaggedFieldHeader tagged_field_header(const char* field);
  // Checks that the known field did not read past its size and skips any bytes it did not read.
  void end_tagged_field(const TaggedFieldHeader& header, const char* field);
  void unknown_tagged_field(const TaggedFieldHeader& header, std::vector<RawTaggedField>& out);
  // A whole section for a struct with no known tagged fields.
  void tagged_fields(const char* field, std::vector<RawTaggedField>& out);

  // Records the first error (later ones are ignored) and makes the reader fail.
  void fail(const char* field, std::string reason);
  // OK, or kCorruption "malformed <what>: <field>: <reason> (at byte N)".
  Status status(std::string_view what) const;

 private:
  bool need(size_t n, const char* field);
  // Reads a length prefix; -1 means null. Validates against remaining bytes.
  int64_t length(const char* field, bool is_string, bool nullable);

  ByteReader in_;
  bool flexible_;
  const char* error_field_ = nullptr;
  std::string error_reason_;
  size_t error_position_ = 0;
};

// Records fields an encoding leaves out, for a caller that sends their bytes from elsewhere (Fetch sends
// segment bytes with sendfile). Fields are named by their order among the records-type fields the message
// writes (0 = the first; in a FetchResponse, one per partition in response order). For each, the Writer
// writes the length prefix of `length` bytes and no bytes, and sets `position` to the output offset where
// those bytes belong; the field's own value must be empty. Encoding fails when a listed field is never
// written. The output is then not a message by itself: the caller inserts the bytes at the positions.
struct ExternalRecords {
  struct Field {
    size_t ordinal = 0;    // in: which records field (strictly ascending across `fields`)
    uint64_t length = 0;   // in: its length in bytes
    size_t position = 0;   // out: offset in the output buffer where its bytes go
  };
  std::vector<Field> fields;
};

class Writer {
 public:
  // Appends to `out`, which must outlive the writer.
  Writer(Bytes& out, bool flexible) : out_(out), w_(out), flexible_(flexible) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  bool flexible() const { return flexible_; }
  bool ok() const { return error_field_ == nullptr; }
  size_t size() const { return out_.size(); }

  void boolean(bool v) { w_.i8(v ? 1 : 0); }
  void int8(int8_t v) { w_.i8(v); }
  void int16(int16_t v) { w_.i16(v); }
  void uint16(uint16_t v) { w_.be16(v); }
  void int32(int32_t v) { w_.i32(v); }
  void uint32(uint32_t v) { w_.u32(v); }
  void int64(int64_t v) { w_.i64(v); }
  void float64(double v) { w_.f64(v); }
  void uuid(const Uuid& v);
  void varint(int32_t v) { w_.varint(v); }
  void varlong(int64_t v) { w_.varlong(v); }
  void uvarint(uint32_t v) { w_.uvarint(v); }

  void string(std::string_view v, const char* field);
  // Null is an error unless `nullable` (the version's nullableVersions).
  void nullable_string(const std::optional<std::string>& v, bool nullable, const char* field);
  void bytes(ByteSpan v, const char* field);
  void nullable_bytes(const std::optional<Bytes>& v, bool nullable, const char* field);
  // A records-type field: bytes(), or the length prefix alone for a field listed as external.
  void records(ByteSpan v, const char* field);
  void nullable_records(const std::optional<Bytes>& v, bool nullable, const char* field);
  // Leaves the records fields listed in `external` out of the output (see ExternalRecords); must outlive the
  // writer. finish_external() then fails the encoding if any of them was not written.
  void set_external_records(ExternalRecords* external) { external_ = external; }
  void finish_external();
  void array_length(size_t n, const char* field);
  void null_array(bool nullable, const char* field);
  // Writes the int8 presence marker of a nullable struct (1 present, -1 null); null is an error unless
  // `nullable`, and in versions where the field is not nullable no marker is written.
  void struct_marker(bool present, bool nullable, const char* field);

  // A tagged-field section holding only the given (unknown, preserved) fields, ascending by tag.
  void tagged_fields(const std::vector<RawTaggedField>& unknown);

  // Raw bytes (for the frame layer: headers, size prefixes).
  void raw(ByteSpan v) { w_.raw(v); }

  // Records the first encoding error (the output is then unusable).
  void fail(const char* field, std::string reason);
  // The field cannot be represented at `version` (a non-ignorable field the version lacks).
  void unsupported_field(const char* field, int16_t version);
  // Adopts another writer's error (tagged-field value writers).
  void absorb(const Writer& other);
  // OK, or kInvalidArgument "cannot encode <what>: <field>: <reason>".
  Status status(std::string_view what) const;

 private:
  // True (prefix written) when the next records field is external.
  bool external_record_field(size_t length_of_value, const char* field);

  Bytes& out_;
  ByteWriter w_;
  bool flexible_;
  const char* error_field_ = nullptr;
  std::string error_reason_;
  ExternalRecords* external_ = nullptr;
  size_t records_written_ = 0;  // records fields written so far (the next one's ordinal)
  size_t next_external_ = 0;    // index in external_->fields of the next external field
};

// Collects the known tagged fields of one struct, then writes the whole section merged with the
// struct's preserved unknown fields, ascending by tag (Kafka's order).
class TaggedFieldWriter {
 public:
  explicit TaggedFieldWriter(Writer& parent) : parent_(parent) {}
  TaggedFieldWriter(const TaggedFieldWriter&) = delete;
  TaggedFieldWriter& operator=(const TaggedFieldWriter&) = delete;

  // A writer for the value of `tag`; valid until the next add() or finish(). Known fields must be added
  // in ascending tag order.
  Writer& add(uint32_t tag);
  void finish(const std::vector<RawTaggedField>& unknown);

 private:
  void close_current();

  Writer& parent_;
  std::vector<RawTaggedField> fields_;
  std::unique_ptr<Writer> current_;
};

// Decodes a whole message body at `version`. kNotSupported if the version is outside the generated
// range, kCorruption if the bytes are malformed or not fully consumed.
template <typename Message>
Result<Message> decode_message(ByteSpan body, int16_t version) {
  if (version < Message::kMinVersion || version > Message::kMaxVersion) {
    return Error::not_supported(std::string(Message::kName) + " v" + std::to_string(version) +
                                        " is not supported (codec handles v" +
                                        std::to_string(Message::kMinVersion) + "-" +
                                        std::to_string(Message::kMaxVersion) + ")");
  }
  Reader r(body, Message::is_flexible(version));
  Message m;
  m.decode(r, version);
  if (r.ok() && !r.at_end()) {
    r.fail(Message::kName, std::to_string(body.size() - r.position()) + " trailing bytes");
  }
  auto st = r.status(std::string(Message::kName) + " v" + std::to_string(version));
  if (!st.ok()) return std::move(st).error();
  return m;
}

// Appends the encoding of `m` at `version` to `out`, leaving out the records fields listed in `external`
// (nullptr: none; see ExternalRecords). On error `out` is left as it was.
template <typename Message>
Status encode_message(const Message& m, int16_t version, Bytes& out,
                              ExternalRecords* external = nullptr) {
  if (version < Message::kMinVersion || version > Message::kMaxVersion) {
    return Error::not_supported(std::string(Message::kName) + " v" + std::to_string(version) +
                                        " is not supported by the codec");
  }
  const size_t mark = out.size();
  Writer w(out, Message::is_flexible(version));
  w.set_external_records(external);
  m.encode(w, version);
  w.finish_external();
  auto st = w.status(std::string(Message::kName) + " v" + std::to_string(version));
  if (!st.ok()) out.resize(mark);
  return st;
}

}  // namespace streamctl::kafka::protocol
