// The generator's features that no served API uses (float64, uint16/uint32, hex and non-zero
// defaults, nullable structs, common structs, tagged structs and arrays, a field removed in a later
// version), checked on the synthetic CodecFeaturesMessage (kafka/protocol/gen/test_schema).
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "tests/kafka/protocol/codec_features_message.h"
#include "tests/kafka/protocol/codec_features_message.inc"  // generated definitions, compiled only here
#include "tests/kafka/protocol/protocol_test_util.h"

namespace streamctl::kafka::protocol {
namespace {

using testing::from_hex;
using testing::to_hex;

CodecFeaturesMessage::Endpoint endpoint(std::string host, int32_t port) {
  CodecFeaturesMessage::Endpoint e;
  e.host = std::move(host);
  e.port = port;
  return e;
}

TEST_CASE("GeneratedDefaultsFollowTheSchema") {
  CodecFeaturesMessage m;
  CHECK(m.ratio == 0.5);
  CHECK(m.port == 9092);
  CHECK(m.mask == 0xffffffffu);
  CHECK(m.flag);
  CHECK(m.big_number == std::numeric_limits<int64_t>::min());
  CHECK(m.id.is_zero());
  CHECK(m.label == "none");
  CHECK(m.note == std::optional<std::string>(""));
  CHECK(m.payload == std::optional<Bytes>(Bytes{}));
  CHECK_FALSE(m.origin.has_value());
  CHECK(m.leader.leader_id == -1);
  for (int16_t v = CodecFeaturesMessage::kMinVersion; v <= CodecFeaturesMessage::kMaxVersion; ++v) {
    CAPTURE(v);
    Bytes out;
    REQUIRE(encode_message(m, v, out).ok());
    auto back = decode_message<CodecFeaturesMessage>(out, v);
    REQUIRE(back.ok());
    CHECK(*back == m);
  }
}

TEST_CASE("ClassicVersionBytesByHand") {
  Bytes out;
  REQUIRE(encode_message(CodecFeaturesMessage{}, 0, out).ok());
  CHECK(to_hex(out) ==
        "3fe0000000000000"   // ratio 0.5
        "2384"               // port 9092
        "01"                 // flag
        "8000000000000000"   // big_number
        "00046e6f6e65"       // label "none"
        "0000"               // note ""
        "00000000"           // payload: empty records
        "00000000"           // names
        "00000000"           // peers
        "00000000");         // blob (v0-1)
}

TEST_CASE("FlexibleVersionWithNullsAndATaggedStruct") {
  CodecFeaturesMessage m;
  m.note.reset();
  m.names.reset();
  m.leader.leader_id = 1;
  m.leader.leader_epoch = 5;
  m.blob = Bytes{};  // default: silently absent from v2
  Bytes out;
  REQUIRE(encode_message(m, 2, out).ok());
  CHECK(to_hex(out) ==
        "3fe0000000000000" "2384"
        "ffffffff"                            // mask (v1+)
        "01" "8000000000000000"
        "00000000000000000000000000000000"    // id (v1+)
        "056e6f6e65"                          // compact "none"
        "00"                                  // note: compact null
        "01"                                  // payload: compact empty
        "00"                                  // names: compact null
        "ff"                                  // origin: null marker
        "01"                                  // peers: compact empty
        "01" "00" "09" "00000001" "00000005" "00");  // tags: leader (tag 0), 9 bytes
  auto back = decode_message<CodecFeaturesMessage>(out, 2);
  REQUIRE(back.ok());
  CHECK(*back == m);
}

TEST_CASE("NullableStructCarriesAPresenceMarker") {
  // v1 bytes with origin = {"h", 9}: marker 01, then the struct.
  const std::string v1_hex =
      "3fe0000000000000" "2384" "ffffffff" "01" "8000000000000000"
      "00000000000000000000000000000000" "00046e6f6e65" "0000" "00000000" "00000000"
      "01" "000168" "00000009"   // origin
      "00000000" "00000000";     // peers, blob
  auto back = decode_message<CodecFeaturesMessage>(from_hex(v1_hex), 1);
  REQUIRE(back.ok());
  REQUIRE(back->origin.has_value());
  CHECK(back->origin->host == "h");
  CHECK(back->origin->port == 9);
  Bytes v1;
  REQUIRE(encode_message(*back, 1, v1).ok());
  CHECK(to_hex(v1) == v1_hex);
  // v0 has no origin: it is ignorable, so the value is dropped rather than refused.
  Bytes v0;
  REQUIRE(encode_message(*back, 0, v0).ok());
  auto back0 = decode_message<CodecFeaturesMessage>(v0, 0);
  REQUIRE(back0.ok());
  CHECK_FALSE(back0->origin.has_value());
}

TEST_CASE("FullyPopulatedMessageRoundTripsAtV3") {
  CodecFeaturesMessage m;
  m.ratio = -2.75;
  m.port = 65535;
  m.mask = 0x01020304;
  m.flag = false;
  m.big_number = 42;
  m.id.bytes.fill(0xab);
  m.label = "label";
  m.note = "note";
  m.payload = from_hex("00112233");
  m.names = std::vector<std::string>{"a", "", "c"};
  m.origin.emplace(endpoint("origin", 1));
  m.peers = {endpoint("p1", 2), endpoint("p2", 3)};
  m.leader = {7, 8, {}};
  m.extras = {-1, 0, std::numeric_limits<int64_t>::max()};
  m.unknown_tagged_fields = {{9, from_hex("beef")}};
  Bytes out;
  REQUIRE(encode_message(m, 3, out).ok());
  auto back = decode_message<CodecFeaturesMessage>(out, 3);
  REQUIRE(back.ok());
  CHECK(*back == m);
  // Tags are written ascending: leader (0), extras (1), then the preserved unknown tag 9.
  CHECK(to_hex(out).substr(to_hex(out).size() - 8) == "0902beef");
}

TEST_CASE("NonIgnorableFieldsCannotBeSentToVersionsThatLackThem") {
  CodecFeaturesMessage removed;
  removed.blob = from_hex("01");  // exists only in v0-1
  Bytes out;
  CHECK(encode_message(removed, 1, out).ok());
  auto st = encode_message(removed, 2, out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("CodecFeaturesMessage.blob") != std::string::npos);

  CodecFeaturesMessage later;
  later.extras = {1};  // tagged, v3+ only, not ignorable
  CHECK_FALSE(encode_message(later, 2, out).ok());
  CHECK(encode_message(later, 3, out).ok());

  CodecFeaturesMessage null_note;
  null_note.note.reset();  // nullable only from v1
  CHECK_FALSE(encode_message(null_note, 0, out).ok());
  CHECK(encode_message(null_note, 1, out).ok());
}

}  // namespace
}  // namespace streamctl::kafka::protocol
