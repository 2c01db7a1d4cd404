// Kafka's compression codecs over zlib, libsnappy, liblz4 and libzstd (see compression.h for the framing).
//
// Every decoder writes into a BoundedOutput, which grows geometrically but never beyond
// max_output_bytes + 1: producing that extra byte is how "the output is too large" is detected, so no
// decoder ever allocates more than the caller allowed, whatever the input claims.
#include "kafka/format/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace streamctl {
namespace {

// xerial/snappy-java stream header: magic, then be32 version and be32 compatible version.
constexpr unsigned char kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00};
constexpr size_t kXerialHeaderSize = 16;
constexpr uint32_t kXerialVersion = 1;
constexpr uint32_t kXerialCompatibleVersion = 1;
constexpr size_t kXerialBlockSize = 32 * 1024;  // snappy-java's default block size

constexpr size_t kMinOutputChunk = 4096;

const char* codec_name(Compression codec) {
  switch (codec) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kSnappy: return "snappy";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

Error too_large(Compression codec, size_t max_output_bytes) {
  return Error::record_too_large(std::string(codec_name(codec)) + ": decompressed data exceeds the limit of " +
                                 std::to_string(max_output_bytes) + " bytes");
}

Error corrupt(Compression codec, const std::string& what) {
  return Error::corruption(std::string(codec_name(codec)) + ": corrupt compressed data: " + what);
}

Error truncated(Compression codec, size_t input_bytes) {
  return Error::corruption(std::string(codec_name(codec)) + ": compressed data is truncated (stream incomplete after " +
                           std::to_string(input_bytes) + " input bytes)");
}

// Output buffer of a decoder: grows by doubling up to max_output_bytes + 1 bytes (see file comment).
class BoundedOutput {
 public:
  BoundedOutput(size_t max_output_bytes, size_t size_hint)
      : max_(max_output_bytes), limit_(max_output_bytes == SIZE_MAX ? SIZE_MAX : max_output_bytes + 1) {
    buf_.resize(std::min(limit_, std::max(size_hint, kMinOutputChunk)));
  }

  // Makes room for at least one more byte; false when the buffer is at its limit.
  bool ensure_space() {
    if (pos_ < buf_.size()) return true;
    if (buf_.size() >= limit_) return false;
    size_t grown = buf_.size() <= limit_ / 2 ? buf_.size() * 2 : limit_;
    buf_.resize(std::max(grown, std::min(limit_, kMinOutputChunk)));
    return true;
  }
  std::byte* cursor() { return buf_.data() + pos_; }
  size_t space() const { return buf_.size() - pos_; }
  size_t size() const { return pos_; }
  void advance(size_t n) { pos_ += n; }
  bool exceeded() const { return pos_ > max_; }
  Bytes finish() && {
    buf_.resize(pos_);
    buf_.shrink_to_fit();
    return std::move(buf_);
  }

 private:
  size_t max_;
  size_t limit_;
  Bytes buf_;
  size_t pos_ = 0;
};

size_t hint_for(ByteSpan input) {
  return input.size() > SIZE_MAX / 4 ? input.size() : input.size() * 4;
}

const char* chars(ByteSpan b) { return reinterpret_cast<const char*>(b.data()); }

// ---------------------------------------------------------------------------------------------- gzip

// Owns a z_stream set up for deflate or inflate.
class ZStream {
 public:
  explicit ZStream(bool deflating) : deflating_(deflating) { std::memset(&s_, 0, sizeof s_); }
  ~ZStream() {
    if (!initialized_) return;
    if (deflating_) {
      deflateEnd(&s_);
    } else {
      inflateEnd(&s_);
    }
  }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;

  z_stream* get() { return &s_; }
  void set_initialized() { initialized_ = true; }

 private:
  bool deflating_;
  bool initialized_ = false;
  z_stream s_;
};

// zlib streams are reused per thread (deflateReset/inflateReset keep their ~270 KiB / ~40 KiB of
// buffers): allocating them per call costs more than compressing a small batch, and freeing them
// makes malloc return the memory to the kernel only to fault it back in on the next call.
z_stream* thread_deflater(int level) {
  thread_local std::unique_ptr<ZStream> cached;
  thread_local int cached_level = 0;
  if (cached != nullptr && cached_level == level && deflateReset(cached->get()) == Z_OK) return cached->get();
  cached.reset();
  auto zs = std::make_unique<ZStream>(true);
  // windowBits 15 + 16: a gzip wrapper (header + CRC-32 + ISIZE trailer), as Java's GZIPOutputStream and
  // librdkafka write; memLevel 8 is zlib's default.
  if (deflateInit2(zs->get(), level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return nullptr;
  zs->set_initialized();
  cached = std::move(zs);
  cached_level = level;
  return cached->get();
}

z_stream* thread_inflater() {
  thread_local std::unique_ptr<ZStream> cached;
  if (cached != nullptr && inflateReset(cached->get()) == Z_OK) return cached->get();
  cached.reset();
  auto zs = std::make_unique<ZStream>(false);
  // windowBits 15 + 32: accept gzip (and zlib) headers.
  if (inflateInit2(zs->get(), 15 + 32) != Z_OK) return nullptr;
  zs->set_initialized();
  cached = std::move(zs);
  return cached->get();
}

Result<Bytes> gzip_compress(ByteSpan input, int level) {
  if (level > 9) return Error::invalid_argument("gzip: compression level " + std::to_string(level) + " is out of range 0..9");
  z_stream* s = thread_deflater(level < 0 ? Z_DEFAULT_COMPRESSION : level);
  if (s == nullptr) return Error::io_error("gzip: deflateInit2 failed");
  Bytes out(deflateBound(s, uLong(input.size())));
  s->next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
  s->next_out = reinterpret_cast<Bytef*>(out.data());
  size_t in_left = input.size();
  size_t out_left = out.size();
  int rc = Z_OK;
  while (rc == Z_OK) {
    uInt in_chunk = uInt(std::min<size_t>(in_left, UINT_MAX));
    uInt out_chunk = uInt(std::min<size_t>(out_left, UINT_MAX));
    s->avail_in = in_chunk;
    s->avail_out = out_chunk;
    rc = deflate(s, in_left == in_chunk ? Z_FINISH : Z_NO_FLUSH);
    in_left -= in_chunk - s->avail_in;
    out_left -= out_chunk - s->avail_out;
    if (rc == Z_BUF_ERROR && out_left == 0) break;
  }
  if (rc != Z_STREAM_END) return Error::io_error("gzip: deflate failed (" + std::to_string(rc) + ")");
  out.resize(out.size() - out_left);
  return out;
}

Result<Bytes> gzip_decompress(ByteSpan input, size_t max_output_bytes) {
  constexpr Compression kCodec = Compression::kGzip;
  z_stream* s = thread_inflater();
  if (s == nullptr) return Error::io_error("gzip: inflateInit2 failed");
  BoundedOutput out(max_output_bytes, hint_for(input));
  size_t in_pos = 0;
  while (true) {
    if (!out.ensure_space()) return too_large(kCodec, max_output_bytes);
    uInt in_chunk = uInt(std::min<size_t>(input.size() - in_pos, UINT_MAX));
    uInt out_chunk = uInt(std::min<size_t>(out.space(), UINT_MAX));
    s->next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data() + in_pos));
    s->avail_in = in_chunk;
    s->next_out = reinterpret_cast<Bytef*>(out.cursor());
    s->avail_out = out_chunk;
    int rc = inflate(s, Z_NO_FLUSH);
    size_t consumed = in_chunk - s->avail_in;
    size_t produced = out_chunk - s->avail_out;
    in_pos += consumed;
    out.advance(produced);
    if (out.exceeded()) return too_large(kCodec, max_output_bytes);
    if (rc == Z_STREAM_END) {
      if (in_pos == input.size()) break;
      // Another member follows (concatenated gzip, as `cat a.gz b.gz` makes).
      if (inflateReset(s) != Z_OK) return corrupt(kCodec, "inflateReset failed");
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR) {
      // No progress possible: either the output is full (grow it) or the input ran out mid-member.
      if (out.space() == 0) continue;
      return truncated(kCodec, input.size());
    }
    return corrupt(kCodec, s->msg != nullptr ? s->msg : ("inflate error " + std::to_string(rc)));
  }
  return std::move(out).finish();
}

// -------------------------------------------------------------------------------------------- snappy

bool has_xerial_header(ByteSpan input) {
  return input.size() >= kXerialHeaderSize && std::memcmp(input.data(), kXerialMagic, sizeof kXerialMagic) == 0;
}

Result<Bytes> snappy_compress(ByteSpan input) {
  size_t blocks = (input.size() + kXerialBlockSize - 1) / kXerialBlockSize;
  size_t bound = kXerialHeaderSize + blocks * 4;
  for (size_t off = 0; off < input.size(); off += kXerialBlockSize) {
    bound += snappy::MaxCompressedLength(std::min(kXerialBlockSize, input.size() - off));
  }
  Bytes out(bound);
  std::memcpy(out.data(), kXerialMagic, sizeof kXerialMagic);
  put_be32(out.data() + 8, kXerialVersion);
  put_be32(out.data() + 12, kXerialCompatibleVersion);
  size_t pos = kXerialHeaderSize;
  for (size_t off = 0; off < input.size(); off += kXerialBlockSize) {
    size_t n = std::min(kXerialBlockSize, input.size() - off);
    size_t written = 0;
    snappy::RawCompress(chars(input) + off, n, reinterpret_cast<char*>(out.data() + pos + 4), &written);
    put_be32(out.data() + pos, uint32_t(written));
    pos += 4 + written;
  }
  out.resize(pos);
  return out;
}

// Appends the decompression of one raw snappy block to `out`, within the limit.
Status snappy_raw_block(ByteSpan block, size_t max_output_bytes, Bytes& out) {
  constexpr Compression kCodec = Compression::kSnappy;
  size_t n = 0;
  if (!snappy::GetUncompressedLength(chars(block), block.size(), &n)) {
    return corrupt(kCodec, "bad uncompressed-length preamble in a " + std::to_string(block.size()) + "-byte block");
  }
  if (n > max_output_bytes || out.size() > max_output_bytes - n) return too_large(kCodec, max_output_bytes);
  size_t at = out.size();
  out.resize(at + n);
  if (!snappy::RawUncompress(chars(block), block.size(), reinterpret_cast<char*>(out.data() + at))) {
    return corrupt(kCodec, "invalid block of " + std::to_string(block.size()) + " bytes (declared " +
                               std::to_string(n) + " bytes uncompressed)");
  }
  return ok_status();
}

Result<Bytes> snappy_decompress(ByteSpan input, size_t max_output_bytes) {
  constexpr Compression kCodec = Compression::kSnappy;
  Bytes out;
  if (!has_xerial_header(input)) {
    // Plain raw snappy (librdkafka's default framing).
    STREAMCTL_TRY(snappy_raw_block(input, max_output_bytes, out));
    return out;
  }
  ByteReader r(input);
  r.skip(kXerialHeaderSize);
  while (!r.at_end()) {
    size_t block_pos = r.position();
    uint32_t len = r.u32();
    ByteSpan block = r.raw(len);
    if (!r.ok()) {
      return corrupt(kCodec, "xerial block at byte " + std::to_string(block_pos) + " declares " + std::to_string(len) +
                                 " bytes but only " + std::to_string(input.size() - block_pos) +
                                 " bytes remain (including its 4-byte length)");
    }
    STREAMCTL_TRY(snappy_raw_block(block, max_output_bytes, out));
  }
  return out;
}

// ----------------------------------------------------------------------------------------------- lz4

Result<Bytes> lz4_compress(ByteSpan input, int level) {
  if (level > 17) return Error::invalid_argument("lz4: compression level " + std::to_string(level) + " is out of range 0..17");
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof prefs);
  // Like Kafka's KafkaLZ4BlockOutputStream: 64 KiB independent blocks, no checksums beyond the header's.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.compressionLevel = level < 0 ? 0 : level;
  Bytes out(LZ4F_compressFrameBound(input.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &prefs);
  if (LZ4F_isError(n)) return Error::io_error(std::string("lz4: compression failed: ") + LZ4F_getErrorName(n));
  out.resize(n);
  return out;
}

struct Lz4DctxDeleter {
  void operator()(LZ4F_dctx* d) const { LZ4F_freeDecompressionContext(d); }
};

// One decompression context per thread: it keeps its block buffers (up to 2 x 4 MiB, as the largest
// block size needs) between calls, which makes small frames ~20x cheaper to decode.
LZ4F_dctx* thread_lz4_dctx() {
  thread_local std::unique_ptr<LZ4F_dctx, Lz4DctxDeleter> dctx([] {
    LZ4F_dctx* raw = nullptr;
    return LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION)) ? nullptr : raw;
  }());
  return dctx.get();
}

