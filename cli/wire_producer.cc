#include "cli/wire_producer.h"

#include <poll.h>
#include <sys/uio.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <map>
#include <vector>

#include "cli/kafka_client.h"
#include "cli/kafka_wire.h"
#include "kafka/protocol/error_codes.h"
#include "kafka/protocol/header.h"
#include "kafka/protocol/generated/init_producer_id.h"
#include "kafka/protocol/generated/produce.h"

namespace streamctl::cli {

namespace {

namespace proto = kafka::protocol;

constexpr int16_t kProduceKey = 0;
constexpr int16_t kInitProducerIdKey = 22;
// Produce v3 is the first with RecordBatch v2; v8 the last before the flexible (compact) encoding, whose
// records length prefix is a varint (this path writes the prefix before encoding the batch in place).
constexpr int16_t kMinProduceVersion = 3;
constexpr int16_t kMaxProduceVersion = 8;
constexpr int kConnectTimeoutMs = 10000;

int64_t wall_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// The Produce version to use with a broker, kNotSupported when it has none in [v3, v8].
Result<int16_t> produce_version(const VersionTable& t, const std::string& broker) {
  auto it = t.find(kProduceKey);
  if (it == t.end() || it->second.second < kMinProduceVersion || it->second.first > kMaxProduceVersion) {
    return Error::not_supported("broker " + broker + " does not take RecordBatch v2 produce requests (Produce v3-v8)");
  }
  return std::min(it->second.second, kMaxProduceVersion);
}

// Kafka's retriable produce errors (a later attempt can succeed once leadership or replicas settle).
bool retriable(int16_t code) {
  switch (code) {
    case 2:   // CORRUPT_MESSAGE (damaged in transit)
    case 3:   // UNKNOWN_TOPIC_OR_PARTITION (metadata still propagating)
    case 5:   // LEADER_NOT_AVAILABLE
    case 6:   // NOT_LEADER_OR_FOLLOWER
    case 7:   // REQUEST_TIMED_OUT
    case 8:   // BROKER_NOT_AVAILABLE
    case 13:  // NETWORK_EXCEPTION
    case 14:  // COORDINATOR_LOAD_IN_PROGRESS
    case 19:  // NOT_ENOUGH_REPLICAS
    case 20:  // NOT_ENOUGH_REPLICAS_AFTER_APPEND
    case 56:  // KAFKA_STORAGE_ERROR
    case 74:  // FENCED_LEADER_EPOCH
    case 75:  // UNKNOWN_LEADER_EPOCH
      return true;
    default:
      return false;
  }
}

// librdkafka's error numbers are Kafka's for broker errors, plus its own negative transport/timeout codes:
// using them gives the same messages and exit codes as the librdkafka writer.
constexpr int kTransportError = RD_KAFKA_RESP_ERR__TRANSPORT;
constexpr int kTimedOut = RD_KAFKA_RESP_ERR__MSG_TIMED_OUT;

// ---- the writer

struct Batch {
  int32_t partition = 0;
  int32_t records = 0;
  uint64_t payload_bytes = 0;
  Bytes bytes;  // the RecordBatch in bytes[0, size)
  size_t size = 0;
  bool in_flight = false;
  int64_t created_ns = 0;
};

struct PartitionState {
  std::vector<Record> records;  // records[0, used) wait to be encoded
  size_t used = 0;
  size_t estimate = 0;                  // their encoded size, roughly
  std::deque<std::unique_ptr<Batch>> batches;  // encoded, unacknowledged, in sequence order
  int32_t leader = -1;
  int32_t next_sequence = 0;
  int in_flight = 0;
  bool first_acknowledged = false;      // the broker holds sequence state for this producer here
  bool hold = false;                    // a batch must be resent: send nothing until in_flight == 0, then resend
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
  std::string host;
  int port = 0;
  std::unique_ptr<BrokerSocket> sock;
  int16_t produce_version = -1;
  VersionTable versions;
  std::deque<PendingRequest> in_flight;
  int64_t reconnect_at_ns = 0;
};

class WireWriter final : public RecordWriter {
 public:
  WireWriter(std::unique_ptr<KafkaClient> client, std::string topic, int32_t partitions, WireProducerConfig config,
             StickyPartitioner partitioner, const GlobalOptions& global)
      : RecordWriter(std::move(partitioner)),
        client_(std::move(client)),
        topic_(std::move(topic)),
        config_(std::move(config)),
        global_(global),
        parts_(size_t(partitions)) {}

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
    if (config_.acks == -1 && config_.idempotence) {
      st = init_producer_id();
      if (!st.ok()) return st;
    }
    debug(global_, 1,
          "producing with streamctl's own Kafka producer (acks=" +
              (config_.acks == -1 ? std::string("all") : std::to_string(config_.acks)) +
              (producer_id_ >= 0 ? ", idempotent producer id " + std::to_string(producer_id_) : ", not idempotent") +
              ")");
    return ok_status();
  }

