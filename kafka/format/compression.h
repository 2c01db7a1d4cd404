// Codec dispatch for RecordBatch payloads (the records section of a compressed batch), in Kafka's framing.
//
//   gzip    RFC 1952 gzip member(s) (zlib). Decoding accepts several concatenated members (and zlib-wrapped
//           data, as zlib's auto-detection does).
//   snappy  Encoding writes the xerial/snappy-java framing the Java client writes: 8-byte magic
//           0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, be32 version (1), be32 compatible version (1), then blocks
//           of [be32 compressed length, raw snappy block of <= 32 KiB input]. Decoding accepts that
//           framing and plain raw snappy (librdkafka may send either).
//   lz4     LZ4 frame format (LZ4F), 64 KiB independent blocks like Kafka's Java client; concatenated
//           frames are accepted.
//   zstd    standard zstd frame(s), decoded with the streaming API so frames without a content size work.
// Decompression never produces (nor allocates for) more than max_output_bytes of output: beyond that it
// fails with kRecordTooLarge; malformed or truncated input is kCorruption. Stateless and thread-safe.
#pragma once

#include <cstddef>

#include "base/coding.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"

namespace streamctl {

// Compresses `input` with `codec`. level < 0 selects the codec's default (gzip 6, lz4 fast mode,
// zstd 3); otherwise gzip takes 0..9, lz4 0..17 (levels above 12 act as 12), zstd 0..ZSTD_maxCLevel()
// (0 is zstd's default, as in libzstd);
// snappy has no levels and ignores it. kInvalidArgument for an out-of-range level or codec kNone
// (callers do not compress "none").
Result<Bytes> compress(Compression codec, ByteSpan input, int level);

// Decompresses `input` (the whole compressed payload) produced by `codec`.
// kRecordTooLarge when the output would exceed max_output_bytes, kCorruption when the input is malformed
// or truncated, kNotSupported for an unknown codec. kNone returns a copy of the input (bounded as well).
// zstd frames whose window exceeds max(8 MiB, max_output_bytes rounded up to a power of 2, capped at
// 128 MiB) are rejected (kRecordTooLarge), so a hostile frame header cannot force a large window buffer.
// Besides the output, decoders use bounded scratch memory kept per thread and reused across calls:
// the zstd context (its window, within the limit above) and the lz4 context (at most ~8 MiB, for frames
// with 4 MiB blocks; Kafka clients use 64 KiB blocks).
Result<Bytes> decompress(Compression codec, ByteSpan input, size_t max_output_bytes);

}  // namespace streamctl