Result<Bytes> lz4_decompress(ByteSpan input, size_t max_output_bytes) {
  constexpr Compression kCodec = Compression::kLz4;
  LZ4F_dctx* dctx = thread_lz4_dctx();
  if (dctx == nullptr) return Error::io_error("lz4: cannot create a decompression context");
  LZ4F_resetDecompressionContext(dctx);  // a previous call may have stopped mid-frame
  BoundedOutput out(max_output_bytes, hint_for(input));
  size_t in_pos = 0;
  if (input.empty()) return truncated(kCodec, 0);
  while (true) {
    if (!out.ensure_space()) return too_large(kCodec, max_output_bytes);
    size_t dst = out.space();
    size_t src = input.size() - in_pos;
    // Returns LZ4F's "bytes expected next", 0 once a frame is complete.
    size_t hint = LZ4F_decompress(dctx, out.cursor(), &dst, input.data() + in_pos, &src, nullptr);
    if (LZ4F_isError(hint)) return corrupt(kCodec, LZ4F_getErrorName(hint));
    in_pos += src;
    out.advance(dst);
    if (out.exceeded()) return too_large(kCodec, max_output_bytes);
    if (hint == 0) {
      // Frame complete; the context is ready for a concatenated next frame.
      if (in_pos == input.size()) break;
      continue;
    }
    // No progress with output space left and no input: the frame is incomplete.
    if (in_pos == input.size() && src == 0 && dst == 0 && out.space() > 0) return truncated(kCodec, input.size());
  }
  return std::move(out).finish();
}

