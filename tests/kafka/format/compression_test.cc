#include "kafka/format/compression.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace streamctl;

namespace {

constexpr Compression kCodecs[] = {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd};

uint64_t test_seed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("STREAMCTL_TEST_SEED");
    uint64_t s = env ? std::strtoull(env, nullptr, 0) : std::random_device{}();
    std::printf("compression_test: seed %llu (override with STREAMCTL_TEST_SEED)\n",
                static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

Bytes bytes_of(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

Bytes random_bytes(std::mt19937_64& rng, size_t n, int alphabet) {
  Bytes b(n);
  for (auto& x : b) x = std::byte(rng() % unsigned(alphabet));
  return b;
}

Bytes compress_ok(Compression c, ByteSpan in, int level = -1) {
  auto r = compress(c, in, level);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return std::move(r).value();
}

Bytes decompress_ok(Compression c, ByteSpan in, size_t max = size_t(64) << 20) {
  auto r = decompress(c, in, max);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return std::move(r).value();
}

// A raw snappy block written by hand: varint uncompressed length, then one literal element per <= 60
// bytes (tag (len - 1) << 2). Independent of libsnappy's encoder.
Bytes raw_snappy_literals(const std::string& s) {
  Bytes out;
  ByteWriter w(out);
  w.uvarint(s.size());
  for (size_t off = 0; off < s.size(); off += 60) {
    size_t n = std::min<size_t>(60, s.size() - off);
    w.u8(uint8_t((n - 1) << 2));
    w.raw(std::string_view(s).substr(off, n));
  }
  return out;
}

Bytes xerial_header() {
  Bytes out = bytes_of({0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0});
  ByteWriter w(out);
  w.be32(1);
  w.be32(1);
  return out;
}

// A zstd frame of raw blocks written by hand, with no content size (like librdkafka's and zstd-jni's
// streaming frames): magic, frame header descriptor 0 (no content size, not single-segment), window
// descriptor, then blocks whose 3-byte little-endian header is last | type raw (0) | size << 3.
Bytes zstd_raw_frame(const std::string& s, uint8_t window_descriptor = 0x00) {
  Bytes out = bytes_of({0x28, 0xb5, 0x2f, 0xfd, 0x00, window_descriptor});
  uint32_t block = 1u | (uint32_t(s.size()) << 3);
  out.push_back(std::byte(block & 0xff));
  out.push_back(std::byte((block >> 8) & 0xff));
  out.push_back(std::byte((block >> 16) & 0xff));
  ByteWriter(out).raw(s);
  return out;
}

std::string str(const Bytes& b) { return std::string(as_string_view(b)); }

}  // namespace

TEST_CASE("EveryCodecRoundTripsInputsOfManySizes") {
  std::mt19937_64 rng(test_seed());
  for (Compression c : kCodecs) {
    CAPTURE(std::string(compression_name(c)));
    for (size_t n : {size_t(0), size_t(1), size_t(100), size_t(32 * 1024), size_t(32 * 1024 + 1), size_t(200000),
                     size_t(1) << 20}) {
      CAPTURE(n);
      for (int alphabet : {4, 256}) {
        Bytes in = random_bytes(rng, n, alphabet);
        CHECK(decompress_ok(c, compress_ok(c, in)) == in);
      }
      // Record-like text: repeated phrases with varying numbers; every codec at least halves it.
      std::string text;
      while (text.size() < n) text += "{\"user\": " + std::to_string(rng() % 1000) + ", \"action\": \"click\"}\n";
      text.resize(n);
      Bytes packed = compress_ok(c, as_byte_span(text));
      if (n >= 1000) CHECK(packed.size() < n / 2);
      CHECK(str(decompress_ok(c, packed)) == text);
    }
  }
}

TEST_CASE("CompressionLevelsAreHonouredAndValidated") {
  std::mt19937_64 rng(test_seed() + 1);
  Bytes in = random_bytes(rng, 100000, 8);
  struct Case {
    Compression c;
    std::vector<int> good;
    int bad;
  };
  for (const Case& k : {Case{Compression::kGzip, {0, 1, 6, 9}, 10}, Case{Compression::kLz4, {0, 1, 9, 12, 17}, 18},
                        Case{Compression::kZstd, {0, 1, 3, 19}, 23}}) {
    CAPTURE(std::string(compression_name(k.c)));
    for (int level : k.good) CHECK(decompress_ok(k.c, compress_ok(k.c, in, level)) == in);
    auto r = compress(k.c, in, k.bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    CHECK(r.error().message.find(std::to_string(k.bad)) != std::string::npos);
  }
  CHECK(compress_ok(Compression::kGzip, in, 9).size() < compress_ok(Compression::kGzip, in, 1).size());
  CHECK(decompress_ok(Compression::kSnappy, compress_ok(Compression::kSnappy, in, 99)) == in);  // no levels
  auto none = compress(Compression::kNone, in, -1);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("GzipOutputIsAGzipMemberAndConcatenatedMembersDecode") {
  Bytes a = to_bytes("first member, ");
  Bytes b = to_bytes("second member");
  Bytes ga = compress_ok(Compression::kGzip, a);
  REQUIRE(ga.size() > 18);
  CHECK(ga[0] == std::byte{0x1f});
  CHECK(ga[1] == std::byte{0x8b});
  CHECK(ga[2] == std::byte{0x08});  // deflate
  Bytes both = ga;
  append(both, compress_ok(Compression::kGzip, b));
  CHECK(str(decompress_ok(Compression::kGzip, both)) == "first member, second member");
  // Bytes after a member that are not another member are corruption.
  Bytes garbage = ga;
  append(garbage, to_bytes("xyz"));
  auto r = decompress(Compression::kGzip, garbage, 1 << 20);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
}

TEST_CASE("SnappyEncodesTheXerialFramingTheJavaClientWrites") {
  std::mt19937_64 rng(test_seed() + 2);
  Bytes in = random_bytes(rng, 70000, 16);  // three 32 KiB blocks
  Bytes packed = compress_ok(Compression::kSnappy, in);
  REQUIRE(packed.size() > 16);
  Bytes header(packed.begin(), packed.begin() + 16);
  CHECK(header == xerial_header());
  // Walk the blocks: be32 length + raw snappy, each decoding to 32 KiB except the last.
  ByteReader r(packed);
  r.skip(16);
  std::vector<size_t> block_sizes;
  Bytes joined;
  while (!r.at_end()) {
    uint32_t len = r.u32();
    ByteSpan block = r.raw(len);
    REQUIRE(r.ok());
    Bytes plain = decompress_ok(Compression::kSnappy, block);  // a lone block is raw snappy
    block_sizes.push_back(plain.size());
    append(joined, plain);
  }
  CHECK(block_sizes == std::vector<size_t>{32768, 32768, 70000 - 65536});
  CHECK(joined == in);
  CHECK(compress_ok(Compression::kSnappy, Bytes{}) == xerial_header());
  CHECK(decompress_ok(Compression::kSnappy, xerial_header()).empty());
}

TEST_CASE("SnappyDecodesHandWrittenXerialAndRawStreams") {
  std::string part1(100, 'a');
  std::string part2 = "hello, snappy";
  Bytes raw = raw_snappy_literals(part1);
  CHECK(str(decompress_ok(Compression::kSnappy, raw)) == part1);

  Bytes framed = xerial_header();
  for (const std::string& s : {part1, part2}) {
    Bytes block = raw_snappy_literals(s);
    ByteWriter w(framed);
    w.be32(uint32_t(block.size()));
    w.raw(block);
  }
  CHECK(str(decompress_ok(Compression::kSnappy, framed)) == part1 + part2);

  // A block length running past the end.
  Bytes cut(framed.begin(), framed.end() - 1);
  auto r = decompress(Compression::kSnappy, cut, 1 << 20);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
  CHECK(r.error().message.find("xerial block") != std::string::npos);
  // Raw snappy whose preamble promises more than the literals hold.
  Bytes lying = raw;
  lying[0] = std::byte{101};
  auto l = decompress(Compression::kSnappy, lying, 1 << 20);
  REQUIRE_FALSE(l.ok());
  CHECK(l.error().code == ErrorCode::kCorruption);
}

TEST_CASE("Lz4WritesKafkasFrameSettingsAndDecodesConcatenatedFrames") {
  Bytes a = to_bytes(std::string(1000, 'a'));
  Bytes fa = compress_ok(Compression::kLz4, a);
  // Magic 0x184D2204 little-endian, FLG 0x60 (version 01, independent blocks), BD 0x40 (64 KiB blocks).
  REQUIRE(fa.size() > 7);
  CHECK(fa[0] == std::byte{0x04});
  CHECK(fa[1] == std::byte{0x22});
  CHECK(fa[2] == std::byte{0x4d});
  CHECK(fa[3] == std::byte{0x18});
  CHECK(fa[4] == std::byte{0x60});
  CHECK(fa[5] == std::byte{0x40});
  Bytes both = fa;
  append(both, compress_ok(Compression::kLz4, to_bytes("tail")));
  CHECK(str(decompress_ok(Compression::kLz4, both)) == std::string(1000, 'a') + "tail");
}

TEST_CASE("ZstdDecodesFramesWithoutAContentSize") {
  Bytes frame = zstd_raw_frame("streamed without a content size");
  CHECK(str(decompress_ok(Compression::kZstd, frame)) == "streamed without a content size");
  Bytes two = frame;
  append(two, compress_ok(Compression::kZstd, to_bytes("!")));
  CHECK(str(decompress_ok(Compression::kZstd, two)) == "streamed without a content size!");
}

TEST_CASE("ZstdFrameAskingForAHugeWindowIsRejected") {
  // Window descriptor 0x70: exponent 14 -> window 2^24 = 16 MiB, more than a 1 MiB output needs (the
  // limit is then 8 MiB).
  Bytes frame = zstd_raw_frame("tiny", 0x70);
  auto r = decompress(Compression::kZstd, frame, 1 << 20);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kRecordTooLarge);
  CHECK(r.error().message.find("window") != std::string::npos);
  // The same window is acceptable when the caller allows outputs that large.
  CHECK(str(decompress_ok(Compression::kZstd, frame, size_t(16) << 20)) == "tiny");
}

TEST_CASE("DecompressionIsBoundedByMaxOutputBytes") {
  Bytes zeros(1 << 20);
  for (Compression c : kCodecs) {
    CAPTURE(std::string(compression_name(c)));
    Bytes packed = compress_ok(c, zeros);
    CHECK(decompress_ok(c, packed, zeros.size()) == zeros);  // exactly at the limit is fine
    for (size_t max : {zeros.size() - 1, size_t(1000), size_t(0)}) {
      CAPTURE(max);
      auto r = decompress(c, packed, max);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == ErrorCode::kRecordTooLarge);
      CHECK(r.error().message.find("exceeds the limit of " + std::to_string(max) + " bytes") != std::string::npos);
    }
  }
  auto none = decompress(Compression::kNone, zeros, 10);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == ErrorCode::kRecordTooLarge);
  CHECK(decompress_ok(Compression::kNone, zeros) == zeros);
}

TEST_CASE("TruncatedCompressedDataIsCorruptionAtEveryLength") {
  std::mt19937_64 rng(test_seed() + 3);
  Bytes in = random_bytes(rng, 3000, 8);
  for (Compression c : kCodecs) {
    CAPTURE(std::string(compression_name(c)));
    Bytes packed = compress_ok(c, in);
    for (size_t len = 0; len < packed.size(); ++len) {
      auto r = decompress(c, ByteSpan(packed).first(len), 1 << 20);
      if (r.ok()) {
        // Only xerial snappy has no end marker: a cut at a block boundary is a shorter valid stream.
        REQUIRE(c == Compression::kSnappy);
        CHECK(r->size() < in.size());
        continue;
      }
      if (r.error().code != ErrorCode::kCorruption) FAIL("length " << len << ": " << r.error().to_string());
    }
  }
}

TEST_CASE("EmptyInputIsNotAValidCompressedPayload") {
  for (Compression c : kCodecs) {
    CAPTURE(std::string(compression_name(c)));
    auto r = decompress(c, {}, 1 << 20);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kCorruption);
  }
}

TEST_CASE("RandomAndMutatedPayloadsNeverCrashTheDecoders") {
  const uint64_t seed = test_seed() + 4;
  std::mt19937_64 rng(seed);
  std::vector<std::pair<Compression, Bytes>> valid;
  for (Compression c : kCodecs) valid.emplace_back(c, compress_ok(c, random_bytes(rng, 5000, 6)));
  int ok = 0, failed = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    auto [c, b] = valid[rng() % valid.size()];
    if (iter % 2 == 0) {
      for (int k = 1 + int(rng() % 5); k > 0; --k) b[rng() % b.size()] = std::byte(rng());
    } else {
      b = random_bytes(rng, rng() % 300, 256);
    }
    const size_t max = 1 + rng() % 20000;
    auto r = decompress(c, b, max);
    if (r.ok()) {
      ++ok;
      CHECK(r->size() <= max);
    } else {
      ++failed;
      CHECK((r.error().code == ErrorCode::kCorruption || r.error().code == ErrorCode::kRecordTooLarge));
    }
  }
  MESSAGE("seed " << seed << ": " << ok << " decoded, " << failed << " rejected");
  CHECK(failed > 0);
}
