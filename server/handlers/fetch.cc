// Fetch: whole stored batches, as stored, from several partitions, honouring per-partition and total
// max bytes (at least one batch for the first partition with data, KIP-74), and long-polling up to
// max_wait_ms until min_bytes are available.
//
// Zero copy: Log::read_slices returns the batches as ranges of their segment files (kept open by the
// slices, so retention or topic deletion meanwhile does not affect them); a partition's records of at least
// kMinSendfileBytes stay there (FetchAnswer::file_records: the dispatcher encodes the response without them,
// the connection sends them with sendfile), smaller ones are copied into the response. Bytes the Log has
// not CRC-checked yet, and the in-memory file system of tests, come back as copied records (the same path
// as before sendfile).
//
// Long poll: a FetchState registers a one-shot watch on its partitions (AppendNotifier) BEFORE reading,
// so an append between the read and the wait is never missed; each wake re-reads the whole request on an
// io thread. The answer goes out when enough bytes are there, when a partition has an error, when the
// max wait expires, or at shutdown, whichever comes first, exactly once.
// Sessions (v7+): only sessionless fetches are served; a request to create a session (epoch 0) gets
// session id 0, which tells the client "no session" (it then sends full requests), and an incremental
// fetch (epoch > 0) gets FETCH_SESSION_ID_NOT_FOUND.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>

#include "kafka/format/legacy_records.h"
#include "server/handlers/handlers.h"
#include "base/logging.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::FetchRequest;
using kafka::protocol::FetchResponse;
using kafka::protocol::to_int16;

