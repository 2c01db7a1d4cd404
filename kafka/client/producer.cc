#include "kafka/client/producer.h"

#include <poll.h>
#include <sys/uio.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>

#include "kafka/client/accumulator.h"
#include "kafka/client/errors.h"
#include "kafka/client/idempotence.h"
#include "kafka/client/metadata.h"
#include "kafka/protocol/error_codes.h"
#include "kafka/protocol/generated/produce.h"

namespace streamctl::kafka::client {

namespace {

namespace proto = kafka::protocol;

constexpr auto kProduceKey = int16_t(proto::ApiKey::kProduce);
// Produce v3 is the first with RecordBatch v2; v8 the last before the flexible (compact) encoding, whose
// records length prefix is a varint (this producer writes the prefix before the batch it encoded).
constexpr int16_t kMinProduceVersion = 3;
constexpr int16_t kMaxProduceVersion = 8;

// Failure reasons that are not Kafka error codes (outside int16).
constexpr int kTransportError = -100000;  // connection lost or not made
constexpr int kTimedOut = -100001;        // not delivered within the delivery timeout

// Kafka's retriable produce errors (a later attempt can succeed once leadership or replicas settle).
bool retriable(int code) {
  switch (proto::ErrorCode(code)) {
    case proto::ErrorCode::kCorruptMessage:            // damaged in transit
    case proto::ErrorCode::kUnknownTopicOrPartition:   // metadata still propagating
    case proto::ErrorCode::kLeaderNotAvailable:
    case proto::ErrorCode::kNotLeaderOrFollower:
    case proto::ErrorCode::kRequestTimedOut:
    case proto::ErrorCode::kBrokerNotAvailable:
    case proto::ErrorCode::kNetworkException:
    case proto::ErrorCode::kCoordinatorLoadInProgress:
    case proto::ErrorCode::kNotEnoughReplicas:
    case proto::ErrorCode::kNotEnoughReplicasAfterAppend:
    case proto::ErrorCode::kKafkaStorageError:
    case proto::ErrorCode::kFencedLeaderEpoch:
    case proto::ErrorCode::kUnknownLeaderEpoch:
      return true;
    default:
      return false;
  }
}

ConnectionOptions connection_options(const ProducerOptions& o) {
  ConnectionOptions c;
  c.client_id = o.client_id;
  c.connect_timeout_ms = o.connect_timeout_ms;
  c.request_timeout_ms = o.request_timeout_ms;
  c.dial = o.dial;
  return c;
}

using Batch = ProducerBatch;

// The sender's view of a partition (its records and batches are the accumulator's).
struct PartitionState {
  int32_t leader = -1;
  int in_flight = 0;
  bool first_acknowledged = false;  // the broker holds sequence state for this producer here
  bool hold = false;                // a batch must be resent: send nothing until in_flight == 0, then resend
  int64_t resend_at_ns = 0;
  int64_t backoff_ms = 0;
  int last_error = 0;
  std::string last_reason;
};

struct PendingRequest {
  int32_t correlation_id = 0;
  std::vector<Batch*> batches;
  int64_t sent_ns = 0;
};

struct BrokerState {
  BrokerAddress address;
  std::unique_ptr<BrokerConnection> conn;
  int16_t produce_version = -1;
  std::deque<PendingRequest> in_flight;
  int64_t reconnect_at_ns = 0;
};

}  // namespace

class Producer::Impl {
 public:
  Impl(std::vector<BrokerAddress> bootstrap, std::string topic, int32_t partitions, ProducerOptions options)
      : bootstrap_(std::move(bootstrap)), topic_(std::move(topic)), options_(std::move(options)),
        conn_options_(connection_options(options_)), parts_(size_t(partitions)),
        acc_(partitions, options_.max_batch_bytes, options_.compression, options_.compression_level),
        idempotence_(partitions), metadata_(bootstrap_, conn_options_) {
    if (options_.acks != -1) options_.idempotence = false;
    if (options_.idempotence) options_.max_in_flight = std::min(options_.max_in_flight, 5);
    options_.max_in_flight = std::max(options_.max_in_flight, 1);
  }

