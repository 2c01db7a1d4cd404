// RecordBatch v2: header parsing and validation, building (the embedded produce hot path), record decoding
// and iteration over consecutive batches. The byte table is in record_batch.h.
//
// build_batch computes the exact size first and then writes every field straight into one buffer (one
// allocation per batch, none per record). Decoders never trust a length: every varint and length is
// bounds-checked through ByteReader, and arithmetic on untrusted offsets/timestamps wraps instead of
// overflowing (signed overflow would be undefined behaviour).
#include "kafka/format/record_batch.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>

#include "kafka/format/compression.h"
#include "base/crc32c.h"

namespace streamctl {
namespace {

// Smallest encoding of one record: length, attributes, timestampDelta, offsetDelta, keyLength,
// valueLength, headerCount, one byte each.
constexpr size_t kMinRecordSize = 7;
constexpr int16_t kCompressionMask = 0x07;
constexpr int16_t kTimestampTypeBit = 0x08;
// What RecordReader::next found wrong with a nullable field (see RecordReader::bad_field).
constexpr int kMalformedField = 1;
constexpr int kBadFieldLength = 2;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

std::string batch_prefix(int64_t base_offset) {
  return "record batch at base offset " + std::to_string(base_offset) + ": ";
}

int64_t wrapping_add(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }

// Writes fields at a cursor inside a buffer sized in advance (the caller computed the exact size).
class FieldWriter {
 public:
  explicit FieldWriter(std::byte* p) : p_(p) {}
  void i8(int8_t v) { *p_++ = std::byte(v); }
  void i16(int16_t v) {
    put_be16(p_, uint16_t(v));
    p_ += 2;
  }
  void i32(int32_t v) {
    put_be32(p_, uint32_t(v));
    p_ += 4;
  }
  void i64(int64_t v) {
    put_be64(p_, uint64_t(v));
    p_ += 8;
  }
  void varint(int64_t v) { p_ += put_uvarint(p_, zigzag64(v)); }
  void raw(std::string_view s) {
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  // A nullable byte string: varint length (-1 for null) then the bytes.
  void nullable(std::optional<std::string_view> s) {
    if (!s) {
      varint(-1);
      return;
    }
    varint(int64_t(s->size()));
    raw(*s);
  }
  void nullable(const std::optional<std::string>& s) {
    if (!s) {
      varint(-1);
      return;
    }
    varint(int64_t(s->size()));
    raw(*s);
  }
  std::byte* position() const { return p_; }

 private:
  std::byte* p_;
};

size_t nullable_size(const std::optional<std::string>& s) {
  return s ? varint_size(int64_t(s->size())) + s->size() : 1;
}

size_t nullable_size(std::optional<std::string_view> s) {
  return s ? varint_size(int64_t(s->size())) + s->size() : 1;
}

// Size of a record after its length prefix.
size_t record_body_size(const Record& r, int64_t timestamp_delta, int32_t offset_delta) {
  size_t n = 1 + varint_size(timestamp_delta) + varint_size(offset_delta) + nullable_size(r.key) +
             nullable_size(r.value) + varint_size(int64_t(r.headers.size()));
  for (const RecordHeader& h : r.headers) {
    n += varint_size(int64_t(h.key.size())) + h.key.size() + nullable_size(h.value);
  }
  return n;
}

void write_header(FieldWriter& w, Offset base, int32_t batch_length, const BatchBuildOptions& options,
                  int16_t attributes, int32_t last_offset_delta, Timestamp base_timestamp,
                  Timestamp max_timestamp, int32_t record_count) {
  w.i64(base.value);
  w.i32(batch_length);
  w.i32(options.leader_epoch);
  w.i8(kMagicV2);
  w.i32(0);  // crc, patched once the batch is complete
  w.i16(attributes);
  w.i32(last_offset_delta);
  w.i64(base_timestamp.value);
  w.i64(max_timestamp.value);
  w.i64(options.producer_id);
  w.i16(options.producer_epoch);
  w.i32(options.base_sequence);
  w.i32(record_count);
}

// The checks that decide where the batch ends (and so what the CRC covers): size, magic, batchLength.
// `bytes` is the whole batch.
Result<RecordBatchHeader> check_framing(ByteSpan bytes) {
  if (bytes.size() < kLogOverhead) {
    return Error::corruption("record batch of " + std::to_string(bytes.size()) +
                             " bytes is shorter than its baseOffset and batchLength fields (12 bytes)");
  }
  const std::string prefix = batch_prefix(int64_t(get_be64(bytes.data())));
  if (bytes.size() > kMagicOffset) {
    int8_t magic = int8_t(bytes[kMagicOffset]);
    if (magic == 0 || magic == 1) {
      return Error::not_supported(prefix + "magic is " + std::to_string(magic) +
                                  ", expected 2 (the legacy message format v0/v1 is not supported)");
    }
    if (magic != kMagicV2) {
      return Error::corruption(prefix + "magic is " + std::to_string(magic) + ", expected 2");
    }
  }
  const int32_t batch_length = int32_t(get_be32(bytes.data() + kBatchLengthOffset));
  if (batch_length < kMinBatchLength) {
    return Error::corruption(prefix + "batchLength is " + std::to_string(batch_length) + ", expected >= " +
                             std::to_string(kMinBatchLength) + " (the batch header)");
  }
  if (kLogOverhead + size_t(batch_length) != bytes.size()) {
    return Error::corruption(prefix + "batchLength is " + std::to_string(batch_length) + ", expected " +
                             std::to_string(bytes.size() - kLogOverhead) + " (the batch spans " +
                             std::to_string(bytes.size()) + " bytes)");
  }
  // From here on bytes.size() >= kBatchHeaderSize.
  return parse_batch_header(bytes);
}

// The checks of header fields inside the CRC'd range (run after the CRC when it is verified, so that a
// flipped bit is reported as a CRC mismatch rather than as a strange field value).
Status check_fields(const RecordBatchHeader& h) {
  const std::string prefix = batch_prefix(h.base_offset.value);
  if (h.record_count < 0) {
    return Error::corruption(prefix + "recordCount is " + std::to_string(h.record_count) + ", expected >= 0");
  }
  if (h.last_offset_delta < 0) {
    return Error::corruption(prefix + "lastOffsetDelta is " + std::to_string(h.last_offset_delta) +
                             ", expected >= 0");
  }
  if (int64_t(h.record_count) > int64_t(h.last_offset_delta) + 1) {
    return Error::corruption(prefix + "recordCount is " + std::to_string(h.record_count) + ", expected <= " +
                             std::to_string(int64_t(h.last_offset_delta) + 1) + " (lastOffsetDelta + 1)");
  }
  int codec = h.attributes & kCompressionMask;
  if (codec > int(Compression::kZstd)) {
    return Error::not_supported(prefix + "compression codec id in attributes is " + std::to_string(codec) +
                                ", expected 0..4 (none, gzip, snappy, lz4, zstd)");
  }
  return ok_status();
}

}  // namespace

Result<RecordBatchHeader> check_batch_structure(ByteSpan bytes) {
  STREAMCTL_ASSIGN_OR_RETURN(RecordBatchHeader h, check_framing(bytes));
  STREAMCTL_TRY(check_fields(h));
  return h;
}

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kSnappy: return "snappy";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

Result<Compression> parse_compression(const std::string& name) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                        Compression::kZstd}) {
    if (name == compression_name(c)) return c;
  }
  return Error::invalid_argument("unknown compression codec '" + name +
                                 "' (expected one of: none, gzip, snappy, lz4, zstd)");
}