  std::unique_ptr<KafkaClient> release_client() { return std::move(client_); }

  Result<Record*> slot(PartitionId p) override {
    PartitionState& s = parts_[size_t(p)];
    if (s.used == s.records.size()) s.records.emplace_back();
    return &s.records[s.used++];
  }

  Status added(PartitionId p, size_t bytes) override {
    PartitionState& s = parts_[size_t(p)];
    touched_.insert(p);
    ++handed_;
    s.estimate += bytes + kRecordOverhead;
    if (s.estimate + kBatchOverhead >= config_.max_batch_bytes) {
      auto st = encode(p, /*all=*/false);
      if (!st.ok()) return st;
      st = pump(0);
      if (!st.ok()) return st;
      // Back-pressure: at most kMaxBuffered batches wait (encoded or in flight) before input is read on.
      while (buffered_batches_ > kMaxBuffered && !stop_requested()) {
        st = pump(100);
        if (!st.ok()) return st;
      }
    }
    return failure_status();
  }

  Status append_all() override {
    for (size_t p = 0; p < parts_.size(); ++p) {
      auto st = encode(PartitionId(p), /*all=*/true);
      if (!st.ok()) return st;
    }
    auto st = pump(0);
    if (!st.ok()) return st;
    return failure_status();
  }
  Status drain() override { return ok_status(); }

  bool has_pending() const override {
    if (buffered_batches_ > 0) return true;
    return std::any_of(parts_.begin(), parts_.end(), [](const PartitionState& s) { return s.used > 0; });
  }

  Status flush_touched() override {
    auto st = append_all();
    while (st.ok() && buffered_batches_ > 0) {
      if (stop_requested()) {
        for (size_t p = 0; p < parts_.size(); ++p) fail_partition(int32_t(p), kTransportError, "interrupted");
        break;
      }
      st = pump(100);
    }
    last_flush_ns_ = mono_ns();
    if (!st.ok()) return st;
    return failure_status();
  }
  int64_t last_flush_ns() const override { return last_flush_ns_; }

  int64_t records_written() const override { return delivered_; }
  uint64_t bytes_written() const override { return delivered_bytes_; }
  const std::set<PartitionId>& touched() const override { return touched_; }

 private:
  static constexpr size_t kRecordOverhead = 12;  // length, attributes, deltas, key/value lengths, headers count
  static constexpr size_t kBatchOverhead = 61;    // RecordBatch v2 header
  static constexpr int kMaxBuffered = 16;

  // ---- metadata and connections

  Status refresh_metadata() {
    auto md = client_->metadata(&topic_);
    if (!md.ok()) return std::move(md).error();
    for (const auto& b : md->brokers) {
      BrokerState& s = brokers_[b.id];
      if (s.sock && (s.host != b.host || s.port != b.port)) disconnect(b.id, "broker address changed");
      s.host = b.host;
      s.port = b.port;
    }
    for (const auto& t : md->topics) {
      if (t.name != topic_) continue;
      for (const auto& p : t.partitions) {
        if (p.id >= 0 && size_t(p.id) < parts_.size()) parts_[size_t(p.id)].leader = p.leader;
      }
    }
    return ok_status();
  }

  Status connect(BrokerState& b) {
    auto sock = BrokerSocket::connect(b.host, b.port, kConnectTimeoutMs);
    if (!sock.ok()) return std::move(sock).error();
    auto versions = api_versions(**sock, config_.client_id, config_.request_timeout_ms);
    if (!versions.ok()) return std::move(versions).error();
    auto v = produce_version(*versions, (*sock)->name());
    if (!v.ok()) return std::move(v).error();
    b.produce_version = *v;
    b.versions = std::move(versions).value();
    b.sock = std::move(sock).value();
    return ok_status();
  }

