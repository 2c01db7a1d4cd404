// Broker + Connection on a real loopback socket (127.0.0.1, port 0, a temporary data directory): framing,
// pipelining and response order, acks=0, long-poll Fetch, idempotent retries, hostile frames, limits,
// data-directory ownership and clean shutdown. The client here is a raw blocking socket speaking the codec.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "kafka/format/legacy_records.h"
#include "kafka/format/record_batch.h"
#include "engine/advert.h"
#include "server/broker.h"
#include "base/logging.h"
#include "server/handlers/handlers.h"
#include "kafka/protocol/frame.h"
#include "kafka/protocol/group_member_metadata.h"
#include "tests/support/temp_dir.h"
#include "security/credential_store.h"
#include "security/scram.h"

namespace streamctl::server {
namespace {

namespace p = kafka::protocol;
using Clock = std::chrono::steady_clock;

int64_t ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// A blocking Kafka client socket with a receive timeout.
class TestClient {
 public:
  // receive_buffer > 0: SO_RCVBUF, set before connecting (a slow reader that keeps the server's sends waiting).
  explicit TestClient(uint16_t port, int timeout_ms = 5000, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~TestClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // The frame (size prefix included) of a request.
  static Bytes frame(int16_t version, int32_t correlation_id, const p::RequestBody& body) {
    p::Request req;
    req.header.api_key = p::api_key_of(body);
    req.header.api_version = version;
    req.header.correlation_id = correlation_id;
    req.header.client_id = "broker-test";
    req.body = body;
    Bytes out(4);
    auto st = p::encode_request(req, out);
    REQUIRE_MESSAGE(st.ok(), st.error().message);
    put_be32(out.data(), uint32_t(out.size() - 4));
    return out;
  }
  void send_raw(const Bytes& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may already have closed us (hostile tests)
      done += size_t(n);
    }
  }
  void send(int16_t version, int32_t correlation_id, const p::RequestBody& body) {
    send_raw(frame(version, correlation_id, body));
  }
  // One response frame (without the size prefix); nullopt on EOF or timeout.
  std::optional<Bytes> read_frame() {
    Bytes size(4);
    if (!read_exact(size.data(), 4)) return std::nullopt;
    Bytes body(get_be32(size.data()));
    if (!read_exact(body.data(), body.size())) return std::nullopt;
    return body;
  }
  template <typename Response>
  Response read(int16_t version, int32_t expect_correlation_id) {
    auto f = read_frame();
    REQUIRE(f.has_value());
    auto r = p::decode_response(Response::kApiKey, version, *f);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    CHECK(r->header.correlation_id == expect_correlation_id);
    return std::get<Response>(r->body);
  }
  template <typename Response>
  Response call(int16_t version, const p::RequestBody& body) {
    int32_t id = next_id_++;
    send(version, id, body);
    return read<Response>(version, id);
  }
  // True when the server closed the connection (EOF or reset) within the receive timeout.
  bool closed_by_peer() {
    std::byte b[256];
    for (;;) {
      ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool read_exact(std::byte* p, size_t n) {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::recv(fd_, p + done, n - done, 0);
      if (r <= 0) return false;
      done += size_t(r);
    }
    return true;
  }
  int fd_ = -1;
  int32_t next_id_ = 1000;
};

struct Server {
  test::TempDir dir{"broker-test"};
  BrokerConfig config;
  std::unique_ptr<Broker> broker;

