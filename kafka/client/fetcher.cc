#include "kafka/client/fetcher.h"

#include <time.h>

#include <algorithm>

#include "kafka/client/errors.h"
#include "kafka/format/record_batch.h"
#include "kafka/protocol/error_codes.h"
#include "kafka/protocol/generated/fetch.h"
#include "kafka/protocol/generated/list_offsets.h"

namespace streamctl::kafka::client {

namespace {

namespace proto = kafka::protocol;

// Errors after which the partition's leader is looked up again (the request goes elsewhere next time).
bool leader_moved(int16_t code) {
  switch (proto::ErrorCode(code)) {
    case proto::ErrorCode::kNotLeaderOrFollower:
    case proto::ErrorCode::kLeaderNotAvailable:
    case proto::ErrorCode::kUnknownTopicOrPartition:
    case proto::ErrorCode::kFencedLeaderEpoch:
    case proto::ErrorCode::kUnknownLeaderEpoch:
    case proto::ErrorCode::kReplicaNotAvailable:
      return true;
    default:
      return false;
  }
}

// Keeps the whole batches of `records` (Kafka may end a response in a partial one) and the offset after them.
void keep_whole_batches(FetchedPartition& p) {
  BatchIterator it(ByteSpan(p.records.data(), p.records.size()), /*verify_crc=*/false);
  while (it.next()) p.next_offset = std::max(p.next_offset, it.header().next_offset().value);
  if (!it.status().ok() && it.valid_bytes() == 0 && p.error_code == 0) {
    p.error_code = proto::to_int16(proto::ErrorCode::kCorruptMessage);
  }
  p.records.resize(it.valid_bytes());
}

proto::FetchRequest fetch_request(const std::string& topic, const std::map<int32_t, int64_t>& positions,
                                  const FetchOptions& options) {
  proto::FetchRequest req;
  req.replica_id = options.replica_id;
  req.max_wait_ms = options.max_wait_ms;
  req.min_bytes = options.min_bytes;
  req.max_bytes = options.max_bytes;
  req.isolation_level = options.isolation_level;
  req.session_id = 0;
  req.session_epoch = -1;  // no fetch session: every request names every partition
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  for (const auto& [partition, offset] : positions) {
    auto& p = t.partitions.emplace_back();
    p.partition = partition;
    p.fetch_offset = offset;
    p.partition_max_bytes = options.partition_max_bytes;
  }
  return req;
}

Result<std::vector<FetchedPartition>> fetch_result(const proto::FetchResponse& resp, const std::string& topic,
                                                   const std::map<int32_t, int64_t>& positions,
                                                   const std::string& peer) {
  if (resp.error_code != 0) return broker_error(resp.error_code, "fetch from " + peer);
  std::vector<FetchedPartition> out;
  for (const auto& t : resp.responses) {
    if (t.topic != topic) continue;
    for (const auto& pd : t.partitions) {
      auto pos = positions.find(pd.partition_index);
      if (pos == positions.end()) continue;
      FetchedPartition& p = out.emplace_back();
      p.partition = pd.partition_index;
      p.error_code = pd.error_code;
      p.fetch_offset = pos->second;
      p.next_offset = pos->second;
      p.high_watermark = pd.high_watermark;
      p.log_start_offset = pd.log_start_offset;
      p.last_stable_offset = pd.last_stable_offset;
      if (pd.records) p.records = *pd.records;
      keep_whole_batches(p);
    }
  }
  return out;
}

Result<int16_t> fetch_version(BrokerConnection& conn) {
  return conn.negotiate(proto::ApiKey::kFetch, std::max<int16_t>(proto::FetchRequest::kMinVersion, 4),
                        proto::FetchRequest::kMaxVersion);  // v4+: RecordBatch v2 and isolation levels
}

}  // namespace

Result<std::vector<FetchedPartition>> fetch_once(BrokerConnection& conn, const std::string& topic,
                                                 const std::map<int32_t, int64_t>& positions,
                                                 const FetchOptions& options) {
  auto version = fetch_version(conn);
  if (!version.ok()) return std::move(version).error();
  const auto req = fetch_request(topic, positions, options);
  const int64_t deadline = deadline_after_ms(int64_t(options.max_wait_ms) + conn.options().request_timeout_ms);
  auto id = conn.send(int16_t(proto::ApiKey::kFetch), *version, req, deadline);
  if (!id.ok()) return std::move(id).error();
  auto body = conn.wait_response(*id, deadline);
  if (!body.ok()) return std::move(body).error();
  auto resp = proto::decode_message<proto::FetchResponse>(*body, *version);
  if (!resp.ok()) return std::move(resp).error();
  return fetch_result(*resp, topic, positions, conn.peer());
}

Result<std::map<int32_t, int64_t>> list_offsets(BrokerConnection& conn, const std::string& topic,
                                                const std::vector<int32_t>& partitions, int64_t timestamp) {
  auto version = conn.negotiate(proto::ApiKey::kListOffsets);
  if (!version.ok()) return std::move(version).error();
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  for (int32_t partition : partitions) {
    auto& p = t.partitions.emplace_back();
    p.partition_index = partition;
    p.timestamp = timestamp;
    p.max_num_offsets = 1;  // v0
  }
  auto resp = conn.call<proto::ListOffsetsResponse>(int16_t(proto::ApiKey::kListOffsets), *version, req);
  if (!resp.ok()) return std::move(resp).error();
  std::map<int32_t, int64_t> out;
  for (const auto& rt : resp->topics) {
    if (rt.name != topic) continue;
    for (const auto& p : rt.partitions) {
      if (p.error_code != 0) {
        return broker_error(p.error_code, "offsets of " + topic + "-" + std::to_string(p.partition_index));
      }
      if (*version == 0) {
        if (p.old_style_offsets.empty()) continue;
        out[p.partition_index] = p.old_style_offsets[0];
      } else {
        out[p.partition_index] = p.offset;
      }
    }
  }
  for (int32_t partition : partitions) {
    if (out.count(partition) == 0) {
      return Error::corruption("broker " + conn.peer() + " gave no offset for " + topic + "-" +
                               std::to_string(partition));
    }
  }
  return out;
}

// ---- Fetcher

struct Fetcher::Impl {
  Impl(const std::vector<BrokerAddress>& bootstrap, std::string topic, ConnectionOptions connection,
       FetchOptions options)
      : topic(std::move(topic)), connection(connection), options(options), metadata(bootstrap, connection) {}

