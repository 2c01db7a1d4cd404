#include "kafka/client/idempotence.h"

#include "kafka/client/errors.h"
#include "kafka/protocol/generated/init_producer_id.h"

namespace streamctl::kafka::client {

namespace proto = kafka::protocol;

Result<bool> Idempotence::init(BrokerConnection& conn, std::string* why_not) {
  why_not->clear();
  auto version = conn.negotiate(proto::ApiKey::kInitProducerId, proto::InitProducerIdRequest::kMinVersion,
                                proto::InitProducerIdRequest::kMaxVersion);
  if (!version.ok()) return false;  // no idempotence on this cluster
  proto::InitProducerIdRequest req;
  req.transactional_id = std::nullopt;
  req.transaction_timeout_ms = 60000;
  auto resp = conn.call<proto::InitProducerIdResponse>(int16_t(proto::ApiKey::kInitProducerId), *version, req);
  if (!resp.ok()) return std::move(resp).error();
  if (resp->error_code != 0) {
    *why_not = "InitProducerId: " + broker_error_text(resp->error_code);
    return false;
  }
  producer_id_ = resp->producer_id;
  producer_epoch_ = resp->producer_epoch;
  return true;
}

void Idempotence::stamp(PartitionId p, BatchBuildOptions& o) const {
  if (!enabled()) return;
  o.producer_id = producer_id_;
  o.producer_epoch = producer_epoch_;
  o.base_sequence = next_sequence_[size_t(p)];
}

void Idempotence::advance(PartitionId p, int32_t records) {
  if (!enabled()) return;
  int32_t& next = next_sequence_[size_t(p)];
  next = int32_t(uint32_t(next) + uint32_t(records)) & 0x7fffffff;
}

}  // namespace streamctl::kafka::client