  explicit Server(std::function<void(BrokerConfig&)> tweak = nullptr) {
    set_log_level(LogLevel::kError);
    config.data_dir = dir.join("data");
    config.listen = "127.0.0.1:0";
    config.flush_interval_ms = 0;
    config.shutdown_timeout_ms = 3000;
    config.log_level = "error";
    if (tweak) tweak(config);
    auto b = Broker::start(config);
    REQUIRE_MESSAGE(b.ok(), b.error().to_string());
    broker = std::move(*b);
  }
  ~Server() {
    if (broker) {
      broker->stop();
      (void)broker->wait();
    }
  }
  uint16_t port() const { return broker->port(); }
};

void create_topic(TestClient& c, const std::string& name, int32_t partitions) {
  p::CreateTopicsRequest req;
  p::CreateTopicsRequest::CreatableTopic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  req.topics.push_back(t);
  auto resp = c.call<p::CreateTopicsResponse>(4, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].error_code == 0);
}

Bytes make_batch(int n, int64_t pid = -1, int16_t epoch = -1, int32_t seq = -1) {
  std::vector<Record> records;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.timestamp = Timestamp(1700000000000 + i);
    r.key = "k" + std::to_string(i);
    r.value = "value-" + std::to_string(i);
    records.push_back(r);
  }
  BatchBuildOptions o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  auto b = build_batch(records, Offset(0), o);
  REQUIRE(b.ok());
  return *b;
}

// Every record of consecutive batches (a fetch response's records).
std::vector<Record> decode_all(ByteSpan batches) {
  std::vector<Record> out;
  BatchIterator it(batches);
  while (it.next()) {
    auto recs = decode_records(it.batch());
    REQUIRE(recs.ok());
    out.insert(out.end(), recs->begin(), recs->end());
  }
  REQUIRE(it.status().ok());
  return out;
}

p::ProduceRequest produce_request(const std::string& topic, int32_t partition, Bytes batch, int16_t acks) {
  p::ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = 5000;
  p::ProduceRequest::TopicProduceData t;
  t.name = topic;
  p::ProduceRequest::PartitionProduceData pd;
  pd.index = partition;
  pd.records = std::move(batch);
  t.partition_data.push_back(std::move(pd));
  req.topic_data.push_back(std::move(t));
  return req;
}

p::FetchRequest fetch_request(const std::string& topic, int32_t partition, int64_t offset, int32_t max_wait_ms,
                              int32_t min_bytes) {
  p::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = min_bytes;
  req.max_bytes = 1 << 20;
  req.session_id = 0;
  req.session_epoch = -1;
  p::FetchRequest::FetchTopic t;
  t.topic = topic;
  p::FetchRequest::FetchPartition fp;
  fp.partition = partition;
  fp.fetch_offset = offset;
  fp.partition_max_bytes = 1 << 20;
  t.partitions.push_back(fp);
  req.topics.push_back(t);
  return req;
}

p::MetadataRequest metadata_all() {
  p::MetadataRequest m;
  m.topics = std::nullopt;
  return m;
}

// A request for (api, version) with realistic contents: topic "t" (2 partitions, with records), group "g"
// (one member, Stable, with an assignment). Fields a version lacks keep their defaults, so the request
// encodes at that version.
p::RequestBody rich_request(p::ApiKey api, int16_t v, int i) {
  const std::string n = std::to_string(v) + "-" + std::to_string(i);
  switch (api) {
    case p::ApiKey::kProduce:
      return produce_request("t", 0, make_batch(3), 1);
    case p::ApiKey::kFetch: {
      auto f = fetch_request("t", 0, 0, 0, 0);
      auto p1 = f.topics[0].partitions[0];
      p1.partition = 1;
      f.topics[0].partitions.push_back(p1);
      if (v < 7) {
        f.session_id = 0;
        f.session_epoch = -1;
      }
      if (v < 5) f.topics[0].partitions[0].log_start_offset = -1, f.topics[0].partitions[1].log_start_offset = -1;
      return f;
    }
    case p::ApiKey::kListOffsets: {
      p::ListOffsetsRequest r;
      r.replica_id = -1;
      p::ListOffsetsRequest::ListOffsetsTopic t;
      t.name = "t";
      for (int64_t ts : {int64_t(-1), int64_t(-2), int64_t(1700000000000)}) {
        p::ListOffsetsRequest::ListOffsetsPartition lp;
        lp.partition_index = 0;
        lp.timestamp = ts;
        if (v > 0) lp.max_num_offsets = 1;
        t.partitions.push_back(lp);
      }
      r.topics.push_back(t);
      return r;
    }
    case p::ApiKey::kMetadata: {
      p::MetadataRequest m;
      m.topics = std::vector<p::MetadataRequest::MetadataRequestTopic>{{{}, std::string("t"), {}}};
      if (v < 4) m.allow_auto_topic_creation = true;
      return m;
    }
    case p::ApiKey::kOffsetCommit: {
      p::OffsetCommitRequest r;
      r.group_id = "simple";
      r.generation_id_or_member_epoch = -1;
      if (v >= 2 && v <= 4) r.retention_time_ms = -1;
      p::OffsetCommitRequest::OffsetCommitRequestPartition cp;
      cp.partition_index = 0;
      cp.committed_offset = 2;
      cp.committed_metadata = std::string("m");
      if (v == 1) cp.commit_timestamp = -1;
      r.topics.push_back({"t", {cp}, {}});
      return r;
    }
    case p::ApiKey::kOffsetFetch: {
      p::OffsetFetchRequest r;
      r.group_id = i % 2 ? "simple" : "g";
      if (v >= 2 && i % 3 == 2) {
        r.topics = std::nullopt;
      } else {
        r.topics = std::vector<p::OffsetFetchRequest::OffsetFetchRequestTopic>{{"t", {0, 1}, {}}};
      }
      return r;
    }
    case p::ApiKey::kFindCoordinator: {
      p::FindCoordinatorRequest r;
      r.key = "g";
      return r;
    }
    case p::ApiKey::kJoinGroup: {
      p::JoinGroupRequest j;
      j.group_id = "join-" + n;
      j.session_timeout_ms = 10000;
      j.rebalance_timeout_ms = v >= 1 ? 10000 : -1;
      j.protocol_type = "consumer";
      j.protocols.push_back({"range", to_bytes("md"), {}});
      return j;
    }
    case p::ApiKey::kHeartbeat:
      return p::HeartbeatRequest{"g", 1, "nobody", std::nullopt, {}};
    case p::ApiKey::kLeaveGroup: {
      p::LeaveGroupRequest r;
      r.group_id = "g";
      if (v >= 3) {
        r.members.push_back({"nobody", std::nullopt, std::nullopt, {}});
      } else {
        r.member_id = "nobody";
      }
      return r;
    }
    case p::ApiKey::kSyncGroup: {
      p::SyncGroupRequest r;
      r.group_id = "g";
      r.generation_id = 1;
      r.member_id = "nobody";
      return r;
    }
    case p::ApiKey::kDescribeGroups:
      return p::DescribeGroupsRequest{{"g", "simple", "unknown"}, false, {}};
    case p::ApiKey::kListGroups:
      return p::ListGroupsRequest{};
    case p::ApiKey::kApiVersions: {
      p::ApiVersionsRequest r;
      if (v >= 3) {
        r.client_software_name = "broker-test";
        r.client_software_version = "1";
      }
      return r;
    }
    case p::ApiKey::kCreateTopics: {
      p::CreateTopicsRequest r;
      p::CreateTopicsRequest::CreatableTopic t;
      t.name = "ct-" + n;
      t.num_partitions = 2;
      t.replication_factor = 1;
      t.configs.push_back({"retention.ms", std::string("60000"), {}});
      r.topics.push_back(t);
      p::CreateTopicsRequest::CreatableTopic bad;
      bad.name = "t";  // exists
      bad.num_partitions = 1;
      bad.replication_factor = 1;
      r.topics.push_back(bad);
      if (v == 0) r.validate_only = false;
      return r;
    }
    case p::ApiKey::kDeleteTopics: {
      p::DeleteTopicsRequest r;
      r.topic_names = {"ct-" + n, "missing"};
      r.timeout_ms = 1000;
      return r;
    }
    case p::ApiKey::kDeleteRecords: {
      p::DeleteRecordsRequest r;
      r.topics.push_back({"t", {{1, 1, {}}}, {}});
      r.timeout_ms = 1000;
      return r;
    }
    case p::ApiKey::kInitProducerId: {
      p::InitProducerIdRequest r;
      r.transactional_id = std::nullopt;
      r.transaction_timeout_ms = 60000;
      return r;
    }
    case p::ApiKey::kDescribeConfigs: {
      p::DescribeConfigsRequest r;
      r.resources.push_back({2, "t", std::nullopt, {}});
      r.resources.push_back({4, "0", std::vector<std::string>{"log.dirs"}, {}});
      r.resources.push_back({2, "missing", std::nullopt, {}});
      if (v >= 1) r.include_synonyms = true;
      if (v >= 3) r.include_documentation = true;
      return r;
    }
    case p::ApiKey::kAlterConfigs: {
      p::AlterConfigsRequest r;
      r.resources.push_back({2, "t", {{"retention.ms", std::string("7200000"), {}}}, {}});
      return r;
    }
    case p::ApiKey::kCreatePartitions: {
      p::CreatePartitionsRequest r;
      r.topics.push_back({"t", 1, std::nullopt, {}});  // not more: INVALID_PARTITIONS
      r.timeout_ms = 1000;
      return r;
    }
    case p::ApiKey::kDeleteGroups:
      return p::DeleteGroupsRequest{{"g", "never-existed"}, {}};
    case p::ApiKey::kIncrementalAlterConfigs: {
      p::IncrementalAlterConfigsRequest r;
      r.resources.push_back({2, "t", {{"retention.ms", 0, std::string("3600000"), {}}}, {}});
      return r;
    }
    case p::ApiKey::kOffsetDelete: {
      p::OffsetDeleteRequest r;  // "g" is Stable with undecodable metadata: GROUP_SUBSCRIBED_TO_TOPIC
      r.group_id = "g";
      r.topics.push_back({"t", {{0}}});
      r.topics.push_back({"missing", {{0}}});
      return r;
    }
    case p::ApiKey::kDescribeCluster:
      return p::DescribeClusterRequest{};
    case p::ApiKey::kDescribeAcls: {  // no --authorizer: SECURITY_DISABLED
      p::DescribeAclsRequest r;
      r.resource_type_filter = 1;
      if (v >= 1) r.pattern_type_filter = 1;
      r.resource_name_filter = r.principal_filter = r.host_filter = std::nullopt;
      r.operation = r.permission_type = 1;
      return r;
    }
    case p::ApiKey::kCreateAcls: {
      p::CreateAclsRequest r;
      auto& c = r.creations.emplace_back();
      c.resource_type = 2;
      c.resource_name = "t";
      c.principal = "User:x";
      c.host = "*";
      c.operation = 3;
      c.permission_type = 3;
      return r;
    }
    case p::ApiKey::kDeleteAcls: {
      p::DeleteAclsRequest r;
      auto& f = r.filters.emplace_back();
      f.resource_type_filter = 2;
      f.resource_name_filter = "t";
      f.principal_filter = f.host_filter = std::nullopt;
      f.operation = f.permission_type = 1;
      return r;
    }
    case p::ApiKey::kVote:  // KRaft quorum APIs: peer-only, not advertised (cluster/raft_wire.h)
    case p::ApiKey::kBeginQuorumEpoch:
    case p::ApiKey::kEndQuorumEpoch:
    case p::ApiKey::kDescribeQuorum:
    case p::ApiKey::kFetchSnapshot:
      break;
    case p::ApiKey::kSaslHandshake: {  // a PLAINTEXT listener: ILLEGAL_SASL_STATE
      p::SaslHandshakeRequest h;
      h.mechanism = "PLAIN";
      return h;
    }
    case p::ApiKey::kSaslAuthenticate:
      return p::SaslAuthenticateRequest{};
  }
  return p::ApiVersionsRequest{};
}

TEST_CASE("EveryAdvertisedApiVersionAnswersWithADecodableResponse") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 2);
  for (int i = 0; i < 3; ++i) (void)c.call<p::ProduceResponse>(7, produce_request("t", i % 2, make_batch(5), 1));
  // A Stable group "g" with one member and an assignment.
  p::JoinGroupRequest j;
  j.group_id = "g";
  j.session_timeout_ms = 30000;
  j.rebalance_timeout_ms = 30000;
  j.protocol_type = "consumer";
  j.protocols.push_back({"range", to_bytes("metadata"), {}});
  auto joined = c.call<p::JoinGroupResponse>(1, j);
  REQUIRE(joined.error_code == 0);
  p::SyncGroupRequest sg;
  sg.group_id = "g";
  sg.generation_id = joined.generation_id;
  sg.member_id = joined.member_id;
  sg.assignments.push_back({joined.member_id, to_bytes("assignment"), {}});
  REQUIRE(c.call<p::SyncGroupResponse>(1, sg).error_code == 0);

  int32_t correlation = 1;
  int checked = 0;
  for (const p::ApiInfo& api : p::api_table()) {
    for (int16_t v = api.advertised.min; v <= api.advertised.max; ++v) {
      INFO(api.name << " v" << v);
      p::RequestBody body = rich_request(api.key, v, checked);
      c.send(v, correlation, body);
      auto frame = c.read_frame();
      REQUIRE_MESSAGE(frame.has_value(), "the connection was closed");
      auto decoded = p::decode_response(int16_t(api.key), v, *frame);
      REQUIRE_MESSAGE(decoded.ok(), decoded.error().message);
      CHECK(decoded->header.correlation_id == correlation);
      ++correlation;
      ++checked;
    }
  }
  CHECK(checked > 60);
  // Spot checks that the sweep exercised real data.
  auto dg = c.call<p::DescribeGroupsResponse>(4, p::DescribeGroupsRequest{{"g"}, false, {}});
  REQUIRE(dg.groups.at(0).members.size() == 1);
  CHECK(dg.groups[0].members[0].member_assignment == to_bytes("assignment"));
}

