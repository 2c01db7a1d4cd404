// Produce: validate each partition's record set, append it as stored batches (offsets rewritten by the
// log), answer with the base offset. Idempotent batches (producer id >= 0) go through the producer state,
// so a retry is answered with the original offsets instead of being appended twice.
// acks=all on a single node equals acks=1: the append is in the page cache (it survives a crash of this
// process, kill -9 included); fsync follows the topic's flush.* settings and the broker's flush interval.
#include <algorithm>

#include "kafka/format/legacy_records.h"
#include "kafka/format/record_batch.h"
#include "server/handlers/handlers.h"
#include "base/logging.h"
#include "kafka/protocol/error_codes.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::ProduceRequest;
using kafka::protocol::ProduceResponse;
using kafka::protocol::to_int16;

namespace {

constexpr LeaderEpoch kSingleNodeLeaderEpoch = 0;

// The Kafka code for a failed append; Produce refines the generic mapping.
ErrorCode append_error(const Error& e) {
  switch (e.code) {
    case streamctl::ErrorCode::kNotSupported:
      return ErrorCode::kUnsupportedForMessageFormat;  // magic 0/1 or an unknown codec
    case streamctl::ErrorCode::kInvalidArgument:
      return ErrorCode::kCorruptMessage;
    case streamctl::ErrorCode::kNotFound:
      return ErrorCode::kUnknownTopicOrPartition;
    default:
      return kafka::protocol::to_kafka_error(e);
  }
}

struct PartitionResult {
  ErrorCode error = ErrorCode::kNone;
  std::string message;
  int64_t base_offset = -1;
  int64_t log_append_time = -1;
  int64_t log_start_offset = -1;
};

server::BatchPlacement placement_of(const engine::AppendResult& r) {
  server::BatchPlacement p;
  p.base_offset = r.base_offset;
  p.last_offset = r.last_offset;
  p.log_append_time = r.log_append_time;
  p.log_start_offset = r.log_start_offset;
  return p;
}

PartitionResult produce_partition(RequestContext& ctx, const std::string& topic, int32_t partition,
                                  const Bytes& request_records) {
  BrokerServices& s = *ctx.services;
  PartitionResult out;
  auto log_r = s.logs->log(topic, partition);
  if (!log_r.ok()) {
    out.error = ErrorCode::kUnknownTopicOrPartition;
    out.message = log_r.error().message;
    return out;
  }
  engine::Log* log = *log_r;
  // Produce v0-v2 carry message sets (magic 0/1): converted to one RecordBatch v2 first, as Kafka 3.x
  // brokers do; v3+ must carry record batches (Kafka's rule for each version range).
  const int16_t version = ctx.api_version();
  const int8_t magic = request_records.size() > kMagicOffset ? int8_t(request_records[kMagicOffset]) : -1;
  Bytes converted;
  ByteSpan records(request_records.data(), request_records.size());
  if (version < 3 || magic == kMagicV0 || magic == kMagicV1) {
    if (version >= 3) {
      out.error = ErrorCode::kUnsupportedForMessageFormat;
      out.message = "Produce v" + std::to_string(version) + " must carry RecordBatch v2 (magic 2); got magic " +
                    std::to_string(int(magic)) + " (message formats v0/v1 are accepted with Produce v0-v2)";
      return out;
    }
    if (magic != kMagicV0 && magic != kMagicV1) {
      out.error = ErrorCode::kInvalidRecord;
      out.message = "Produce v" + std::to_string(version) + " must carry message format v0 or v1; got magic " +
                    std::to_string(int(magic));
      return out;
    }
    LegacyConversionOptions options;
    options.now = s.clock->now();
    auto up = upconvert_message_set(records, options);
    if (!up.ok()) {
      out.error = up.error().code == streamctl::ErrorCode::kNotSupported ? ErrorCode::kUnsupportedForMessageFormat
                                                                        : ErrorCode::kCorruptMessage;
      out.message = up.error().message;
      return out;
    }
    s.metrics->produce_upconverted_batches.fetch_add(1, std::memory_order_relaxed);
    converted = std::move(up->batch);
    records = ByteSpan(converted.data(), converted.size());
  }
  if (records.size() < kBatchHeaderSize) {
    out.error = ErrorCode::kCorruptMessage;
    out.message = "record set of " + std::to_string(records.size()) + " bytes is shorter than a batch header";
    return out;
  }
  // Look at the batch headers first (cheap, no CRC): producer ids, transactional/control bits, magic.
  std::vector<ByteSpan> batches;
  std::vector<RecordBatchHeader> headers;
  bool idempotent = false;
  {
    ByteSpan all = records;
    if (int8_t(all[kMagicOffset]) != kMagicV2) {
      out.error = ErrorCode::kUnsupportedForMessageFormat;
      out.message = "only RecordBatch v2 (magic 2) is accepted; got magic " +
                    std::to_string(int(int8_t(all[kMagicOffset])));
      return out;
    }
    BatchIterator it(all, /*verify_crc=*/false);
    while (it.next()) {
      batches.push_back(it.batch());
      headers.push_back(it.header());
      if (it.header().producer_id >= 0) idempotent = true;
    }
    if (!it.status().ok() || it.truncated_tail() || it.valid_bytes() != all.size() || batches.empty()) {
      out.error = ErrorCode::kCorruptMessage;
      out.message = it.status().ok() ? "record set ends in a partial batch" : it.status().error().message;
      return out;
    }
  }
  for (const auto& h : headers) {
    if (h.is_control()) {
      out.error = ErrorCode::kInvalidRecord;
      out.message = "clients may not write control batches";
      return out;
    }
    if (h.is_transactional()) {
      out.error = ErrorCode::kInvalidTxnState;
      out.message = "transactions are not supported by streamctl serve";
      return out;
    }
  }

  TopicPartition tp{topic, partition};
  uint64_t records_appended = 0, bytes_appended = 0;
  if (!idempotent) {
    auto r = log->append_batches(records, kSingleNodeLeaderEpoch);
    if (!r.ok()) {
      out.error = append_error(r.error());
      out.message = r.error().message;
      return out;
    }
    out.base_offset = r->base_offset.value;
    out.log_append_time = r->log_append_time.value;
    out.log_start_offset = r->log_start_offset.value;
    records_appended = uint64_t(std::max(0, r->record_count));
    bytes_appended = r->bytes;
  } else {
    // Each batch goes through the producer state on its own (Kafka requires one batch per partition
    // for v3+, but several are handled the same way: in order, stopping at the first failure).
    for (size_t i = 0; i < batches.size(); ++i) {
      const auto& h = headers[i];
      if (h.producer_id < 0) {
        out.error = ErrorCode::kInvalidRecord;
        out.message = "an idempotent record set mixes batches with and without a producer id";
        return out;
      }
      ByteSpan batch = batches[i];
      engine::AppendResult appended;
      auto res = s.producers->append(
          tp, server::ProducerBatch::from_header(h),
          [&]() -> Result<server::BatchPlacement> {
            auto r = log->append_batches(batch, kSingleNodeLeaderEpoch);
            if (!r.ok()) return std::move(r).error();
            appended = *r;
            return placement_of(*r);
          },
          s.clock->monotonic_ms());
      switch (res.outcome) {
        case server::SequenceOutcome::kAppended:
          records_appended += uint64_t(std::max(0, appended.record_count));
          bytes_appended += appended.bytes;
          break;
        case server::SequenceOutcome::kDuplicate:
          s.metrics->produce_duplicates.fetch_add(1, std::memory_order_relaxed);
          log_debug("duplicate produce batch answered from producer state").kv("topic", topic)
              .kv("partition", partition).kv("producer_id", h.producer_id).kv("sequence", h.base_sequence)
              .kv("base_offset", res.placement.base_offset.value);
          break;
        case server::SequenceOutcome::kOutOfOrder:
          out.error = ErrorCode::kOutOfOrderSequenceNumber;
          out.message = "out of order sequence " + std::to_string(h.base_sequence) + " for producer " +
                        std::to_string(h.producer_id);
          return out;
        case server::SequenceOutcome::kInvalidEpoch:
          out.error = ErrorCode::kInvalidProducerEpoch;
          out.message = "producer epoch " + std::to_string(h.producer_epoch) + " is older than the current one";
          return out;
        case server::SequenceOutcome::kAppendFailed:
          out.error = append_error(res.error);
          out.message = res.error.message;
          return out;
      }
      if (i == 0) {
        out.base_offset = res.placement.base_offset.value;
        out.log_append_time = res.placement.log_append_time.value;
      }
      out.log_start_offset = log->log_start_offset().value;
    }
  }
  s.metrics->produce_records.fetch_add(records_appended, std::memory_order_relaxed);
  s.metrics->produce_bytes.fetch_add(bytes_appended, std::memory_order_relaxed);
  if (records_appended > 0) s.appends->notify(tp);
  return out;
}

}  // namespace

