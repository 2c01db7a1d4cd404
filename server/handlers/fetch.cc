// Fetch: whole stored batches, as stored, from several partitions, honouring per-partition and total
// max bytes (at least one batch for the first partition with data, KIP-74), and long-polling up to
// max_wait_ms until min_bytes are available.
//
// Long poll: a FetchState registers a one-shot watch on its partitions (AppendNotifier) BEFORE reading,
// so an append between the read and the wait is never missed; each wake re-reads the whole request on an
// io thread. The answer goes out when enough bytes are there, when a partition has an error, when the
// max wait expires, or at shutdown, whichever comes first, exactly once.
// Sessions (v7+): only sessionless fetches are served; a request to create a session (epoch 0) gets
// session id 0, which tells the client "no session" (it then sends full requests), and an incremental
// fetch (epoch > 0) gets FETCH_SESSION_ID_NOT_FOUND.
#include <algorithm>
#include <limits>
#include <mutex>

#include "server/handlers/handlers.h"
#include "server/logging.h"

namespace streamctl::server::handlers {

using protocol::ErrorCode;
using protocol::FetchRequest;
using protocol::FetchResponse;
using protocol::to_int16;

namespace {

struct ReadOutcome {
  FetchResponse response;
  size_t bytes = 0;
  bool any_error = false;
};

ReadOutcome read_fetch(const RequestContext& ctx, const FetchRequest& req) {
  BrokerServices& s = *ctx.services;
  const int16_t version = ctx.api_version();
  ReadOutcome out;
  FetchResponse& resp = out.response;
  resp.session_id = 0;
  if (version >= 7 && req.session_epoch > 0) {
    resp.error_code = to_int16(ErrorCode::kFetchSessionIdNotFound);
    out.any_error = true;
    return out;
  }
  const int64_t max_total = version >= 3 ? std::max<int32_t>(req.max_bytes, 0) : std::numeric_limits<int32_t>::max();
  int64_t total = 0;
  std::shared_lock<std::shared_mutex> topics_lock(s.topics_mu);
  for (const auto& t : req.topics) {
    FetchResponse::FetchableTopicResponse tr;
    tr.topic = t.topic;
    for (const auto& p : t.partitions) {
      FetchResponse::PartitionData pd;
      pd.partition_index = p.partition;
      pd.high_watermark = -1;
      pd.last_stable_offset = -1;
      pd.log_start_offset = -1;
      pd.preferred_read_replica = -1;
      pd.aborted_transactions = std::vector<FetchResponse::AbortedTransaction>{};
      pd.records = engine::Bytes{};
      auto log_r = s.logs->log(t.topic, p.partition);
      if (!log_r.ok()) {
        pd.error_code = to_int16(ErrorCode::kUnknownTopicOrPartition);
        out.any_error = true;
        tr.partitions.push_back(std::move(pd));
        continue;
      }
      engine::Log* log = *log_r;
      if (version >= 9 && p.current_leader_epoch > 0) {
        // This single node's leader epoch is 0: a larger one comes from a cluster we are not part of.
        pd.error_code = to_int16(ErrorCode::kUnknownLeaderEpoch);
        out.any_error = true;
        tr.partitions.push_back(std::move(pd));
        continue;
      }
      const int64_t remaining = max_total - total;
      const bool min_one = total == 0;
      const int64_t limit = std::min<int64_t>(std::max<int32_t>(p.partition_max_bytes, 0), std::max<int64_t>(remaining, 0));
      if (limit <= 0 && !min_one) {
        pd.high_watermark = log->high_watermark().value;
        pd.last_stable_offset = pd.high_watermark;
        pd.log_start_offset = log->log_start_offset().value;
        tr.partitions.push_back(std::move(pd));
        continue;
      }
      auto r = log->read(engine::Offset(p.fetch_offset), size_t(limit), min_one);
      if (!r.ok()) {
        pd.error_code = to_int16(r.error().code == engine::ErrorCode::kOffsetOutOfRange
                                     ? ErrorCode::kOffsetOutOfRange
                                     : protocol::to_kafka_error(r.error()));
        pd.high_watermark = log->high_watermark().value;
        pd.last_stable_offset = pd.high_watermark;
        pd.log_start_offset = log->log_start_offset().value;
        out.any_error = true;
        tr.partitions.push_back(std::move(pd));
        continue;
      }
      pd.high_watermark = r->high_watermark.value;
      pd.last_stable_offset = r->high_watermark.value;  // no transactions: LSO = HWM
      pd.log_start_offset = r->log_start_offset.value;
      total += int64_t(r->records.size());
      pd.records = engine::Bytes(r->records.begin(), r->records.end());
      tr.partitions.push_back(std::move(pd));
    }
    resp.responses.push_back(std::move(tr));
  }
  out.bytes = size_t(total);
  return out;
}

std::vector<engine::TopicPartition> partitions_of(const FetchRequest& req) {
  std::vector<engine::TopicPartition> out;
  for (const auto& t : req.topics) {
    for (const auto& p : t.partitions) out.push_back({t.topic, p.partition});
  }
  return out;
}

// One long-polling Fetch. Owned by the shared_ptrs held by its watch and timer callbacks.
class FetchState : public std::enable_shared_from_this<FetchState> {
 public:
  FetchState(const RequestContext& ctx, FetchRequest req, Respond<FetchResponse> done)
      : ctx_(ctx), req_(std::move(req)), done_(std::move(done)), partitions_(partitions_of(req_)) {}