RecordBatchHeader parse_batch_header(ByteSpan bytes) {
  ByteReader r(bytes.first(kBatchHeaderSize));
  RecordBatchHeader h;
  h.base_offset = Offset(r.i64());
  h.batch_length = r.i32();
  h.leader_epoch = r.i32();
  h.magic = r.i8();
  h.crc = r.u32();
  h.attributes = r.i16();
  h.last_offset_delta = r.i32();
  h.base_timestamp = Timestamp(r.i64());
  h.max_timestamp = Timestamp(r.i64());
  h.producer_id = r.i64();
  h.producer_epoch = r.i16();
  h.base_sequence = r.i32();
  h.record_count = r.i32();
  return h;
}

Result<RecordBatchHeader> validate_batch(ByteSpan bytes) {
  STREAMCTL_ASSIGN_OR_RETURN(RecordBatchHeader h, check_framing(bytes));
  uint32_t computed = compute_batch_crc(bytes);
  if (computed != h.crc) {
    return Error::corruption(batch_prefix(h.base_offset.value) + "crc mismatch: stored " + hex32(h.crc) +
                             ", computed " + hex32(computed) + " over [21, " + std::to_string(bytes.size()) + ")");
  }
  STREAMCTL_TRY(check_fields(h));
  return h;
}