  // Metadata, connections to the leaders, versions, producer id.
  Status open() {
    auto st = refresh_metadata();
    if (!st.ok()) return st;
    for (auto& [id, b] : brokers_) {
      bool leads = std::any_of(parts_.begin(), parts_.end(), [&](const PartitionState& p) { return p.leader == id; });
      if (!leads) continue;
      st = connect(b);
      if (!st.ok()) return st;
    }
    if (options_.acks == -1 && options_.idempotence) {
      st = init_producer_id();
      if (!st.ok()) return st;
    }
    log("producing with streamctl's own Kafka producer (acks=" +
        (options_.acks == -1 ? std::string("all") : std::to_string(options_.acks)) +
        (idempotence_.enabled() ? ", idempotent producer id " + std::to_string(idempotence_.producer_id())
                                : ", not idempotent") +
        ")");
    return ok_status();
  }

  Record* slot(PartitionId p) { return acc_.slot(p); }

  Status added(PartitionId p, size_t bytes) {
    ++stats_.records_handed;
    if (acc_.added(p, bytes)) {
      auto st = acc_.encode(p, /*all=*/false, idempotence_);
      if (!st.ok()) return st;
      pump(0);
      // Back-pressure: at most kMaxBuffered batches wait (encoded or in flight) before input is read on.
      while (acc_.buffered_batches() > kMaxBuffered && !interrupted()) pump(100);
    }
    return failure_status();
  }

  Status send_all() {
    for (size_t p = 0; p < parts_.size(); ++p) {
      auto st = acc_.encode(PartitionId(p), /*all=*/true, idempotence_);
      if (!st.ok()) return st;
    }
    pump(0);
    return failure_status();
  }

  Status flush() {
    auto st = send_all();
    while (st.ok() && acc_.buffered_batches() > 0) {
      if (interrupted()) {
        for (size_t p = 0; p < parts_.size(); ++p) fail_partition(int32_t(p), kTransportError, "interrupted");
        break;
      }
      pump(100);
    }
    if (!st.ok()) return st;
    return failure_status();
  }

  bool has_pending() const { return acc_.has_pending(); }

  const ProducerStats& stats() const { return stats_; }
  int64_t producer_id() const { return idempotence_.producer_id(); }

 private:
  static constexpr int kMaxBuffered = 16;

  void log(const std::string& message) const {
    if (options_.log) options_.log(message);
  }
  bool interrupted() const { return options_.interrupted && options_.interrupted(); }

  // ---- metadata and connections

  // Asks the connection used for metadata, else the bootstrap brokers and then the known ones in turn.
  Status refresh_metadata() {
    const std::vector<std::string> topics{topic_};
    std::vector<BrokerAddress> known;
    for (const auto& [id, b] : brokers_) known.push_back(b.address);
    auto md = metadata_.fetch(&topics, known);
    if (!md.ok()) return std::move(md).error();
    for (const auto& b : md->brokers) {
      BrokerState& s = brokers_[b.id];
      if (s.conn && !(s.address == b.address())) disconnect(b.id, "broker address changed");
      s.address = b.address();
    }
    if (const TopicMetadata* t = md->topic(topic_)) {
      for (const auto& p : t->partitions) {
        if (p.id >= 0 && size_t(p.id) < parts_.size()) parts_[size_t(p.id)].leader = p.leader;
      }
    }
    return ok_status();
  }

  Status connect(BrokerState& b) {
    auto conn = BrokerConnection::connect(b.address, conn_options_);
    if (!conn.ok()) return std::move(conn).error();
    auto v = (*conn)->negotiate(proto::ApiKey::kProduce, kMinProduceVersion, kMaxProduceVersion);
    if (!v.ok()) {
      return Error::not_supported("broker " + (*conn)->peer() +
                                  " does not take RecordBatch v2 produce requests (Produce v3-v8)");
    }
    b.produce_version = *v;
    b.conn = std::move(conn).value();
    return ok_status();
  }