  // First evaluation: answers at once or starts waiting.
  void start() {
    if (!evaluate()) return;
    ctx_.services->metrics->fetch_waits.fetch_add(1, std::memory_order_relaxed);
    auto self = shared_from_this();
    auto timer = ctx_.services->scheduler->schedule(std::max<int32_t>(req_.max_wait_ms, 0),
                                                    [self]() { self->expire(); });
    std::lock_guard<std::mutex> g(mu_);
    if (finished_) {
      timer->cancel();
    } else {
      timer_ = std::move(timer);
    }
  }

 private:
  // Watches, reads and answers if enough data is there. Returns true if still waiting.
  bool evaluate() {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (finished_) return false;
    }
    auto self = shared_from_this();
    BrokerServices& s = *ctx_.services;
    uint64_t watch = s.appends->watch(partitions_, [self]() {
      // On the appending thread: re-read on an io thread instead of delaying the producer.
      self->ctx_.services->scheduler->post([self]() { self->evaluate(); });
    });
    {
      std::lock_guard<std::mutex> g(mu_);
      watch_ids_.push_back(watch);  // fired ones are gone already; finish() cancels the rest
    }
    ReadOutcome r = read_fetch(ctx_, req_);
    if (r.bytes >= size_t(std::max<int32_t>(req_.min_bytes, 0)) || r.any_error ||
        s.stopping.load(std::memory_order_relaxed)) {
      finish(std::move(r.response));
      return false;
    }
    return true;
  }

  void expire() {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (finished_) return;
    }
    finish(read_fetch(ctx_, req_).response);
  }

  void finish(FetchResponse resp) {
    std::shared_ptr<Scheduler::Timer> timer;
    std::vector<uint64_t> watches;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (finished_) return;
      finished_ = true;
      timer = std::move(timer_);
      watches.swap(watch_ids_);
    }
    if (timer) timer->cancel();
    for (uint64_t w : watches) ctx_.services->appends->cancel(w);
    Respond<FetchResponse> done = std::move(done_);
    done(std::move(resp));
  }

  RequestContext ctx_;
  FetchRequest req_;
  Respond<FetchResponse> done_;
  std::vector<engine::TopicPartition> partitions_;
  std::mutex mu_;
  bool finished_ = false;
  std::vector<uint64_t> watch_ids_;
  std::shared_ptr<Scheduler::Timer> timer_;
};

}  // namespace

void handle_fetch(const RequestContext& ctx, FetchRequest req, Respond<FetchResponse> done) {
  if (req.max_wait_ms <= 0 || req.min_bytes <= 0 || ctx.services->stopping.load(std::memory_order_relaxed)) {
    ReadOutcome r = read_fetch(ctx, req);
    ctx.services->metrics->fetch_bytes.fetch_add(r.bytes, std::memory_order_relaxed);
    done(std::move(r.response));
    return;
  }
  Metrics* metrics = ctx.services->metrics;
  auto state = std::make_shared<FetchState>(ctx, std::move(req), [metrics, done = std::move(done)](FetchResponse resp) {
    size_t bytes = 0;
    for (const auto& t : resp.responses) {
      for (const auto& p : t.partitions) bytes += p.records ? p.records->size() : 0;
    }
    metrics->fetch_bytes.fetch_add(bytes, std::memory_order_relaxed);
    done(std::move(resp));
  });
  state->start();
}

}  // namespace streamctl::server::handlers
