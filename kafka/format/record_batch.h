// RecordBatch v2 (magic 2): the unit stored in segments and carried on the Kafka wire, byte for byte.
//
// Batch header (61 bytes, all big-endian):
//   offset  width  field
//   0       8      baseOffset            rewritten by the log on append
//   8       4      batchLength           bytes after this field (total size = 12 + batchLength)
//   12      4      partitionLeaderEpoch  rewritten by the log on append (not covered by the CRC)
//   16      1      magic                 must be 2
//   17      4      crc                   CRC-32C (Castagnoli) of bytes [21, end)
//   21      2      attributes            bits 0-2 compression (0 none,1 gzip,2 snappy,3 lz4,4 zstd),
//                                        bit 3 timestampType (1 = LogAppendTime), bit 4 transactional,
//                                        bit 5 control, bit 6 hasDeleteHorizonMs
//   23      4      lastOffsetDelta
//   27      8      baseTimestamp         (firstTimestamp)
//   35      8      maxTimestamp
//   43      8      producerId            -1 when not idempotent
//   51      2      producerEpoch
//   53      4      baseSequence
//   57      4      recordCount
//   61      ...    records (compressed as a whole when compression != 0)
// Record (inside records, zigzag varints):
//   length varint, attributes int8 (unused, 0), timestampDelta varlong, offsetDelta varint,
//   keyLength varint (-1 = null key), key, valueLength varint (-1 = null), value,
//   headerCount varint, then per header: keyLength varint, key (UTF-8), valueLength varint (-1 = null), value.
// Because baseOffset and partitionLeaderEpoch sit before the CRC'd range, the log rewrites them without
// recomputing the CRC: stored bytes = wire bytes.
// Ownership and threads: free functions over caller-owned bytes; BatchIterator views a caller-owned span
// that must outlive it. All functions are thread-safe (no shared state); a BatchIterator is not.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl {

inline constexpr size_t kBatchHeaderSize = 61;
// Offset of the fields in the header (see the byte table above).
inline constexpr size_t kBatchLengthOffset = 8;
inline constexpr size_t kLeaderEpochOffset = 12;
inline constexpr size_t kMagicOffset = 16;
inline constexpr size_t kCrcOffset = 17;
inline constexpr size_t kAttributesOffset = 21;
// baseOffset (8) + batchLength (4): the part of a batch not counted in batchLength.
inline constexpr size_t kLogOverhead = 12;
inline constexpr int8_t kMagicV2 = 2;
// The smallest legal batchLength: the header after the batchLength field, with no records.
inline constexpr int32_t kMinBatchLength = int32_t(kBatchHeaderSize - kLogOverhead);  // 49
// Default cap on the decompressed size of one batch's records section (decode_records), so that a
// hostile batch (a zip bomb) cannot make the reader allocate unbounded memory.
inline constexpr size_t kMaxDecompressedBatchBytes = size_t(64) << 20;  // 64 MiB

enum class Compression : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

// "none", "gzip", "snappy", "lz4", "zstd".
const char* compression_name(Compression c);
// Parses a codec name (as above); kInvalidArgument naming the valid choices otherwise.
Result<Compression> parse_compression(const std::string& name);

// The fixed header of a batch, decoded.
struct RecordBatchHeader {
  Offset base_offset;
  int32_t batch_length = 0;  // bytes after the batchLength field
  LeaderEpoch leader_epoch = kNoLeaderEpoch;
  int8_t magic = 0;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  Timestamp base_timestamp;
  Timestamp max_timestamp;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  Compression compression() const { return Compression(attributes & 0x07); }
  TimestampType timestamp_type() const { return TimestampType((attributes >> 3) & 1); }
  bool is_transactional() const { return attributes & 0x10; }
  bool is_control() const { return attributes & 0x20; }
  // Total bytes of the batch (header included).
  size_t size_bytes() const { return kLogOverhead + size_t(batch_length); }
  Offset last_offset() const { return base_offset + last_offset_delta; }
  Offset next_offset() const { return base_offset + int64_t(last_offset_delta) + 1; }
};

// Decodes the first kBatchHeaderSize bytes. Requires bytes.size() >= kBatchHeaderSize.
// Checks nothing beyond the size; see validate_batch.
RecordBatchHeader parse_batch_header(ByteSpan bytes);

