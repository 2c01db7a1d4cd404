#include "server/producer_state.h"

#include <charconv>
#include <limits>

namespace streamctl::server {


namespace {

constexpr int64_t kIdBlockSize = 1000;

// Kafka's sequence arithmetic: int32 sequences wrap from INT32_MAX to 0.
int32_t seq_add(int32_t seq, int32_t delta) {
  int64_t v = int64_t(seq) + int64_t(delta);
  if (v > std::numeric_limits<int32_t>::max()) v -= int64_t(std::numeric_limits<int32_t>::max()) + 1;
  return static_cast<int32_t>(v);
}

bool in_sequence(int32_t last_seq, int32_t next_seq) {
  return next_seq == seq_add(last_seq, 1);
}

}  // namespace

ProducerBatch ProducerBatch::from_header(const RecordBatchHeader& h) {
  ProducerBatch b;
  b.producer_id = h.producer_id;
  b.producer_epoch = h.producer_epoch;
  b.first_sequence = h.base_sequence;
  b.last_sequence = seq_add(h.base_sequence, h.last_offset_delta);
  return b;
}

ProducerStateManager::ProducerStateManager(FileSystem& fs, std::string meta_dir, TailLoader tail_loader)
    : fs_(fs), id_file_(join_path(meta_dir, "producer-ids")), tail_loader_(std::move(tail_loader)) {}

Result<ProducerIdAndEpoch> ProducerStateManager::init_producer_id() {
  std::lock_guard<std::mutex> g(ids_mu_);
  if (next_id_ >= block_end_) {
    int64_t start = 0;
    auto exists = fs_.exists(id_file_);
    if (!exists.ok()) return std::move(exists).error();
    if (*exists) {
      STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, read_file(fs_, id_file_));
      std::string_view text = as_string_view(bytes);
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), start);
      if (ec != std::errc() || p != text.data() + text.size() || start < 0) {
        return Error::corruption(id_file_ + ": expected the next producer id, found '" + std::string(text) + "'");
      }
    }
    int64_t end = start + kIdBlockSize;
    std::string text = std::to_string(end) + "\n";
    STREAMCTL_TRY(fs_.create_dirs(parent_path(id_file_)));
    STREAMCTL_TRY(write_file_atomically(fs_, id_file_, as_byte_span(text)));
    next_id_ = start;
    block_end_ = end;
  }
  return ProducerIdAndEpoch{next_id_++, 0};
}

std::shared_ptr<ProducerStateManager::PartitionState> ProducerStateManager::partition(
    const TopicPartition& tp) {
  std::lock_guard<std::mutex> g(map_mu_);
  auto& slot = partitions_[tp];
  if (!slot) slot = std::make_shared<PartitionState>();
  return slot;
}

void ProducerStateManager::record_locked(ProducerEntry& e, const ProducerBatch& b, const BatchPlacement& p,
                                         int64_t now_ms) {
  if (b.producer_epoch != e.epoch) {
    e.batches.clear();
    e.epoch = b.producer_epoch;
  }
  e.batches.emplace_back(b, p);
  while (e.batches.size() > kMaxCachedBatches) e.batches.pop_front();
  e.last_update_ms = now_ms;
}

void ProducerStateManager::load_locked(const TopicPartition& tp, PartitionState& ps, int64_t now_ms) {
  if (ps.loaded) return;
  ps.loaded = true;
  if (!tail_loader_) return;
  auto headers = tail_loader_(tp);
  if (!headers.ok()) return;
  for (const auto& h : *headers) {
    if (h.producer_id < 0 || h.is_control()) continue;
    ProducerBatch b = ProducerBatch::from_header(h);
    BatchPlacement p;
    p.base_offset = h.base_offset;
    p.last_offset = h.last_offset();
    p.log_append_time =
        h.timestamp_type() == TimestampType::kLogAppendTime ? h.max_timestamp : kNoTimestamp;
    auto& e = ps.producers[b.producer_id];
    if (b.producer_epoch < e.epoch) continue;
    // Entries loaded from disk count as fresh for expiry purposes.
    record_locked(e, b, p, now_ms);
  }
}

IdempotentAppendResult ProducerStateManager::append(const TopicPartition& tp, const ProducerBatch& batch,
                                                    const AppendFn& append_fn, int64_t now_ms) {
  STREAMCTL_CHECK(batch.producer_id >= 0, "idempotent append without a producer id");
  std::shared_ptr<PartitionState> state = partition(tp);
  PartitionState& ps = *state;
  std::lock_guard<std::mutex> g(ps.mu);
  load_locked(tp, ps, now_ms);

  IdempotentAppendResult out;
  auto it = ps.producers.find(batch.producer_id);
  if (it != ps.producers.end()) {
    ProducerEntry& e = it->second;
    if (batch.producer_epoch < e.epoch) {
      out.outcome = SequenceOutcome::kInvalidEpoch;
      return out;
    }
    if (batch.producer_epoch == e.epoch) {
      for (const auto& [b, p] : e.batches) {
        if (b.first_sequence == batch.first_sequence && b.last_sequence == batch.last_sequence) {
          out.outcome = SequenceOutcome::kDuplicate;
          out.placement = p;
          e.last_update_ms = now_ms;
          return out;
        }
      }
      if (!e.batches.empty() && !in_sequence(e.batches.back().first.last_sequence, batch.first_sequence)) {
        out.outcome = SequenceOutcome::kOutOfOrder;
        return out;
      }
    } else if (batch.first_sequence != 0) {
      // A new epoch must start its sequences at 0.
      out.outcome = SequenceOutcome::kOutOfOrder;
      return out;
    }
  }

  auto placed = append_fn();
  if (!placed.ok()) {
    out.outcome = SequenceOutcome::kAppendFailed;
    out.error = std::move(placed).error();
    return out;
  }
  record_locked(ps.producers[batch.producer_id], batch, *placed, now_ms);
  out.outcome = SequenceOutcome::kAppended;
  out.placement = *placed;
  return out;
}

void ProducerStateManager::with_partition_lock(const TopicPartition& tp, const std::function<void()>& fn) {
  std::shared_ptr<PartitionState> state = partition(tp);
  std::lock_guard<std::mutex> g(state->mu);
  fn();
}

void ProducerStateManager::remove_topic(const std::string& topic) {
  std::lock_guard<std::mutex> g(map_mu_);
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    if (it->first.topic == topic) {
      it = partitions_.erase(it);  // an append holding it keeps it alive (shared_ptr)
    } else {
      ++it;
    }
  }
}

size_t ProducerStateManager::expire(int64_t now_ms, int64_t max_idle_ms) {
  std::lock_guard<std::mutex> g(map_mu_);
  size_t removed = 0;
  for (auto& [tp, ps] : partitions_) {
    std::lock_guard<std::mutex> pg(ps->mu);
    for (auto it = ps->producers.begin(); it != ps->producers.end();) {
      int64_t last = it->second.last_update_ms;
      if (last < now_ms && now_ms - last > max_idle_ms) {
        it = ps->producers.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
  }
  return removed;
}

size_t ProducerStateManager::entry_count() const {
  std::lock_guard<std::mutex> g(map_mu_);
  size_t n = 0;
  for (const auto& [tp, ps] : partitions_) {
    std::lock_guard<std::mutex> pg(ps->mu);
    n += ps->producers.size();
  }
  return n;
}

}  // namespace streamctl::server
