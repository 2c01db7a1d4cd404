// The API table (what we advertise vs what we can decode), the header version rules, the frame entry
// points and the ApiVersions answers, checked against hand-written bytes.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "kafka/protocol/frame.h"
#include "tests/kafka/protocol/protocol_test_util.h"

namespace streamctl::kafka::protocol {
namespace {

using testing::from_hex;
using testing::to_hex;

VersionRange advertised(ApiKey key) {
  const ApiInfo* a = find_api(static_cast<int16_t>(key));
  REQUIRE(a != nullptr);
  return a->advertised;
}

TEST_CASE("AdvertisedRangesSatisfyCompatHardConstraints") {
  // shared/kafka-protocol/COMPAT.md §1 and §4 rule 1 (librdkafka's exact-version feature gates).
  const VersionRange produce = advertised(ApiKey::kProduce);
  CHECK(produce.min == 0);  // compression gate: ApiVersion_supported(Produce, 0, X)
  CHECK(produce.contains(3));
  CHECK(produce.contains(7));
  CHECK(advertised(ApiKey::kFetch).contains(4));
  CHECK(advertised(ApiKey::kFetch).contains(10));
  for (ApiKey k : {ApiKey::kFindCoordinator, ApiKey::kJoinGroup, ApiKey::kSyncGroup,
                   ApiKey::kHeartbeat, ApiKey::kLeaveGroup}) {
    CAPTURE(static_cast<int>(k));
    CHECK(advertised(k).contains(0));
  }
  const VersionRange commit = advertised(ApiKey::kOffsetCommit);
  CHECK((commit.contains(1) || commit.contains(2)));
  CHECK(advertised(ApiKey::kOffsetFetch).contains(1));
  CHECK(advertised(ApiKey::kListOffsets).contains(0));  // librdkafka 1.7.0 hard-codes v0
  CHECK(advertised(ApiKey::kMetadata).contains(0));     // kafka-python probe
  CHECK(advertised(ApiKey::kMetadata).contains(4));     // kafka-python infers >= 0.11 (magic 2)
  // kafka-python admin needs a Metadata version in 1..6.
  CHECK(advertised(ApiKey::kMetadata).contains(1));
  CHECK(advertised(ApiKey::kApiVersions).contains(0));
  CHECK(advertised(ApiKey::kApiVersions).contains(2));
  CHECK(advertised(ApiKey::kApiVersions).contains(3));
}

TEST_CASE("AdvertisedTableIsCompatSectionOne") {
  std::map<ApiKey, std::pair<int, int>> expected = {
      {ApiKey::kProduce, {0, 7}},          {ApiKey::kFetch, {0, 11}},
      {ApiKey::kListOffsets, {0, 5}},      {ApiKey::kMetadata, {0, 8}},
      {ApiKey::kOffsetCommit, {0, 7}},     {ApiKey::kOffsetFetch, {0, 5}},
      {ApiKey::kFindCoordinator, {0, 2}},  {ApiKey::kJoinGroup, {0, 5}},
      {ApiKey::kHeartbeat, {0, 3}},        {ApiKey::kLeaveGroup, {0, 3}},
      {ApiKey::kSyncGroup, {0, 3}},        {ApiKey::kApiVersions, {0, 3}},
      {ApiKey::kCreateTopics, {0, 4}},     {ApiKey::kDeleteTopics, {0, 3}},
      {ApiKey::kInitProducerId, {0, 1}},   {ApiKey::kDescribeGroups, {0, 4}},
      {ApiKey::kListGroups, {0, 2}},       {ApiKey::kDeleteGroups, {0, 1}},
      {ApiKey::kCreatePartitions, {0, 1}}, {ApiKey::kDescribeConfigs, {0, 2}},
      {ApiKey::kIncrementalAlterConfigs, {0, 0}}, {ApiKey::kDeleteRecords, {0, 1}},
      // Beyond §1: librdkafka 2.0 (Debian 12, the CLI's --brokers backend) alters topic configs only
      // through AlterConfigs.
      {ApiKey::kAlterConfigs, {0, 1}},
      // Beyond §1: `streamctl group delete --topic` deletes offsets atomically when a broker has it.
      {ApiKey::kOffsetDelete, {0, 0}},
      // SASL (serve's SASL_PLAINTEXT/SASL_SSL listeners), advertised on every listener as Kafka does.
      {ApiKey::kSaslHandshake, {0, 1}},   {ApiKey::kSaslAuthenticate, {0, 2}},
      // ACL administration, every version Kafka defines (v2+ flexible).
      {ApiKey::kDescribeAcls, {0, 3}},    {ApiKey::kCreateAcls, {0, 3}},   {ApiKey::kDeleteAcls, {0, 3}},
  };
  size_t advertised_count = 0;
  for (const ApiInfo& a : api_table()) {
    CAPTURE(a.name);
    if (a.advertised.empty()) {
      CHECK(expected.count(a.key) == 0);
      continue;
    }
    ++advertised_count;
    REQUIRE(expected.count(a.key) == 1);
    CHECK(a.advertised.min == expected[a.key].first);
    CHECK(a.advertised.max == expected[a.key].second);
  }
  CHECK(advertised_count == expected.size());
}

bool is_acl_api(ApiKey k) {
  return k == ApiKey::kDescribeAcls || k == ApiKey::kCreateAcls || k == ApiKey::kDeleteAcls;
}

TEST_CASE("AdvertisedVersionsAreDecodableAndNonFlexibleExceptApiVersionsV3SaslAuthenticateV2AndAclsV2Plus") {
  for (const ApiInfo& a : api_table()) {
    CAPTURE(a.name);
    CHECK(a.decodable.min <= a.decodable.max);
    if (a.advertised.empty()) continue;
    CHECK(a.advertised.min >= a.decodable.min);
    CHECK(a.advertised.max <= a.decodable.max);
    for (int16_t v = a.advertised.min; v <= a.advertised.max; ++v) {
      CAPTURE(v);
      const bool flexible = is_flexible_version(static_cast<int16_t>(a.key), v);
      CHECK(flexible == ((a.key == ApiKey::kApiVersions && v == 3) || (a.key == ApiKey::kSaslAuthenticate && v == 2) ||
                         (is_acl_api(a.key) && v >= 2)));
      // Every advertised version really goes through the generated decoder.
      auto decoded = decode_request_message(static_cast<int16_t>(a.key), v, {});
      if (!decoded.ok()) CHECK(decoded.error().code == streamctl::ErrorCode::kCorruption);
    }
  }
}

TEST_CASE("TableLookupByKeyAndName") {
  CHECK(std::string(api_name(0)) == "Produce");
  CHECK(std::string(api_name(18)) == "ApiVersions");
  CHECK(std::string(api_name(60)) == "DescribeCluster");
  CHECK(std::string(api_name(17)) == "SaslHandshake");
  CHECK(std::string(api_name(4)) == "Unknown");  // LeaderAndIsr: not served
  CHECK(find_api(-1) == nullptr);
  CHECK(find_api(1000) == nullptr);
  CHECK(is_advertised(0, 0));
  CHECK_FALSE(is_advertised(0, 8));
  CHECK(is_advertised(1, 3));  // Fetch v0-3: message sets down-converted from RecordBatch v2
  CHECK_FALSE(is_advertised(1, 12));
  CHECK_FALSE(is_advertised(60, 0));
  CHECK(is_flexible_version(18, 4));  // beyond the codec, still known to be flexible
  CHECK_FALSE(is_flexible_version(17, 5));
  CHECK(is_flexible_version(60, 0));  // DescribeCluster is flexible from v0
}

TEST_CASE("HeaderVersionsFollowFlexibilityAndApiVersionsResponsesUseV0") {
  CHECK(request_header_version(3, 8) == 1);
  CHECK(request_header_version(3, 9) == 2);
  CHECK(request_header_version(18, 2) == 1);
  CHECK(request_header_version(18, 3) == 2);
  CHECK(request_header_version(1, 12) == 2);
  CHECK(request_header_version(999, 1) == 1);
  CHECK(response_header_version(3, 8) == 0);
  CHECK(response_header_version(3, 9) == 1);
  CHECK(response_header_version(1, 12) == 1);
  CHECK(response_header_version(18, 3) == 0);
  CHECK(response_header_version(18, 7) == 0);
}

TEST_CASE("RequestHeaderV1AndV2Bytes") {
  // kcat's first request: ApiVersions v3, header v2 (client id keeps its int16 length, then tags).
  auto frame = from_hex("0012000300000001000772646b61666b6100" "0b6c696272646b61666b6106322e302e3200");
  size_t body_offset = 0;
  auto h = decode_request_header(frame, &body_offset);
  REQUIRE(h.ok());
  CHECK(h->api_key == 18);
  CHECK(h->api_version == 3);
  CHECK(h->correlation_id == 1);
  CHECK(h->client_id == std::optional<std::string>("rdkafka"));
  CHECK(body_offset == 18);
  Bytes out;
  REQUIRE(encode_request_header(*h, out).ok());
  CHECK(to_hex(out) == "0012000300000001000772646b61666b6100");

  RequestHeader v1;
  v1.api_key = 3;
  v1.api_version = 4;
  v1.correlation_id = 0x01020304;
  out.clear();
  REQUIRE(encode_request_header(v1, out).ok());
  CHECK(to_hex(out) == "0003000401020304ffff");  // null client id, no tag section
  v1.client_id = "";
  out.clear();
  REQUIRE(encode_request_header(v1, out).ok());
  CHECK(to_hex(out) == "00030004010203040000");

  auto truncated = from_hex("000300040102");
  auto bad = decode_request_header(truncated, &body_offset);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == streamctl::ErrorCode::kCorruption);
  CHECK(bad.error().message.find("RequestHeader.correlation_id") != std::string::npos);
}

TEST_CASE("ResponseHeaderV0AndV1Bytes") {
  Bytes out;
  ResponseHeader h;
  h.correlation_id = 9;
  encode_response_header(h, 0, out);
  CHECK(to_hex(out) == "00000009");
  out.clear();
  encode_response_header(h, 1, out);
  CHECK(to_hex(out) == "0000000900");
  size_t body = 0;
  auto back = decode_response_header(out, 1, &body);
  REQUIRE(back.ok());
  CHECK(back->correlation_id == 9);
  CHECK(body == 5);
}

ApiVersionsResponse two_apis() {
  ApiVersionsResponse r;
  r.api_keys.push_back({0, 0, 7, {}});
  r.api_keys.push_back({18, 0, 3, {}});
  return r;
}

TEST_CASE("ApiVersionsResponseV0BytesByHand") {
  Bytes out;
  REQUIRE(encode_response_frame(7, 0, two_apis(), out).ok());
  CHECK(to_hex(out) ==
        "00000016"                         // size 22
        "00000007"                         // correlation id (header v0)
        "0000"                             // error code
        "00000002"                         // int32 array count
        "000000000007" "001200000003");    // {key, min, max} x2; no throttle time in v0
}

TEST_CASE("ApiVersionsResponseV3BytesByHand") {
  Bytes out;
  REQUIRE(encode_response_frame(7, 3, two_apis(), out).ok());
  CHECK(to_hex(out) ==
        "0000001a"                          // size 26
        "00000007"                          // correlation id: header v0 even though v3 is flexible
        "0000"                              // error code
        "03"                                // compact array: 2 elements + 1
        "00000000000700" "00120000000300"   // {key, min, max, tags} x2
        "00000000"                          // throttle time
        "00");                              // no tagged fields
  // And the reverse.
  auto back = decode_response(18, 3, ByteSpan(out).subspan(4));
  REQUIRE(back.ok());
  CHECK(std::get<ApiVersionsResponse>(back->body) == two_apis());
}

TEST_CASE("ApiVersionsResponseListsExactlyTheAdvertisedTable") {
  ApiVersionsResponse r = make_api_versions_response();
  CHECK(r.error_code == 0);
  size_t n = 0;
  for (const ApiInfo& a : api_table()) {
    if (a.advertised.empty()) continue;
    REQUIRE(n < r.api_keys.size());
    CHECK(r.api_keys[n].api_key == static_cast<int16_t>(a.key));
    CHECK(r.api_keys[n].min_version == a.advertised.min);
    CHECK(r.api_keys[n].max_version == a.advertised.max);
    ++n;
  }
  CHECK(n == r.api_keys.size());
  // Encodable at every ApiVersions version we advertise.
  for (int16_t v = 0; v <= 3; ++v) {
    Bytes out;
    CHECK(encode_response(1, v, r, out).ok());
  }
}

TEST_CASE("UnsupportedApiVersionsVersionIsAnsweredWithAV0Body") {
  // A future client sends ApiVersions v4 (flexible, header v2).
  auto frame = from_hex("0012000400000005" "0003616263" "00" "036e6d" "0276" "00");
  auto parsed = decode_request_frame(frame);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.correlation_id == 5);
  CHECK(parsed->header.client_id == std::optional<std::string>("abc"));
  auto body = decode_request_body(parsed->header, parsed->body);
  REQUIRE_FALSE(body.ok());
  CHECK(body.error().code == streamctl::ErrorCode::kNotSupported);
  Bytes out;
  REQUIRE(encode_response_frame(parsed->header.correlation_id, 0,
                                make_unsupported_api_versions_response(), out)
              .ok());
  CHECK(to_hex(out) == "00000010" "00000005" "0023" "00000001" "001200000003");
}

