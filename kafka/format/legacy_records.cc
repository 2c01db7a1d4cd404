#include "kafka/format/legacy_records.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/coding.h"
#include "kafka/format/compression.h"

namespace streamctl {

namespace {

// offset + message_size: the log overhead of one message.
constexpr size_t kMessageLogOverhead = 12;
// crc + magic + attributes + key length + value length: the smallest magic 0 message after the overhead.
constexpr size_t kMinMessageSizeV0 = 4 + 1 + 1 + 4 + 4;
constexpr size_t kTimestampSize = 8;
constexpr int8_t kCodecMask = 0x07;
constexpr int8_t kLogAppendTimeBit = 0x08;

struct Message {
  int64_t offset = 0;
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = -1;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
};

uint32_t crc32_ieee(const std::byte* p, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large inputs in pieces.
  while (n > 0) {
    const uInt chunk = uInt(std::min<size_t>(n, size_t(1) << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(p), chunk);
    p += chunk;
    n -= chunk;
  }
  return uint32_t(crc);
}

// "message at byte N" or, with context "inner ", "inner message at byte N".
std::string where(const char* context, size_t position) {
  std::string s(context);
  s += "message at byte ";
  s += std::to_string(position);
  return s;
}

// Reads a nullable int32-length byte field at `p` (within [p, end)); advances p.
bool read_bytes_field(const std::byte*& p, const std::byte* end, std::optional<std::string_view>& out) {
  if (end - p < 4) return false;
  const int32_t n = int32_t(get_be32(p));
  p += 4;
  if (n == -1) {
    out.reset();
    return true;
  }
  if (n < 0 || end - p < n) return false;
  out = std::string_view(reinterpret_cast<const char*>(p), size_t(n));
  p += n;
  return true;
}

// Parses every message of `set` (no partial trailing message allowed) and calls f(message) for each.
// `context` names the set in errors ("" at top level, "inner " inside a wrapper).
template <typename F>
Status for_each_message(ByteSpan set, const char* context, F&& f) {
  size_t pos = 0;
  while (pos < set.size()) {
    if (set.size() - pos < kMessageLogOverhead) {
      return Error::corruption(where(context, pos) + ": partial message (" + std::to_string(set.size() - pos) +
                               " bytes left, the header needs 12)");
    }
    const std::byte* m = set.data() + pos;
    Message msg;
    msg.offset = int64_t(get_be64(m));
    const int32_t size = int32_t(get_be32(m + 8));
    if (size < int32_t(kMinMessageSizeV0)) {
      return Error::corruption(where(context, pos) + ": message size " + std::to_string(size) +
                               " is smaller than the smallest message (" + std::to_string(kMinMessageSizeV0) + ")");
    }
    if (size_t(size) > set.size() - pos - kMessageLogOverhead) {
      return Error::corruption(where(context, pos) + ": message size " + std::to_string(size) + " reaches past the " +
                               std::to_string(set.size()) + "-byte message set (partial message)");
    }
    const std::byte* body = m + kMessageLogOverhead;
    const std::byte* end = body + size;
    const uint32_t stored_crc = get_be32(body);
    msg.magic = int8_t(body[4]);
    msg.attributes = int8_t(body[5]);
    if (msg.magic != kMagicV0 && msg.magic != kMagicV1) {
      return Error::corruption(where(context, pos) + ": magic " + std::to_string(int(msg.magic)) +
                               " in a message set (only 0 and 1 are message formats; 2 is a record batch)");
    }
    const uint32_t computed = crc32_ieee(body + 4, size_t(size) - 4);
    if (computed != stored_crc) {
      char buf[96];
      std::snprintf(buf, sizeof buf, ": crc mismatch: stored 0x%08x, computed 0x%08x", stored_crc, computed);
      return Error::corruption(where(context, pos) + buf);
    }
    const std::byte* p = body + 6;
    if (msg.magic == kMagicV1) {
      if (end - p < std::ptrdiff_t(kTimestampSize + 8)) {
        return Error::corruption(where(context, pos) + ": magic 1 message too short for its timestamp");
      }
      msg.timestamp = int64_t(get_be64(p));
      p += kTimestampSize;
    }
    if (!read_bytes_field(p, end, msg.key)) {
      return Error::corruption(where(context, pos) + ": key length out of bounds");
    }
    if (!read_bytes_field(p, end, msg.value)) {
      return Error::corruption(where(context, pos) + ": value length out of bounds");
    }
    if (p != end) {
      return Error::corruption(where(context, pos) + ": " + std::to_string(end - p) +
                               " bytes after the value (message size says more than key and value hold)");
    }
    Status st = f(msg, pos);
    if (!st.ok()) return st;
    pos += kMessageLogOverhead + size_t(size);
  }
  return Status();
}

}  // namespace

void append_legacy_message(Bytes& out, int8_t magic, int64_t offset, int8_t attributes, Timestamp timestamp,
                           const std::optional<std::string_view>& key,
                           const std::optional<std::string_view>& value) {
  const size_t key_len = key ? key->size() : 0;
  const size_t value_len = value ? value->size() : 0;
  const size_t size = 4 + 1 + 1 + (magic >= kMagicV1 ? kTimestampSize : 0) + 4 + key_len + 4 + value_len;
  const size_t at = out.size();
  out.resize(at + kMessageLogOverhead + size);
  std::byte* p = out.data() + at;
  put_be64(p, uint64_t(offset));
  put_be32(p + 8, uint32_t(size));
  std::byte* body = p + kMessageLogOverhead;
  std::byte* q = body + 4;
  *q++ = std::byte(magic);
  *q++ = std::byte(attributes);
  if (magic >= kMagicV1) {
    put_be64(q, uint64_t(timestamp.value));
    q += kTimestampSize;
  }
  auto put_field = [&q](const std::optional<std::string_view>& f) {
    put_be32(q, f ? uint32_t(f->size()) : uint32_t(-1));
    q += 4;
    if (f && !f->empty()) {
      std::memcpy(q, f->data(), f->size());
      q += f->size();
    }
  };
  put_field(key);
  put_field(value);
  put_be32(body, crc32_ieee(body + 4, size - 4));
}

Result<UpconvertedBatch> upconvert_message_set(ByteSpan set, const LegacyConversionOptions& options) {
  if (set.empty()) return Error::invalid_argument("empty message set");
  std::vector<Record> records;
  Compression codec = Compression::kNone;
  int magic = -1;
  auto add = [&](const Message& msg) {
    Record& r = records.emplace_back();
    r.timestamp = (msg.magic == kMagicV1 && msg.timestamp >= 0) ? Timestamp(msg.timestamp) : options.now;
    if (msg.key) r.key = std::string(*msg.key);
    if (msg.value) r.value = std::string(*msg.value);
  };
  Status st = for_each_message(set, "", [&](const Message& msg, size_t pos) -> Status {
    if (magic >= 0 && msg.magic != magic) {
      return Error::corruption(where("", pos) + ": magic " + std::to_string(int(msg.magic)) +
                               " after messages of magic " + std::to_string(magic) + " in one message set");
    }
    magic = msg.magic;
    const int8_t id = msg.attributes & kCodecMask;
    if (id == 0) {
      add(msg);
      return Status();
    }
    if (id > int8_t(Compression::kLz4)) {
      return Error::not_supported(where("", pos) + ": compression codec " + std::to_string(int(id)) +
                                  " does not exist in message format v" + std::to_string(int(msg.magic)));
    }
    const Compression c = Compression(id);
    if (c == Compression::kLz4 && msg.magic == kMagicV0) {
      return Error::not_supported(where("", pos) +
                                  ": lz4 in message format v0 (Kafka 0.8's incorrect LZ4 frame checksum) is not "
                                  "supported; use gzip or snappy, or message format v1 (Produce v2)");
    }
    if (codec != Compression::kNone && codec != c) {
      return Error::corruption(where("", pos) + ": wrapper messages with different codecs in one message set");
    }
    codec = c;
    if (!msg.value || msg.value->empty()) {
      return Error::corruption(where("", pos) + ": compressed wrapper message without a value");
    }
    auto inner = decompress(c, as_byte_span(*msg.value), options.max_decompressed_bytes);
    if (!inner.ok()) {
      return Error{inner.error().code,
                   where("", pos) + ": " + compression_name(c) + " payload: " + inner.error().message};
    }
    const size_t before = records.size();
    Status in = for_each_message(ByteSpan(inner->data(), inner->size()), "inner ",
                                 [&](const Message& m, size_t inner_pos) -> Status {
                                   if ((m.attributes & kCodecMask) != 0) {
                                     return Error::corruption(where("inner ", inner_pos) + " of the wrapper at byte " +
                                                              std::to_string(pos) + ": nested compression");
                                   }
                                   add(m);
                                   return Status();
                                 });
    if (!in.ok()) return in;
    if (records.size() == before) {
      return Error::corruption(where("", pos) + ": compressed wrapper message holds no messages");
    }
    return Status();
  });
  if (!st.ok()) return std::move(st).error();
  BatchBuildOptions build;
  build.compression = codec;
  build.append_time = options.now;
  auto batch = build_batch(records, Offset(0), build);
  if (!batch.ok()) return std::move(batch).error();
  UpconvertedBatch out;
  out.batch = std::move(*batch);
  out.magic = int8_t(magic);
  out.record_count = int32_t(records.size());
  return out;
}

Result<Bytes> downconvert_batches(ByteSpan batches, int8_t magic, Offset from) {
  Bytes out;
  BatchIterator it(batches, /*verify_crc=*/true);
  while (it.next()) {
    if (it.header().is_control()) continue;
    if (it.header().next_offset() <= from) continue;
    auto reader = RecordReader::open(it.batch());
    if (!reader.ok()) return std::move(reader).error();
    const int8_t attributes =
        (magic >= kMagicV1 && it.header().timestamp_type() == TimestampType::kLogAppendTime) ? kLogAppendTimeBit : 0;
    RecordView v;
    while (true) {
      auto more = reader->next(v);
      if (!more.ok()) return std::move(more).error();
      if (!*more) break;
      if (v.offset < from) continue;
      append_legacy_message(out, magic, v.offset.value, attributes, v.timestamp, v.key, v.value);
    }
  }
  if (!it.status().ok()) return it.status().error();
  return out;
}

}  // namespace streamctl
