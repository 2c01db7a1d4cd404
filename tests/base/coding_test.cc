#include "base/coding.h"

#include <doctest/doctest.h>

#include <limits>

using namespace streamctl;

TEST_CASE("FixedWidthIntegersAreBigEndian") {
  Bytes out;
  ByteWriter w(out);
  w.i16(0x0102);
  w.i32(0x03040506);
  w.i64(0x0708090a0b0c0d0eLL);
  REQUIRE(out.size() == 14);
  CHECK(out[0] == std::byte{0x01});
  CHECK(out[2] == std::byte{0x03});
  CHECK(out[13] == std::byte{0x0e});
  ByteReader r(out);
  CHECK(r.i16() == 0x0102);
  CHECK(r.i32() == 0x03040506);
  CHECK(r.i64() == 0x0708090a0b0c0d0eLL);
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("ZigzagVarintsMatchKafkaExamples") {
  // Kafka's ByteUtils: 0 -> 00, -1 -> 01, 1 -> 02, -64 -> 7f, 64 -> 80 01.
  struct Case {
    int32_t v;
    std::vector<uint8_t> bytes;
  };
  for (const Case& c : {Case{0, {0x00}}, Case{-1, {0x01}}, Case{1, {0x02}}, Case{-64, {0x7f}},
                        Case{64, {0x80, 0x01}}, Case{300, {0xd8, 0x04}}}) {
    Bytes out;
    ByteWriter w(out);
    w.varint(c.v);
    REQUIRE(out.size() == c.bytes.size());
    for (size_t i = 0; i < out.size(); ++i) CHECK(uint8_t(out[i]) == c.bytes[i]);
    ByteReader r(out);
    CHECK(r.varint() == c.v);
    CHECK(r.ok());
  }
}

TEST_CASE("VarlongRoundTripsExtremes") {
  for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), int64_t{0},
                    int64_t{-1}, int64_t{1} << 40}) {
    Bytes out;
    ByteWriter w(out);
    w.varlong(v);
    CHECK(out.size() == varint_size(v));
    ByteReader r(out);
    CHECK(r.varlong() == v);
    CHECK(r.ok());
  }
}

TEST_CASE("TruncatedInputFailsStickily") {
  Bytes out{std::byte{0x00}, std::byte{0x01}};
  ByteReader r(out);
  CHECK(r.i32() == 0);
  CHECK_FALSE(r.ok());
  CHECK(r.i8() == 0);
  CHECK_FALSE(r.ok());
}

TEST_CASE("OverlongVarintFails") {
  Bytes out(11, std::byte{0xff});
  ByteReader r(out);
  (void)r.uvarint();
  CHECK_FALSE(r.ok());
}

TEST_CASE("VarintOutside32BitsFails") {
  Bytes out;
  ByteWriter w(out);
  w.uvarint(uint64_t{1} << 33);
  ByteReader r(out);
  (void)r.varint();
  CHECK_FALSE(r.ok());
}