  // A producer id from the first connected broker (none: produce without idempotence).
  Status init_producer_id() {
    for (auto& [id, b] : brokers_) {
      if (!b.conn) continue;
      std::string why_not;
      auto enabled = idempotence_.init(*b.conn, &why_not);
      if (!enabled.ok()) return std::move(enabled).error();
      if (!*enabled && !why_not.empty()) log("no idempotent producer id (" + why_not + "): producing without one");
      break;
    }
    return ok_status();
  }

  void disconnect(int32_t broker, const std::string& reason) {
    BrokerState& b = brokers_[broker];
    b.conn.reset();
    b.reconnect_at_ns = mono_ns() + int64_t(options_.retry_backoff_ms) * 1'000'000;
    for (auto& req : b.in_flight) {
      for (Batch* batch : req.batches) retry(*batch, kTransportError, reason);
    }
    b.in_flight.clear();
  }

  // ---- sending and receiving

  // One round: deadlines, resends, sends, then up to timeout_ms waiting for responses.
  void pump(int timeout_ms) {
    check_deadlines();
    prepare_resends();
    for (auto& [id, b] : brokers_) send_ready(id, b);
    wait_responses(timeout_ms);
    for (auto& [id, b] : brokers_) send_ready(id, b);
  }

  // Sends, to broker `id`, requests holding the next batch of each partition it leads, while it has room.
  void send_ready(int32_t id, BrokerState& b) {
    while (b.in_flight.size() < size_t(options_.max_in_flight)) {
      std::vector<Batch*> batches;
      for (size_t p = 0; p < parts_.size(); ++p) {
        const PartitionState& s = parts_[p];
        if (s.leader != id || s.hold) continue;
        // Until the broker has taken a first batch it has no sequence state for this producer and would
        // take a later batch after a gap (Kafka accepts any sequence from a producer it does not know):
        // one batch in flight until then.
        if (!s.first_acknowledged && s.in_flight > 0) continue;
        for (auto& batch : acc_.batches(PartitionId(p))) {
          if (batch->in_flight) continue;
          batches.push_back(batch.get());
          break;
        }
      }
      if (batches.empty()) return;
      if (!b.conn) {
        if (mono_ns() < b.reconnect_at_ns) return;
        auto st = connect(b);
        if (!st.ok()) {
          b.reconnect_at_ns = mono_ns() + 1'000'000'000;
          for (Batch* batch : batches) hold(*batch, kTransportError, st.error().message);
          return;
        }
      }
      send_request(id, b, std::move(batches));
    }
  }

  // One Produce request (v3-v8, non-flexible) for `batches`: the body up to the partitions is encoded
  // here, each batch goes from its own buffer (no copy).
  void send_request(int32_t id, BrokerState& b, std::vector<Batch*> batches) {
    Bytes& head = head_;
    head.clear();
    ByteWriter w(head);
    w.i16(-1);  // transactional_id: null
    w.i16(options_.acks);
    w.i32(options_.request_timeout_ms);
    w.i32(1);  // one topic
    w.i16(int16_t(topic_.size()));
    w.raw(std::string_view(topic_));
    w.i32(int32_t(batches.size()));
    prefixes_.resize(batches.size());
    std::vector<struct iovec> iov;
    iov.reserve(1 + 2 * batches.size());
    iov.push_back({head.data(), head.size()});
    for (size_t i = 0; i < batches.size(); ++i) {
      put_be32(prefixes_[i].data(), uint32_t(batches[i]->partition));
      put_be32(prefixes_[i].data() + 4, uint32_t(batches[i]->size));
      iov.push_back({prefixes_[i].data(), 8});
      iov.push_back({batches[i]->bytes.data(), batches[i]->size});
    }
    for (Batch* batch : batches) {
      batch->in_flight = true;
      ++parts_[size_t(batch->partition)].in_flight;
    }
    ++stats_.requests_sent;
    const bool acks0 = options_.acks == 0;
    auto cid = b.conn->send_raw(kProduceKey, b.produce_version, std::move(iov), !acks0,
                                deadline_after_ms(options_.request_timeout_ms));
    PendingRequest req{cid.ok() ? *cid : 0, std::move(batches), mono_ns()};
    if (acks0) {  // no response comes: written is delivered (or lost with the connection)
      for (Batch* batch : req.batches) {
        if (cid.ok()) {
          acknowledge(*batch);
        } else {
          retry(*batch, kTransportError, cid.error().message);
        }
      }
      if (!cid.ok()) disconnect(id, cid.error().message);
      return;
    }
    b.in_flight.push_back(std::move(req));
    stats_.max_in_flight_seen = std::max(stats_.max_in_flight_seen, int(b.in_flight.size()));
    if (!cid.ok()) disconnect(id, cid.error().message);
  }

