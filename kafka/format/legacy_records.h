// Kafka's message formats v0 and v1 (magic 0 and 1, the "message sets" of Kafka 0.8-0.10), converted to and
// from RecordBatch v2, which is all the log stores. Old clients and log shippers pinned to Produce v0-v2 send
// these; Kafka 3.x brokers convert them on append and down-convert for Fetch v0-v3. streamctl does the same.
//
// One message (magic 0 / magic 1), all integers big-endian:
//   offset int64 | message_size int32 | crc uint32 | magic int8 | attributes int8 | [timestamp int64, magic 1]
//   | key bytes (int32 length, -1 = null) | value bytes (int32 length, -1 = null)
// crc is CRC-32 (IEEE, zlib's) over magic .. end of value. attributes: bits 0-2 the codec (0 none, 1 gzip,
// 2 snappy, 3 lz4), bit 3 (magic 1) the timestamp type. A compressed message ("wrapper") carries a whole
// inner message set, compressed, as its value; inner offsets are relative (0..n-1) in magic 1 and absolute
// in magic 0, and inner messages are never compressed again.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "kafka/format/record_batch.h"

namespace streamctl {

inline constexpr int8_t kMagicV0 = 0;
inline constexpr int8_t kMagicV1 = 1;

struct LegacyConversionOptions {
  // Timestamp for messages that carry none (magic 0, or magic 1 with timestamp -1): the append time.
  Timestamp now = kNoTimestamp;
  // Bound on the decompressed size of one wrapper message (as for v2 batches).
  size_t max_decompressed_bytes = kMaxDecompressedBatchBytes;
};

// What upconvert_message_set produced.
struct UpconvertedBatch {
  Bytes batch;               // one RecordBatch v2, base offset 0, valid CRC
  int8_t magic = 0;          // the magic of the messages converted
  int32_t record_count = 0;
};

// Converts a whole message set (magic 0/1 messages, as a Produce v0-v2 request carries) into ONE RecordBatch
// v2 holding every record in order, compressed with the codec the producer used (none when it used none).
// Every message is checked: framing, CRC, magic 0/1 (all the same), no nested compression, no partial
// trailing message. kCorruption naming the message's position and what is wrong; kNotSupported for lz4 in
// magic 0 (Kafka 0.8's incorrect LZ4 frame checksum) and unknown codecs; kInvalidArgument for an empty set.
Result<UpconvertedBatch> upconvert_message_set(ByteSpan set, const LegacyConversionOptions& options);

// Converts consecutive RecordBatch v2 batches (as read from the log; a partial trailing batch is ignored)
// into uncompressed messages of `magic` (0 for Fetch v0-v1, 1 for Fetch v2-v3), one message per record with
// its absolute offset, key and value; magic 1 keeps timestamps and the timestamp type. Control batches are
// dropped (old clients do not know them), as are record headers (the old formats cannot carry them).
// Messages with offsets below `from` are skipped. kCorruption when a batch's records do not decode.
Result<Bytes> downconvert_batches(ByteSpan batches, int8_t magic, Offset from);

// Encodes one uncompressed message (for tests and down-conversion): the framing described above.
void append_legacy_message(Bytes& out, int8_t magic, int64_t offset, int8_t attributes, Timestamp timestamp,
                           const std::optional<std::string_view>& key,
                           const std::optional<std::string_view>& value);

}  // namespace streamctl