TEST_CASE("ApiVersionsIsAnsweredAtV0AndV3AndAnUnsupportedVersionGetsAV0Error") {
  Server s;
  TestClient c(s.port());
  auto v3 = c.call<p::ApiVersionsResponse>(3, p::ApiVersionsRequest{});
  CHECK(v3.error_code == 0);
  bool has_produce = false;
  for (const auto& k : v3.api_keys) {
    if (k.api_key == 0) {
      has_produce = true;
      CHECK(k.min_version == 0);
      CHECK(k.max_version >= 7);
    }
  }
  CHECK(has_produce);
  auto v0 = c.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{});
  CHECK(v0.api_keys.size() == v3.api_keys.size());
  // v4 does not exist for us: the answer is a v0 body with UNSUPPORTED_VERSION.
  c.send_raw(TestClient::frame(3, 77, p::ApiVersionsRequest{}));
  Bytes f = TestClient::frame(3, 78, p::ApiVersionsRequest{});
  put_be16(f.data() + 6, 99);  // api_version := 99 (header starts after the size)
  c.send_raw(f);
  (void)c.read<p::ApiVersionsResponse>(3, 77);
  auto err = c.read<p::ApiVersionsResponse>(0, 78);
  CHECK(err.error_code == 35);
}

TEST_CASE("PipelinedRequestsAreAnsweredInRequestOrderEvenWhenAnEarlierOneWaits") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 1);
  // kafka-python's probe: ApiVersions v0 and Metadata v0 in one write.
  Bytes both = TestClient::frame(0, 1, p::ApiVersionsRequest{});
  p::MetadataRequest m0;
  m0.topics = std::vector<p::MetadataRequest::MetadataRequestTopic>{};
  Bytes meta = TestClient::frame(0, 2, m0);
  both.insert(both.end(), meta.begin(), meta.end());
  c.send_raw(both);
  (void)c.read<p::ApiVersionsResponse>(0, 1);
  auto md = c.read<p::MetadataResponse>(0, 2);
  REQUIRE(md.topics.size() == 1);
  CHECK(md.topics[0].name == "t");

  // A long-polling Fetch (300 ms) then a Metadata: the Metadata answer must wait behind the Fetch.
  auto t0 = Clock::now();
  c.send(11, 3, fetch_request("t", 0, 0, 300, 1));
  c.send(1, 4, metadata_all());
  auto fr = c.read<p::FetchResponse>(11, 3);
  CHECK(ms_since(t0) >= 250);
  (void)c.read<p::MetadataResponse>(1, 4);
  REQUIRE(fr.responses.size() == 1);
  CHECK(fr.responses[0].partitions[0].records->empty());
}

TEST_CASE("ProducedBatchesAreFetchedBackAsStored") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 2);
  Bytes batch = make_batch(5);
  auto pr = c.call<p::ProduceResponse>(7, produce_request("t", 1, batch, -1));
  REQUIRE(pr.responses.at(0).partition_responses.at(0).error_code == 0);
  CHECK(pr.responses[0].partition_responses[0].base_offset == 0);
  auto pr2 = c.call<p::ProduceResponse>(7, produce_request("t", 1, make_batch(3), 1));
  CHECK(pr2.responses[0].partition_responses[0].base_offset == 5);

  auto fr = c.call<p::FetchResponse>(11, fetch_request("t", 1, 0, 0, 0));
  const auto& part = fr.responses.at(0).partitions.at(0);
  CHECK(part.error_code == 0);
  CHECK(part.high_watermark == 8);
  CHECK(part.last_stable_offset == 8);
  CHECK(part.preferred_read_replica == -1);
  REQUIRE(part.records.has_value());
  REQUIRE(part.records->size() > batch.size());
  // The first stored batch is the produced one, byte for byte after the broker-owned header fields.
  CHECK(std::equal(batch.begin() + kMagicOffset, batch.end(), part.records->begin() + kMagicOffset));
  auto decoded = decode_records(ByteSpan(part.records->data(), batch.size()));
  REQUIRE(decoded.ok());
  CHECK((*decoded)[4].value == "value-4");

  // Unknown partition, offset out of range.
  auto bad = c.call<p::FetchResponse>(11, fetch_request("t", 9, 0, 0, 0));
  CHECK(bad.responses[0].partitions[0].error_code == 3);
  auto oor = c.call<p::FetchResponse>(11, fetch_request("t", 1, 100, 0, 0));
  CHECK(oor.responses[0].partitions[0].error_code == 1);
}

TEST_CASE("ProduceWithAcksZeroGetsNoResponse") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 1);
  c.send(7, 50, produce_request("t", 0, make_batch(2), 0));
  c.send(1, 51, metadata_all());
  (void)c.read<p::MetadataResponse>(1, 51);  // the first answer is the Metadata one
  p::ListOffsetsRequest lo;
  lo.replica_id = -1;
  p::ListOffsetsRequest::ListOffsetsTopic t;
  t.name = "t";
  t.partitions.push_back({0, -1, -1, 1, {}});
  lo.topics.push_back(t);
  auto end = c.call<p::ListOffsetsResponse>(2, lo);
  CHECK(end.topics[0].partitions[0].offset == 2);
}

TEST_CASE("AFailedAcksZeroProduceClosesTheConnection") {
  Server s;
  TestClient c(s.port());
  c.send(7, 1, produce_request("missing-topic", 0, make_batch(1), 0));
  CHECK(c.closed_by_peer());
}

TEST_CASE("LongPollFetchWakesUpWhenRecordsArrive") {
  Server s;
  TestClient admin(s.port());
  create_topic(admin, "t", 1);
  TestClient consumer(s.port());
  auto t0 = Clock::now();
  consumer.send(11, 9, fetch_request("t", 0, 0, 10000, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  TestClient producer(s.port());
  (void)producer.call<p::ProduceResponse>(7, produce_request("t", 0, make_batch(1), 1));
  auto fr = consumer.read<p::FetchResponse>(11, 9);
  CHECK(ms_since(t0) < 5000);
  CHECK(fr.responses[0].partitions[0].records->size() > 0);
}

TEST_CASE("FetchWaitsForMinBytesOrMaxWait") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 1);
  (void)c.call<p::ProduceResponse>(7, produce_request("t", 0, make_batch(1), 1));
  auto t0 = Clock::now();
  // 1 MiB min bytes are never there: the answer comes after max wait, with what exists.
  auto fr = c.call<p::FetchResponse>(11, fetch_request("t", 0, 0, 400, 1 << 20));
  auto waited = ms_since(t0);
  CHECK(waited >= 350);
  CHECK(waited < 3000);
  CHECK(fr.responses[0].partitions[0].records->size() > 0);
}

TEST_CASE("FetchHonoursTotalAndPartitionMaxBytesButReturnsAtLeastOneBatch") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 2);
  for (int i = 0; i < 3; ++i) (void)c.call<p::ProduceResponse>(7, produce_request("t", 0, make_batch(20), 1));
  (void)c.call<p::ProduceResponse>(7, produce_request("t", 1, make_batch(20), 1));
  const size_t batch_size = make_batch(20).size();
  auto req = fetch_request("t", 0, 0, 0, 0);
  req.topics[0].partitions[0].partition_max_bytes = 10;  // smaller than one batch
  auto p1 = req.topics[0].partitions[0];
  p1.partition = 1;
  req.topics[0].partitions.push_back(p1);
  auto fr = c.call<p::FetchResponse>(11, req);
  CHECK(fr.responses[0].partitions[0].records->size() == batch_size);  // one batch despite the limit
  CHECK(fr.responses[0].partitions[1].records->empty());               // the limit applies after the first
  req.topics[0].partitions[0].partition_max_bytes = 1 << 20;
  req.topics[0].partitions[1].partition_max_bytes = 1 << 20;
  req.max_bytes = int32_t(2 * batch_size + 10);
  auto fr2 = c.call<p::FetchResponse>(11, req);
  CHECK(fr2.responses[0].partitions[0].records->size() == 2 * batch_size);
  CHECK(fr2.responses[0].partitions[1].records->empty());
}

