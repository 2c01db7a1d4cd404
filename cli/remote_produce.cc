#include "cli/remote_produce.h"

#include <time.h>

#include <algorithm>
#include <string>

#include "cli/kafka_client.h"
#include "cli/remote_topic.h"
#include "cli/wire_producer.h"

namespace streamctl::cli {

namespace {

int64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Delivery-report state, shared with librdkafka's callback through the client's opaque pointer.
struct DeliveryCounters {
  int64_t delivered = 0;
  uint64_t delivered_bytes = 0;
  int64_t failed = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  int32_t first_error_partition = -1;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* c = static_cast<DeliveryCounters*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++c->delivered;
    c->delivered_bytes += m->len + m->key_len;
  } else {
    if (c->failed++ == 0) {
      c->first_error = m->err;
      c->first_error_partition = m->partition;
    }
  }
}

class KafkaRecordWriter final : public RecordWriter {
 public:
  KafkaRecordWriter(std::unique_ptr<KafkaClient> client, std::unique_ptr<DeliveryCounters> counters,
                    std::string topic, StickyPartitioner partitioner)
      : RecordWriter(std::move(partitioner)),
        client_(std::move(client)),
        counters_(std::move(counters)),
        topic_(std::move(topic)) {
    rkt_ = rd_kafka_topic_new(client_->handle(), topic_.c_str(), nullptr);
  }
  ~KafkaRecordWriter() override {
    // Anything still queued (after an error) is given a short chance, then dropped with the client.
    rd_kafka_flush(client_->handle(), 1000);
    rd_kafka_topic_destroy(rkt_);
  }

  Result<Record*> slot(PartitionId) override { return &record_; }

  Status added(PartitionId p, size_t) override {
    const Record& r = record_;
    rd_kafka_headers_t* hdrs = nullptr;
    if (!r.headers.empty()) {
      hdrs = rd_kafka_headers_new(r.headers.size());
      for (const auto& h : r.headers) {
        rd_kafka_header_add(hdrs, h.key.data(), ssize_t(h.key.size()), h.value ? h.value->data() : nullptr,
                            h.value ? ssize_t(h.value->size()) : 0);
      }
    }
    void* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
    const size_t value_size = r.value ? r.value->size() : 0;
    void* key = r.key ? const_cast<char*>(r.key->data()) : nullptr;
    const size_t key_size = r.key ? r.key->size() : 0;
    const int64_t ts = r.timestamp.value >= 0 ? r.timestamp.value : 0;
    for (;;) {
      rd_kafka_resp_err_t err =
          hdrs != nullptr
              ? rd_kafka_producev(client_->handle(), RD_KAFKA_V_RKT(rkt_), RD_KAFKA_V_PARTITION(p),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(value, value_size),
                                  RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(hdrs),
                                  RD_KAFKA_V_END)
              : rd_kafka_producev(client_->handle(), RD_KAFKA_V_RKT(rkt_), RD_KAFKA_V_PARTITION(p),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(value, value_size),
                                  RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;  // librdkafka owns hdrs now
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(client_->handle(), 50);  // serve delivery reports, making room
        continue;
      }
      if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
      return client_->request_error(err, "producing to " + topic_ + "-" + std::to_string(p));
    }
    touched_.insert(p);
    ++handed_;
    if ((handed_ & 1023) == 0) rd_kafka_poll(client_->handle(), 0);
    return failure_status();
  }

  Status append_all() override {
    rd_kafka_poll(client_->handle(), 0);
    return failure_status();
  }
  Status drain() override { return ok_status(); }
  bool has_pending() const override { return rd_kafka_outq_len(client_->handle()) > 0; }

  Status flush_touched() override {
    // Wait for every delivery report. A record that cannot be delivered fails after librdkafka's
    // message.timeout.ms; stop requests (Ctrl-C) end the wait early, reporting the rest as undelivered.
    while (rd_kafka_outq_len(client_->handle()) > 0) {
      rd_kafka_flush(client_->handle(), 200);
      if (stop_requested() && rd_kafka_outq_len(client_->handle()) > 0) {
        rd_kafka_purge(client_->handle(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(client_->handle(), 0);
        break;
      }
    }
    last_flush_ns_ = now_ns();
    return failure_status();
  }
  int64_t last_flush_ns() const override { return last_flush_ns_; }

  int64_t records_written() const override { return counters_->delivered; }
  uint64_t bytes_written() const override { return counters_->delivered_bytes; }
  const std::set<PartitionId>& touched() const override { return touched_; }

 private:
  Status failure_status() const {
    const DeliveryCounters& c = *counters_;
    if (c.failed == 0) return ok_status();
    Error e = client_->request_error(c.first_error, "");
    e.message = std::to_string(c.failed) + " of " + std::to_string(handed_) + " record" + (handed_ == 1 ? "" : "s") +
                " failed delivery to '" + topic_ + "' (first: partition " + std::to_string(c.first_error_partition) +
                ": " + e.message + ")";
    return e;
  }

  std::unique_ptr<KafkaClient> client_;
  std::unique_ptr<DeliveryCounters> counters_;
  std::string topic_;
  rd_kafka_topic_t* rkt_ = nullptr;
  Record record_;
  std::set<PartitionId> touched_;
  int64_t handed_ = 0;
  int64_t last_flush_ns_ = now_ns();
};

}  // namespace

Status create_remote_topic(const KafkaClient& client, const std::string& topic, int32_t partitions,
                                   const std::map<std::string, std::string>& configs) {
  char errstr[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, errstr, sizeof errstr);
  if (nt == nullptr) return Error::invalid_argument("topic '" + topic + "': " + errstr);
  for (const auto& [k, v] : configs) {
    if (rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_NewTopic_destroy(nt);
      return Error::invalid_argument("topic '" + topic + "': bad config " + k + "=" + v);
    }
  }
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_CREATETOPICS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_CreateTopics(client.handle(), &nt, 1, opts, q);
      },
      "creating topic '" + topic + "'");
  rd_kafka_NewTopic_destroy(nt);
  if (!ev.ok()) return std::move(ev).error();
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev->get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return Error::already_exists("topic '" + topic + "' already exists");
    }
    Error e = client.request_error(err, "cannot create topic '" + topic + "'");
    if (msg != nullptr && msg[0] != '\0') e.message += " (" + std::string(msg) + ")";
    return e;
  }
  return ok_status();
}