  Status init_producer_id() {
    for (auto& [id, b] : brokers_) {
      if (!b.sock) continue;
      auto it = b.versions.find(kInitProducerIdKey);
      if (it == b.versions.end()) break;  // no idempotence on this cluster
      const int16_t version = std::min<int16_t>(it->second.second, proto::InitProducerIdRequest::kMaxVersion);
      proto::InitProducerIdRequest req;
      req.transactional_id = std::nullopt;
      req.transaction_timeout_ms = 60000;
      auto resp = call<proto::InitProducerIdResponse>(*b.sock, kInitProducerIdKey, version, next_correlation_++,
                                                      config_.client_id, req, config_.request_timeout_ms);
      if (!resp.ok()) return std::move(resp).error();
      if (resp->error_code != 0) {
        debug(global_, 1, "no idempotent producer id (InitProducerId error " + std::to_string(resp->error_code) +
                              "): producing without one");
        break;
      }
      producer_id_ = resp->producer_id;
      producer_epoch_ = resp->producer_epoch;
      break;
    }
    return ok_status();
  }

  void disconnect(int32_t broker, const std::string& reason) {
    BrokerState& b = brokers_[broker];
    b.sock.reset();
    b.reconnect_at_ns = mono_ns() + int64_t(config_.retry_backoff_ms) * 1'000'000;
    for (auto& req : b.in_flight) {
      for (Batch* batch : req.batches) retry(*batch, kTransportError, reason);
    }
    b.in_flight.clear();
  }

  // ---- encoding