namespace {

// Fetch v4 is the first version whose responses carry RecordBatch v2 (KIP-98).
constexpr int16_t kFirstRecordBatchFetchVersion = 4;

struct ReadOutcome {
  FetchAnswer answer;
  size_t bytes = 0;
  bool any_error = false;
};

// Puts a partition's read into its response: slices of at least kMinSendfileBytes stay in the files (the
// connection sends them), smaller ones and copied reads go into `records`. Returns the bytes, or an error
// when copying a slice fails (the file shrank: truncated in place).
Result<size_t> place_records(engine::ReadResult& r, size_t ordinal, FetchResponse::PartitionData& pd,
                                     std::vector<FetchAnswer::FileRecords>& file_records, bool allow_sendfile) {
  if (r.slices.empty()) {
    pd.records = Bytes(r.records.begin(), r.records.end());
    return r.records.size();
  }
  uint64_t total = 0;
  for (const auto& s : r.slices) total += s.length;
  if (allow_sendfile && total >= kMinSendfileBytes) {
    file_records.push_back({ordinal, std::move(r.slices)});
    pd.records = Bytes{};
    return size_t(total);
  }
  Bytes bytes(static_cast<size_t>(total));
  size_t at = 0;
  for (const auto& s : r.slices) {
    auto n = s.file->read_at(s.position, std::span<std::byte>(bytes.data() + at, size_t(s.length)));
    if (!n.ok()) return std::move(n).error();
    if (*n != s.length) {
      return Error::corruption(s.file->path() + ": ends at " + std::to_string(s.position + *n) +
                                       " while reading " + std::to_string(s.length) + " bytes at " +
                                       std::to_string(s.position) + " (truncated while being read)");
    }
    at += size_t(s.length);
  }
  pd.records = std::move(bytes);
  return size_t(total);
}

// A Fetch met a batch that fails validation: counted every time, logged at most once a second (a consumer
// retrying would flood the log), with the file and position the engine's error names and how many were
// not logged since the last line.
void report_corrupt_read(Metrics& metrics, const std::string& topic, int32_t partition, int64_t fetch_offset,
                         const Error& error) {
  metrics.fetch_corrupt_batches.fetch_add(1, std::memory_order_relaxed);
  static std::atomic<int64_t> last_logged_ms{-1000};
  static std::atomic<uint64_t> suppressed{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = last_logged_ms.load(std::memory_order_relaxed);
  if (now - last < 1000 || !last_logged_ms.compare_exchange_strong(last, now)) {
    suppressed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  log_error("fetch met a corrupt batch")
      .kv("topic", topic)
      .kv("partition", partition)
      .kv("fetch_offset", fetch_offset)
      .kv("error", error.message)
      .kv("not_logged_since_last", suppressed.exchange(0, std::memory_order_relaxed));
}

ReadOutcome read_fetch(const RequestContext& ctx, const FetchRequest& req) {
  BrokerServices& s = *ctx.services;
  const int16_t version = ctx.api_version();
  ReadOutcome out;
  FetchResponse& resp = out.answer.response;
  resp.session_id = 0;
  if (version >= 7 && req.session_epoch > 0) {
    resp.error_code = to_int16(ErrorCode::kFetchSessionIdNotFound);
    out.any_error = true;
    return out;
  }
  const int64_t max_total = version >= 3 ? std::max<int32_t>(req.max_bytes, 0) : std::numeric_limits<int32_t>::max();
  int64_t total = 0;
  size_t ordinal = 0;  // partitions in the response so far
  engine::ReadResult read;  // reused across partitions
  std::shared_lock<std::shared_mutex> topics_lock(s.topics_mu);
  for (const auto& t : req.topics) {
    FetchResponse::FetchableTopicResponse tr;
    tr.topic = t.topic;
    for (const auto& p : t.partitions) {
      FetchResponse::PartitionData& pd = tr.partitions.emplace_back();
      const size_t this_ordinal = ordinal++;
      pd.partition_index = p.partition;
      pd.high_watermark = -1;
      pd.last_stable_offset = -1;
      pd.log_start_offset = -1;
      pd.preferred_read_replica = -1;
      pd.aborted_transactions = std::vector<FetchResponse::AbortedTransaction>{};
      pd.records = Bytes{};
      if (!ctx.allowed(security::AclOperation::kRead, security::ResourceType::kTopic, t.topic)) {
        pd.error_code = to_int16(ErrorCode::kTopicAuthorizationFailed);
        out.any_error = true;
        continue;
      }
      auto log_r = s.logs->log(t.topic, p.partition);
      if (!log_r.ok()) {
        pd.error_code = to_int16(ErrorCode::kUnknownTopicOrPartition);
        out.any_error = true;
        continue;
      }
      engine::Log* log = *log_r;
      if (version >= 9 && p.current_leader_epoch > 0) {
        // This single node's leader epoch is 0: a larger one comes from a cluster we are not part of.
        pd.error_code = to_int16(ErrorCode::kUnknownLeaderEpoch);
        out.any_error = true;
        continue;
      }
      auto offsets_of_log = [&]() {
        pd.high_watermark = log->high_watermark().value;
        pd.last_stable_offset = pd.high_watermark;
        pd.log_start_offset = log->log_start_offset().value;
      };
      const int64_t remaining = max_total - total;
      const bool min_one = total == 0;
      const int64_t limit = std::min<int64_t>(std::max<int32_t>(p.partition_max_bytes, 0), std::max<int64_t>(remaining, 0));
      if (limit <= 0 && !min_one) {
        offsets_of_log();
        continue;
      }
      auto st = log->read_slices(Offset(p.fetch_offset), size_t(limit), log->high_watermark(), min_one, read);
      // Fetch v0-v3 clients read message formats v0/v1 only: their records are copied and down-converted.
      const bool legacy = version < kFirstRecordBatchFetchVersion;
      Result<size_t> placed = st.ok() ? place_records(read, this_ordinal, pd, out.answer.file_records, !legacy)
                                              : Result<size_t>(std::move(st).error());
      if (placed.ok() && legacy && pd.records && !pd.records->empty()) {
        auto old = downconvert_batches(ByteSpan(pd.records->data(), pd.records->size()),
                                       version < 2 ? kMagicV0 : kMagicV1, Offset(p.fetch_offset));
        if (old.ok()) {
          s.metrics->fetch_downconverted_partitions.fetch_add(1, std::memory_order_relaxed);
          placed = old->size();
          pd.records = std::move(*old);
        } else {
          placed = std::move(old).error();
        }
      }
      if (!placed.ok()) {
        if (placed.error().code == streamctl::ErrorCode::kCorruption) {
          report_corrupt_read(*s.metrics, t.topic, p.partition, p.fetch_offset, placed.error());
        }
        pd.error_code = to_int16(placed.error().code == streamctl::ErrorCode::kOffsetOutOfRange
                                     ? ErrorCode::kOffsetOutOfRange
                                     : kafka::protocol::to_kafka_error(placed.error()));
        pd.records = Bytes{};
        offsets_of_log();
        out.any_error = true;
        continue;
      }
      pd.high_watermark = read.high_watermark.value;
      pd.last_stable_offset = read.high_watermark.value;  // no transactions: LSO = HWM
      pd.log_start_offset = read.log_start_offset.value;
      total += int64_t(*placed);
    }
    resp.responses.push_back(std::move(tr));
  }
  out.bytes = size_t(total);
  return out;
}

std::vector<TopicPartition> partitions_of(const FetchRequest& req) {
  std::vector<TopicPartition> out;
  for (const auto& t : req.topics) {
    for (const auto& p : t.partitions) out.push_back({t.topic, p.partition});
  }
  return out;
}

// One long-polling Fetch. Owned by the shared_ptrs held by its watch and timer callbacks.
class FetchState : public std::enable_shared_from_this<FetchState> {
 public:
  FetchState(const RequestContext& ctx, FetchRequest req, Respond<ReadOutcome> done)
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
      finish(std::move(r));
      return false;
    }
    return true;
  }

  void expire() {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (finished_) return;
    }
    finish(read_fetch(ctx_, req_));
  }

  void finish(ReadOutcome outcome) {
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
    Respond<ReadOutcome> done = std::move(done_);
    done(std::move(outcome));
  }

  RequestContext ctx_;
  FetchRequest req_;
  Respond<ReadOutcome> done_;
  std::vector<TopicPartition> partitions_;
  std::mutex mu_;
  bool finished_ = false;
  std::vector<uint64_t> watch_ids_;
  std::shared_ptr<Scheduler::Timer> timer_;
};

}  // namespace

void handle_fetch(const RequestContext& ctx, FetchRequest req, Respond<FetchAnswer> done) {
  Metrics* metrics = ctx.services->metrics;
  auto answer = [metrics, done = std::move(done)](ReadOutcome r) {
    metrics->fetch_bytes.fetch_add(r.bytes, std::memory_order_relaxed);
    done(std::move(r.answer));
  };
  if (req.max_wait_ms <= 0 || req.min_bytes <= 0 || ctx.services->stopping.load(std::memory_order_relaxed)) {
    answer(read_fetch(ctx, req));
    return;
  }
  auto state = std::make_shared<FetchState>(ctx, std::move(req), std::move(answer));
  state->start();
}

}  // namespace streamctl::server::handlers