// ---------------------------------------------------------------------------------------------- zstd

struct ZstdCctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Contexts are costly to create (hundreds of KiB); one per thread is reused across calls.
ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCctxDeleter> cctx(ZSTD_createCCtx());
  return cctx.get();
}
ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDctxDeleter> dctx(ZSTD_createDCtx());
  return dctx.get();
}

Result<Bytes> zstd_compress(ByteSpan input, int level) {
  if (level > ZSTD_maxCLevel()) {
    return Error::invalid_argument("zstd: compression level " + std::to_string(level) + " is out of range 0.." +
                                   std::to_string(ZSTD_maxCLevel()));
  }
  ZSTD_CCtx* cctx = thread_cctx();
  if (cctx == nullptr) return Error::io_error("zstd: cannot create a compression context");
  Bytes out(ZSTD_compressBound(input.size()));
  size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), input.data(), input.size(),
                               level <= 0 ? ZSTD_CLEVEL_DEFAULT : level);
  if (ZSTD_isError(n)) return Error::io_error(std::string("zstd: compression failed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

// log2 of the largest window a frame may ask for: enough for every non-ultra level (8 MiB) and for a
// window as large as the allowed output, never more than zstd's default limit (128 MiB).
int zstd_window_log_max(size_t max_output_bytes) {
  int log = 23;
  while (log < 27 && (size_t(1) << log) < max_output_bytes) ++log;
  return log;
}

Result<Bytes> zstd_decompress(ByteSpan input, size_t max_output_bytes) {
  constexpr Compression kCodec = Compression::kZstd;
  ZSTD_DCtx* dctx = thread_dctx();
  if (dctx == nullptr) return Error::io_error("zstd: cannot create a decompression context");
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, zstd_window_log_max(max_output_bytes));
  size_t hint = hint_for(input);
  unsigned long long content = ZSTD_getFrameContentSize(input.data(), input.size());
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != ZSTD_CONTENTSIZE_ERROR) {
    if (content > max_output_bytes) return too_large(kCodec, max_output_bytes);
    hint = size_t(content);
  }
  BoundedOutput out(max_output_bytes, hint);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  while (true) {
    if (!out.ensure_space()) return too_large(kCodec, max_output_bytes);
    ZSTD_outBuffer ob{out.cursor(), out.space(), 0};
    size_t r = ZSTD_decompressStream(dctx, &ob, &in);
    if (ZSTD_isError(r)) {
      if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
        return Error::record_too_large("zstd: frame window exceeds 2^" +
                                       std::to_string(zstd_window_log_max(max_output_bytes)) +
                                       " bytes, the limit for a " + std::to_string(max_output_bytes) + "-byte output");
      }
      return corrupt(kCodec, ZSTD_getErrorName(r));
    }
    out.advance(ob.pos);
    if (out.exceeded()) return too_large(kCodec, max_output_bytes);
    if (r == 0 && in.pos == in.size) break;  // last frame complete and flushed
    // Input used up while output space remains: the decoder needs input that is not there.
    if (in.pos == in.size && ob.pos < ob.size) return truncated(kCodec, input.size());
  }
  return std::move(out).finish();
}

}  // namespace

Result<Bytes> compress(Compression codec, ByteSpan input, int level) {
  switch (codec) {
    case Compression::kNone: return Error::invalid_argument("compress: codec 'none' does not compress");
    case Compression::kGzip: return gzip_compress(input, level);
    case Compression::kSnappy: return snappy_compress(input);
    case Compression::kLz4: return lz4_compress(input, level);
    case Compression::kZstd: return zstd_compress(input, level);
  }
  return Error::not_supported("compress: unknown compression codec id " + std::to_string(int(codec)));
}

Result<Bytes> decompress(Compression codec, ByteSpan input, size_t max_output_bytes) {
  switch (codec) {
    case Compression::kNone:
      if (input.size() > max_output_bytes) return too_large(codec, max_output_bytes);
      return Bytes(input.begin(), input.end());
    case Compression::kGzip: return gzip_decompress(input, max_output_bytes);
    case Compression::kSnappy: return snappy_decompress(input, max_output_bytes);
    case Compression::kLz4: return lz4_decompress(input, max_output_bytes);
    case Compression::kZstd: return zstd_decompress(input, max_output_bytes);
  }
  return Error::not_supported("decompress: unknown compression codec id " + std::to_string(int(codec)));
}

}  // namespace streamctl