TEST_CASE("AnIdempotentRetryIsAnsweredWithTheOriginalOffsetAndNotAppendedAgain") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 1);
  auto ip = c.call<p::InitProducerIdResponse>(1, p::InitProducerIdRequest{std::nullopt, 60000, -1, -1, {}});
  REQUIRE(ip.error_code == 0);
  REQUIRE(ip.producer_id >= 0);
  Bytes b0 = make_batch(4, ip.producer_id, ip.producer_epoch, 0);
  Bytes b1 = make_batch(2, ip.producer_id, ip.producer_epoch, 4);
  auto r0 = c.call<p::ProduceResponse>(7, produce_request("t", 0, b0, -1));
  auto r1 = c.call<p::ProduceResponse>(7, produce_request("t", 0, b1, -1));
  auto again = c.call<p::ProduceResponse>(7, produce_request("t", 0, b1, -1));
  CHECK(r0.responses[0].partition_responses[0].base_offset == 0);
  CHECK(r1.responses[0].partition_responses[0].base_offset == 4);
  CHECK(again.responses[0].partition_responses[0].error_code == 0);
  CHECK(again.responses[0].partition_responses[0].base_offset == 4);
  auto gap = c.call<p::ProduceResponse>(7, produce_request("t", 0, make_batch(1, ip.producer_id, 0, 9), -1));
  CHECK(gap.responses[0].partition_responses[0].error_code == 45);  // OUT_OF_ORDER_SEQUENCE_NUMBER
  auto fr = c.call<p::FetchResponse>(11, fetch_request("t", 0, 0, 0, 0));
  CHECK(fr.responses[0].partitions[0].high_watermark == 6);
}

TEST_CASE("HostileFramesCloseOnlyTheirConnection") {
  Server s;
  TestClient good(s.port());
  (void)good.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{});
  auto expect_closed = [&](Bytes bytes, const char* what) {
    INFO(what);
    TestClient bad(s.port());
    bad.send_raw(bytes);
    CHECK(bad.closed_by_peer());
  };
  expect_closed({std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0xfe}}, "negative size");
  expect_closed({std::byte{0x7f}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}}, "2 GiB claimed");
  expect_closed({std::byte{0x06}, std::byte{0x00}, std::byte{0x00}, std::byte{0x00}}, "100 MiB before any request");
  expect_closed({std::byte{0}, std::byte{0}, std::byte{0}, std::byte{3}, std::byte{0}, std::byte{0}, std::byte{0}},
                "shorter than a header");
  {
    // Metadata v1 whose topic array claims 2^31-1 entries.
    Bytes f = TestClient::frame(1, 5, metadata_all());
    put_be32(f.data() + f.size() - 4, 0x7fffffff);
    expect_closed(f, "huge array count");
    put_be32(f.data() + f.size() - 4, uint32_t(-7));
    expect_closed(f, "negative array count");
  }
  {
    // A truncated body: the frame is complete but the fields inside run past it.
    p::MetadataRequest m;
    m.topics = std::vector<p::MetadataRequest::MetadataRequestTopic>{{{}, std::string("some-topic"), {}}};
    Bytes f = TestClient::frame(1, 6, m);
    f.resize(f.size() - 3);
    put_be32(f.data(), uint32_t(f.size() - 4));
    expect_closed(f, "truncated string");
  }
  {
    Bytes f = TestClient::frame(0, 7, p::ApiVersionsRequest{});
    put_be16(f.data() + 4, 1234);  // api key 1234
    expect_closed(f, "unknown api key");
  }
  // The well-behaved connection is unaffected.
  auto md = good.call<p::MetadataResponse>(1, metadata_all());
  CHECK(md.brokers.size() == 1);
}

TEST_CASE("ADecodableButUnadvertisedVersionGetsUnsupportedVersion") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 1);
  auto resp = c.call<p::ProduceResponse>(8, produce_request("t", 0, make_batch(1), 1));
  CHECK(resp.responses[0].partition_responses[0].error_code == 35);
  // Produce v0-v2 carry message sets (magic 0/1); a RecordBatch v2 there is INVALID_RECORD, as in Kafka.
  auto v2 = c.call<p::ProduceResponse>(2, produce_request("t", 0, make_batch(1), 1));
  CHECK(v2.responses[0].partition_responses[0].error_code == 87);
}

TEST_CASE("OldMessageFormatsAreConvertedOnProduceAndDownConvertedOnFetch") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 1);
  auto modern = c.call<p::ProduceResponse>(7, produce_request("t", 0, make_batch(2), 1));
  REQUIRE(modern.responses[0].partition_responses[0].error_code == 0);
  for (int16_t version : {0, 1, 2}) {
    CAPTURE(version);
    Bytes set;
    const int8_t magic = version == 2 ? kMagicV1 : kMagicV0;
    append_legacy_message(set, magic, 0, 0, Timestamp(5000), std::string_view("k"), std::string_view("old-a"));
    append_legacy_message(set, magic, 1, 0, Timestamp(5001), std::nullopt, std::string_view("old-b"));
    auto r = c.call<p::ProduceResponse>(version, produce_request("t", 0, std::move(set), 1));
    CHECK(r.responses[0].partition_responses[0].error_code == 0);
    CHECK(r.responses[0].partition_responses[0].base_offset == 2 + 2 * version);
  }
  // Today's fetch sees RecordBatch v2 holding the old records.
  auto f11 = c.call<p::FetchResponse>(11, fetch_request("t", 0, 0, 0, 0));
  const auto& recs11 = *f11.responses[0].partitions[0].records;
  auto all = decode_all(ByteSpan(recs11.data(), recs11.size()));
  REQUIRE(all.size() == 8);
  CHECK(*all[2].key == "k");
  CHECK(*all[7].value == "old-b");
  CHECK(all[7].timestamp == Timestamp(5001));  // magic 1 keeps its timestamp
  // Fetch v3 (magic 1) and v1 (magic 0) get message sets from offset 3 on.
  for (int16_t version : {1, 3}) {
    CAPTURE(version);
    auto f = c.call<p::FetchResponse>(version, fetch_request("t", 0, 3, 0, 0));
    const auto& pd = f.responses[0].partitions[0];
    CHECK(pd.error_code == 0);
    CHECK(pd.high_watermark == 8);
    const Bytes& set = *pd.records;
    REQUIRE(set.size() > 17);
    CHECK(int8_t(set[16]) == (version == 3 ? kMagicV1 : kMagicV0));
    CHECK(get_be64(set.data()) == 3);  // absolute offsets, starting at the fetch offset
    auto back = upconvert_message_set(ByteSpan(set.data(), set.size()), {Timestamp(1)});
    REQUIRE(back.ok());
    CHECK(back->record_count == 5);
  }
}

TEST_CASE("IdleConnectionsAreClosed") {
  Server s([](BrokerConfig& c) { c.idle_timeout_ms = 300; });
  TestClient c(s.port());
  (void)c.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{});
  auto t0 = Clock::now();
  CHECK(c.closed_by_peer());
  CHECK(ms_since(t0) >= 250);
}

TEST_CASE("ConnectionsBeyondMaxConnectionsAreRefused") {
  Server s([](BrokerConfig& c) { c.max_connections = 2; });
  TestClient a(s.port());
  TestClient b(s.port());
  (void)a.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{});
  (void)b.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{});
  TestClient c(s.port());
  CHECK(c.closed_by_peer());
  (void)a.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{});
}

TEST_CASE("TheServerOwnsItsDataDirectoryWhileItRuns") {
  auto s = std::make_unique<Server>();
  const std::string data = s->config.data_dir;
  auto owner = engine::check_data_dir_owner(data);
  REQUIRE(owner.ok());
  REQUIRE(owner->has_value());
  CHECK((*owner)->advertised == "127.0.0.1:" + std::to_string(s->port()));
  CHECK(engine::served_by_message(data, **owner) ==
        data + " is served by streamctl serve (pid " + std::to_string(::getpid()) + ") on 127.0.0.1:" +
            std::to_string(s->port()) + "; use --brokers 127.0.0.1:" + std::to_string(s->port()));
  BrokerConfig second = s->config;
  auto b2 = Broker::start(second);
  REQUIRE_FALSE(b2.ok());
  CHECK(b2.error().code == streamctl::ErrorCode::kBusy);
  CHECK(b2.error().message.find("is served by streamctl serve") != std::string::npos);
  s->broker->stop();
  CHECK(s->broker->wait().ok());
  auto after = engine::check_data_dir_owner(data);
  REQUIRE(after.ok());
  CHECK_FALSE(after->has_value());
}

