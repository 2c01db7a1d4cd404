// Reader/Writer primitives: exact bytes of every type in classic and flexible (compact) form, null vs
// empty, tagged-field sections, and the error each misuse produces.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "kafka/protocol/wire.h"
#include "tests/kafka/protocol/protocol_test_util.h"

namespace streamctl::kafka::protocol {
namespace {

using testing::from_hex;
using testing::to_hex;

// Hides a constant from the optimizer. GCC 12 at -O3 propagates literal varint values into
// ByteWriter::uvarint's vector::insert and reports a false -Wstringop-overflow.
template <typename T>
T opaque(T v) {
  asm volatile("" : "+r"(v));
  return v;
}

template <typename F>
std::string written(bool flexible, F&& f) {
  Bytes out;
  Writer w(out, flexible);
  f(w);
  REQUIRE(w.ok());
  return to_hex(out);
}

TEST_CASE("FixedWidthIntegersAreBigEndianAndRoundTrip") {
  std::string hex = written(false, [](Writer& w) {
    w.boolean(true);
    w.boolean(false);
    w.int8(-2);
    w.int16(0x0102);
    w.uint16(0xfffe);
    w.int32(-2);
    w.uint32(0x80000001u);
    w.int64(0x0102030405060708LL);
    w.float64(1.5);
  });
  CHECK(hex == "0100fe" "0102" "fffe" "fffffffe" "80000001" "0102030405060708" "3ff8000000000000");
  auto bytes = from_hex(hex);
  Reader r(bytes, false);
  CHECK(r.boolean("b1") == true);
  CHECK(r.boolean("b0") == false);
  CHECK(r.int8("i8") == -2);
  CHECK(r.int16("i16") == 0x0102);
  CHECK(r.uint16("u16") == 0xfffe);
  CHECK(r.int32("i32") == -2);
  CHECK(r.uint32("u32") == 0x80000001u);
  CHECK(r.int64("i64") == 0x0102030405060708LL);
  CHECK(r.float64("f64") == 1.5);
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("Float64KeepsSpecialValues") {
  for (double v : {0.0, -0.0, std::numeric_limits<double>::infinity(), 1e308, -3.25}) {
    Bytes out;
    Writer w(out, false);
    w.float64(v);
    Reader r(out, false);
    double back = r.float64("f");
    CHECK(std::signbit(back) == std::signbit(v));
    CHECK(back == v);
  }
  Bytes out;
  Writer w(out, false);
  w.float64(std::numeric_limits<double>::quiet_NaN());
  Reader r(out, false);
  CHECK(std::isnan(r.float64("nan")));
}

TEST_CASE("VarintsUseZigzagAndUvarintDoesNot") {
  CHECK(written(false, [](Writer& w) {
          for (int32_t v : {0, -1, 1, -64, 64}) w.varint(opaque(v));
        }) == "00" "01" "02" "7f" "8001");
  CHECK(written(false, [](Writer& w) {
          for (uint32_t v : {0u, 127u, 128u, 300u}) w.uvarint(opaque(v));
        }) == "00" "7f" "8001" "ac02");
  auto bytes = from_hex("00017f8001" "feffffff0f" "ac02");
  Reader r(bytes, false);
  CHECK(r.varint("a") == 0);
  CHECK(r.varint("b") == -1);
  CHECK(r.varint("c") == -64);
  CHECK(r.varint("d") == 64);
  CHECK(r.varint("e") == std::numeric_limits<int32_t>::max());
  CHECK(r.uvarint("f") == 300);
  CHECK(r.ok());
  Bytes out;
  Writer w(out, false);
  w.varlong(opaque(std::numeric_limits<int64_t>::min()));
  Reader r2(out, false);
  CHECK(r2.varlong("l") == std::numeric_limits<int64_t>::min());
}

TEST_CASE("UvarintLongerThan32BitsFails") {
  auto bytes = from_hex("ffffffff1f");  // 2^35 - 1
  Reader r(bytes, true);
  CHECK(r.uvarint("Big.count") == 0);
  CHECK_FALSE(r.ok());
  auto st = r.status("Test v0");
  CHECK(st.error().code == streamctl::ErrorCode::kCorruption);
  CHECK(st.error().message.find("Big.count") != std::string::npos);
}

TEST_CASE("UuidIsSixteenRawBytesAndPrintsAsKafkaBase64") {
  Uuid u;
  for (size_t i = 0; i < 16; ++i) u.bytes[i] = uint8_t(i);
  CHECK(written(false, [&](Writer& w) { w.uuid(u); }) == "000102030405060708090a0b0c0d0e0f");
  auto bytes = from_hex("000102030405060708090a0b0c0d0e0f");
  Reader r(bytes, false);
  CHECK(r.uuid("id") == u);

  CHECK(Uuid{}.to_string() == "AAAAAAAAAAAAAAAAAAAAAA");
  CHECK(Uuid{}.is_zero());
  Uuid ones;
  ones.bytes.fill(0xff);
  CHECK(ones.to_string() == "_____________________w");
  CHECK(u.to_string() == "AAECAwQFBgcICQoLDA0ODw");
  auto parsed = Uuid::from_string("AAECAwQFBgcICQoLDA0ODw");
  REQUIRE(parsed.ok());
  CHECK(*parsed == u);
  CHECK_FALSE(Uuid::from_string("AAECAwQFBgcICQoLDA0OD").ok());    // 21 chars
  CHECK_FALSE(Uuid::from_string("AAECAwQFBgcICQoLDA0OD+").ok());   // '+' is not base64url
  CHECK_FALSE(Uuid::from_string("AAECAwQFBgcICQoLDA0ODx").ok());   // non-zero padding bits
}

TEST_CASE("ClassicStringsAndBytesUseFixedLengthsAndMinusOneForNull") {
  CHECK(written(false, [](Writer& w) {
          w.string("abc", "s");
          w.string("", "s");
          w.nullable_string(std::nullopt, true, "s");
          w.nullable_string(std::string("x"), true, "s");
        }) == "0003616263" "0000" "ffff" "000178");
  CHECK(written(false, [](Writer& w) {
          w.bytes(to_bytes("ab"), "b");
          w.bytes({}, "b");
          w.nullable_bytes(std::nullopt, true, "b");
        }) == "000000026162" "00000000" "ffffffff");
  auto bytes = from_hex("0003616263" "0000" "ffff" "000000026162" "00000000" "ffffffff");
  Reader r(bytes, false);
  CHECK(r.string("a") == "abc");
  CHECK(r.nullable_string("b", true) == std::optional<std::string>(""));
  CHECK(r.nullable_string("c", true) == std::nullopt);
  CHECK(r.bytes("d") == to_bytes("ab"));
  CHECK(r.nullable_bytes("e", true) == std::optional<Bytes>(Bytes{}));
  CHECK(r.nullable_bytes("f", true) == std::nullopt);
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("CompactStringsAndBytesUseLengthPlusOneAndZeroForNull") {
  CHECK(written(true, [](Writer& w) {
          w.string("abc", "s");
          w.string("", "s");
          w.nullable_string(std::nullopt, true, "s");
        }) == "04616263" "01" "00");
  CHECK(written(true, [](Writer& w) {
          w.bytes(to_bytes("ab"), "b");
          w.bytes({}, "b");
          w.nullable_bytes(std::nullopt, true, "b");
        }) == "036162" "01" "00");
  auto bytes = from_hex("04616263" "01" "00" "036162" "01" "00");
  Reader r(bytes, true);
  CHECK(r.string("a") == "abc");
  CHECK(r.nullable_string("b", true) == std::optional<std::string>(""));
  CHECK(r.nullable_string("c", true) == std::nullopt);
  CHECK(r.bytes("d") == to_bytes("ab"));
  CHECK(r.nullable_bytes("e", true) == std::optional<Bytes>(Bytes{}));
  CHECK(r.nullable_bytes("f", true) == std::nullopt);
  CHECK(r.ok());
  CHECK(r.at_end());
  // A 200-byte compact string needs a two-byte uvarint length (201 = c9 01).
  std::string long_string(200, 'z');
  CHECK(written(true, [&](Writer& w) { w.string(long_string, "s"); }).substr(0, 4) == "c901");
}

TEST_CASE("ArraysUseInt32OrCompactCountsAndNull") {
  CHECK(written(false, [](Writer& w) {
          w.array_length(2, "a");
          w.array_length(0, "a");
          w.null_array(true, "a");
        }) == "00000002" "00000000" "ffffffff");
  CHECK(written(true, [](Writer& w) {
          w.array_length(2, "a");
          w.array_length(0, "a");
          w.null_array(true, "a");
        }) == "03" "01" "00");
  auto classic = from_hex("00000002aabb" "ffffffff");
  Reader r(classic, false);
  CHECK(r.array_length("a") == 2);
  r.int16("payload");
  CHECK(r.nullable_array_length("b", true) == -1);
  CHECK(r.ok());
  auto compact = from_hex("03aabb" "00");
  Reader rc(compact, true);
  CHECK(rc.array_length("a") == 2);
  rc.int16("payload");
  CHECK(rc.nullable_array_length("b", true) == -1);
  CHECK(rc.ok());
}

TEST_CASE("NullWhereTheVersionForbidsItFailsOnReadAndWrite") {
  for (bool flexible : {false, true}) {
    CAPTURE(flexible);
    auto null_string = from_hex(flexible ? "00" : "ffff");
    Reader r1(null_string, flexible);
    r1.nullable_string("Topic.name", /*nullable=*/false);
    CHECK_FALSE(r1.ok());
    CHECK(r1.status("X v1").error().message.find("Topic.name: null") != std::string::npos);
    Reader r2(null_string, flexible);
    r2.string("Topic.name");
    CHECK_FALSE(r2.ok());

    auto null_array = from_hex(flexible ? "00" : "ffffffff");
    Reader r3(null_array, flexible);
    r3.array_length("Req.topics");
    CHECK_FALSE(r3.ok());

    Bytes out;
    Writer w(out, flexible);
    w.nullable_string(std::nullopt, /*nullable=*/false, "Topic.name");
    CHECK_FALSE(w.ok());
    CHECK(w.status("X v1").error().code == streamctl::ErrorCode::kInvalidArgument);
    Writer w2(out, flexible);
    w2.null_array(false, "Req.topics");
    CHECK_FALSE(w2.ok());
    Writer w3(out, flexible);
    w3.nullable_bytes(std::nullopt, false, "P.records");
    CHECK_FALSE(w3.ok());
  }
}

TEST_CASE("NullableStructMarkerExistsOnlyInNullableVersions") {
  CHECK(written(false, [](Writer& w) {
          w.struct_marker(true, true, "s");
          w.struct_marker(false, true, "s");
          w.struct_marker(true, false, "s");
        }) == "01" "ff");
  auto bytes = from_hex("01ff");
  Reader r(bytes, false);
  CHECK(r.struct_present("a", true));
  CHECK_FALSE(r.struct_present("b", true));
  CHECK(r.struct_present("c", false));  // no marker read
  CHECK(r.ok());
  CHECK(r.at_end());
  Bytes out;
  Writer w(out, false);
  w.struct_marker(false, false, "Resp.cursor");
  CHECK_FALSE(w.ok());
}

TEST_CASE("StringLongerThan32767BytesCannotBeWritten") {
  std::string big(kMaxStringLength + 1, 'a');
  for (bool flexible : {false, true}) {
    Bytes out;
    Writer w(out, flexible);
    w.string(big, "Group.member_id");
    CHECK_FALSE(w.ok());
    CHECK(w.status("JoinGroupRequest v5").error().message.find("Group.member_id") !=
          std::string::npos);
  }
  std::string max(kMaxStringLength, 'a');
  Bytes out;
  Writer w(out, false);
  w.string(max, "s");
  CHECK(w.ok());
  Reader r(out, false);
  CHECK(r.string("s").size() == kMaxStringLength);
  CHECK(r.ok());
}

TEST_CASE("UnknownTaggedFieldsArePreservedAndWrittenInTagOrder") {
  auto bytes = from_hex("02" "01" "00" "05" "02" "abcd");
  Reader r(bytes, true);
  std::vector<RawTaggedField> unknown;
  r.tagged_fields("S.tagged_fields", unknown);
  REQUIRE(r.ok());
  CHECK(r.at_end());
  REQUIRE(unknown.size() == 2);
  CHECK(unknown[0].tag == 1);
  CHECK(unknown[0].data.empty());
  CHECK(unknown[1].tag == 5);
  CHECK(unknown[1].data == from_hex("abcd"));
  // Written back ascending by tag, as Kafka does, whatever order the caller holds them in.
  std::vector<RawTaggedField> shuffled = {unknown[1], unknown[0]};
  CHECK(written(true, [&](Writer& w) { w.tagged_fields(shuffled); }) == "02" "0100" "0502abcd");
  CHECK(written(true, [](Writer& w) { w.tagged_fields({}); }) == "00");
}

TEST_CASE("TaggedFieldWriterMergesKnownAndUnknownFieldsByTag") {
  std::vector<RawTaggedField> unknown = {{4, from_hex("ee")}, {0, from_hex("")}};
  std::string hex = written(true, [&](Writer& w) {
    TaggedFieldWriter tags(w);
    tags.add(1).int32(7);
    tags.add(3).string("hi", "s");
    tags.finish(unknown);
  });
  CHECK(hex == "04" "0000" "010400000007" "0303036869" "0401ee");
  // Nothing known and nothing unknown: a single zero count.
  CHECK(written(true, [](Writer& w) {
          TaggedFieldWriter tags(w);
          tags.finish({});
        }) == "00");
}

TEST_CASE("TaggedFieldErrorsPropagateToTheParentWriter") {
  Bytes out;
  Writer w(out, true);
  TaggedFieldWriter tags(w);
  tags.add(0).nullable_string(std::nullopt, false, "S.tagged_name");
  tags.finish({});
  CHECK_FALSE(w.ok());
  CHECK(w.status("S v3").error().message.find("S.tagged_name") != std::string::npos);
}

TEST_CASE("KnownTaggedFieldMustStayWithinItsSize") {
  // Tag 0 claims 1 byte, but the field reads a 4-byte int32.
  auto bytes = from_hex("01" "00" "01" "00000007");
  Reader r(bytes, true);
  REQUIRE(r.tagged_field_count("S") == 1);
  auto h = r.tagged_field_header("S");
  r.int32("S.known");
  r.end_tagged_field(h, "S.known");
  CHECK_FALSE(r.ok());
  CHECK(r.status("S v3").error().message.find("S.known") != std::string::npos);

  // A known field shorter than its size: the rest is skipped.
  auto longer = from_hex("01" "00" "05" "00000007ff" "aa");
  Reader r2(longer, true);
  REQUIRE(r2.tagged_field_count("S") == 1);
  auto h2 = r2.tagged_field_header("S");
  CHECK(r2.int32("S.known") == 7);
  r2.end_tagged_field(h2, "S.known");
  CHECK(r2.ok());
  CHECK(r2.int8("next") == int8_t(0xaa));
}

TEST_CASE("ReaderErrorNamesFieldReasonAndPosition") {
  auto bytes = from_hex("0001" "00");
  Reader r(bytes, false);
  r.int16("Req.a");
  r.int32("Req.b");
  CHECK_FALSE(r.ok());
  // Later reads return zero values and do not replace the first error.
  CHECK(r.int64("Req.c") == 0);
  CHECK(r.string("Req.d").empty());
  auto st = r.status("FooRequest v3");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == streamctl::ErrorCode::kCorruption);
  CHECK(st.error().message ==
        "malformed FooRequest v3: Req.b: truncated: needs 4 bytes, 1 remain (at byte 2)");
}

// The smallest message decode_message/encode_message accept.
struct Tiny {
  static constexpr const char* kName = "Tiny";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 1;
  static constexpr bool is_flexible(int16_t v) { return v >= 1; }
  int16_t value = 0;
  void decode(Reader& r, int16_t) { value = r.int16("Tiny.value"); }
  void encode(Writer& w, int16_t) const { w.int16(value); }
};

TEST_CASE("DecodeMessageRejectsTrailingBytesAndUnknownVersions") {
  auto ok = decode_message<Tiny>(from_hex("0007"), 0);
  REQUIRE(ok.ok());
  CHECK(ok->value == 7);
  auto trailing = decode_message<Tiny>(from_hex("000700"), 0);
  REQUIRE_FALSE(trailing.ok());
  CHECK(trailing.error().message.find("1 trailing bytes") != std::string::npos);
  auto version = decode_message<Tiny>(from_hex("0007"), 2);
  REQUIRE_FALSE(version.ok());
  CHECK(version.error().code == streamctl::ErrorCode::kNotSupported);
  Bytes out{std::byte{0x55}};
  CHECK_FALSE(encode_message(Tiny{}, 5, out).ok());
  CHECK(out.size() == 1);  // unchanged on error
}

}  // namespace
}  // namespace streamctl::kafka::protocol

namespace streamctl::kafka::protocol {

// Found by the request-decoder fuzzer: unknown tags out of order decoded, but re-encoded in another order.
TEST_CASE("UnknownTaggedFieldsOutOfOrderOrDuplicatedAreRejected") {
  for (const std::vector<uint8_t>& section : {std::vector<uint8_t>{2, 5, 0, 3, 0},    // tags 5 then 3
                                              std::vector<uint8_t>{2, 4, 0, 4, 0}}) {  // tag 4 twice
    Bytes in;
    for (uint8_t b : section) in.push_back(std::byte{b});
    Reader r(in, /*flexible=*/true);
    std::vector<RawTaggedField> unknown;
    r.tagged_fields("Test.tags", unknown);
    CHECK_FALSE(r.ok());
  }
  Bytes ascending{std::byte{2}, std::byte{3}, std::byte{0}, std::byte{5}, std::byte{0}};
  Reader r(ascending, true);
  std::vector<RawTaggedField> unknown;
  r.tagged_fields("Test.tags", unknown);
  CHECK(r.ok());
  CHECK(unknown.size() == 2);
}

}  // namespace streamctl::kafka::protocol