ProduceOutcome handle_produce(RequestContext& ctx, const ProduceRequest& req) {
  const int16_t version = ctx.api_version();
  ErrorCode request_error = ErrorCode::kNone;
  std::string request_message;
  if (req.transactional_id && !req.transactional_id->empty()) {
    request_error = ErrorCode::kTransactionalIdAuthorizationFailed;
    request_message = "transactions are not supported by streamctl serve";
  } else if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
    request_error = ErrorCode::kInvalidRequiredAcks;
    request_message = "acks must be 0, 1 or -1, got " + std::to_string(req.acks);
  }

  ProduceResponse resp;
  std::string first_error;
  {
    std::shared_lock<std::shared_mutex> topics_lock(ctx.services->topics_mu);
    for (const auto& t : req.topic_data) {
      ProduceResponse::TopicProduceResponse tr;
      tr.name = t.name;
      for (const auto& p : t.partition_data) {
        PartitionResult r;
        if (request_error != ErrorCode::kNone) {
          r.error = request_error;
          r.message = request_message;
        } else if (!ctx.allowed(security::AclOperation::kWrite, security::ResourceType::kTopic, t.name)) {
          r.error = ErrorCode::kTopicAuthorizationFailed;
          r.message = "not authorized to write to topic " + t.name;
        } else if (!p.records) {
          r.error = ErrorCode::kCorruptMessage;
          r.message = "null record set";
        } else {
          r = produce_partition(ctx, t.name, p.index, *p.records);
        }
        ProduceResponse::PartitionProduceResponse pr;
        pr.index = p.index;
        pr.error_code = to_int16(r.error);
        pr.base_offset = r.base_offset;
        pr.log_append_time_ms = r.log_append_time;
        pr.log_start_offset = r.log_start_offset;
        if (r.error != ErrorCode::kNone) {
          if (version >= 8) pr.error_message = r.message;
          if (first_error.empty()) {
            first_error = t.name + "-" + std::to_string(p.index) + ": " + kafka::protocol::error_code_name(r.error) +
                          (r.message.empty() ? "" : ": " + r.message);
          }
        }
        tr.partition_responses.push_back(std::move(pr));
      }
      resp.responses.push_back(std::move(tr));
    }
  }
  if (!first_error.empty()) {
    log_warn("produce failed").kv("client_id", ctx.client_id()).kv("acks", int(req.acks)).kv("error", first_error);
  }
  ProduceOutcome out;
  if (req.acks == 0) {
    if (!first_error.empty()) {
      out.close_connection = true;
      out.close_reason = "acks=0 produce failed: " + first_error;
    }
    return out;
  }
  out.response = std::move(resp);
  return out;
}

}  // namespace streamctl::server::handlers
