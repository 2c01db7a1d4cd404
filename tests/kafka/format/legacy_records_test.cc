#include "kafka/format/legacy_records.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

#include "base/coding.h"
#include "kafka/format/compression.h"

using namespace streamctl;

namespace {

constexpr Timestamp kNow{1'700'000'000'000};

// prefix + number (std::string's operator+ on a literal trips GCC 12's -Wrestrict false positive).
std::string named(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

Bytes message_set_v1(int n, int64_t first_ts) {
  Bytes set;
  for (int i = 0; i < n; ++i) {
    const std::string key = named("k", i), value = named("value-", i);
    append_legacy_message(set, kMagicV1, i, 0, Timestamp(first_ts + i), std::string_view(key),
                          std::string_view(value));
  }
  return set;
}

// A wrapper message whose value is `inner`, compressed with `codec`.
Bytes wrapper(int8_t magic, Compression codec, const Bytes& inner, int64_t offset) {
  auto compressed = compress(codec, ByteSpan(inner.data(), inner.size()), -1);
  REQUIRE(compressed.ok());
  Bytes set;
  append_legacy_message(set, magic, offset, int8_t(codec), Timestamp(123), std::nullopt,
                        as_string_view(ByteSpan(compressed->data(), compressed->size())));
  return set;
}

std::vector<Record> records_of(const Bytes& batch) {
  REQUIRE(validate_batch(ByteSpan(batch.data(), batch.size())).ok());
  auto r = decode_records(ByteSpan(batch.data(), batch.size()));
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("LegacyMessageMatchesKafkaFraming") {
  // Magic 1, offset 7, key "k", value "v", timestamp 5: the bytes Kafka's LegacyRecord writes.
  Bytes m;
  append_legacy_message(m, kMagicV1, 7, 0, Timestamp(5), std::string_view("k"), std::string_view("v"));
  REQUIRE(m.size() == 12 + 4 + 1 + 1 + 8 + 4 + 1 + 4 + 1);
  CHECK(get_be64(m.data()) == 7);
  CHECK(get_be32(m.data() + 8) == m.size() - 12);
  CHECK(int8_t(m[16]) == 1);
  CHECK(get_be64(m.data() + 18) == 5);
  const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(m.data() + 16), uInt(m.size() - 16)));
  CHECK(get_be32(m.data() + 12) == crc);
  // Null key: length -1, no bytes.
  Bytes n;
  append_legacy_message(n, kMagicV0, 0, 0, kNoTimestamp, std::nullopt, std::string_view("x"));
  CHECK(int32_t(get_be32(n.data() + 18)) == -1);
  CHECK(n.size() == 12 + 4 + 1 + 1 + 4 + 4 + 1);
}

TEST_CASE("UpconvertPlainMagic1KeepsKeysValuesAndTimestamps") {
  Bytes set = message_set_v1(3, 1000);
  auto up = upconvert_message_set(ByteSpan(set.data(), set.size()), {kNow});
  REQUIRE(up.ok());
  CHECK(up->magic == kMagicV1);
  CHECK(up->record_count == 3);
  auto recs = records_of(up->batch);
  REQUIRE(recs.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(recs[i].offset == Offset(i));
    CHECK(*recs[i].key == named("k", i));
    CHECK(*recs[i].value == named("value-", i));
    CHECK(recs[i].timestamp == Timestamp(1000 + i));
  }
  CHECK(parse_batch_header(ByteSpan(up->batch.data(), up->batch.size())).compression() == Compression::kNone);
}

TEST_CASE("UpconvertMagic0TakesTheAppendTimeAndNulls") {
  Bytes set;
  append_legacy_message(set, kMagicV0, 0, 0, kNoTimestamp, std::nullopt, std::string_view("a"));
  append_legacy_message(set, kMagicV0, 1, 0, kNoTimestamp, std::string_view("key"), std::nullopt);
  auto up = upconvert_message_set(ByteSpan(set.data(), set.size()), {kNow});
  REQUIRE(up.ok());
  auto recs = records_of(up->batch);
  REQUIRE(recs.size() == 2);
  CHECK(!recs[0].key);
  CHECK(*recs[0].value == "a");
  CHECK(*recs[1].key == "key");
  CHECK(!recs[1].value);  // a tombstone stays a tombstone
  CHECK(recs[0].timestamp == kNow);
}

TEST_CASE("UpconvertCompressedWrappersKeepTheCodec") {
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4}) {
    CAPTURE(compression_name(c));
    Bytes inner = message_set_v1(50, 2000);
    Bytes set = wrapper(kMagicV1, c, inner, 49);
    Bytes second = wrapper(kMagicV1, c, message_set_v1(2, 3000), 51);
    set.insert(set.end(), second.begin(), second.end());
    auto up = upconvert_message_set(ByteSpan(set.data(), set.size()), {kNow});
    REQUIRE(up.ok());
    CHECK(up->record_count == 52);
    CHECK(parse_batch_header(ByteSpan(up->batch.data(), up->batch.size())).compression() == c);
    auto recs = records_of(up->batch);
    REQUIRE(recs.size() == 52);
    CHECK(*recs[49].value == "value-49");
    CHECK(*recs[51].value == "value-1");
    CHECK(recs[51].offset == Offset(51));
  }
}