  Status refresh() {
    const std::vector<std::string> topics{topic};
    std::vector<BrokerAddress> known;
    for (const auto& [id, a] : brokers) known.push_back(a);
    auto md = metadata.fetch(&topics, known);
    if (!md.ok()) return std::move(md).error();
    for (const auto& b : md->brokers) {
      auto it = brokers.find(b.id);
      if (it != brokers.end() && !(it->second == b.address())) conns.erase(b.id);
      brokers[b.id] = b.address();
    }
    const TopicMetadata* t = md->topic(topic);
    if (t == nullptr || t->error_code == proto::to_int16(proto::ErrorCode::kUnknownTopicOrPartition)) {
      return Error::not_found("topic '" + topic + "' does not exist");
    }
    if (t->error_code != 0) return broker_error(t->error_code, "metadata of '" + topic + "'");
    partitions = int32_t(t->partitions.size());
    leaders.clear();
    for (const auto& p : t->partitions) leaders[p.id] = p.leader;
    stale = false;
    return ok_status();
  }

  // The connection to broker `id`, made if needed; nullptr (and metadata stale) when it cannot be.
  BrokerConnection* conn_to(int32_t id) {
    if (auto it = conns.find(id); it != conns.end()) return it->second.get();
    auto a = brokers.find(id);
    if (a == brokers.end()) {
      stale = true;
      return nullptr;
    }
    auto c = BrokerConnection::connect(a->second, connection);
    if (!c.ok()) {
      stale = true;
      return nullptr;
    }
    return (conns[id] = std::move(c).value()).get();
  }

