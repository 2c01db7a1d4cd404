// ListOffsets: earliest (-2), latest (-1) or the first offset whose timestamp is >= a given time.
// v0 answers with the old-style offsets array (librdkafka 1.7 uses it for -1/-2); v1+ with one
// (timestamp, offset) pair, (-1, -1) when no record is that recent (Kafka's answer). The timestamp returned
// for a time lookup is that of the record found.
#include "kafka/format/record_batch.h"
#include "server/handlers/handlers.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::ListOffsetsRequest;
using kafka::protocol::ListOffsetsResponse;
using kafka::protocol::to_int16;

namespace {

constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
constexpr int64_t kMaxTimestamp = -3;

// The timestamp of the record at `offset` (the batch's, for LogAppendTime), or -1 if unreadable.
int64_t record_timestamp(engine::Log& log, Offset offset) {
  auto r = log.read(offset, 1, /*min_one_batch=*/true);
  if (!r.ok() || r->records.empty()) return -1;
  BatchIterator it(ByteSpan(r->records.data(), r->records.size()), /*verify_crc=*/false);
  while (it.next()) {
    const auto& h = it.header();
    if (offset < h.base_offset || offset > h.last_offset()) continue;
    if (h.timestamp_type() == TimestampType::kLogAppendTime) return h.max_timestamp.value;
    auto recs = decode_records(it.batch());
    if (!recs.ok()) return -1;
    for (const auto& rec : *recs) {
      if (rec.offset == offset) return rec.timestamp.value;
    }
  }
  return -1;
}

}  // namespace

ListOffsetsResponse handle_list_offsets(RequestContext& ctx, const ListOffsetsRequest& req) {
  BrokerServices& s = *ctx.services;
  const int16_t version = ctx.api_version();
  ListOffsetsResponse resp;
  std::shared_lock<std::shared_mutex> topics_lock(s.topics_mu);
  for (const auto& t : req.topics) {
    ListOffsetsResponse::ListOffsetsTopicResponse tr;
    tr.name = t.name;
    for (const auto& p : t.partitions) {
      ListOffsetsResponse::ListOffsetsPartitionResponse pr;
      pr.partition_index = p.partition_index;
      pr.timestamp = -1;
      pr.offset = -1;
      pr.leader_epoch = -1;
      auto log_r = s.logs->log(t.name, p.partition_index);
      if (!log_r.ok()) {
        pr.error_code = to_int16(ErrorCode::kUnknownTopicOrPartition);
        tr.partitions.push_back(std::move(pr));
        continue;
      }
      engine::Log& log = **log_r;
      if (version >= 4 && p.current_leader_epoch > 0) {
        pr.error_code = to_int16(ErrorCode::kUnknownLeaderEpoch);
        tr.partitions.push_back(std::move(pr));
        continue;
      }
      int64_t offset = -1;
      int64_t timestamp = -1;
      if (p.timestamp == kLatest) {
        offset = log.high_watermark().value;
      } else if (p.timestamp == kEarliest) {
        offset = log.log_start_offset().value;
      } else if (p.timestamp == kMaxTimestamp || p.timestamp < 0) {
        pr.error_code = to_int16(version >= 7 ? ErrorCode::kUnsupportedVersion : ErrorCode::kInvalidRequest);
        tr.partitions.push_back(std::move(pr));
        continue;
      } else {
        auto found = log.offset_for_timestamp(Timestamp(p.timestamp));
        if (!found.ok()) {
          pr.error_code = to_int16(kafka::protocol::to_kafka_error(found.error()));
          tr.partitions.push_back(std::move(pr));
          continue;
        }
        if (*found < log.high_watermark()) {
          offset = found->value;
          timestamp = record_timestamp(log, *found);
        }
      }
      if (version == 0) {
        if (offset >= 0 && p.max_num_offsets > 0) pr.old_style_offsets.push_back(offset);
      } else {
        pr.offset = offset;
        pr.timestamp = timestamp;
        if (offset >= 0 && version >= 4) pr.leader_epoch = 0;  // the field exists from v4
      }
      tr.partitions.push_back(std::move(pr));
    }
    resp.topics.push_back(std::move(tr));
  }
  return resp;
}

}  // namespace streamctl::server::handlers