TEST_CASE("StopAnswersAPendingLongPollThenShutsDown") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 1);
  c.send(11, 42, fetch_request("t", 0, 0, 30000, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto t0 = Clock::now();
  s.broker->stop();
  auto fr = c.read<p::FetchResponse>(11, 42);
  CHECK(ms_since(t0) < 2000);
  CHECK(fr.responses[0].partitions[0].records->empty());
  CHECK(c.closed_by_peer());
  CHECK(s.broker->wait().ok());
  CHECK(s.broker->stopped());
}

TEST_CASE("GroupAndOffsetApisWorkThroughTheWire") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 1);
  auto fc = c.call<p::FindCoordinatorResponse>(0, p::FindCoordinatorRequest{"g", 0, {}, {}});
  CHECK(fc.error_code == 0);
  CHECK(fc.port == s.port());
  p::JoinGroupRequest j;
  j.group_id = "g";
  j.session_timeout_ms = 10000;
  j.rebalance_timeout_ms = 10000;
  j.protocol_type = "consumer";
  j.protocols.push_back({"range", to_bytes("md"), {}});
  auto first = c.call<p::JoinGroupResponse>(5, j);
  CHECK(first.error_code == 79);  // MEMBER_ID_REQUIRED
  j.member_id = first.member_id;
  auto joined = c.call<p::JoinGroupResponse>(5, j);
  REQUIRE(joined.error_code == 0);
  CHECK(joined.leader == joined.member_id);
  p::SyncGroupRequest sg;
  sg.group_id = "g";
  sg.generation_id = joined.generation_id;
  sg.member_id = joined.member_id;
  sg.assignments.push_back({joined.member_id, to_bytes("assignment"), {}});
  auto synced = c.call<p::SyncGroupResponse>(3, sg);
  CHECK(synced.error_code == 0);
  CHECK(synced.assignment == to_bytes("assignment"));

  p::OffsetCommitRequest oc;
  oc.group_id = "g";
  oc.generation_id_or_member_epoch = joined.generation_id;
  oc.member_id = joined.member_id;
  oc.topics.push_back({"t", {{0, 17, -1, -1, std::string("m"), {}}, {5, 1, -1, -1, std::string(""), {}}}, {}});
  auto committed = c.call<p::OffsetCommitResponse>(7, oc);
  CHECK(committed.topics[0].partitions[0].error_code == 0);
  CHECK(committed.topics[0].partitions[1].error_code == 3);  // no partition 5
  p::OffsetFetchRequest of;
  of.group_id = "g";
  of.topics = std::vector<p::OffsetFetchRequest::OffsetFetchRequestTopic>{{"t", {0, 1}, {}}};
  auto fetched = c.call<p::OffsetFetchResponse>(5, of);
  CHECK(fetched.topics[0].partitions[0].committed_offset == 17);
  CHECK(fetched.topics[0].partitions[1].committed_offset == -1);
  auto dg = c.call<p::DescribeGroupsResponse>(0, p::DescribeGroupsRequest{{"g"}, false, {}});
  CHECK(dg.groups[0].group_state == "Stable");
  auto lg = c.call<p::ListGroupsResponse>(0, p::ListGroupsRequest{});
  CHECK(lg.groups.size() == 1);
}

TEST_CASE("OffsetDeleteDeletesOnlyWhatNoActiveMemberSubscribesTo") {
  Server s;
  TestClient c(s.port());
  create_topic(c, "t", 2);
  create_topic(c, "u", 1);
  p::OffsetCommitRequest oc;  // a "simple" commit (generation -1): the group has no members
  oc.group_id = "og";
  oc.generation_id_or_member_epoch = -1;
  oc.topics.push_back({"t", {{0, 10, -1, -1, std::string(""), {}}, {1, 11, -1, -1, std::string(""), {}}}, {}});
  oc.topics.push_back({"u", {{0, 12, -1, -1, std::string(""), {}}}, {}});
  auto committed = c.call<p::OffsetCommitResponse>(2, oc);
  REQUIRE(committed.topics.size() == 2);
  REQUIRE(committed.topics[0].partitions[0].error_code == 0);
  auto committed_offset = [&](const std::string& topic, int32_t partition) {
    p::OffsetFetchRequest of;
    of.group_id = "og";
    of.topics = std::vector<p::OffsetFetchRequest::OffsetFetchRequestTopic>{{topic, {partition}, {}}};
    return c.call<p::OffsetFetchResponse>(1, of).topics.at(0).partitions.at(0).committed_offset;
  };
  auto offset_delete = [&](const std::string& group, std::vector<p::OffsetDeleteRequest::OffsetDeleteRequestTopic> topics) {
    p::OffsetDeleteRequest r;
    r.group_id = group;
    r.topics = std::move(topics);
    return c.call<p::OffsetDeleteResponse>(0, r);
  };

  CHECK(offset_delete("never", {{"t", {{0}}}}).error_code == 69);  // GROUP_ID_NOT_FOUND
  CHECK(offset_delete("", {{"t", {{0}}}}).error_code == 24);       // INVALID_GROUP_ID
  auto r = offset_delete("og", {{"t", {{0}, {9}}}, {"missing", {{0}}}});
  CHECK(r.error_code == 0);
  REQUIRE(r.topics.size() == 2);
  REQUIRE(r.topics[0].partitions.size() == 2);
  CHECK(r.topics[0].partitions[0].error_code == 0);
  CHECK(r.topics[0].partitions[1].error_code == 3);  // UNKNOWN_TOPIC_OR_PARTITION: no partition 9
  CHECK(r.topics[1].name == "missing");
  CHECK(r.topics[1].partitions[0].error_code == 3);
  CHECK(committed_offset("t", 0) == -1);
  CHECK(committed_offset("t", 1) == 11);
  CHECK(committed_offset("u", 0) == 12);

  // A member subscribed to "u" keeps u's offsets; t's can still go.
  p::JoinGroupRequest j;
  j.group_id = "og";
  j.session_timeout_ms = 30000;
  j.rebalance_timeout_ms = 30000;
  j.protocol_type = "consumer";
  p::ConsumerProtocolSubscription sub;
  sub.topics = {"u"};
  Bytes md;
  REQUIRE(p::encode_subscription(sub, 1, md).ok());
  j.protocols.push_back({"range", md, {}});
  REQUIRE(c.call<p::JoinGroupResponse>(1, j).error_code == 0);
  r = offset_delete("og", {{"u", {{0}}}, {"t", {{1}}}});
  CHECK(r.error_code == 0);
  REQUIRE(r.topics.size() == 2);
  CHECK(r.topics[0].partitions[0].error_code == 86);  // GROUP_SUBSCRIBED_TO_TOPIC
  CHECK(r.topics[1].partitions[0].error_code == 0);
  CHECK(committed_offset("u", 0) == 12);
  CHECK(committed_offset("t", 1) == -1);
}

std::string http_get(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == ssize_t(req.size()));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out;
}

TEST_CASE("MetricsEndpointReportsRequestsOffsetsAndGroupLag") {
  Server s([](BrokerConfig& c) { c.http = "127.0.0.1:0"; });
  REQUIRE(s.broker->http_port() != 0);
  TestClient c(s.port());
  create_topic(c, "t", 1);
  (void)c.call<p::ProduceResponse>(7, produce_request("t", 0, make_batch(10), 1));
  p::OffsetCommitRequest oc;
  oc.group_id = "g";
  oc.generation_id_or_member_epoch = -1;
  oc.topics.push_back({"t", {{0, 4, -1, -1, std::string(""), {}}}, {}});
  REQUIRE(c.call<p::OffsetCommitResponse>(2, oc).topics[0].partitions[0].error_code == 0);
  std::string page = http_get(s.broker->http_port(), "/metrics");
  CHECK(page.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(page.find("streamctl_requests_total{api=\"Produce\"} 1") != std::string::npos);
  CHECK(page.find("streamctl_partition_log_end_offset{topic=\"t\",partition=\"0\"} 10") != std::string::npos);
  CHECK(page.find("streamctl_group_lag{group=\"g\",topic=\"t\",partition=\"0\"} 6") != std::string::npos);
  CHECK(page.find("streamctl_bytes_in_total") != std::string::npos);
  CHECK(http_get(s.broker->http_port(), "/health").find("200 OK") != std::string::npos);
  CHECK(http_get(s.broker->http_port(), "/nope").find("404") != std::string::npos);
}

// One batch of n records of value_bytes each (large batches: reads of them go out with sendfile).
Bytes big_batch(int n, size_t value_bytes) {
  std::vector<Record> records;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.timestamp = Timestamp(1700000000000 + i);
    r.value = std::string(value_bytes, char('a' + i % 26));
    records.push_back(r);
  }
  auto b = build_batch(records, Offset(0), BatchBuildOptions{});
  REQUIRE(b.ok());
  return *b;
}