uint32_t compute_batch_crc(ByteSpan batch) { return crc32c(batch.subspan(kAttributesOffset)); }

void set_batch_base_offset(std::span<std::byte> batch, Offset base) {
  put_be64(batch.data(), uint64_t(base.value));
}

void set_batch_leader_epoch(std::span<std::byte> batch, LeaderEpoch epoch) {
  put_be32(batch.data() + kLeaderEpochOffset, uint32_t(epoch));
}

Result<EncodedBatch> encode_batch_prefix(std::span<const Record> records, Offset base,
                                         const BatchBuildOptions& options, size_t max_batch_bytes, Bytes& buf,
                                         size_t at) {
  if (records.empty()) return Error::invalid_argument("build_batch: a record batch needs at least one record");
  int codec = int(options.compression);
  if (codec < int(Compression::kNone) || codec > int(Compression::kZstd)) {
    return Error::invalid_argument("build_batch: unknown compression codec id " + std::to_string(codec));
  }
  const bool log_append_time = options.timestamp_type == TimestampType::kLogAppendTime;
  const bool fill = options.append_time != kNoTimestamp;
  auto timestamp_of = [&](const Record& r) {
    return fill && (log_append_time || r.timestamp == kNoTimestamp) ? options.append_time : r.timestamp;
  };
  const Timestamp base_timestamp = timestamp_of(records.front());
  Timestamp max_timestamp = base_timestamp;
  // Pass 1: validate, size each record once (kept for pass 2) and find where the prefix ends.
  constexpr size_t kMaxRecordsBytes = size_t(std::numeric_limits<int32_t>::max()) - kBatchHeaderSize;
  constexpr size_t kMaxRecords = size_t(std::numeric_limits<int32_t>::max());
  thread_local std::vector<uint32_t> body_sizes;
  body_sizes.clear();
  size_t records_bytes = 0;
  size_t count = 0;
  for (; count < records.size(); ++count) {
    const Record& r = records[count];
    const Timestamp ts = timestamp_of(r);
    if (ts == kNoTimestamp) {
      return Error::invalid_argument("build_batch: record " + std::to_string(count) +
                                     " has no timestamp (set it or BatchBuildOptions::append_time)");
    }
    int64_t ts_delta = wrapping_add(ts.value, -base_timestamp.value);
    size_t body = record_body_size(r, ts_delta, int32_t(count));
    size_t encoded = varint_size(int64_t(body)) + body;
    if (count > 0 && (kBatchHeaderSize + records_bytes + encoded > max_batch_bytes || count == kMaxRecords)) break;
    records_bytes += encoded;
    if (records_bytes > kMaxRecordsBytes) {
      return Error::record_too_large("build_batch: the records exceed the largest possible batch (" +
                                     std::to_string(kMaxRecordsBytes) + " bytes of records)");
    }
    max_timestamp = std::max(max_timestamp, ts);
    body_sizes.push_back(uint32_t(body));
  }
  int16_t attributes = int16_t(log_append_time ? kTimestampTypeBit : 0);
  const int32_t last_offset_delta = int32_t(count) - 1;

  // Pass 2: write the records, either in place after the header or into a scratch buffer to compress.
  auto write_records = [&](std::byte* p) {
    FieldWriter w(p);
    for (size_t i = 0; i < count; ++i) {
      const Record& r = records[i];
      int64_t ts_delta = wrapping_add(timestamp_of(r).value, -base_timestamp.value);
      w.varint(int64_t(body_sizes[i]));
      w.i8(0);  // record attributes (unused)
      w.varint(ts_delta);
      w.varint(int64_t(i));
      w.nullable(r.key);
      w.nullable(r.value);
      w.varint(int64_t(r.headers.size()));
      for (const RecordHeader& h : r.headers) {
        w.varint(int64_t(h.key.size()));
        w.raw(h.key);
        w.nullable(h.value);
      }
    }
    return w.position();
  };
  auto reserve = [&](size_t n) {
    if (buf.size() < at + n) buf.resize(std::max(at + n, buf.size() + buf.size() / 2));
  };

  size_t size = 0;
  if (options.compression == Compression::kNone) {
    size = kBatchHeaderSize + records_bytes;
    reserve(size);
    std::byte* start = buf.data() + at;
    std::byte* end = write_records(start + kBatchHeaderSize);
    STREAMCTL_CHECK(end == start + size, "build_batch wrote %zu record bytes, sized %zu",
                    size_t(end - start) - kBatchHeaderSize, records_bytes);
  } else {
    Bytes plain(records_bytes);
    std::byte* end = write_records(plain.data());
    STREAMCTL_CHECK(end == plain.data() + plain.size(), "build_batch wrote %zu record bytes, sized %zu",
                    size_t(end - plain.data()), records_bytes);
    STREAMCTL_ASSIGN_OR_RETURN(Bytes packed, compress(options.compression, plain, options.compression_level));
    if (packed.size() > kMaxRecordsBytes) {
      return Error::record_too_large("build_batch: the compressed records exceed the largest possible batch");
    }
    attributes = int16_t(attributes | int16_t(codec));
    size = kBatchHeaderSize + packed.size();
    reserve(size);
    std::memcpy(buf.data() + at + kBatchHeaderSize, packed.data(), packed.size());
  }
  std::span<std::byte> batch(buf.data() + at, size);
  FieldWriter header(batch.data());
  write_header(header, base, int32_t(size - kLogOverhead), options, attributes, last_offset_delta, base_timestamp,
               max_timestamp, int32_t(count));
  put_be32(batch.data() + kCrcOffset, compute_batch_crc(batch));
  return EncodedBatch{size, count, max_timestamp};
}