TEST_CASE("DecodeRequestRejectsUnknownKeysUnadvertisedVersionsAndMalformedBodies") {
  // LeaderAndIsr (4) is not served.
  auto r1 = decode_request(from_hex("0004000100000001ffff"));
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.error().code == streamctl::ErrorCode::kNotSupported);
  CHECK(r1.error().message.find("API key 4") != std::string::npos);
  // Fetch v12 is decodable but not advertised.
  auto r2 = decode_request(from_hex("0001000c00000001ffff00"));
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().code == streamctl::ErrorCode::kNotSupported);
  CHECK(r2.error().message.find("Fetch (key 1) v12") != std::string::npos);
  // DescribeCluster is decodable but not served at all.
  auto r3 = decode_request(from_hex("003c000000000001ffff00" "0000"));
  REQUIRE_FALSE(r3.ok());
  CHECK(r3.error().code == streamctl::ErrorCode::kNotSupported);
  // Metadata v1 whose topic array claims 2 topics but holds one.
  auto r4 = decode_request(from_hex("0003000100000001ffff" "00000002" "000161"));
  REQUIRE_FALSE(r4.ok());
  CHECK(r4.error().code == streamctl::ErrorCode::kCorruption);
  CHECK(r4.error().message.find("MetadataRequest v1") != std::string::npos);
  CHECK(r4.error().message.find("MetadataRequestTopic.name") != std::string::npos);
}