Result<RemoteProduceTarget> open_remote_producer(const ConnectionSettings& settings,
                                                         const GlobalOptions& global,
                                                         const RemoteProduceRequest& request) {
  auto counters = std::make_unique<DeliveryCounters>();
  // Throughput defaults for a bulk CLI producer (the user's -X and profile properties override them).
  std::map<std::string, std::string> extra = {
      {"linger.ms", "20"},
      {"batch.size", std::to_string(std::max<int64_t>(request.batch_bytes, 1 << 20))},
      {"batch.num.messages", "100000"},
      {"queue.buffering.max.messages", "1000000"},
      {"queue.buffering.max.kbytes", "1048576"},
      {"acks", "all"},
  };
  if (!request.compression.empty()) extra["compression.codec"] = request.compression;
  DeliveryCounters* counters_ptr = counters.get();
  auto client = KafkaClient::create(KafkaClient::Kind::kProducer, settings, extra, global,
                                    [counters_ptr](rd_kafka_conf_t* conf) {
                                      rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
                                      rd_kafka_conf_set_opaque(conf, counters_ptr);
                                    });
  if (!client.ok()) return std::move(client).error();
  auto topic = (*client)->topic(request.topic);
  if (!topic.ok() && topic.error().code == streamctl::ErrorCode::kNotFound && request.create_missing) {
    auto created = create_remote_topic(**client, request.topic, request.create_partitions, {});
    if (created.ok()) {
      info(global, "created topic '" + request.topic + "' (" + std::to_string(request.create_partitions) +
                       (request.create_partitions == 1 ? " partition" : " partitions") + ", default configs)");
    } else if (created.error().code != streamctl::ErrorCode::kAlreadyExists) {
      return std::move(created).error();
    }
    // The new topic's metadata (leaders) may take a moment to appear.
    for (int attempt = 0; attempt < 50; ++attempt) {
      topic = (*client)->topic(request.topic);
      if (topic.ok() || topic.error().code != streamctl::ErrorCode::kNotFound) break;
      struct timespec ts = {0, 100'000'000};
      ::nanosleep(&ts, nullptr);
    }
  }
  if (!topic.ok()) return std::move(topic).error();
  RemoteProduceTarget out;
  out.partitions = int32_t(topic->partitions.size());
  // The record size limit, so an oversize record is found at its input line as in embedded mode.
  auto configs = remote_topic_configs(**client, request.topic);
  if (configs.ok()) {
    if (auto it = configs->find("max.message.bytes"); it != configs->end()) {
      char* end = nullptr;
      long long v = std::strtoll(it->second.value.c_str(), &end, 10);
      if (!it->second.value.empty() && *end == '\0' && v > 0) out.max_message_bytes = v;
    }
  } else {
    debug(global, 1, "max.message.bytes of '" + request.topic + "' unknown (" + configs.error().message +
                         "); assuming " + std::to_string(out.max_message_bytes));
  }
  // streamctl's own producer when nothing asks for librdkafka (see kafka/client/producer.h), else librdkafka.
  std::string why_not;
  auto native = wire_producer_config(settings.properties, request.compression, &why_not);
  if (!native.ok()) return std::move(native).error();
  if (*native) {
    ProducerOptions options = **native;
    // A batch the broker would refuse as a whole fails every record in it: stay under the topic's limit.
    options.max_batch_bytes = std::min(options.max_batch_bytes, size_t(out.max_message_bytes));
    auto writer = open_wire_writer(settings.brokers, request.topic, out.partitions, std::move(options),
                                   StickyPartitioner(out.partitions, request.batch_bytes, request.seed), global);
    if (writer.ok()) {
      out.writer = std::move(writer).value();
      return out;
    }
    debug(global, 1, "producing through librdkafka: streamctl's own producer cannot be used (" +
                         writer.error().message + ")");
  } else {
    debug(global, 1, "producing through librdkafka (" + why_not + ")");
  }
  out.writer = std::make_unique<KafkaRecordWriter>(
      std::move(client).value(), std::move(counters), request.topic,
      StickyPartitioner(out.partitions, request.batch_bytes, request.seed));
  return out;
}

}  // namespace streamctl::cli