// Full validation of one batch occupying exactly `bytes`: batch length matches, magic 2, CRC-32C, record
// count >= 0, lastOffsetDelta >= 0 (and == recordCount - 1 for uncompressed-visible counts when records
// are decoded by the caller). Error kCorruption with a message naming the field, or kNotSupported for
// magic 0/1.
// Also rejected: batchLength < kMinBatchLength, recordCount > lastOffsetDelta + 1 (more records than
// offsets), and compression ids 5-7 (kNotSupported). Messages name the field, the expected and found
// values, and the batch's base offset, e.g.
//   "record batch at base offset 42: crc mismatch: stored 0x1a2b3c4d, computed 0x5e6f7a8b over [21, 180)".
// Does not decode the records (see decode_records).
Result<RecordBatchHeader> validate_batch(ByteSpan bytes);

// Every check of validate_batch except the CRC (what BatchIterator runs with verify_crc == false): for
// bytes whose CRC was already checked once by the caller.
Result<RecordBatchHeader> check_batch_structure(ByteSpan bytes);

// CRC-32C of the batch's CRC'd range ([21, end)), for writing or checking.
// REQUIRES: batch.size() >= kAttributesOffset.
uint32_t compute_batch_crc(ByteSpan batch);

// Overwrites baseOffset and partitionLeaderEpoch in place (no CRC change needed).
// REQUIRES: batch.size() >= kBatchHeaderSize.
void set_batch_base_offset(std::span<std::byte> batch, Offset base);
void set_batch_leader_epoch(std::span<std::byte> batch, LeaderEpoch epoch);

// One header of a record. A null value is represented by value == std::nullopt.
struct RecordHeader {
  std::string key;
  std::optional<std::string> value;
  auto operator<=>(const RecordHeader&) const = default;
};

// A record to append (no offset yet) or a decoded record (with its absolute offset and timestamp).
struct Record {
  Offset offset;                     // absolute (decoded) or ignored (to append)
  Timestamp timestamp = kNoTimestamp;  // absolute ms; kNoTimestamp when appending means "now"
  std::optional<std::string> key;    // nullopt = null key
  std::optional<std::string> value;  // nullopt = null value (tombstone)
  std::vector<RecordHeader> headers;
};

struct BatchBuildOptions {
  Compression compression = Compression::kNone;
  int32_t compression_level = -1;  // codec default when < 0
  TimestampType timestamp_type = TimestampType::kCreateTime;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  LeaderEpoch leader_epoch = kNoLeaderEpoch;
  // The time of the append ("now"), or kNoTimestamp. When set, records whose timestamp is kNoTimestamp
  // take it, and with kLogAppendTime every record takes it; callers need not copy records to fill times.
  Timestamp append_time = kNoTimestamp;
};

// Builds one batch holding `records` in order, with offset deltas 0..n-1 and base offset `base`.
// Timestamps: each record's own, or options.append_time as described there (a record left with
// kNoTimestamp is an error here: the caller fills in "now").
// baseTimestamp is the first record's timestamp (deltas may be negative), maxTimestamp the largest; for
// kLogAppendTime the attribute bit is set and every record should carry the append time (append_time does it).
// When options.compression != kNone the records section is compressed as a whole (Kafka framing, see
// compression.h) and the codec is recorded in the attributes. The returned batch has a valid CRC.
// REQUIRES: !records.empty() (kInvalidArgument otherwise). kRecordTooLarge when the batch would not fit
// an int32 batchLength.
Result<Bytes> build_batch(std::span<const Record> records, Offset base, const BatchBuildOptions& options);

// What encode_batch_prefix wrote.
struct EncodedBatch {
  size_t bytes = 0;    // the batch's size in `buf`, from `at`
  size_t records = 0;  // how many records of the front of `records` it holds (>= 1)
  Timestamp max_timestamp = kNoTimestamp;
};

// The appending hot path: encodes the longest prefix of `records` (at least one record) whose uncompressed
// batch stays within max_batch_bytes, as one batch written into buf at byte `at`, exactly as build_batch
// would encode that prefix. buf grows (geometrically) when it is too small and never shrinks, so a caller
// that keeps one buffer for many appends pays neither allocation nor zero-filling once it is warm; bytes of
// buf past at + bytes are left as they were. Each record's size is computed once.
// Compressed batches: the prefix is chosen by uncompressed size (the compressed batch is usually smaller;
// callers must check EncodedBatch::bytes against their limit and re-encode fewer records if it is not).
// Errors as build_batch; buf's contents past `at` are unspecified after an error.
Result<EncodedBatch> encode_batch_prefix(std::span<const Record> records, Offset base,
                                         const BatchBuildOptions& options, size_t max_batch_bytes, Bytes& buf,
                                         size_t at);

