// InitProducerId: a fresh producer id (epoch 0) for an idempotent producer. Transactions are not
// supported, so a transactional id is refused (the client reports it plainly instead of retrying).
// Also the tail reader used to rebuild producer state after a restart.
#include <algorithm>

#include "server/handlers/handlers.h"
#include "base/logging.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::to_int16;

kafka::protocol::InitProducerIdResponse handle_init_producer_id(RequestContext& ctx,
                                                         const kafka::protocol::InitProducerIdRequest& req) {
  kafka::protocol::InitProducerIdResponse resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  if (req.transactional_id && !req.transactional_id->empty()) {
    resp.error_code = to_int16(ErrorCode::kTransactionalIdAuthorizationFailed);
    log_warn("InitProducerId with a transactional id refused: transactions are not supported")
        .kv("transactional_id", *req.transactional_id).kv("client_id", ctx.client_id());
    return resp;
  }
  auto id = ctx.services->producers->init_producer_id();
  if (!id.ok()) {
    resp.error_code = to_int16(kafka::protocol::to_kafka_error(id.error()));
    log_error("cannot allocate a producer id").kv("error", id.error().to_string());
    return resp;
  }
  resp.error_code = 0;
  resp.producer_id = id->producer_id;
  resp.producer_epoch = id->producer_epoch;
  log_debug("producer id allocated").kv("producer_id", id->producer_id).kv("client_id", ctx.client_id());
  return resp;
}

Result<std::vector<RecordBatchHeader>> read_tail_headers(engine::LogManager& logs,
                                                                         const TopicPartition& tp,
                                                                         int64_t max_offsets) {
  constexpr size_t kChunkBytes = size_t(4) << 20;
  constexpr uint64_t kMaxScanBytes = uint64_t(256) << 20;
  STREAMCTL_ASSIGN_OR_RETURN(engine::Log * log, logs.log(tp.topic, tp.partition));
  const Offset end = log->log_end_offset();
  Offset from = std::max(log->log_start_offset(), end - max_offsets);
  std::vector<RecordBatchHeader> out;
  uint64_t scanned = 0;
  while (from < end && scanned < kMaxScanBytes) {
    auto r = log->read_up_to(from, kChunkBytes, end, /*min_one_batch=*/true);
    if (!r.ok()) return std::move(r).error();
    if (r->records.empty()) break;
    scanned += r->records.size();
    BatchIterator it(ByteSpan(r->records.data(), r->records.size()), /*verify_crc=*/false);
    while (it.next()) {
      if (it.header().last_offset() >= from) out.push_back(it.header());
    }
    if (r->next_offset <= from) break;
    from = r->next_offset;
  }
  return out;
}

}  // namespace streamctl::server::handlers