BatchBuilder::BatchBuilder(const BatchBuildOptions& options, size_t max_batch_bytes)
    : options_(options), max_batch_bytes_(max_batch_bytes) {
  STREAMCTL_CHECK(options.compression == Compression::kNone, "BatchBuilder builds uncompressed batches only");
}

void BatchBuilder::add(std::optional<std::string_view> key, std::optional<std::string_view> value,
                       std::span<const RecordHeader> headers, Timestamp timestamp) {
  // encode_batch_prefix's limit: a record joins the open batch only while header + records fit.
  auto body_size = [&](int64_t ts_delta, int32_t offset_delta) {
    size_t n = 1 + varint_size(ts_delta) + varint_size(offset_delta) + nullable_size(key) + nullable_size(value) +
               varint_size(int64_t(headers.size()));
    for (const RecordHeader& h : headers) {
      n += varint_size(int64_t(h.key.size())) + h.key.size() + nullable_size(h.value);
    }
    return n;
  };
  if (open_records_ > 0) {
    const int64_t ts_delta = wrapping_add(timestamp.value, -base_timestamp_.value);
    const size_t body = body_size(ts_delta, int32_t(open_records_));
    const size_t grown = end_ - sealed_ + varint_size(int64_t(body)) + body;
    if (grown > max_batch_bytes_ || open_records_ == size_t(std::numeric_limits<int32_t>::max())) seal();
  }
  if (open_records_ == 0) {
    base_timestamp_ = timestamp;
    max_timestamp_ = timestamp;
    end_ = sealed_ + kBatchHeaderSize;
  }
  const int64_t ts_delta = wrapping_add(timestamp.value, -base_timestamp_.value);
  const size_t body = body_size(ts_delta, int32_t(open_records_));
  const size_t need = end_ + varint_size(int64_t(body)) + body;
  if (buf_.size() < need) buf_.resize(std::max({need, buf_.size() + buf_.size() / 2, buf_.capacity()}));
  FieldWriter w(buf_.data() + end_);
  w.varint(int64_t(body));
  w.i8(0);  // record attributes (unused)
  w.varint(ts_delta);
  w.varint(int64_t(open_records_));
  w.nullable(key);
  w.nullable(value);
  w.varint(int64_t(headers.size()));
  for (const RecordHeader& h : headers) {
    w.varint(int64_t(h.key.size()));
    w.raw(h.key);
    w.nullable(h.value);
  }
  end_ = size_t(w.position() - buf_.data());
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  ++open_records_;
  ++records_;
}