// Builds uncompressed batches straight from record fields, back to back in one reused buffer: the produce
// hot path. Each add() encodes one record at the end of the open batch (length and delta varints, then one
// copy of key, value and headers: no Record, no std::string); seal() writes the open batch's header and its
// CRC-32C (one pass over the batch). The bytes are exactly what encode_batch_prefix writes for the same
// records, options and max_batch_bytes, one call per batch with base offset 0 (tests/kafka/format check it).
// A record that would take the open batch past max_batch_bytes starts a new one (a record alone may exceed
// it: the consumer of the batches decides). Ownership: owns its buffer. Thread-compatible.
//   BatchBuilder b(options, max_message_bytes);
//   for (line : lines) b.add(std::nullopt, line, {}, now);
//   b.seal(); log.append_built(b.bytes()); b.clear();
class BatchBuilder {
 public:
  // REQUIRES options.compression == kNone (compressed batches go through encode_batch_prefix).
  BatchBuilder(const BatchBuildOptions& options, size_t max_batch_bytes);

  // Appends a record (timestamp: absolute ms, not kNoTimestamp) to the open batch, first sealing it when
  // this record would make it larger than max_batch_bytes or hold more than INT32_MAX records.
  void add(std::optional<std::string_view> key, std::optional<std::string_view> value,
           std::span<const RecordHeader> headers, Timestamp timestamp);
  // Completes the open batch (header and CRC); a no-op when no record was added since the last seal().
  void seal();
  // Discards every batch; the buffer keeps its capacity.
  void clear();
  // Makes room for `bytes` of batches without growing again (the buffer is never zero-filled).
  void reserve(size_t bytes) { buf_.reserve(bytes); }

  // The sealed batches, back to back (mutable: the log assigns offsets in place).
  std::span<std::byte> sealed() { return std::span<std::byte>(buf_.data(), sealed_); }
  // Bytes of sealed batches plus the open one.
  size_t size_bytes() const { return end_; }
  // Records added since clear(), sealed or not.
  size_t records() const { return records_; }
  bool empty() const { return records_ == 0; }

 private:
  BatchBuildOptions options_;
  size_t max_batch_bytes_;
  ScratchBytes buf_;  // grows without zero-filling
  size_t sealed_ = 0;     // end of the last sealed batch
  size_t end_ = 0;        // end of the open batch's records (== sealed_ when none is open)
  size_t records_ = 0;
  size_t open_records_ = 0;
  Timestamp base_timestamp_ = kNoTimestamp;
  Timestamp max_timestamp_ = kNoTimestamp;
};

// Bytes one record takes inside an uncompressed batch (length prefix included), with the given deltas:
// what build_batch writes. For callers that split records into batches under a byte limit.
size_t encoded_record_size(const Record& record, int64_t timestamp_delta, int32_t offset_delta);

// Decodes the records of one validated batch (decompressing when needed), with absolute offsets and
// timestamps (LogAppendTime batches report maxTimestamp for every record, as Kafka does).
// kCorruption on a malformed record, naming the batch base offset and the record index.
// Safe on arbitrary bytes (the CRC is not re-checked, but every length and varint is bounds-checked):
// the number of records must equal recordCount, offset deltas must be strictly increasing within
// [0, lastOffsetDelta], each record must use exactly its declared length, and no bytes may follow the last
// record. The decompressed records section may not exceed max_decompressed_bytes (kRecordTooLarge).
Result<std::vector<Record>> decode_records(ByteSpan batch,
                                           size_t max_decompressed_bytes = kMaxDecompressedBatchBytes);

// Checks that the records of one validated batch decode (the checks of decode_records: record count, offset
// deltas, every length, nothing trailing), decompressing a compressed batch once and copying no record: what
// a broker runs on produce so that no client can store a batch that readers cannot decode (Kafka's
// CORRUPT_MESSAGE). kCorruption naming the batch and the record, kRecordTooLarge past max_decompressed_bytes.
Status check_batch_records(ByteSpan batch, size_t max_decompressed_bytes = kMaxDecompressedBatchBytes);