Bytes segment_file(const Server& s, const std::string& partition_dir) {
  auto bytes = read_file(*posix_file_system(),
                                 s.dir.join("data/" + partition_dir + "/00000000000000000000.log"));
  REQUIRE_MESSAGE(bytes.ok(), bytes.error().to_string());
  return *bytes;
}

// The value of an unlabelled counter on the /metrics page.
uint64_t metric(const Server& s, const std::string& name) {
  std::string page = http_get(s.broker->http_port(), "/metrics");
  size_t at = page.find("\n" + name + " ");
  REQUIRE_MESSAGE(at != std::string::npos, name);
  return std::stoull(page.substr(at + name.size() + 2));
}

TEST_CASE("LargeFetchesAreSentFromTheSegmentFilesAsStoredAndSmallOnesAreCopied") {
  Server s([](BrokerConfig& c) { c.http = "127.0.0.1:0"; });
  TestClient c(s.port());
  create_topic(c, "t", 2);
  std::vector<size_t> batch_sizes;
  for (int i = 0; i < 4; ++i) {
    Bytes b = big_batch(100, 1000);
    batch_sizes.push_back(b.size());
    REQUIRE(c.call<p::ProduceResponse>(7, produce_request("t", 0, b, 1)).responses[0].partition_responses[0].error_code == 0);
  }
  REQUIRE(c.call<p::ProduceResponse>(7, produce_request("t", 1, make_batch(5), 1)).responses[0].partition_responses[0].error_code == 0);
  const Bytes stored0 = segment_file(s, "t-0");
  const Bytes stored1 = segment_file(s, "t-1");
  REQUIRE(stored0.size() >= handlers::kMinSendfileBytes);
  REQUIRE(stored1.size() < handlers::kMinSendfileBytes);

  auto both = fetch_request("t", 0, 0, 0, 0);
  both.max_bytes = 1 << 22;
  auto p1 = both.topics[0].partitions[0];
  p1.partition = 1;
  both.topics[0].partitions.push_back(p1);
  uint64_t sent = 0;
  for (int16_t version : {int16_t(4), int16_t(11)}) {  // the served range (protocol_external_records_test
                                                       // covers the flexible encodings)
    CAPTURE(version);
    // Pipelined behind the Fetch: answered after it, in order.
    c.send(version, 51, both);
    c.send(1, 52, metadata_all());
    auto fr = c.read<p::FetchResponse>(version, 51);
    (void)c.read<p::MetadataResponse>(1, 52);
    REQUIRE(fr.responses.at(0).partitions.size() == 2);
    const auto& part0 = fr.responses[0].partitions[0];
    const auto& part1 = fr.responses[0].partitions[1];
    CHECK(part0.error_code == 0);
    CHECK(part0.high_watermark == 400);
    CHECK(part0.records == std::optional<Bytes>(stored0));
    CHECK(part1.high_watermark == 5);
    CHECK(part1.records == std::optional<Bytes>(stored1));
    sent += stored0.size();
    CHECK(metric(s, "streamctl_fetch_sendfile_bytes_total") == sent);
  }

  // partition_max_bytes: whole batches within the limit, from the file.
  auto limited = fetch_request("t", 0, 150, 0, 0);  // offset 150 is in the second batch
  limited.topics[0].partitions[0].partition_max_bytes = int32_t(batch_sizes[1] + batch_sizes[2] + 10);
  auto fr = c.call<p::FetchResponse>(11, limited);
  const auto& part = fr.responses.at(0).partitions.at(0);
  const auto first = stored0.begin() + ptrdiff_t(batch_sizes[0]);
  CHECK(part.records == std::optional<Bytes>(Bytes(first, first + ptrdiff_t(batch_sizes[1] + batch_sizes[2]))));
  CHECK(metric(s, "streamctl_fetch_sendfile_bytes_total") == sent + batch_sizes[1] + batch_sizes[2]);
}

TEST_CASE("ATopicDeletedWhileItsRecordsAreBeingSentStillArrivesWhole") {
  Server s;
  TestClient admin(s.port());
  create_topic(admin, "big", 1);
  for (int i = 0; i < 48; ++i) {
    auto pr = admin.call<p::ProduceResponse>(7, produce_request("big", 0, big_batch(100, 2000), 1));
    REQUIRE(pr.responses[0].partition_responses[0].error_code == 0);
  }
  const Bytes stored = segment_file(s, "big-0");
  REQUIRE(stored.size() > (size_t(8) << 20));  // more than the socket buffers hold: the send must wait

  TestClient slow(s.port(), 10000, /*receive_buffer=*/4096);
  auto req = fetch_request("big", 0, 0, 0, 0);
  req.max_bytes = 64 << 20;
  req.topics[0].partitions[0].partition_max_bytes = 64 << 20;
  slow.send(11, 77, req);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server is now waiting for `slow`
  p::DeleteTopicsRequest del;
  del.topic_names = {"big"};
  del.timeout_ms = 1000;
  auto dr = admin.call<p::DeleteTopicsResponse>(3, del);
  INFO("DeleteTopics: " << dr.responses.at(0).error_message.value_or("(no message)"));
  REQUIRE(dr.responses.at(0).error_code == 0);
  CHECK(!std::filesystem::exists(s.dir.join("data/big-0")));

  auto fr = slow.read<p::FetchResponse>(11, 77);
  const auto& part = fr.responses.at(0).partitions.at(0);
  CHECK(part.error_code == 0);
  REQUIRE(part.records.has_value());
  CHECK(part.records->size() == stored.size());
  CHECK(*part.records == stored);
}