void BatchBuilder::seal() {
  if (open_records_ == 0) return;
  std::span<std::byte> batch(buf_.data() + sealed_, end_ - sealed_);
  const int16_t attributes =
      int16_t(options_.timestamp_type == TimestampType::kLogAppendTime ? kTimestampTypeBit : 0);
  FieldWriter header(batch.data());
  write_header(header, Offset(0), int32_t(batch.size() - kLogOverhead), options_, attributes,
               int32_t(open_records_ - 1), base_timestamp_, max_timestamp_, int32_t(open_records_));
  put_be32(batch.data() + kCrcOffset, compute_batch_crc(batch));
  sealed_ = end_;
  open_records_ = 0;
}

void BatchBuilder::clear() {
  sealed_ = 0;
  end_ = 0;
  records_ = 0;
  open_records_ = 0;
}

Result<Bytes> build_batch(std::span<const Record> records, Offset base, const BatchBuildOptions& options) {
  if (records.size() > size_t(std::numeric_limits<int32_t>::max())) {
    return Error::record_too_large("build_batch: " + std::to_string(records.size()) +
                                   " records do not fit one batch (recordCount is an int32)");
  }
  Bytes out;
  STREAMCTL_ASSIGN_OR_RETURN(EncodedBatch e, encode_batch_prefix(records, base, options,
                                                                 std::numeric_limits<size_t>::max(), out, 0));
  if (e.records != records.size()) {
    return Error::record_too_large("build_batch: the records exceed the largest possible batch (" +
                                   std::to_string(std::numeric_limits<int32_t>::max()) + " bytes)");
  }
  out.resize(e.bytes);
  return out;
}

size_t encoded_record_size(const Record& record, int64_t timestamp_delta, int32_t offset_delta) {
  size_t body = record_body_size(record, timestamp_delta, offset_delta);
  return varint_size(int64_t(body)) + body;
}

Result<RecordReader> RecordReader::open(ByteSpan batch, size_t max_decompressed_bytes) {
  STREAMCTL_ASSIGN_OR_RETURN(RecordBatchHeader h, check_batch_structure(batch));
  RecordReader reader;
  reader.header_ = h;
  reader.log_append_time_ = h.timestamp_type() == TimestampType::kLogAppendTime;
  ByteSpan section = batch.subspan(kBatchHeaderSize);
  if (h.compression() != Compression::kNone) {
    auto d = decompress(h.compression(), section, max_decompressed_bytes);
    if (!d.ok()) return Error{d.error().code, batch_prefix(h.base_offset.value) + "records section: " + d.error().message};
    reader.decompressed_ = std::make_unique<Bytes>(std::move(d).value());
    section = *reader.decompressed_;
  }
  reader.cur_ = section.data();
  reader.end_ = section.data() + section.size();
  return reader;
}

Error RecordReader::bad(const std::string& what) const {
  return Error::corruption(batch_prefix(header_.base_offset.value) + "record " + std::to_string(index_) + " (of " +
                           std::to_string(header_.record_count) + "): " + what);
}

Error RecordReader::bad_field(const char* field, int what, int32_t n, size_t left) const {
  if (what == kMalformedField) return bad(std::string("malformed ") + field + " length");
  if (n < -1) return bad(std::string(field) + " length is " + std::to_string(n) + ", expected >= -1");
  return bad(std::string(field) + " length is " + std::to_string(n) + ", but the record has only " +
             std::to_string(left) + " bytes left");
}

Error RecordReader::bad_end() const {
  if (index_ >= header_.record_count) {
    return Error::corruption(batch_prefix(header_.base_offset.value) + std::to_string(end_ - cur_) +
                             " bytes follow the last of " + std::to_string(header_.record_count) + " records");
  }
  return Error::corruption(batch_prefix(header_.base_offset.value) + "recordCount is " +
                           std::to_string(header_.record_count) + ", but the records section holds only " +
                           std::to_string(index_) + " records");
}

namespace {

// Unsigned LEB128 at p, never reading at or past end: ByteReader::uvarint's rules (at most 10 bytes, no
// 64-bit overflow), one byte at a time. Advances p and returns true, or returns false (p unspecified).
[[gnu::noinline]] bool uvarint_slow(const std::byte*& p, const std::byte* end, uint64_t& out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p == end) return false;
    const uint8_t b = uint8_t(*p++);
    if (shift == 63 && b > 1) return false;
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      out = v;
      return true;
    }
  }
  return false;
}

