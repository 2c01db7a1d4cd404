#include "cluster/raft_log.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "kafka/format/record_batch.h"
#include "kafka/protocol/generated/leader_change_message.h"

namespace streamctl::cluster {
namespace {

// Marks the first record of a batch that append() built around opaque bytes (see payload()).
constexpr std::string_view kPayloadHeader = "streamctl.raft.payload";
// Control record key of Kafka's LEADER_CHANGE (ControlRecordType 2), version 0.
constexpr int16_t kLeaderChangeType = 2;
constexpr uint16_t kControlAttribute = 0x20;
// Bytes per engine read while collecting batches for Raft.
constexpr size_t kReadChunk = size_t(1) << 20;

// bytes holds exactly one valid RecordBatch v2.
bool is_one_record_batch(std::string_view bytes) {
  if (bytes.size() < kBatchHeaderSize) return false;
  BatchIterator it(as_byte_span(bytes));
  if (!it.next()) return false;
  return it.batch().size() == bytes.size() && it.status().ok();
}

// LeaderChangeMessage v0 (the generated codec): Version 0, LeaderId, Voters and GrantingVoters empty.
std::string leader_change_value(int32_t leader_id) {
  kafka::protocol::LeaderChangeMessage m;
  m.leader_id = leader_id;
  Bytes out;
  // Always encodes: v0 is the only version and every field is in it.
  (void)kafka::protocol::encode_message(m, 0, out);
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

// The leader id in Raft's "LeaderChange:<id>" control bytes; -1 when they say none.
int32_t leader_id_of(std::string_view bytes) {
  constexpr std::string_view kPrefix = "LeaderChange:";
  int32_t id = -1;
  if (bytes.substr(0, kPrefix.size()) == kPrefix) {
    std::string_view digits = bytes.substr(kPrefix.size());
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || p != digits.data() + digits.size()) id = -1;
  }
  return id;
}

std::string to_string(ByteSpan bytes) { return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()); }

}  // namespace

raft::Offset EngineRaftLog::start_offset() const { return log_->log_start_offset().value; }

raft::Offset EngineRaftLog::end_offset() const { return log_->log_end_offset().value; }

raft::Epoch EngineRaftLog::last_epoch() const {
  // The largest epoch <= the largest possible one: the last epoch, without copying the cache (every fetch asks).
  engine::EpochEndOffset last = log_->end_offset_for_epoch(std::numeric_limits<LeaderEpoch>::max());
  return last.epoch == kNoLeaderEpoch ? 0 : last.epoch;
}

Result<Bytes> EngineRaftLog::encode(const raft::Batch& batch) const {
  if (is_one_record_batch(batch.bytes)) {
    Bytes out(batch.bytes.size());
    std::copy_n(reinterpret_cast<const std::byte*>(batch.bytes.data()), batch.bytes.size(), out.data());
    return out;
  }
  BatchBuildOptions options;
  options.leader_epoch = batch.epoch;
  options.append_time = clock_->now();
  std::vector<Record> records(size_t(std::max<int32_t>(1, batch.record_count)));
  if (batch.control) {
    // Kafka writes a LeaderChange control batch as one record; Raft counts it as record_count offsets.
    std::string key(4, '\0');
    key[3] = char(kLeaderChangeType);
    records.resize(1);
    records[0].key = std::move(key);
    records[0].value = leader_change_value(leader_id_of(batch.bytes));
  } else {
    records[0].value = batch.bytes;
    records[0].headers.push_back(RecordHeader{std::string(kPayloadHeader), std::nullopt});
  }
  STREAMCTL_ASSIGN_OR_RETURN(Bytes out, build_batch(records, Offset(0), options));
  if (batch.control) {
    put_be16(out.data() + kAttributesOffset, uint16_t(get_be16(out.data() + kAttributesOffset) | kControlAttribute));
    put_be32(out.data() + kCrcOffset, compute_batch_crc(out));
  }
  return out;
}

void EngineRaftLog::fail(Status status) {
  if (error_.ok() && !status.ok()) error_ = std::move(status);
}

raft::Offset EngineRaftLog::append(raft::Batch batch) {
  const raft::Offset end = end_offset();
  if (!error_.ok()) return end;
  auto bytes = encode(batch);
  if (!bytes.ok()) {
    fail(std::move(bytes).error());
    return end;
  }
  auto r = log_->append_batches(*bytes, batch.epoch);
  if (!r.ok()) {
    fail(std::move(r).error());
    return end;
  }
  return r->base_offset.value;
}

void EngineRaftLog::truncate_to(raft::Offset end) {
  if (error_.ok()) fail(log_->truncate_to(Offset(end)));
}

raft::OffsetAndEpoch EngineRaftLog::end_offset_for_epoch(raft::Epoch epoch) const {
  engine::EpochEndOffset e = log_->end_offset_for_epoch(epoch);
  if (e.epoch == kNoLeaderEpoch) return {};
  return {e.end_offset.value, e.epoch};
}

raft::Offset EngineRaftLog::read(raft::Offset from, size_t max_batches, std::vector<raft::Batch>* out) const {
  const Offset end = log_->log_end_offset();
  raft::Offset first = end.value;
  Offset next(from);
  size_t taken = 0;
  while (taken < max_batches && next < end) {
    Status s = log_->read_into(next, kReadChunk, end, /*min_one_batch=*/true, scratch_);
    if (!s.ok() || scratch_.records.empty()) break;
    BatchIterator it(ByteSpan(scratch_.records.data(), scratch_.records.size()), /*verify_crc=*/false);
    while (taken < max_batches && it.next()) {
      const RecordBatchHeader& h = it.header();
      if (taken == 0) first = h.base_offset.value;
      raft::Batch b;
      b.epoch = h.leader_epoch;
      b.record_count = h.last_offset_delta + 1;
      b.control = h.is_control();
      b.bytes = to_string(it.batch());
      out->push_back(std::move(b));
      ++taken;
      next = h.last_offset() + 1;
    }
    if (scratch_.next_offset <= next && taken < max_batches && next < end) {
      next = std::max(next, scratch_.next_offset);
    }
  }
  return first;
}

void EngineRaftLog::truncate_fully_and_start_at(raft::Offset offset) {
  if (error_.ok()) fail(log_->truncate_fully_and_start_at(Offset(offset)));
}

Result<raft::Offset> EngineRaftLog::flush() {
  if (!error_.ok()) return Error{error_.error()};
  Status s = log_->flush();
  if (!s.ok()) {
    fail(s);
    return std::move(s).error();
  }
  return end_offset();
}

std::string EngineRaftLog::payload(const raft::Batch& batch) {
  if (batch.control || !is_one_record_batch(batch.bytes)) return batch.bytes;
  auto records = decode_records(as_byte_span(batch.bytes));
  if (records.ok() && !records->empty() && (*records)[0].value && !(*records)[0].headers.empty() &&
      (*records)[0].headers[0].key == kPayloadHeader) {
    return *(*records)[0].value;
  }
  return batch.bytes;
}

}  // namespace streamctl::cluster