  // Encodes partition p's waiting records into batches: all of them, or only while a full batch waits.
  Status encode(PartitionId p, bool all) {
    PartitionState& s = parts_[size_t(p)];
    while (s.used > 0 && (all || s.estimate + kBatchOverhead >= config_.max_batch_bytes)) {
      auto batch = take_batch();
      BatchBuildOptions o;
      o.compression = config_.compression;
      o.compression_level = config_.compression_level;
      o.append_time = Timestamp{wall_ms()};
      if (producer_id_ >= 0) {
        o.producer_id = producer_id_;
        o.producer_epoch = producer_epoch_;
        o.base_sequence = s.next_sequence;
      }
      size_t n = s.used;
      auto encode_prefix = [&] {
        return encode_batch_prefix(std::span<const Record>(s.records.data(), n), Offset{0}, o,
                                           config_.max_batch_bytes, batch->bytes, 0);
      };
      auto enc = encode_prefix();
      // A compressed batch is chosen by uncompressed size: in the rare case it came out larger, fewer records.
      while (enc.ok() && enc->bytes > config_.max_batch_bytes && enc->records > 1) {
        n = enc->records / 2;
        enc = encode_prefix();
      }
      if (!enc.ok()) return std::move(enc).error();
      batch->partition = p;
      batch->records = int32_t(enc->records);
      batch->size = enc->bytes;
      batch->payload_bytes = 0;
      for (size_t i = 0; i < enc->records; ++i) {
        const Record& r = s.records[i];
        batch->payload_bytes += (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
      }
      batch->created_ns = mono_ns();
      if (producer_id_ >= 0) s.next_sequence = int32_t(uint32_t(s.next_sequence) + uint32_t(enc->records)) & 0x7fffffff;
      // The records not taken move to the front (their strings keep their buffers for reuse).
      std::rotate(s.records.begin(), s.records.begin() + ptrdiff_t(enc->records), s.records.begin() + ptrdiff_t(s.used));
      s.used -= enc->records;
      s.estimate = 0;
      for (size_t i = 0; i < s.used; ++i) {
        const Record& r = s.records[i];
        s.estimate += (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0) + kRecordOverhead;
      }
      s.batches.push_back(std::move(batch));
      ++buffered_batches_;
    }
    return ok_status();
  }

  std::unique_ptr<Batch> take_batch() {
    if (free_.empty()) return std::make_unique<Batch>();
    auto b = std::move(free_.back());
    free_.pop_back();
    b->in_flight = false;
    return b;
  }

  // ---- sending and receiving

  // One round: deadlines, resends, sends, then up to timeout_ms waiting for responses.
  Status pump(int timeout_ms) {
    check_deadlines();
    auto st = prepare_resends();
    if (!st.ok()) return st;
    for (auto& [id, b] : brokers_) send_ready(id, b);
    wait_responses(timeout_ms);
    for (auto& [id, b] : brokers_) send_ready(id, b);
    return ok_status();
  }

  // Sends, to broker `id`, requests holding the next batch of each partition it leads, while it has room.
  void send_ready(int32_t id, BrokerState& b) {
    while (b.in_flight.size() < size_t(config_.max_in_flight)) {
      std::vector<Batch*> batches;
      for (auto& s : parts_) {
        if (s.leader != id || s.hold) continue;
        // Until the broker has taken a first batch it has no sequence state for this producer and would
        // take a later batch after a gap (Kafka accepts any sequence from a producer it does not know):
        // one batch in flight until then.
        if (!s.first_acknowledged && s.in_flight > 0) continue;
        for (auto& batch : s.batches) {
          if (batch->in_flight) continue;
          batches.push_back(batch.get());
          break;
        }
      }
      if (batches.empty()) return;
      if (!b.sock) {
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

  void send_request(int32_t id, BrokerState& b, std::vector<Batch*> batches) {
    Bytes& head = head_;
    head.assign(4, std::byte{0});
    proto::RequestHeader h;
    h.api_key = kProduceKey;
    h.api_version = b.produce_version;
    h.correlation_id = next_correlation_++;
    h.client_id = config_.client_id;
    (void)proto::encode_request_header(h, head);  // cannot fail: client.id is bounded when parsed
    ByteWriter w(head);
    w.i16(-1);  // transactional_id: null
    w.i16(config_.acks);
    w.i32(config_.request_timeout_ms);
    w.i32(1);  // one topic
    w.i16(int16_t(topic_.size()));
    w.raw(std::string_view(topic_));
    w.i32(int32_t(batches.size()));
    prefixes_.resize(batches.size());
    std::vector<struct iovec> iov;
    iov.reserve(1 + 2 * batches.size());
    size_t total = head.size() - 4;
    for (size_t i = 0; i < batches.size(); ++i) {
      put_be32(prefixes_[i].data(), uint32_t(batches[i]->partition));
      put_be32(prefixes_[i].data() + 4, uint32_t(batches[i]->size));
      total += 8 + batches[i]->size;
    }
    put_be32(head.data(), uint32_t(total));
    iov.push_back({head.data(), head.size()});
    for (size_t i = 0; i < batches.size(); ++i) {
      iov.push_back({prefixes_[i].data(), 8});
      iov.push_back({batches[i]->bytes.data(), batches[i]->size});
    }
    for (Batch* batch : batches) {
      batch->in_flight = true;
      ++parts_[size_t(batch->partition)].in_flight;
    }
    PendingRequest req{h.correlation_id, std::move(batches), mono_ns()};
    auto st = b.sock->write_all(iov, mono_ns() + int64_t(config_.request_timeout_ms) * 1'000'000);
    if (config_.acks == 0) {  // no response comes: written is delivered (or lost with the connection)
      for (Batch* batch : req.batches) {
        if (st.ok()) {
          acknowledge(*batch);
        } else {
          retry(*batch, kTransportError, st.error().message);
        }
      }
      if (!st.ok()) disconnect(id, st.error().message);
      return;
    }
    b.in_flight.push_back(std::move(req));
    if (!st.ok()) disconnect(id, st.error().message);
  }

  // Polls the connections with requests in flight for up to timeout_ms and handles what arrived.
  void wait_responses(int timeout_ms) {
    std::vector<struct pollfd> fds;
    std::vector<int32_t> ids;
    for (auto& [id, b] : brokers_) {
      if (!b.sock || b.in_flight.empty()) continue;
      fds.push_back({b.sock->fd(), POLLIN, 0});
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
      auto st = b.sock->read_available([&](ByteSpan frame) { return on_response(b, frame); });
      if (!st.ok()) disconnect(ids[i], st.error().message);
    }
  }

  Status on_response(BrokerState& b, ByteSpan frame) {
    if (b.in_flight.empty()) return Error::corruption("broker " + b.sock->name() + " answered a request never sent");
    PendingRequest& req = b.in_flight.front();
    size_t body_at = 0;
    auto header = proto::decode_response_header(frame, proto::response_header_version(kProduceKey, b.produce_version),
                                                &body_at);
    if (!header.ok()) return std::move(header).error();
    if (header->correlation_id != req.correlation_id) {
      return Error::corruption("broker " + b.sock->name() + " answered out of order (correlation id " +
                               std::to_string(header->correlation_id) + ", expected " +
                               std::to_string(req.correlation_id) + ")");
    }
    auto resp = proto::decode_message<proto::ProduceResponse>(frame.subspan(body_at), b.produce_version);
    if (!resp.ok()) return std::move(resp).error();
    PendingRequest done = std::move(req);
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
                                   (s.hold || s.batches.front().get() != &batch))) {
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
    delivered_ += batch.records;
    delivered_bytes_ += batch.payload_bytes;
    --s.in_flight;
    s.first_acknowledged = true;
    s.backoff_ms = 0;
    release(s, batch);
  }

  // Holds the partition back: once nothing of it is in flight, its unacknowledged batches go again, in order
  // (same producer id and sequences, so the broker drops any it already has).
  void retry(Batch& batch, int code, const std::string& reason) {
    PartitionState& s = parts_[size_t(batch.partition)];
    batch.in_flight = false;
    --s.in_flight;
    hold(batch, code, reason);
  }

  // Holds the batch's partition back (see retry) and asks for fresh metadata.
  void hold(const Batch& batch, int code, const std::string& reason) {
    PartitionState& s = parts_[size_t(batch.partition)];
    note_error(s, code, reason);
    if (!s.hold) {
      s.hold = true;
      s.backoff_ms = std::clamp<int64_t>(s.backoff_ms * 2, config_.retry_backoff_ms, 1000);
      s.resend_at_ns = mono_ns() + s.backoff_ms * 1'000'000;
      metadata_stale_ = true;
      debug(global_, 1, "produce to " + topic_ + "-" + std::to_string(batch.partition) + " will be retried: " +
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
    release(s, batch);
    if (producer_id_ >= 0) fail_partition(batch.partition, code, reason);
  }

  // Fails every batch of partition p that is not in flight (those in flight fail or succeed on their own).
  void fail_partition(int32_t p, int code, const std::string& reason) {
    PartitionState& s = parts_[size_t(p)];
    for (size_t i = 0; i < s.batches.size();) {
      Batch& batch = *s.batches[i];
      if (batch.in_flight) {
        ++i;
        continue;
      }
      count_failure(p, batch.records, code, reason);
      release(s, batch);
    }
    s.hold = false;
  }

  void release(PartitionState& s, Batch& batch) {
    for (auto it = s.batches.begin(); it != s.batches.end(); ++it) {
      if (it->get() != &batch) continue;
      free_.push_back(std::move(*it));
      s.batches.erase(it);
      --buffered_batches_;
      return;
    }
  }

  void note_error(PartitionState& s, int code, const std::string& reason) {
    s.last_error = code;
    s.last_reason = reason;
  }

  void count_failure(int32_t p, int32_t records, int code, const std::string& reason) {
    if (failed_ == 0) {
      first_error_ = code;
      first_error_partition_ = p;
      first_reason_ = reason;
    }
    failed_ += records;
  }

  // Requests unanswered for longer than the request timeout (plus a second for the broker's own timeout to
  // answer first) drop their connection, so their batches are retried; batches older than the delivery
  // timeout fail (with the last error seen for their partition).
  void check_deadlines() {
    const int64_t now = mono_ns();
    const int64_t answer_within_ns = (int64_t(config_.request_timeout_ms) + 1000) * 1'000'000;
    for (auto& [id, b] : brokers_) {
      if (b.sock && !b.in_flight.empty() && now - b.in_flight.front().sent_ns > answer_within_ns) {
        disconnect(id, "broker " + b.sock->name() + " did not answer a produce request within " +
                           std::to_string(config_.request_timeout_ms) + " ms");
      }
    }
    for (size_t p = 0; p < parts_.size(); ++p) {
      PartitionState& s = parts_[p];
      if (s.batches.empty() || s.batches.front()->in_flight) continue;
      if (now - s.batches.front()->created_ns < config_.delivery_timeout_ms * 1'000'000) continue;
      const std::string why = "not delivered within " + std::to_string(config_.delivery_timeout_ms / 1000) +
                              " s (last error: " + error_text(s.last_error, s.last_reason) + ")";
      fail_partition(int32_t(p), kTimedOut, why);
    }
  }

  // Partitions held back whose in-flight batches have all come back and whose backoff has passed are
  // released for resending, after a metadata refresh (their leader may have moved).
  Status prepare_resends() {
    const int64_t now = mono_ns();
    // Batches for a partition without a (known) leader wait like a retry: metadata is asked again.
    for (auto& s : parts_) {
      if (s.hold || s.batches.empty() || (s.leader >= 0 && brokers_.count(s.leader) > 0)) continue;
      hold(*s.batches.front(), kTransportError, "the partition has no leader");
    }
    bool due = false;
    for (auto& s : parts_) due |= s.hold && s.in_flight == 0 && now >= s.resend_at_ns;
    if (!due) return ok_status();
    if (metadata_stale_) {
      auto st = refresh_metadata();
      if (!st.ok()) {
        debug(global_, 1, "metadata refresh failed (will retry): " + st.error().message);
        for (auto& s : parts_) {
          if (s.hold) s.resend_at_ns = now + 1'000'000'000;
        }
        return ok_status();
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
    return ok_status();
  }

  std::string error_text(int code, const std::string& reason) const {
    if (code == kTransportError || code == kTimedOut) return reason;
    std::string text = kafka_error(rd_kafka_resp_err_t(code), "").message;
    if (!reason.empty()) text += " (" + reason + ")";
    return text;
  }

  Status failure_status() const {
    if (failed_ == 0) return ok_status();
    Error e = kafka_error(rd_kafka_resp_err_t(first_error_), "");
    e.message = std::to_string(failed_) + " of " + std::to_string(handed_) + " record" + (handed_ == 1 ? "" : "s") +
                " failed delivery to '" + topic_ + "' (first: partition " + std::to_string(first_error_partition_) +
                ": " + error_text(first_error_, first_reason_) + ")";
    return e;
  }

  std::unique_ptr<KafkaClient> client_;
  std::string topic_;
  WireProducerConfig config_;
  const GlobalOptions& global_;
  std::vector<PartitionState> parts_;
  std::map<int32_t, BrokerState> brokers_;
  std::vector<std::unique_ptr<Batch>> free_;
  std::set<PartitionId> touched_;
  Bytes head_;
  std::vector<std::array<std::byte, 8>> prefixes_;
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int32_t next_correlation_ = 1;
  int buffered_batches_ = 0;
  bool metadata_stale_ = false;
  int64_t handed_ = 0;
  int64_t delivered_ = 0;
  uint64_t delivered_bytes_ = 0;
  int64_t failed_ = 0;
  int first_error_ = 0;
  int32_t first_error_partition_ = -1;
  std::string first_reason_;
  int64_t last_flush_ns_ = mono_ns();
};

Result<int64_t> property_number(const std::string& key, const std::string& value, int64_t lo, int64_t hi) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
    return Error::invalid_argument("-X " + key + "=" + value + ": expected a whole number from " + std::to_string(lo) +
                                   " to " + std::to_string(hi));
  }
  return int64_t(v);
}

}  // namespace

Result<std::optional<WireProducerConfig>> wire_producer_config(const std::map<std::string, std::string>& properties,
                                                                const std::string& compression,
                                                                std::string* why_not) {
  if (const char* env = std::getenv("STREAMCTL_KAFKA_PRODUCER"); env != nullptr && env[0] != '\0') {
    const std::string v = env;
    if (v == "librdkafka") {
      *why_not = "STREAMCTL_KAFKA_PRODUCER=librdkafka";
      return std::optional<WireProducerConfig>();
    }
    if (v != "native") {
      return Error::invalid_argument("STREAMCTL_KAFKA_PRODUCER=" + v + ": expected 'native' or 'librdkafka'");
    }
  }
  WireProducerConfig c;
  if (!compression.empty()) {
    auto codec = parse_compression(compression);
    if (!codec.ok()) return std::move(codec).error();
    c.compression = *codec;
  }
  bool explicit_idempotence = false;
  for (const auto& [key, value] : properties) {
    Result<int64_t> n = int64_t(0);
    if (key == "acks" || key == "request.required.acks") {
      if (value == "all" || value == "-1") {
        c.acks = -1;
      } else if (value == "0" || value == "1") {
        c.acks = int16_t(value[0] - '0');
      } else {
        return Error::invalid_argument("-X " + key + "=" + value + ": expected 0, 1, all or -1");
      }
    } else if (key == "enable.idempotence") {
      if (value != "true" && value != "false") {
        return Error::invalid_argument("-X " + key + "=" + value + ": expected true or false");
      }
      c.idempotence = value == "true";
      explicit_idempotence = c.idempotence;
    } else if (key == "batch.size") {
      if (!(n = property_number(key, value, 1, 1 << 30)).ok()) return std::move(n).error();
      c.max_batch_bytes = size_t(*n);
    } else if (key == "compression.codec" || key == "compression.type") {
      auto codec = parse_compression(value);
      if (!codec.ok()) return Error::invalid_argument("-X " + key + "=" + value + ": " + codec.error().message);
      c.compression = *codec;
    } else if (key == "compression.level") {
      if (!(n = property_number(key, value, -1, 22)).ok()) return std::move(n).error();
      c.compression_level = int32_t(*n);
    } else if (key == "client.id") {
      if (value.size() > 32767) return Error::invalid_argument("-X client.id: longer than 32767 bytes");
      c.client_id = value;
    } else if (key == "request.timeout.ms" || key == "socket.timeout.ms") {
      if (!(n = property_number(key, value, 1, 900000)).ok()) return std::move(n).error();
      c.request_timeout_ms = int32_t(*n);
    } else if (key == "message.timeout.ms" || key == "delivery.timeout.ms") {
      if (!(n = property_number(key, value, 0, INT32_MAX)).ok()) return std::move(n).error();
      c.delivery_timeout_ms = *n == 0 ? INT64_MAX / 2'000'000 : *n;  // 0 = no limit (librdkafka)
    } else if (key == "retry.backoff.ms") {
      if (!(n = property_number(key, value, 1, 300000)).ok()) return std::move(n).error();
      c.retry_backoff_ms = *n;
    } else if (key == "max.in.flight" || key == "max.in.flight.requests.per.connection") {
      if (!(n = property_number(key, value, 1, 1000000)).ok()) return std::move(n).error();
      c.max_in_flight = int(*n);
    } else if (key == "security.protocol") {
      if (!is_plaintext_protocol(value)) {
        *why_not = "-X security.protocol=" + value;
        return std::optional<WireProducerConfig>();
      }
    } else if (key == "linger.ms" || key == "queue.buffering.max.ms" || key == "batch.num.messages" ||
               key == "queue.buffering.max.messages" || key == "queue.buffering.max.kbytes" || key == "retries" ||
               key == "message.send.max.retries") {
      // Batching follows the input (a batch goes when it is full or the input pauses) and retries last until
      // the delivery timeout; these librdkafka queue settings have nothing to bound here.
    } else {
      *why_not = "-X " + key;
      return std::optional<WireProducerConfig>();
    }
  }
  if (c.acks != -1) {
    if (explicit_idempotence) {
      return Error::invalid_argument("-X enable.idempotence=true needs acks=all (a Kafka rule)");
    }
    c.idempotence = false;
  }
  if (c.idempotence) c.max_in_flight = std::min(c.max_in_flight, 5);
  return std::optional<WireProducerConfig>(std::move(c));
}

Result<std::unique_ptr<RecordWriter>> open_wire_writer(std::unique_ptr<KafkaClient>& client, const std::string& topic,
                                                       int32_t partitions, const WireProducerConfig& config,
                                                       StickyPartitioner partitioner, const GlobalOptions& global) {
  auto w = std::make_unique<WireWriter>(std::move(client), topic, partitions, config, std::move(partitioner), global);
  auto st = w->open();
  if (!st.ok()) {
    client = w->release_client();  // the caller may still use it (the librdkafka writer)
    return std::move(st).error();
  }
  return std::unique_ptr<RecordWriter>(std::move(w));
}

}  // namespace streamctl::cli