  // Polls the connections with requests in flight for up to timeout_ms and handles what arrived.
  void wait_responses(int timeout_ms) {
    std::vector<struct pollfd> fds;
    std::vector<int32_t> ids;
    for (auto& [id, b] : brokers_) {
      if (!b.conn || b.in_flight.empty()) continue;
      fds.push_back({b.conn->transport().fd(), POLLIN, 0});
      ids.push_back(id);
    }
    if (fds.empty()) {
      if (timeout_ms > 0) {
        struct timespec ts = {0, long(std::min(timeout_ms, 50)) * 1'000'000};
        ::nanosleep(&ts, nullptr);
      }
      return;
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      BrokerState& b = brokers_[ids[i]];
      auto st = b.conn->read_available(
          [&](const BrokerConnection::Pending& p, ByteSpan body) { return on_response(b, p, body); });
      if (!st.ok()) disconnect(ids[i], st.error().message);
    }
  }

  Status on_response(BrokerState& b, const BrokerConnection::Pending& p, ByteSpan body) {
    if (b.in_flight.empty() || b.in_flight.front().correlation_id != p.correlation_id) {
      return Error::corruption("broker " + b.conn->peer() + " answered a request this producer did not send");
    }
    auto resp = proto::decode_message<proto::ProduceResponse>(body, p.api_version);
    if (!resp.ok()) return std::move(resp).error();
    PendingRequest done = std::move(b.in_flight.front());
    b.in_flight.pop_front();
    for (Batch* batch : done.batches) {
      const proto::ProduceResponse::PartitionProduceResponse* pr = nullptr;
      for (const auto& t : resp->responses) {
        if (t.name != topic_) continue;
        for (const auto& r : t.partition_responses) {
          if (r.index == batch->partition) pr = &r;
        }
      }
      if (pr == nullptr) {
        fail(*batch, kTransportError, "the broker's response has no result for this partition");
        continue;
      }
      on_result(*batch, pr->error_code, pr->error_message.value_or(""));
    }
    return ok_status();
  }

  void on_result(Batch& batch, int16_t code, const std::string& message) {
    PartitionState& s = parts_[size_t(batch.partition)];
    if (code == 0 || code == proto::to_int16(proto::ErrorCode::kDuplicateSequenceNumber)) {
      acknowledge(batch);
    } else if (retriable(code) || (code == proto::to_int16(proto::ErrorCode::kOutOfOrderSequenceNumber) &&
                                   (s.hold || acc_.batches(batch.partition).front().get() != &batch))) {
      // (Out of order while an earlier batch of the partition is unacknowledged: that one is being retried
      // or will be, and this one follows it.)
      retry(batch, code, message);
    } else {
      fail(batch, code, message);
    }
  }

  // ---- outcomes

  void acknowledge(Batch& batch) {
    PartitionState& s = parts_[size_t(batch.partition)];
    stats_.records_delivered += batch.records;
    stats_.bytes_delivered += batch.payload_bytes;
    --s.in_flight;
    s.first_acknowledged = true;
    s.backoff_ms = 0;
    acc_.release(batch);
  }

