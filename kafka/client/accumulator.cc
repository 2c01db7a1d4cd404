#include "kafka/client/accumulator.h"

#include <time.h>

#include <algorithm>

#include "kafka/client/transport.h"

namespace streamctl::kafka::client {

namespace {

int64_t wall_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

size_t payload_of(const Record& r) { return (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0); }

}  // namespace

Record* RecordAccumulator::slot(PartitionId p) {
  Partition& s = parts_[size_t(p)];
  if (s.used == s.records.size()) s.records.emplace_back();
  return &s.records[s.used++];
}

bool RecordAccumulator::added(PartitionId p, size_t bytes) {
  Partition& s = parts_[size_t(p)];
  s.estimate += bytes + kRecordOverhead;
  return full(s);
}

Status RecordAccumulator::encode(PartitionId p, bool all, Idempotence& idempotence) {
  Partition& s = parts_[size_t(p)];
  while (s.used > 0 && (all || full(s))) {
    auto batch = take_batch();
    BatchBuildOptions o;
    o.compression = compression_;
    o.compression_level = compression_level_;
    o.append_time = Timestamp{wall_ms()};
    idempotence.stamp(p, o);
    size_t n = s.used;
    auto encode_prefix = [&] {
      return encode_batch_prefix(std::span<const Record>(s.records.data(), n), Offset{0}, o, max_batch_bytes_,
                                 batch->bytes, 0);
    };
    auto enc = encode_prefix();
    // A compressed batch is chosen by uncompressed size: in the rare case it came out larger, fewer records.
    while (enc.ok() && enc->bytes > max_batch_bytes_ && enc->records > 1) {
      n = enc->records / 2;
      enc = encode_prefix();
    }
    if (!enc.ok()) return std::move(enc).error();
    batch->partition = p;
    batch->records = int32_t(enc->records);
    batch->size = enc->bytes;
    batch->payload_bytes = 0;
    for (size_t i = 0; i < enc->records; ++i) batch->payload_bytes += payload_of(s.records[i]);
    batch->created_ns = mono_ns();
    idempotence.advance(p, batch->records);
    // The records not taken move to the front (their strings keep their buffers for reuse).
    std::rotate(s.records.begin(), s.records.begin() + ptrdiff_t(enc->records), s.records.begin() + ptrdiff_t(s.used));
    s.used -= enc->records;
    s.estimate = 0;
    for (size_t i = 0; i < s.used; ++i) s.estimate += payload_of(s.records[i]) + kRecordOverhead;
    s.batches.push_back(std::move(batch));
    ++buffered_batches_;
  }
  return ok_status();
}

void RecordAccumulator::release(ProducerBatch& batch) {
  auto& batches = parts_[size_t(batch.partition)].batches;
  for (auto it = batches.begin(); it != batches.end(); ++it) {
    if (it->get() != &batch) continue;
    free_.push_back(std::move(*it));
    batches.erase(it);
    --buffered_batches_;
    return;
  }
}

bool RecordAccumulator::has_pending() const {
  if (buffered_batches_ > 0) return true;
  return std::any_of(parts_.begin(), parts_.end(), [](const Partition& s) { return s.used > 0; });
}

std::unique_ptr<ProducerBatch> RecordAccumulator::take_batch() {
  if (free_.empty()) return std::make_unique<ProducerBatch>();
  auto b = std::move(free_.back());
  free_.pop_back();
  b->in_flight = false;
  return b;
}

}  // namespace streamctl::kafka::client