TEST_CASE("OneAddressCannotTakeEveryConnectionSlot") {
  SUBCASE("explicit limit: the connection over it is told why, then closed") {
    Server s([](BrokerConfig& c) {
      c.max_connections_per_ip = 2;
      c.http = "127.0.0.1:0";
    });
    auto a = std::make_unique<TestClient>(s.port());
    TestClient b(s.port());
    CHECK(a->call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 0);
    CHECK(b.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 0);
    {
      TestClient c(s.port());
      auto refused = c.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{});
      CHECK(refused.error_code == 44);  // POLICY_VIOLATION
      CHECK(c.closed_by_peer());
    }
    {
      TestClient c(s.port());
      auto md = c.call<p::MetadataResponse>(1, metadata_all());  // any API gets its own error answer
      CHECK(md.brokers.empty());
      CHECK(c.closed_by_peer());
    }
    CHECK(metric(s, "streamctl_connections_rejected_per_ip_total") == 2);
    // A slot freed is a slot available again.
    a.reset();
    bool accepted = false;
    for (int i = 0; i < 100 && !accepted; ++i) {
      TestClient d(s.port());
      accepted = d.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 0;
      if (!accepted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(accepted);
  }
  SUBCASE("default: three quarters of max-connections") {
    Server s([](BrokerConfig& c) { c.max_connections = 4; });
    TestClient a(s.port()), b(s.port()), c(s.port());
    for (TestClient* t : {&a, &b, &c}) CHECK(t->call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 0);
    TestClient d(s.port());
    CHECK(d.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 44);
  }
  SUBCASE("overrides name an address") {
    Server s([](BrokerConfig& c) {
      c.max_connections_per_ip = 1;
      c.max_connections_per_ip_overrides = "10.1.2.3:0, 127.0.0.1:2";
    });
    TestClient a(s.port()), b(s.port());
    CHECK(a.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 0);
    CHECK(b.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 0);
    TestClient c(s.port());
    CHECK(c.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 44);
  }
}

TEST_CASE("LargeRequestsAreReadOnlyOnceTheGlobalRequestBudgetAdmitsThem") {
  Server s([](BrokerConfig& c) {
    c.queued_max_request_bytes = 1 << 20;
    c.http = "127.0.0.1:0";
  });
  {
    TestClient setup(s.port());
    create_topic(setup, "t", 1);
  }
  std::vector<Record> one(1);
  one[0].value = std::string(700 << 10, 'x');
  one[0].timestamp = Timestamp(1);
  auto batch = build_batch(one, Offset(0), {});
  REQUIRE(batch.ok());
  const Bytes fa = TestClient::frame(7, 1, produce_request("t", 0, *batch, 1));
  const Bytes fb = TestClient::frame(7, 2, produce_request("t", 0, *batch, 1));
  const size_t half = fa.size() / 2;
  TestClient a(s.port()), b(s.port());
  a.send_raw(Bytes(fa.begin(), fa.begin() + half));
  // A's frame is admitted (700 KiB of the 1 MiB budget) once its first 64 KiB are in; B's must wait.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  b.send_raw(Bytes(fb.begin(), fb.begin() + half));
  bool waited = false;
  for (int i = 0; i < 250 && !waited; ++i) {
    waited = metric(s, "streamctl_request_budget_waits_total") >= 1;
    if (!waited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(waited);
  a.send_raw(Bytes(fa.begin() + half, fa.end()));
  auto ra = a.read<p::ProduceResponse>(7, 1);
  CHECK(ra.responses[0].partition_responses[0].error_code == 0);
  // A's bytes went back to the budget: B is read and answered.
  b.send_raw(Bytes(fb.begin() + half, fb.end()));
  auto rb = b.read<p::ProduceResponse>(7, 2);
  CHECK(rb.responses[0].partition_responses[0].error_code == 0);
  CHECK(rb.responses[0].partition_responses[0].base_offset == 1);
}



// A broker with one SASL_PLAINTEXT listener and users alice and admin, password "secret" (SCRAM-SHA-256 and
// -512); `tweak` may change the config further.
Server sasl_server(std::function<void(BrokerConfig&)> tweak = nullptr) {
  return Server([tweak](BrokerConfig& c) {
    c.listen = "SASL_PLAINTEXT://127.0.0.1:0";
    if (tweak) tweak(c);  // first: it may choose the data dir
    auto store = security::CredentialStore::open(c.data_dir + "/__meta/users.json");
    REQUIRE(store.ok());
    for (const char* user : {"alice", "admin"}) {
      for (auto m : {security::ScramMechanism::kSha256, security::ScramMechanism::kSha512}) {
        auto cred = security::new_scram_credential(m, "secret");
        REQUIRE(cred.ok());
        REQUIRE((*store)->upsert(user, m, *cred).ok());
      }
    }
  });
}

Bytes bytes_of(std::string_view s) { return Bytes(as_byte_span(s).begin(), as_byte_span(s).end()); }

p::SaslHandshakeRequest handshake(std::string mechanism) {
  p::SaslHandshakeRequest h;
  h.mechanism = std::move(mechanism);
  return h;
}

p::SaslAuthenticateRequest authenticate(std::string_view token) {
  p::SaslAuthenticateRequest a;
  a.auth_bytes = bytes_of(token);
  return a;
}


TEST_CASE("SaslListenerClosesARequestBeforeAuthenticationButAnswersApiVersions") {
  Server s = sasl_server();
  TestClient c(s.port());
  auto versions = c.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{});
  CHECK(versions.error_code == 0);
  bool has_handshake = false;
  for (const auto& k : versions.api_keys) has_handshake |= k.api_key == 17 && k.max_version == 1;
  CHECK(has_handshake);
  c.send(1, 99, metadata_all());
  CHECK(c.closed_by_peer());
  // Another connection is unaffected.
  TestClient d(s.port());
  CHECK(d.call<p::ApiVersionsResponse>(0, p::ApiVersionsRequest{}).error_code == 0);
}

TEST_CASE("SaslScramAuthenticationThenRequestsWork") {
  Server s = sasl_server();
  for (auto mech : {security::ScramMechanism::kSha256, security::ScramMechanism::kSha512}) {
    INFO(security::scram_mechanism_name(mech));
    TestClient c(s.port());
    auto hs = c.call<p::SaslHandshakeResponse>(1, handshake(security::scram_mechanism_name(mech)));
    REQUIRE(hs.error_code == 0);
    CHECK(std::find(hs.mechanisms.begin(), hs.mechanisms.end(), "PLAIN") != hs.mechanisms.end());
    security::ScramClient client(mech, "alice", "secret");
    auto first = c.call<p::SaslAuthenticateResponse>(1, authenticate(client.client_first()));
    REQUIRE(first.error_code == 0);
    auto final_msg = client.client_final(as_string_view(first.auth_bytes));
    REQUIRE(final_msg.ok());
    auto last = c.call<p::SaslAuthenticateResponse>(2, authenticate(*final_msg));
    REQUIRE(last.error_code == 0);
    CHECK(client.verify_server_final(as_string_view(last.auth_bytes)).ok());
    auto md = c.call<p::MetadataResponse>(1, metadata_all());
    CHECK(md.brokers.size() == 1);
    CHECK(md.brokers[0].port == s.port());
  }
}

TEST_CASE("SaslWrongPasswordIsAuthenticationFailedThenClose") {
  Server s = sasl_server();
  TestClient c(s.port());
  REQUIRE(c.call<p::SaslHandshakeResponse>(1, handshake("PLAIN")).error_code == 0);
  std::string token("\0alice\0wrong", 12);
  auto r = c.call<p::SaslAuthenticateResponse>(0, authenticate(token));
  CHECK(r.error_code == 58);  // SASL_AUTHENTICATION_FAILED
  CHECK(r.error_message.has_value());
  CHECK(c.closed_by_peer());
  // An unknown mechanism: UNSUPPORTED_SASL_MECHANISM, then closed.
  TestClient d(s.port());
  CHECK(d.call<p::SaslHandshakeResponse>(1, handshake("GSSAPI")).error_code == 33);
  CHECK(d.closed_by_peer());
}

TEST_CASE("SaslHandshakeV0ThenRawPlainToken") {
  Server s = sasl_server();
  TestClient c(s.port());
  REQUIRE(c.call<p::SaslHandshakeResponse>(0, handshake("PLAIN")).error_code == 0);
  std::string token("\0alice\0secret", 13);
  Bytes raw(4);
  put_be32(raw.data(), uint32_t(token.size()));
  Bytes tb = bytes_of(token);
  raw.insert(raw.end(), tb.begin(), tb.end());
  c.send_raw(raw);
  auto reply = c.read_frame();  // PLAIN's (empty) server token as a raw frame
  REQUIRE(reply.has_value());
  CHECK(reply->empty());
  CHECK(c.call<p::MetadataResponse>(1, metadata_all()).brokers.size() == 1);
}

void plain_login(TestClient& c, const std::string& user) {
  REQUIRE(c.call<p::SaslHandshakeResponse>(1, handshake("PLAIN")).error_code == 0);
  std::string token = std::string(1, '\0') + user + std::string(1, '\0') + "secret";
  REQUIRE(c.call<p::SaslAuthenticateResponse>(1, authenticate(token)).error_code == 0);
}

TEST_CASE("AuthorizerEnforcesTopicAndGroupAclsForTheSaslPrincipal") {
  // alice may only READ topic "a"; admin is a super user.
  Server s = sasl_server([](BrokerConfig& c) {
    c.authorizer = true;
    c.super_users = "User:admin";
    std::filesystem::create_directories(c.data_dir + "/__meta");
    std::ofstream(c.data_dir + "/__meta/acls.json") << (R"({"version": 1, "acls": [{"resource_type": "TOPIC", "name": "a", "pattern_type": "LITERAL",
                              "principal": "User:alice", "host": "*", "operation": "READ", "permission": "ALLOW"}]})");
  });
  TestClient admin(s.port());
  plain_login(admin, "admin");
  create_topic(admin, "a", 1);
  create_topic(admin, "b", 1);
  CHECK(admin.call<p::ProduceResponse>(7, produce_request("a", 0, make_batch(2), 1))
            .responses.at(0).partition_responses.at(0).error_code == 0);

  TestClient alice(s.port());
  plain_login(alice, "alice");
  auto produced = alice.call<p::ProduceResponse>(7, produce_request("a", 0, make_batch(1), 1));
  CHECK(produced.responses.at(0).partition_responses.at(0).error_code == 29);  // TOPIC_AUTHORIZATION_FAILED
  auto fetched_a = alice.call<p::FetchResponse>(11, fetch_request("a", 0, 0, 0, 0));
  CHECK(fetched_a.responses.at(0).partitions.at(0).error_code == 0);
  auto fetched_b = alice.call<p::FetchResponse>(11, fetch_request("b", 0, 0, 0, 0));
  CHECK(fetched_b.responses.at(0).partitions.at(0).error_code == 29);
  auto md = alice.call<p::MetadataResponse>(1, metadata_all());
  REQUIRE(md.topics.size() == 1);  // "b" is left out, as Kafka does
  CHECK(md.topics[0].name == "a");
  p::MetadataRequest named;
  named.topics = std::vector<p::MetadataRequest::MetadataRequestTopic>{{}};
  named.topics->at(0).name = "b";
  CHECK(alice.call<p::MetadataResponse>(1, named).topics.at(0).error_code == 29);
  p::JoinGroupRequest j;
  j.group_id = "g";
  j.session_timeout_ms = 10000;
  j.rebalance_timeout_ms = 10000;
  j.protocol_type = "consumer";
  j.protocols.push_back({"range", to_bytes("m"), {}});
  CHECK(alice.call<p::JoinGroupResponse>(1, j).error_code == 30);  // GROUP_AUTHORIZATION_FAILED
  // Admin requests are checked too: no DELETE on "a", no CREATE anywhere.
  p::DeleteTopicsRequest del;
  del.topic_names = {"a"};
  CHECK(alice.call<p::DeleteTopicsResponse>(1, del).responses.at(0).error_code == 29);
  p::CreateTopicsRequest create;
  create.topics.push_back({});
  create.topics[0].name = "c";
  create.topics[0].num_partitions = 1;
  create.topics[0].replication_factor = 1;
  CHECK(alice.call<p::CreateTopicsResponse>(4, create).topics.at(0).error_code == 29);
  CHECK(admin.call<p::DeleteTopicsResponse>(1, del).responses.at(0).error_code == 0);
}