  std::string topic;
  ConnectionOptions connection;
  FetchOptions options;
  MetadataSource metadata;
  std::map<int32_t, BrokerAddress> brokers;
  std::map<int32_t, std::unique_ptr<BrokerConnection>> conns;
  std::map<int32_t, int32_t> leaders;    // partition -> broker id (-1: none)
  std::map<int32_t, int64_t> positions;  // assigned partition -> next offset
  int32_t partitions = 0;
  bool stale = false;
};

Fetcher::Fetcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Fetcher::~Fetcher() = default;

Result<std::unique_ptr<Fetcher>> Fetcher::open(const std::vector<BrokerAddress>& bootstrap, std::string topic,
                                               ConnectionOptions connection, FetchOptions options) {
  auto impl = std::make_unique<Impl>(bootstrap, std::move(topic), std::move(connection), options);
  auto st = impl->refresh();
  if (!st.ok()) return std::move(st).error();
  return std::unique_ptr<Fetcher>(new Fetcher(std::move(impl)));
}

int32_t Fetcher::partitions() const { return impl_->partitions; }

int64_t Fetcher::position(int32_t partition) const {
  auto it = impl_->positions.find(partition);
  return it == impl_->positions.end() ? -1 : it->second;
}

Status Fetcher::assign(int32_t partition, int64_t offset) {
  Impl& m = *impl_;
  if (partition < 0 || partition >= m.partitions) {
    return Error::invalid_argument("topic '" + m.topic + "' has no partition " + std::to_string(partition));
  }
  if (offset == kEarliestOffset || offset == kLatestOffset) {
    auto leader = m.leaders.find(partition);
    BrokerConnection* c = leader == m.leaders.end() || leader->second < 0 ? nullptr : m.conn_to(leader->second);
    if (c == nullptr) {
      return Error{ErrorCode::kUnavailable, m.topic + "-" + std::to_string(partition) + " has no reachable leader"};
    }
    auto offsets = list_offsets(*c, m.topic, {partition}, offset);
    if (!offsets.ok()) {
      m.conns.erase(leader->second);
      return std::move(offsets).error();
    }
    offset = offsets->at(partition);
  }
  m.positions[partition] = offset;
  return ok_status();
}

Result<std::vector<FetchedPartition>> Fetcher::poll() {
  Impl& m = *impl_;
  if (m.stale) {
    auto st = m.refresh();
    if (!st.ok()) return std::move(st).error();
  }
  // The assigned partitions by leader; one request to each, all sent before any answer is read.
  std::map<int32_t, std::map<int32_t, int64_t>> by_leader;
  for (const auto& [partition, offset] : m.positions) {
    auto leader = m.leaders.find(partition);
    if (leader == m.leaders.end() || leader->second < 0) {
      m.stale = true;
      continue;
    }
    by_leader[leader->second][partition] = offset;
  }
  struct Sent {
    int32_t broker;
    BrokerConnection* conn;
    int32_t correlation_id;
    int16_t version;
    const std::map<int32_t, int64_t>* positions;
  };
  std::vector<Sent> sent;
  const int64_t deadline = deadline_after_ms(int64_t(m.options.max_wait_ms) + m.connection.request_timeout_ms);
  for (const auto& [broker, positions] : by_leader) {
    BrokerConnection* c = m.conn_to(broker);
    if (c == nullptr) continue;
    auto version = fetch_version(*c);
    if (!version.ok()) return std::move(version).error();
    auto id = c->send(int16_t(proto::ApiKey::kFetch), *version, fetch_request(m.topic, positions, m.options), deadline);
    if (!id.ok()) {
      m.conns.erase(broker);
      m.stale = true;
      continue;
    }
    sent.push_back({broker, c, *id, *version, &positions});
  }
  std::vector<FetchedPartition> out;
  for (const Sent& s : sent) {
    auto body = s.conn->wait_response(s.correlation_id, deadline);
    auto resp = body.ok() ? proto::decode_message<proto::FetchResponse>(*body, s.version)
                          : Result<proto::FetchResponse>(std::move(body).error());
    auto result = resp.ok() ? fetch_result(*resp, m.topic, *s.positions, s.conn->peer())
                            : Result<std::vector<FetchedPartition>>(std::move(resp).error());
    if (!result.ok()) {
      m.conns.erase(s.broker);  // a broken or confused connection: a fresh one next round
      m.stale = true;
      continue;
    }
    for (auto& p : *result) {
      if (leader_moved(p.error_code)) {
        m.stale = true;
        continue;
      }
      if (p.error_code == 0) {
        m.positions[p.partition] = p.next_offset;
        if (p.records.empty()) continue;
      }
      out.push_back(std::move(p));
    }
  }
  if (sent.empty() && !m.positions.empty()) {
    // Nothing could be asked: wait a moment before the caller polls again (metadata is refreshed then).
    struct timespec ts = {0, 100'000'000};
    ::nanosleep(&ts, nullptr);
  }
  return out;
}

}  // namespace streamctl::kafka::client
