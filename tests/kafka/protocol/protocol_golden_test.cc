// Golden bytes (STYLE.md item 25): every request captured from kcat/librdkafka 2.0.2, kafka-python
// 2.0.2 and kafkajs 2.2.4 decodes through the connection entry point and re-encodes to the identical
// bytes; so does every response (from librdkafka's mock broker), except the mock's malformed answer to
// ApiVersions v3 which must be rejected.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <variant>

#include "kafka/protocol/frame.h"
#include "kafka/protocol/group_member_metadata.h"
#include "tests/kafka/protocol/protocol_test_util.h"

namespace streamctl::kafka::protocol {
namespace {

using testing::all_captures;
using testing::Capture;
using testing::to_hex;

// librdkafka's mock answers an ApiVersions v3 request with error 35 but writes the compact array
// count as 1 (zero elements) and then one element anyway (rdkafka_mock_handlers.c writes the count
// without the +1), so the bytes are neither a valid v3 body nor a valid v0 body. A real broker sends a
// v0 body (see make_unsupported_api_versions_response).
bool is_mock_malformed_api_versions_v3(const Capture& c) {
  return c.api_key == 18 && c.api_version == 3;
}

TEST_CASE("CaptureSetCoversTheExpectedClientsAndApis") {
  const auto& all = all_captures();
  REQUIRE(all.size() == 168);
  std::map<std::string, int> per_client;
  std::set<std::pair<int16_t, int16_t>> key_versions;
  for (const auto& c : all) {
    ++per_client[c.client];
    key_versions.insert({c.api_key, c.api_version});
  }
  CHECK(per_client["kcat"] == 89);
  CHECK(per_client["kafka-python"] == 39);
  CHECK(per_client["kafkajs"] == 40);
  // The 26 (api, version) rows of the table in captures/README.md.
  CHECK(key_versions.size() == 26);
}

TEST_CASE("EveryCapturedRequestDecodesAndReencodesByteIdentical") {
  int checked = 0;
  for (const auto& c : all_captures()) {
    CAPTURE(c.label());
    auto req = decode_request(c.request);
    REQUIRE_MESSAGE(req.ok(), req.error().to_string());
    CHECK(req->header.api_key == c.api_key);
    CHECK(req->header.api_version == c.api_version);
    CHECK(req->header.correlation_id == c.correlation_id);
    CHECK(api_key_of(req->body) == c.api_key);
    Bytes out;
    auto st = encode_request(*req, out);
    REQUIRE_MESSAGE(st.ok(), st.error().to_string());
    CHECK(to_hex(out) == to_hex(c.request));
    // Decoding the re-encoded bytes gives the same structure.
    auto again = decode_request(out);
    REQUIRE(again.ok());
    CHECK(again->header == req->header);
    CHECK(again->body == req->body);
    ++checked;
  }
  CHECK(checked == 168);
}

TEST_CASE("EveryCapturedResponseDecodesAndReencodesByteIdentical") {
  int checked = 0;
  int malformed = 0;
  for (const auto& c : all_captures()) {
    if (!c.response) continue;
    CAPTURE(c.label());
    auto resp = decode_response(c.api_key, c.api_version, *c.response);
    if (is_mock_malformed_api_versions_v3(c)) {
      CHECK_FALSE(resp.ok());
      // Kafka's client fallback (parse the error answer as v0) fails on these bytes as well.
      CHECK_FALSE(decode_response(c.api_key, 0, *c.response).ok());
      ++malformed;
      continue;
    }
    REQUIRE_MESSAGE(resp.ok(), resp.error().to_string());
    CHECK(resp->header.correlation_id == c.correlation_id);
    Bytes out;
    auto st = encode_response(c.correlation_id, c.api_version, resp->body, out);
    REQUIRE_MESSAGE(st.ok(), st.error().to_string());
    CHECK(to_hex(out) == to_hex(*c.response));
    ++checked;
  }
  CHECK(malformed == 11);
  CHECK(checked == 168 - 3 - 11);
}

TEST_CASE("CapturedRequestsCarryTheValuesTheClientsSent") {
  int api_versions_v3 = 0, produce = 0, metadata_v0 = 0, fetch = 0;
  for (const auto& c : all_captures()) {
    CAPTURE(c.label());
    auto req = decode_request(c.request);
    REQUIRE(req.ok());
    if (c.client == "kcat") CHECK(req->header.client_id == std::optional<std::string>("rdkafka"));
    if (auto* av = std::get_if<ApiVersionsRequest>(&req->body); av && c.api_version == 3) {
      CHECK(av->client_software_name == "librdkafka");
      CHECK(av->client_software_version == "2.0.2");
      ++api_versions_v3;
    }
    if (auto* p = std::get_if<ProduceRequest>(&req->body)) {
      REQUIRE(p->topic_data.size() == 1);
      CHECK(p->topic_data[0].name == "t-" + c.client);
      for (const auto& part : p->topic_data[0].partition_data) {
        REQUIRE(part.records.has_value());
        // RecordBatch v2: magic byte at offset 16, batch length at 8 covers the rest.
        REQUIRE(part.records->size() >= 61);
        CHECK(uint8_t((*part.records)[16]) == 2);
        const uint32_t batch_length = get_be32(part.records->data() + 8);
        CHECK(batch_length + 12 <= part.records->size());
      }
      ++produce;
    }
    if (auto* m = std::get_if<MetadataRequest>(&req->body); m && c.api_version == 0) {
      // kafka-python's probe: v0 with an empty topic list = all topics.
      REQUIRE(m->topics.has_value());
      ++metadata_v0;
    }
    if (auto* f = std::get_if<FetchRequest>(&req->body)) {
      CHECK(f->replica_id == -1);
      if (c.api_version >= 7 && c.client == "kcat") {
        // librdkafka fetches sessionless (COMPAT.md §2.1).
        CHECK(f->session_id == 0);
        CHECK(f->session_epoch == -1);
        CHECK(f->forgotten_topics_data.empty());
      }
      ++fetch;
    }
  }
  CHECK(api_versions_v3 == 11);
  CHECK(produce == 16);
  CHECK(metadata_v0 == 5);
  CHECK(fetch == 26);
}

TEST_CASE("CapturedGroupMemberMetadataAndAssignmentsRoundTrip") {
  int subscriptions = 0, assignments = 0;
  for (const auto& c : all_captures()) {
    CAPTURE(c.label());
    auto req = decode_request(c.request);
    REQUIRE(req.ok());
    if (auto* j = std::get_if<JoinGroupRequest>(&req->body)) {
      CHECK(j->protocol_type == "consumer");
      REQUIRE_FALSE(j->protocols.empty());
      for (const auto& p : j->protocols) {
        auto sub = decode_subscription(p.metadata);
        REQUIRE_MESSAGE(sub.ok(), sub.error().to_string());
        CHECK(sub->subscription.topics == std::vector<std::string>{"t-" + c.client});
        Bytes out;
        REQUIRE(encode_subscription(sub->subscription, sub->version, out).ok());
        CHECK(to_hex(out) == to_hex(p.metadata));
        ++subscriptions;
      }
    }
    if (auto* s = std::get_if<SyncGroupRequest>(&req->body)) {
      for (const auto& a : s->assignments) {
        auto asg = decode_assignment(a.assignment);
        REQUIRE_MESSAGE(asg.ok(), asg.error().to_string());
        int partitions = 0;
        for (const auto& tp : asg->assignment.assigned_partitions) {
          CHECK(tp.topic == "t-" + c.client);
          partitions += int(tp.partitions.size());
        }
        CHECK(partitions == 4);  // one member owns all 4 partitions
        Bytes out;
        REQUIRE(encode_assignment(asg->assignment, asg->version, out).ok());
        CHECK(to_hex(out) == to_hex(a.assignment));
        ++assignments;
      }
    }
  }
  CHECK(subscriptions >= 3);
  CHECK(assignments == 3);
}

}  // namespace
}  // namespace streamctl::kafka::protocol