TEST_CASE("UpconvertRejectsBadMessagesNamingThePosition") {
  Bytes good = message_set_v1(2, 1);
  const size_t second = good.size() / 2;  // both messages have the same size
  SUBCASE("crc") {
    Bytes bad = good;
    bad[bad.size() - 1] ^= std::byte{1};
    auto up = upconvert_message_set(ByteSpan(bad.data(), bad.size()), {kNow});
    REQUIRE(!up.ok());
    CHECK(up.error().code == ErrorCode::kCorruption);
    CHECK(up.error().message.find("at byte " + std::to_string(second)) != std::string::npos);
    CHECK(up.error().message.find("crc mismatch") != std::string::npos);
  }
  SUBCASE("partial trailing message") {
    auto up = upconvert_message_set(ByteSpan(good.data(), good.size() - 3), {kNow});
    REQUIRE(!up.ok());
    CHECK(up.error().message.find("partial message") != std::string::npos);
  }
  SUBCASE("magic 2 inside a message set") {
    Bytes bad = good;
    bad[16] = std::byte{2};
    auto up = upconvert_message_set(ByteSpan(bad.data(), bad.size()), {kNow});
    REQUIRE(!up.ok());
    CHECK(up.error().message.find("magic 2") != std::string::npos);
  }
  SUBCASE("mixed magics") {
    Bytes mixed = good;
    append_legacy_message(mixed, kMagicV0, 2, 0, kNoTimestamp, std::nullopt, std::string_view("x"));
    auto up = upconvert_message_set(ByteSpan(mixed.data(), mixed.size()), {kNow});
    REQUIRE(!up.ok());
    CHECK(up.error().message.find("magic 0 after messages of magic 1") != std::string::npos);
  }
  SUBCASE("nested compression") {
    Bytes inner = wrapper(kMagicV1, Compression::kGzip, good, 1);
    Bytes outer = wrapper(kMagicV1, Compression::kGzip, inner, 1);
    auto up = upconvert_message_set(ByteSpan(outer.data(), outer.size()), {kNow});
    REQUIRE(!up.ok());
    CHECK(up.error().message.find("nested compression") != std::string::npos);
  }
  SUBCASE("garbage compressed payload") {
    Bytes set;
    append_legacy_message(set, kMagicV1, 0, int8_t(Compression::kGzip), Timestamp(1), std::nullopt,
                          std::string_view("definitely not gzip"));
    auto up = upconvert_message_set(ByteSpan(set.data(), set.size()), {kNow});
    REQUIRE(!up.ok());
    CHECK(up.error().message.find("gzip payload") != std::string::npos);
  }
  SUBCASE("lz4 in magic 0") {
    Bytes set = wrapper(kMagicV0, Compression::kLz4, good, 1);
    auto up = upconvert_message_set(ByteSpan(set.data(), set.size()), {kNow});
    REQUIRE(!up.ok());
    CHECK(up.error().code == ErrorCode::kNotSupported);
  }
  SUBCASE("message size smaller than a message") {
    Bytes bad = good;
    put_be32(bad.data() + 8, 3);
    auto up = upconvert_message_set(ByteSpan(bad.data(), bad.size()), {kNow});
    REQUIRE(!up.ok());
    CHECK(up.error().message.find("smaller than the smallest message") != std::string::npos);
  }
  SUBCASE("empty") {
    CHECK(!upconvert_message_set(ByteSpan(), {kNow}).ok());
  }
}