// The same, with the one- and two-byte encodings (every length, delta and count of a typical record) inline.
[[gnu::always_inline]] inline bool uvarint_at(const std::byte*& p, const std::byte* end, uint64_t& out) {
  if (p != end) {
    const uint8_t b0 = uint8_t(p[0]);
    if (b0 < 0x80) {
      out = b0;
      p += 1;
      return true;
    }
    if (end - p >= 2 && uint8_t(p[1]) < 0x80) {
      out = uint64_t(b0 & 0x7f) | (uint64_t(uint8_t(p[1])) << 7);
      p += 2;
      return true;
    }
  }
  return uvarint_slow(p, end, out);
}

// Kafka varint (zigzag, must fit 32 bits), as ByteReader::varint.
[[gnu::always_inline]] inline bool varint_at(const std::byte*& p, const std::byte* end, int32_t& out) {
  uint64_t u;
  if (!uvarint_at(p, end, u) || u > 0xffffffffull) return false;
  out = unzigzag32(uint32_t(u));
  return true;
}

// Kafka varlong (zigzag, 64 bits), as ByteReader::varlong.
[[gnu::always_inline]] inline bool varlong_at(const std::byte*& p, const std::byte* end, int64_t& out) {
  uint64_t u;
  if (!uvarint_at(p, end, u)) return false;
  out = unzigzag64(u);
  return true;
}

// A nullable string field of a record ending at `end`: varint length (-1 = null), then the bytes, viewed in
// place. 0 when good; otherwise kMalformedField, or kBadFieldLength with the length in *bad_n and the bytes
// that were left in *bad_left.
[[gnu::always_inline]] inline int nullable_at(const std::byte*& p, const std::byte* end,
                                              std::optional<std::string_view>& dst, int32_t& bad_n,
                                              size_t& bad_left) {
  int32_t n;
  if (!varint_at(p, end, n)) return kMalformedField;
  if (n >= 0 && size_t(n) <= size_t(end - p)) {
    dst.emplace(reinterpret_cast<const char*>(p), size_t(n));
    p += n;
    return 0;
  }
  if (n == -1) {
    dst.reset();
    return 0;
  }
  bad_n = n;
  bad_left = size_t(end - p);
  return kBadFieldLength;
}

// Unsigned LEB128 of one or two bytes (values < 2^14: every length, delta and count of a record of less than
// 8 KiB), with no bounds check: REQUIRES 2 readable bytes at p. False (p unchanged) for a longer encoding.
[[gnu::always_inline]] inline bool uvarint2_unchecked(const std::byte*& p, uint32_t& out) {
  const uint32_t w = uint32_t(uint8_t(p[0])) | (uint32_t(uint8_t(p[1])) << 8);
  if (!(w & 0x80)) {
    out = w & 0x7f;
    p += 1;
    return true;
  }
  if (!(w & 0x8000)) {
    out = (w & 0x7f) | ((w >> 1) & 0x3f80);
    p += 2;
    return true;
  }
  return false;
}

}  // namespace