// A decoded record header whose key and value point into the batch (or the reader's decompressed copy).
struct RecordHeaderView {
  std::string_view key;
  std::optional<std::string_view> value;
};

// A decoded record whose key, value and headers point into the batch (or the reader's decompressed copy):
// valid until the RecordReader is destroyed or advanced. The zero-copy form of Record for hot read paths.
struct RecordView {
  Offset offset;
  Timestamp timestamp = kNoTimestamp;
  std::optional<std::string_view> key;    // nullopt = null key
  std::optional<std::string_view> value;  // nullopt = null value (tombstone)
  std::vector<RecordHeaderView> headers;  // reused across next() calls: no allocation per record
};

// Streams the records of one batch without copying them: the same checks as decode_records, one record
// at a time. The batch bytes must outlive the reader; a compressed batch is decompressed once into a
// buffer the reader owns. Not thread-safe; movable, not copyable.
//   auto reader = RecordReader::open(batch); RecordView v;
//   while (true) { auto more = reader->next(v); if (!more.ok()) ...; if (!*more) break; use(v); }
class RecordReader {
 public:
  static Result<RecordReader> open(ByteSpan batch, size_t max_decompressed_bytes = kMaxDecompressedBatchBytes);
  // Decodes the next record into `out`: true, false at the end (after checking nothing trails the last
  // record), or kCorruption naming the batch and the record index.
  Result<bool> next(RecordView& out);
  const RecordBatchHeader& header() const { return header_; }

 private:
  RecordReader() = default;
  // Decodes the next record when it is well formed and simple (see record_batch.cc); false leaves the
  // reader unchanged for the careful path. REQUIRES index_ < recordCount.
  bool next_fast(RecordView& rec);
  // Decodes the next record with every check, wording the error of a malformed one.
  [[gnu::noinline]] Result<bool> next_careful(RecordView& rec);
  Error bad(const std::string& what) const;
  // The error paths of next(), out of line so that the hot path stays small.
  // A nullable field: a malformed length varint (what == 1) or a length n that is < -1 or past `left`.
  Error bad_field(const char* field, int what, int32_t n, size_t left) const;
  Error bad_end() const;
  RecordBatchHeader header_;
  bool log_append_time_ = false;         // every record reports maxTimestamp
  std::unique_ptr<Bytes> decompressed_;  // heap-held so views stay valid when the reader moves
  // The records section not decoded yet: [cur_, end_), inside the batch or *decompressed_.
  const std::byte* cur_ = nullptr;
  const std::byte* end_ = nullptr;
  int32_t index_ = 0;
  int64_t previous_delta_ = -1;
};

// Iterates over consecutive batches in a byte range (a segment slice or a fetch response's records).
// Stops at the end, at a partial trailing batch (not an error: a reader may see a torn tail that the
// writer is still writing), or at a batch that fails validation (status() says why).
// A batch is partial when fewer than 12 bytes remain or its batchLength reaches past the range. With
// verify_crc == false every check of validate_batch except the CRC still runs.
// Worked example: range = [batch A (100 B)][batch B (80 B)][first 30 B of batch C]:
//   next() -> true (A, position 0); next() -> true (B, position 100);
//   next() -> false, truncated_tail() == true, status().ok(), valid_bytes() == 180.
class BatchIterator {
 public:
  explicit BatchIterator(ByteSpan bytes, bool verify_crc = true) : bytes_(bytes), verify_crc_(verify_crc) {}
  // Advances to the next complete batch; false at the end or on error.
  bool next();
  const RecordBatchHeader& header() const { return header_; }
  // The current batch's bytes (header included).
  ByteSpan batch() const { return batch_; }
  // Byte position of the current batch within the range.
  size_t position() const { return position_; }
  // Bytes consumed by complete, valid batches so far.
  size_t valid_bytes() const { return next_position_; }
  // Ok, or why iteration stopped early (kCorruption naming the position).
  const Status& status() const { return status_; }
  // True when iteration stopped at an incomplete trailing batch.
  bool truncated_tail() const { return truncated_tail_; }

 private:
  ByteSpan bytes_;
  bool verify_crc_;
  RecordBatchHeader header_;
  ByteSpan batch_;
  size_t position_ = 0;
  size_t next_position_ = 0;
  Status status_;
  bool truncated_tail_ = false;
};

}  // namespace streamctl