TEST_CASE("DownconvertRoundTripsThroughUpconvert") {
  // Two v2 batches at offsets 10.. and 13..; down-convert from 11 to magic 1, then back up.
  std::vector<Record> a(3), b(2);
  for (int i = 0; i < 3; ++i) {
    a[i].key = named("a", i);
    a[i].value = named("va", i);
    a[i].timestamp = Timestamp(100 + i);
  }
  for (int i = 0; i < 2; ++i) {
    b[i].value = named("vb", i);
    b[i].timestamp = Timestamp(200 + i);
    b[i].headers.push_back({"h", std::string("x")});  // dropped: v0/v1 cannot carry headers
  }
  BatchBuildOptions gz;
  gz.compression = Compression::kGzip;
  auto ba = build_batch(a, Offset(10), {});
  auto bb = build_batch(b, Offset(13), gz);
  REQUIRE((ba.ok() && bb.ok()));
  Bytes log = *ba;
  log.insert(log.end(), bb->begin(), bb->end());
  log.insert(log.end(), bb->begin(), bb->begin() + 20);  // a partial batch at the end is ignored

  auto old = downconvert_batches(ByteSpan(log.data(), log.size()), kMagicV1, Offset(11));
  REQUIRE(old.ok());
  CHECK(get_be64(old->data()) == 11);  // absolute offsets
  auto up = upconvert_message_set(ByteSpan(old->data(), old->size()), {kNow});
  REQUIRE(up.ok());
  auto recs = records_of(up->batch);
  REQUIRE(recs.size() == 4);
  CHECK(*recs[0].key == "a1");
  CHECK(recs[0].timestamp == Timestamp(101));
  CHECK(!recs[2].key);
  CHECK(*recs[3].value == "vb1");
  CHECK(recs[3].timestamp == Timestamp(201));
  CHECK(recs[3].headers.empty());

  auto v0 = downconvert_batches(ByteSpan(log.data(), log.size()), kMagicV0, Offset(0));
  REQUIRE(v0.ok());
  CHECK(int8_t((*v0)[16]) == 0);
  auto up0 = upconvert_message_set(ByteSpan(v0->data(), v0->size()), {kNow});
  REQUIRE(up0.ok());
  CHECK(up0->record_count == 5);
}

TEST_CASE("DownconvertFailsLoudlyOnACorruptBatch") {
  std::vector<Record> a(2);
  a[0].value = "x";
  a[1].value = "y";
  a[0].timestamp = a[1].timestamp = Timestamp(1);
  auto ba = build_batch(a, Offset(0), {});
  REQUIRE(ba.ok());
  Bytes bad = *ba;
  bad[bad.size() - 1] ^= std::byte{0x40};
  auto old = downconvert_batches(ByteSpan(bad.data(), bad.size()), kMagicV1, Offset(0));
  REQUIRE(!old.ok());
  CHECK(old.error().code == ErrorCode::kCorruption);
}