// The common case of next(): a well-formed record of less than 8 KiB whose varints take at most 2 bytes
// (timestampDelta within +-8 s of the batch's first timestamp) and that has no headers. Reads never pass
// end_ (the records section): each group of unchecked varint reads is preceded by one check that the section
// holds the bytes they may touch, and the record's own end is checked after each group. Lengths and deltas
// that must not be negative are tested on the zigzag form (odd = negative) instead of being decoded.
// Anything unusual (a longer varint, headers, a negative or too large length or delta, the last few bytes of
// the section) returns false with nothing changed, and next() decodes the record the careful way, which
// also words the error.
[[gnu::always_inline]] inline bool RecordReader::next_fast(RecordView& rec) {
  const std::byte* p = cur_;
  // length (2) + attributes (1) + timestampDelta (2) + offsetDelta (2) + keyLength (2)
  if (end_ - p < 9) return false;
  uint32_t length_z, ts_z, delta_z, key_z;
  if (!uvarint2_unchecked(p, length_z) || (length_z & 1) || size_t(length_z >> 1) > size_t(end_ - p)) return false;
  const std::byte* const end = p + (length_z >> 1);
  ++p;  // attributes (unused)
  if (!uvarint2_unchecked(p, ts_z) || !uvarint2_unchecked(p, delta_z) || !uvarint2_unchecked(p, key_z)) return false;
  if (p > end || (delta_z & 1)) return false;
  const int32_t offset_delta = int32_t(delta_z >> 1);
  if (offset_delta <= previous_delta_ || offset_delta > header_.last_offset_delta) return false;
  const std::byte* const key = p;
  if (!(key_z & 1)) {
    if (size_t(key_z >> 1) > size_t(end - p)) return false;
    p += key_z >> 1;
  } else if (key_z != 1) {  // 1 is -1: a null key
    return false;
  }
  // valueLength (2) + headerCount (1)
  if (end_ - p < 3) return false;
  uint32_t value_z;
  if (!uvarint2_unchecked(p, value_z)) return false;
  const std::byte* const value = p;
  if (!(value_z & 1)) {
    if (size_t(value_z >> 1) > size_t(end - p)) return false;
    p += value_z >> 1;
  } else if (value_z != 1) {
    return false;
  }
  // headerCount 0 (one byte) must be the record's last byte.
  if (end - p != 1 || p[0] != std::byte{0}) return false;
  previous_delta_ = offset_delta;
  rec.offset = Offset(wrapping_add(header_.base_offset.value, offset_delta));
  rec.timestamp = log_append_time_ ? header_.max_timestamp
                                   : Timestamp(wrapping_add(header_.base_timestamp.value, unzigzag32(ts_z)));
  if (key_z != 1) {
    rec.key.emplace(reinterpret_cast<const char*>(key), size_t(key_z >> 1));
  } else {
    rec.key.reset();
  }
  if (value_z != 1) {
    rec.value.emplace(reinterpret_cast<const char*>(value), size_t(value_z >> 1));
  } else {
    rec.value.reset();
  }
  rec.headers.clear();
  cur_ = end;
  ++index_;
  return true;
}

Result<bool> RecordReader::next(RecordView& rec) {
  if (index_ < header_.record_count && next_fast(rec)) return true;
  return next_careful(rec);
}

Result<bool> RecordReader::next_careful(RecordView& rec) {
  if (index_ >= header_.record_count || cur_ == end_) {
    if (index_ >= header_.record_count && cur_ == end_) return false;
    return bad_end();
  }
  const std::byte* p = cur_;
  int32_t length;
  if (!varint_at(p, end_, length)) return bad("malformed length varint");
  if (length < 0 || size_t(length) > size_t(end_ - p)) {
    return bad("length is " + std::to_string(length) + ", but " + std::to_string(end_ - p) +
               " bytes remain in the records section");
  }
  const std::byte* const end = p + length;  // this record's end: no field may reach past it
  int64_t ts_delta;
  int32_t offset_delta;
  // attributes (int8, unused), then the two deltas.
  if (p == end || !varlong_at(++p, end, ts_delta) || !varint_at(p, end, offset_delta)) {
    return bad("truncated or malformed timestampDelta/offsetDelta");
  }
  if (offset_delta <= previous_delta_ || offset_delta > header_.last_offset_delta) {
    return bad("offsetDelta is " + std::to_string(offset_delta) + ", expected in (" +
               std::to_string(previous_delta_) + ", " + std::to_string(header_.last_offset_delta) +
               "] (increasing, within lastOffsetDelta)");
  }
  previous_delta_ = offset_delta;
  rec.offset = Offset(wrapping_add(header_.base_offset.value, offset_delta));
  rec.timestamp = log_append_time_ ? header_.max_timestamp : Timestamp(wrapping_add(header_.base_timestamp.value, ts_delta));
  int32_t bad_n = 0;
  size_t bad_left = 0;
  if (int e = nullable_at(p, end, rec.key, bad_n, bad_left)) return bad_field("key", e, bad_n, bad_left);
  if (int e = nullable_at(p, end, rec.value, bad_n, bad_left)) return bad_field("value", e, bad_n, bad_left);
  int32_t header_count;
  if (!varint_at(p, end, header_count)) return bad("malformed header count");
  // Each header takes at least 2 bytes (key length and value length).
  if (header_count < 0 || size_t(header_count) > size_t(end - p) / 2) {
    return bad("header count is " + std::to_string(header_count) + ", but the record has " +
               std::to_string(end - p) + " bytes left");
  }
  rec.headers.clear();
  for (int32_t k = 0; k < header_count; ++k) {
    RecordHeaderView& hdr = rec.headers.emplace_back();
    int32_t key_len;
    if (!varint_at(p, end, key_len)) return bad("malformed header " + std::to_string(k) + " key length");
    if (key_len < 0) {
      return bad("header " + std::to_string(k) + " key length is " + std::to_string(key_len) + ", expected >= 0");
    }
    if (size_t(key_len) > size_t(end - p)) {
      return bad("header " + std::to_string(k) + " key length is " + std::to_string(key_len) +
                 ", but the record has only " + std::to_string(end - p) + " bytes left");
    }
    hdr.key = std::string_view(reinterpret_cast<const char*>(p), size_t(key_len));
    p += key_len;
    if (int e = nullable_at(p, end, hdr.value, bad_n, bad_left)) return bad_field("header value", e, bad_n, bad_left);
  }
  if (p != end) {
    return bad("length is " + std::to_string(length) + ", but its fields end after " +
               std::to_string(length - (end - p)) + " bytes");
  }
  cur_ = end;
  ++index_;
  return true;
}