TEST_CASE("ResponseFrameSizePrefixAndFlexibleHeader") {
  MetadataResponse m;
  m.cluster_id = "c";
  m.controller_id = 1;
  Bytes out;
  REQUIRE(encode_response_frame(42, 9, m, out).ok());
  const uint32_t size = get_be32(out.data());
  CHECK(size == out.size() - 4);
  CHECK(to_hex(ByteSpan(out).subspan(4, 5)) == "0000002a00");  // header v1: tag section
  auto back = decode_response(3, 9, ByteSpan(out).subspan(4));
  REQUIRE(back.ok());
  CHECK(std::get<MetadataResponse>(back->body) == m);
  // A version the codec cannot encode leaves the buffer untouched.
  Bytes keep = from_hex("ab");
  CHECK_FALSE(encode_response_frame(1, 13, m, keep).ok());
  CHECK(to_hex(keep) == "ab");
}

TEST_CASE("EncodeRequestChecksHeaderAndBodyAgree") {
  Request req;
  req.header.api_key = 1;
  req.header.api_version = 4;
  req.body = MetadataRequest{};
  Bytes out;
  auto st = encode_request(req, out);
  REQUIRE_FALSE(st.ok());
  CHECK(out.empty());
}

}  // namespace
}  // namespace streamctl::kafka::protocol
