#include "kafka/client/metadata.h"

#include <algorithm>

#include "kafka/protocol/generated/metadata.h"

namespace streamctl::kafka::client {

namespace proto = kafka::protocol;

const BrokerMetadata* ClusterMetadata::broker(int32_t id) const {
  for (const auto& b : brokers) {
    if (b.id == id) return &b;
  }
  return nullptr;
}

const TopicMetadata* ClusterMetadata::topic(const std::string& name) const {
  for (const auto& t : topics) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<ClusterMetadata> fetch_metadata(BrokerConnection& conn, const std::vector<std::string>* topics) {
  auto version = conn.negotiate(proto::ApiKey::kMetadata, proto::MetadataRequest::kMinVersion,
                                proto::MetadataRequest::kMaxVersion);
  if (!version.ok()) return std::move(version).error();
  proto::MetadataRequest req;
  if (topics == nullptr) {
    // v0 says "every topic" with an empty list, v1+ with null.
    if (*version >= 1) req.topics = std::nullopt;
  } else {
    req.topics.emplace();
    for (const auto& name : *topics) req.topics->emplace_back().name = name;
  }
  if (*version >= 4) req.allow_auto_topic_creation = false;  // v0-v3: the broker's own setting decides
  auto resp = conn.call<proto::MetadataResponse>(int16_t(proto::ApiKey::kMetadata), *version, req);
  if (!resp.ok()) return std::move(resp).error();
  ClusterMetadata md;
  md.controller_id = resp->controller_id;
  md.cluster_id = resp->cluster_id;
  for (auto& b : resp->brokers) md.brokers.push_back({b.node_id, std::move(b.host), b.port, std::move(b.rack)});
  for (auto& t : resp->topics) {
    TopicMetadata tm;
    tm.name = t.name.value_or("");
    tm.error_code = t.error_code;
    for (auto& p : t.partitions) {
      tm.partitions.push_back({p.partition_index, p.error_code, p.leader_id, p.leader_epoch,
                               std::move(p.replica_nodes), std::move(p.isr_nodes)});
    }
    std::sort(tm.partitions.begin(), tm.partitions.end(),
              [](const PartitionMetadata& a, const PartitionMetadata& b) { return a.id < b.id; });
    md.topics.push_back(std::move(tm));
  }
  return md;
}

namespace {

Error none_reachable(const std::string& tried) {
  return Error{ErrorCode::kUnavailable, "cannot reach any bootstrap broker (" + tried + ")"};
}

// One entry of the list of brokers tried: the error, prefixed with the address unless it names it.
std::string tried_text(const BrokerAddress& a, const Error& e) {
  return e.message.find(a.text()) != std::string::npos ? e.message : a.text() + ": " + e.message;
}

}  // namespace

Result<std::unique_ptr<BrokerConnection>> connect_bootstrap(const std::vector<BrokerAddress>& bootstrap,
                                                            const ConnectionOptions& options) {
  std::string tried;
  for (const auto& a : bootstrap) {
    auto c = BrokerConnection::connect(a, options);
    if (c.ok()) return c;
    tried += (tried.empty() ? "" : "; ") + tried_text(a, c.error());
  }
  if (bootstrap.empty()) return Error::invalid_argument("no bootstrap broker given");
  return none_reachable(tried);
}

Result<ClusterMetadata> bootstrap_metadata(const std::vector<BrokerAddress>& bootstrap,
                                           const ConnectionOptions& options,
                                           const std::vector<std::string>* topics) {
  std::string tried;
  for (const auto& a : bootstrap) {
    auto c = BrokerConnection::connect(a, options);
    if (c.ok()) {
      auto md = fetch_metadata(**c, topics);
      if (md.ok()) return md;
      c = std::move(md).error();
    }
    tried += (tried.empty() ? "" : "; ") + tried_text(a, c.error());
  }
  if (bootstrap.empty()) return Error::invalid_argument("no bootstrap broker given");
  return none_reachable(tried);
}

Result<ClusterMetadata> MetadataSource::fetch(const std::vector<std::string>* topics,
                                              const std::vector<BrokerAddress>& known) {
  if (conn_) {
    auto md = fetch_metadata(*conn_, topics);
    if (md.ok()) return md;
    conn_.reset();
  }
  std::vector<BrokerAddress> candidates = bootstrap_;
  for (const auto& a : known) {
    if (std::find(candidates.begin(), candidates.end(), a) == candidates.end()) candidates.push_back(a);
  }
  auto conn = connect_bootstrap(candidates, options_);
  if (!conn.ok()) return std::move(conn).error();
  conn_ = std::move(conn).value();
  auto md = fetch_metadata(*conn_, topics);
  if (!md.ok()) conn_.reset();
  return md;
}

}  // namespace streamctl::kafka::client