  // Holds the partition back: once nothing of it is in flight, its unacknowledged batches go again, in order
  // (same producer id and sequences, so the broker drops any it already has).
  void retry(Batch& batch, int code, const std::string& reason) {
    PartitionState& s = parts_[size_t(batch.partition)];
    batch.in_flight = false;
    --s.in_flight;
    ++stats_.batches_retried;
    hold(batch, code, reason);
  }

  // Holds the batch's partition back (see retry) and asks for fresh metadata.
  void hold(const Batch& batch, int code, const std::string& reason) {
    PartitionState& s = parts_[size_t(batch.partition)];
    note_error(s, code, reason);
    if (!s.hold) {
      s.hold = true;
      s.backoff_ms = std::clamp<int64_t>(s.backoff_ms * 2, options_.retry_backoff_ms, 1000);
      s.resend_at_ns = mono_ns() + s.backoff_ms * 1'000'000;
      metadata_stale_ = true;
      log("produce to " + topic_ + "-" + std::to_string(batch.partition) + " will be retried: " +
          error_text(code, reason));
    }
  }

  // The batch is lost for good: counted, and the rest of its partition fails after it (their sequences
  // follow it, and order matters).
  void fail(Batch& batch, int code, const std::string& reason) {
    PartitionState& s = parts_[size_t(batch.partition)];
    if (batch.in_flight) --s.in_flight;
    batch.in_flight = false;
    note_error(s, code, reason);
    count_failure(batch.partition, batch.records, code, reason);
    acc_.release(batch);
    if (idempotence_.enabled()) fail_partition(batch.partition, code, reason);
  }

  // Fails every batch of partition p that is not in flight (those in flight fail or succeed on their own).
  void fail_partition(int32_t p, int code, const std::string& reason) {
    auto& batches = acc_.batches(p);
    for (size_t i = 0; i < batches.size();) {
      Batch& batch = *batches[i];
      if (batch.in_flight) {
        ++i;
        continue;
      }
      count_failure(p, batch.records, code, reason);
      acc_.release(batch);
    }
    parts_[size_t(p)].hold = false;
  }

  void note_error(PartitionState& s, int code, const std::string& reason) {
    s.last_error = code;
    s.last_reason = reason;
  }

  void count_failure(int32_t p, int32_t records, int code, const std::string& reason) {
    if (stats_.records_failed == 0) {
      first_error_ = code;
      first_error_partition_ = p;
      first_reason_ = reason;
    }
    stats_.records_failed += records;
  }

  // Requests unanswered for longer than the request timeout (plus a second for the broker's own timeout to
  // answer first) drop their connection, so their batches are retried; batches older than the delivery
  // timeout fail (with the last error seen for their partition).
  void check_deadlines() {
    const int64_t now = mono_ns();
    const int64_t answer_within_ns = (int64_t(options_.request_timeout_ms) + 1000) * 1'000'000;
    for (auto& [id, b] : brokers_) {
      if (b.conn && !b.in_flight.empty() && now - b.in_flight.front().sent_ns > answer_within_ns) {
        disconnect(id, "broker " + b.conn->peer() + " did not answer a produce request within " +
                           std::to_string(options_.request_timeout_ms) + " ms");
      }
    }
    for (size_t p = 0; p < parts_.size(); ++p) {
      PartitionState& s = parts_[p];
      const auto& batches = acc_.batches(PartitionId(p));
      if (batches.empty() || batches.front()->in_flight) continue;
      if (now - batches.front()->created_ns < options_.delivery_timeout_ms * 1'000'000) continue;
      const std::string why = "not delivered within " + std::to_string(options_.delivery_timeout_ms / 1000) +
                              " s (last error: " + error_text(s.last_error, s.last_reason) + ")";
      fail_partition(int32_t(p), kTimedOut, why);
    }
  }