p::CreateAclsRequest::AclCreation acl_creation(int8_t type, std::string name, int8_t pattern, std::string principal,
                                               int8_t operation, int8_t permission) {
  p::CreateAclsRequest::AclCreation c;
  c.resource_type = type;
  c.resource_name = std::move(name);
  c.resource_pattern_type = pattern;
  c.principal = std::move(principal);
  c.host = "*";
  c.operation = operation;
  c.permission_type = permission;
  return c;
}

p::DescribeAclsRequest describe_all_acls() {
  p::DescribeAclsRequest r;
  r.resource_type_filter = 1;  // ANY
  r.pattern_type_filter = 1;   // ANY
  r.resource_name_filter = r.principal_filter = r.host_filter = std::nullopt;
  r.operation = r.permission_type = 1;
  return r;
}

TEST_CASE("AclAdminCreatesDescribesAndDeletesAclsThatApplyAtOnceAndSurviveARestart") {
  test::TempDir keep("acl-admin");
  const std::string data = keep.join("data");
  auto tweak = [&](BrokerConfig& c) {
    c.data_dir = data;
    c.authorizer = true;
    c.super_users = "User:admin";
  };
  {
    Server s = sasl_server(tweak);
    TestClient admin(s.port());
    plain_login(admin, "admin");
    create_topic(admin, "orders", 1);
    TestClient alice(s.port());
    plain_login(alice, "alice");
    CHECK(alice.call<p::ProduceResponse>(7, produce_request("orders", 0, make_batch(1), 1))
              .responses.at(0).partition_responses.at(0).error_code == 29);

    // alice (no ALTER on the cluster) may not create ACLs, nor list them.
    p::CreateAclsRequest grant;
    grant.creations.push_back(acl_creation(2, "orders", 3, "User:alice", 4, 3));  // TOPIC orders WRITE ALLOW
    auto denied = alice.call<p::CreateAclsResponse>(1, grant);
    REQUIRE(denied.results.size() == 1);
    CHECK(denied.results[0].error_code == 31);  // CLUSTER_AUTHORIZATION_FAILED
    CHECK(alice.call<p::DescribeAclsResponse>(1, describe_all_acls()).error_code == 31);

    // The super user creates one good ACL (PREFIXED, v1) and three bad ones: per-creation results.
    grant.creations.push_back(acl_creation(2, "ord", 4, "User:alice", 8, 3));      // PREFIXED ord DESCRIBE
    grant.creations.push_back(acl_creation(2, "x", 2, "User:alice", 3, 3));        // MATCH: not concrete
    grant.creations.push_back(acl_creation(2, "x", 3, "alice", 3, 3));             // principal without Type:
    grant.creations.push_back(acl_creation(2, "x", 3, "User:alice", 99, 3));       // unknown operation
    auto created = admin.call<p::CreateAclsResponse>(1, grant);
    REQUIRE(created.results.size() == 5);
    CHECK(created.results[0].error_code == 0);
    CHECK_FALSE(created.results[0].error_message.has_value());
    CHECK(created.results[1].error_code == 0);
    for (size_t i = 2; i < 5; ++i) {
      CAPTURE(i);
      CHECK(created.results[i].error_code == 42);  // INVALID_REQUEST
      REQUIRE(created.results[i].error_message.has_value());
    }
    CHECK(created.results[3].error_message->find("<Type>:<name>") != std::string::npos);

    // At once, on an existing connection.
    CHECK(alice.call<p::ProduceResponse>(7, produce_request("orders", 0, make_batch(1), 1))
              .responses.at(0).partition_responses.at(0).error_code == 0);

    // Describe at v1 (flexible v2 too): grouped by resource pattern.
    for (int16_t v : {int16_t(1), int16_t(2), int16_t(3)}) {
      CAPTURE(v);
      auto d = admin.call<p::DescribeAclsResponse>(v, describe_all_acls());
      CHECK(d.error_code == 0);
      REQUIRE(d.resources.size() == 2);  // sorted: "ord" before "orders"
      CHECK(d.resources[0].resource_name == "ord");
      CHECK(d.resources[0].pattern_type == 4);
      CHECK(d.resources[1].resource_name == "orders");
      CHECK(d.resources[1].pattern_type == 3);
      REQUIRE(d.resources[1].acls.size() == 1);
      CHECK(d.resources[1].acls[0].principal == "User:alice");
      CHECK(d.resources[1].acls[0].operation == 4);
    }
    // v0 knows LITERAL only: its filter is LITERAL, so the PREFIXED ACL is left out.
    p::DescribeAclsRequest v0 = describe_all_acls();
    v0.pattern_type_filter = 3;
    auto d0 = admin.call<p::DescribeAclsResponse>(0, v0);
    REQUIRE(d0.resources.size() == 1);
    CHECK(d0.resources[0].resource_name == "orders");
  }
  // Restart: the ACLs are back.
  Server s = sasl_server(tweak);
  TestClient admin(s.port());
  plain_login(admin, "admin");
  CHECK(admin.call<p::DescribeAclsResponse>(1, describe_all_acls()).resources.size() == 2);
  TestClient alice(s.port());
  plain_login(alice, "alice");
  CHECK(alice.call<p::ProduceResponse>(7, produce_request("orders", 0, make_batch(1), 1))
            .responses.at(0).partition_responses.at(0).error_code == 0);

  // DeleteAcls (v3, flexible): a MATCH filter on topic "orders" removes the literal and the prefixed ACL;
  // an UNKNOWN filter fails alone.
  p::DeleteAclsRequest del;
  auto& f = del.filters.emplace_back();
  f.resource_type_filter = 2;
  f.resource_name_filter = "orders";
  f.pattern_type_filter = 2;  // MATCH
  f.principal_filter = f.host_filter = std::nullopt;
  f.operation = f.permission_type = 1;
  auto& bad = del.filters.emplace_back(f);
  bad.operation = 0;  // UNKNOWN
  auto deleted = admin.call<p::DeleteAclsResponse>(3, del);
  REQUIRE(deleted.filter_results.size() == 2);
  CHECK(deleted.filter_results[0].error_code == 0);
  CHECK(deleted.filter_results[0].matching_acls.size() == 2);
  CHECK(deleted.filter_results[1].error_code == 42);
  CHECK(admin.call<p::DescribeAclsResponse>(1, describe_all_acls()).resources.empty());
  CHECK(alice.call<p::ProduceResponse>(7, produce_request("orders", 0, make_batch(1), 1))
            .responses.at(0).partition_responses.at(0).error_code == 29);
}

TEST_CASE("AclAdminWithoutAnAuthorizerAnswersSecurityDisabled") {
  Server s;
  TestClient c(s.port());
  CHECK(c.call<p::DescribeAclsResponse>(1, describe_all_acls()).error_code == 54);
  p::CreateAclsRequest grant;
  grant.creations.push_back(acl_creation(2, "t", 3, "User:alice", 3, 3));
  CHECK(c.call<p::CreateAclsResponse>(1, grant).results.at(0).error_code == 54);
}

TEST_CASE("PlaintextListenerAnswersSaslHandshakeWithIllegalSaslState") {
  Server s;
  TestClient c(s.port());
  CHECK(c.call<p::SaslHandshakeResponse>(1, handshake("PLAIN")).error_code == 34);
}
}  // namespace
}  // namespace streamctl::server
