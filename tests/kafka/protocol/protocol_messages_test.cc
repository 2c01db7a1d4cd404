// Generated message codecs: every message at every generated version, and the version rules that
// matter to clients (field order of Fetch partitions, nullability, tagged fields, fields a version lacks).
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <variant>

#include "kafka/protocol/frame.h"
#include "kafka/protocol/group_member_metadata.h"
#include "tests/kafka/protocol/protocol_test_util.h"

namespace streamctl::kafka::protocol {
namespace {

using testing::from_hex;
using testing::to_hex;

template <typename Variant, typename F, size_t... I>
void for_each_alternative_impl(F&& f, std::index_sequence<I...>) {
  (f(std::variant_alternative_t<I, Variant>{}), ...);
}

template <typename Variant, typename F>
void for_each_alternative(F&& f) {
  for_each_alternative_impl<Variant>(std::forward<F>(f),
                                     std::make_index_sequence<std::variant_size_v<Variant>>{});
}

TEST_CASE("EveryMessageRoundTripsAtEveryGeneratedVersion") {
  int types = 0;
  auto each = [&](const auto& m) {
    testing::check_round_trip(m);
    ++types;
  };
  for_each_alternative<RequestBody>(each);
  for_each_alternative<ResponseBody>(each);
  each(ConsumerProtocolSubscription{});
  each(ConsumerProtocolAssignment{});
  CHECK(types == 2 * 30 + 2);
}

TEST_CASE("RequestAndResponseVariantsAreAlignedByApiKey") {
  CHECK(std::variant_size_v<RequestBody> == std::variant_size_v<ResponseBody>);
  std::vector<int16_t> req_keys, resp_keys;
  for_each_alternative<RequestBody>([&](const auto& m) { req_keys.push_back(m.kApiKey); });
  for_each_alternative<ResponseBody>([&](const auto& m) { resp_keys.push_back(m.kApiKey); });
  CHECK(req_keys == resp_keys);
  for (size_t i = 1; i < req_keys.size(); ++i) CHECK(req_keys[i - 1] < req_keys[i]);
  // Every table entry is in the variants except the KRaft quorum APIs, which are peer-only (generated/<api>.h).
  size_t i = 0;
  int quorum = 0;
  for (const ApiInfo& a : api_table()) {
    if (is_quorum_api(static_cast<int16_t>(a.key))) {
      CHECK(a.advertised.empty());
      ++quorum;
      continue;
    }
    REQUIRE(i < req_keys.size());
    CHECK(static_cast<int16_t>(a.key) == req_keys[i++]);
  }
  CHECK(i == req_keys.size());
  CHECK(quorum == 5);
}

FetchResponse one_partition_fetch_response() {
  FetchResponse r;
  auto& topic = r.responses.emplace_back();
  topic.topic = "t";
  auto& p = topic.partitions.emplace_back();
  p.partition_index = 0;
  p.high_watermark = 5;
  p.last_stable_offset = 5;
  p.log_start_offset = 0;
  p.records = from_hex("aa");
  return r;
}

TEST_CASE("FetchResponseV11PartitionHeaderOrderMatchesKafka") {
  // COMPAT.md §4 rule 3: partition, error, HWM, LSO (v4), log start (v5), aborted[] (v4),
  // preferred read replica (v11) = -1, records. A broker that got this wrong broke librdkafka.
  Bytes out;
  REQUIRE(encode_message(one_partition_fetch_response(), 11, out).ok());
  CHECK(to_hex(out) ==
        "00000000"            // throttle_time_ms
        "0000"                // error_code
        "00000000"            // session_id
        "00000001" "000174"   // responses[1]: topic "t"
        "00000001"            // partitions[1]
        "00000000"            // partition_index
        "0000"                // error_code
        "0000000000000005"    // high_watermark
        "0000000000000005"    // last_stable_offset
        "0000000000000000"    // log_start_offset
        "00000000"            // aborted_transactions: empty, not null
        "ffffffff"            // preferred_read_replica
        "00000001" "aa");     // records
  // v4: no session id / error code (v7+), no log start offset (v5+), no preferred replica (v11+).
  out.clear();
  REQUIRE(encode_message(one_partition_fetch_response(), 4, out).ok());
  CHECK(to_hex(out) == "00000000" "00000001" "000174" "00000001" "00000000" "0000"
                       "0000000000000005" "0000000000000005" "00000000" "00000001" "aa");
}

TEST_CASE("FetchResponseV12UsesCompactEncodingAndWritesOnlyNonDefaultTaggedFields") {
  FetchResponse r = one_partition_fetch_response();
  r.responses[0].partitions[0].current_leader.leader_id = 1;
  r.responses[0].partitions[0].current_leader.leader_epoch = 2;
  Bytes out;
  REQUIRE(encode_message(r, 12, out).ok());
  CHECK(to_hex(out) ==
        "00000000" "0000" "00000000"
        "02" "0274"                                   // compact array, compact string "t"
        "02"                                          // partitions
        "00000000" "0000" "0000000000000005" "0000000000000005" "0000000000000000"
        "01"                                          // aborted: compact, empty
        "ffffffff"
        "02" "aa"                                     // compact records
        "01" "01" "09" "00000001" "00000002" "00"     // tag 1 (current_leader), 9 bytes
        "00"                                          // topic tags
        "00");                                        // response tags
  auto back = decode_message<FetchResponse>(out, 12);
  REQUIRE(back.ok());
  CHECK(*back == r);
}

TEST_CASE("FetchRequestV12ClusterIdIsATaggedField") {
  FetchRequest f;
  f.max_wait_ms = 500;
  f.cluster_id = "c";
  Bytes out;
  REQUIRE(encode_message(f, 12, out).ok());
  const std::string hex = to_hex(out);
  CHECK(hex.substr(hex.size() - 10) == "0100020263");  // 1 tag: tag 0, size 2, compact "c"
  auto back = decode_message<FetchRequest>(out, 12);
  REQUIRE(back.ok());
  CHECK(back->cluster_id == std::optional<std::string>("c"));
  // Not flexible before v12: the tagged field simply does not exist there (ignorable).
  out.clear();
  REQUIRE(encode_message(f, 11, out).ok());
  auto v11 = decode_message<FetchRequest>(out, 11);
  REQUIRE(v11.ok());
  CHECK_FALSE(v11->cluster_id.has_value());
}

TEST_CASE("NonIgnorableFieldAVersionLacksIsAnEncodeError") {
  FetchRequest f;
  f.topics.emplace_back().partitions.emplace_back().last_fetched_epoch = 3;  // v12+, not ignorable
  Bytes out{std::byte{0x42}};
  auto st = encode_message(f, 11, out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == streamctl::ErrorCode::kInvalidArgument);
  CHECK(st.error().message.find("FetchPartition.last_fetched_epoch") != std::string::npos);
  CHECK(out.size() == 1);
  CHECK(encode_message(f, 12, out).ok());
  // An ignorable field (rack_id, v11+) is silently dropped by older versions.
  FetchRequest g;
  g.rack_id = "rack-1";
  out.clear();
  CHECK(encode_message(g, 10, out).ok());
}

TEST_CASE("MetadataRequestNullTopicsIsOnlyValidFromV1") {
  MetadataRequest all;
  all.topics.reset();  // v1+: null = all topics
  Bytes out;
  CHECK_FALSE(encode_message(all, 0, out).ok());
  REQUIRE(encode_message(all, 1, out).ok());
  CHECK(to_hex(out) == "ffffffff");
  auto v1 = decode_message<MetadataRequest>(from_hex("ffffffff"), 1);
  REQUIRE(v1.ok());
  CHECK_FALSE(v1->topics.has_value());
  auto v0 = decode_message<MetadataRequest>(from_hex("ffffffff"), 0);
  CHECK_FALSE(v0.ok());
  // v0: an empty list means all topics and is not null.
  auto empty = decode_message<MetadataRequest>(from_hex("00000000"), 0);
  REQUIRE(empty.ok());
  REQUIRE(empty->topics.has_value());
  CHECK(empty->topics->empty());
}

TEST_CASE("ListOffsetsV0CarriesTheOldStyleOffsetsArray") {
  ListOffsetsResponse r;
  auto& t = r.topics.emplace_back();
  t.name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 2;
  p.old_style_offsets = {42};
  Bytes out;
  REQUIRE(encode_message(r, 0, out).ok());
  CHECK(to_hex(out) == "00000001" "000174" "00000001" "00000002" "0000" "00000001"
                       "000000000000002a");
  // v1 has no old-style array; a non-default value there cannot be encoded.
  out.clear();
  CHECK_FALSE(encode_message(r, 1, out).ok());
}

TEST_CASE("DecodeStartsFromDefaults") {
  FetchRequest f;
  f.rack_id = "stale";
  f.topics.emplace_back();
  Bytes out;
  REQUIRE(encode_message(FetchRequest{}, 4, out).ok());
  Reader r(out, false);
  f.decode(r, 4);
  REQUIRE(r.ok());
  CHECK(f == FetchRequest{});
}

TEST_CASE("SubscriptionFromANewerClientIsReadAsTheHighestKnownVersion") {
  ConsumerProtocolSubscription s;
  s.topics = {"a", "b"};
  s.owned_partitions.push_back({"a", {0, 1}});
  s.generation_id = 7;
  s.rack_id = "r1";
  Bytes v3;
  REQUIRE(encode_subscription(s, 3, v3).ok());
  CHECK(to_hex(ByteSpan(v3).first(2)) == "0003");
  // Pretend a v9 client wrote v3 fields plus fields we do not know.
  Bytes v9 = v3;
  v9[1] = std::byte{9};
  v9.push_back(std::byte{0x77});
  auto back = decode_subscription(v9);
  REQUIRE(back.ok());
  CHECK(back->version == 9);
  CHECK(back->subscription == s);
  // Version 0 drops the owned partitions (ignorable) and keeps topics and user data.
  Bytes v0;
  REQUIRE(encode_subscription(s, 0, v0).ok());
  auto back0 = decode_subscription(v0);
  REQUIRE(back0.ok());
  CHECK(back0->subscription.topics == s.topics);
  CHECK(back0->subscription.owned_partitions.empty());
  // A negative version or a truncated body is corrupt.
  CHECK_FALSE(decode_subscription(from_hex("ffff00000000ffffffff")).ok());
  CHECK_FALSE(decode_subscription(from_hex("0000000000")).ok());
  CHECK_FALSE(decode_assignment(from_hex("")).ok());
  CHECK_FALSE(encode_subscription(s, 4, v0).ok());
}

TEST_CASE("AssignmentBytesByHand") {
  ConsumerProtocolAssignment a;
  a.assigned_partitions.push_back({"t", {0, 3}});
  Bytes out;
  REQUIRE(encode_assignment(a, 0, out).ok());
  CHECK(to_hex(out) == "0000" "00000001" "000174" "00000002" "00000000" "00000003" "ffffffff");
}

}  // namespace
}  // namespace streamctl::kafka::protocol