Status check_batch_records(ByteSpan batch, size_t max_decompressed_bytes) {
  STREAMCTL_ASSIGN_OR_RETURN(RecordReader reader, RecordReader::open(batch, max_decompressed_bytes));
  RecordView view;
  for (;;) {
    STREAMCTL_ASSIGN_OR_RETURN(bool more, reader.next(view));
    if (!more) return ok_status();
  }
}

Result<std::vector<Record>> decode_records(ByteSpan batch, size_t max_decompressed_bytes) {
  STREAMCTL_ASSIGN_OR_RETURN(RecordReader reader, RecordReader::open(batch, max_decompressed_bytes));
  std::vector<Record> records;
  records.reserve(std::min(size_t(reader.header().record_count), batch.size() / kMinRecordSize + 1));
  RecordView view;
  for (;;) {
    STREAMCTL_ASSIGN_OR_RETURN(bool more, reader.next(view));
    if (!more) break;
    Record& rec = records.emplace_back();
    rec.offset = view.offset;
    rec.timestamp = view.timestamp;
    if (view.key) rec.key.emplace(*view.key);
    if (view.value) rec.value.emplace(*view.value);
    rec.headers.reserve(view.headers.size());
    for (const auto& h : view.headers) {
      RecordHeader& out = rec.headers.emplace_back();
      out.key.assign(h.key);
      if (h.value) out.value.emplace(*h.value);
    }
  }
  return records;
}

bool BatchIterator::next() {
  if (!status_.ok() || truncated_tail_) return false;
  position_ = next_position_;
  batch_ = {};
  const size_t remaining = bytes_.size() - position_;
  if (remaining == 0) return false;
  if (remaining < kLogOverhead) {
    truncated_tail_ = true;
    return false;
  }
  const std::byte* p = bytes_.data() + position_;
  const int32_t batch_length = int32_t(get_be32(p + kBatchLengthOffset));
  if (batch_length < 0) {
    status_ = Error::corruption("at byte position " + std::to_string(position_) + ": " +
                                batch_prefix(int64_t(get_be64(p))) + "batchLength is " +
                                std::to_string(batch_length) + ", expected >= " + std::to_string(kMinBatchLength));
    return false;
  }
  // A too-small batchLength is reported by check_batch_structure below (after the magic, so that a legacy
  // v0/v1 message set says kNotSupported).
  const size_t size = kLogOverhead + size_t(batch_length);
  if (size > remaining) {
    truncated_tail_ = true;
    return false;
  }
  ByteSpan candidate = bytes_.subspan(position_, size);
  Result<RecordBatchHeader> h = verify_crc_ ? validate_batch(candidate) : check_batch_structure(candidate);
  if (!h.ok()) {
    status_ = Error{h.error().code, "at byte position " + std::to_string(position_) + ": " + h.error().message};
    return false;
  }
  header_ = h.value();
  batch_ = candidate;
  next_position_ = position_ + size;
  return true;
}

}  // namespace streamctl