  // Partitions held back whose in-flight batches have all come back and whose backoff has passed are
  // released for resending, after a metadata refresh (their leader may have moved).
  void prepare_resends() {
    const int64_t now = mono_ns();
    // Batches for a partition without a (known) leader wait like a retry: metadata is asked again.
    for (size_t p = 0; p < parts_.size(); ++p) {
      const PartitionState& s = parts_[p];
      const auto& batches = acc_.batches(PartitionId(p));
      if (s.hold || batches.empty() || (s.leader >= 0 && brokers_.count(s.leader) > 0)) continue;
      hold(*batches.front(), kTransportError, "the partition has no leader");
    }
    bool due = false;
    for (auto& s : parts_) due |= s.hold && s.in_flight == 0 && now >= s.resend_at_ns;
    if (!due) return;
    if (metadata_stale_) {
      auto st = refresh_metadata();
      if (!st.ok()) {
        log("metadata refresh failed (will retry): " + st.error().message);
        for (auto& s : parts_) {
          if (s.hold) s.resend_at_ns = now + 1'000'000'000;
        }
        return;
      }
      metadata_stale_ = false;
    }
    for (auto& s : parts_) {
      if (!s.hold || s.in_flight != 0 || now < s.resend_at_ns) continue;
      if (s.leader < 0 || brokers_.find(s.leader) == brokers_.end()) {
        s.resend_at_ns = now + 1'000'000'000;
        metadata_stale_ = true;
        continue;
      }
      s.hold = false;
    }
  }

  static std::string error_text(int code, const std::string& reason) {
    if (code == kTransportError || code == kTimedOut) return reason;
    return broker_error_text(int16_t(code), reason);
  }

  Status failure_status() const {
    if (stats_.records_failed == 0) return ok_status();
    const ErrorCode kind = first_error_ == kTransportError ? ErrorCode::kUnavailable
                           : first_error_ == kTimedOut     ? ErrorCode::kTimeout
                                                           : status_code_for(int16_t(first_error_));
    const int64_t handed = stats_.records_handed;
    return Error{kind, std::to_string(stats_.records_failed) + " of " + std::to_string(handed) + " record" +
                           (handed == 1 ? "" : "s") + " failed delivery to '" + topic_ + "' (first: partition " +
                           std::to_string(first_error_partition_) + ": " + error_text(first_error_, first_reason_) +
                           ")"};
  }

  std::vector<BrokerAddress> bootstrap_;
  std::string topic_;
  ProducerOptions options_;
  ConnectionOptions conn_options_;
  std::vector<PartitionState> parts_;
  RecordAccumulator acc_;
  Idempotence idempotence_;
  std::map<int32_t, BrokerState> brokers_;
  MetadataSource metadata_;
  Bytes head_;
  std::vector<std::array<std::byte, 8>> prefixes_;
  bool metadata_stale_ = false;
  ProducerStats stats_;
  int first_error_ = 0;
  int32_t first_error_partition_ = -1;
  std::string first_reason_;
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Producer::~Producer() = default;

Result<std::unique_ptr<Producer>> Producer::open(const std::vector<BrokerAddress>& bootstrap, std::string topic,
                                                 int32_t partitions, ProducerOptions options) {
  if (partitions < 1) return Error::invalid_argument("topic '" + topic + "': no partitions to produce to");
  if (options.client_id.size() > 32767) return Error::invalid_argument("client id longer than 32767 bytes");
  auto impl = std::make_unique<Impl>(bootstrap, std::move(topic), partitions, std::move(options));
  auto st = impl->open();
  if (!st.ok()) return std::move(st).error();
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Record* Producer::slot(PartitionId p) { return impl_->slot(p); }
Status Producer::added(PartitionId p, size_t bytes) { return impl_->added(p, bytes); }
Status Producer::send_all() { return impl_->send_all(); }
Status Producer::flush() { return impl_->flush(); }
bool Producer::has_pending() const { return impl_->has_pending(); }
const ProducerStats& Producer::stats() const { return impl_->stats(); }
int64_t Producer::producer_id() const { return impl_->producer_id(); }

}  // namespace streamctl::kafka::client
