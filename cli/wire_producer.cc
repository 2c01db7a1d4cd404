#include "cli/wire_producer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace streamctl::cli {

namespace {

using kafka::client::Producer;

// RecordWriter over kafka::client::Producer: the records go straight into the producer's slots; the
// writer adds what the CLI needs (touched partitions, flush time).
class WireWriter final : public RecordWriter {
 public:
  WireWriter(std::unique_ptr<Producer> producer, StickyPartitioner partitioner)
      : RecordWriter(std::move(partitioner)), producer_(std::move(producer)) {}

  Result<Record*> slot(PartitionId p) override { return producer_->slot(p); }
  Status added(PartitionId p, size_t bytes) override {
    touched_.insert(p);
    return producer_->added(p, bytes);
  }
  Status append_all() override { return producer_->send_all(); }
  Status drain() override { return ok_status(); }
  bool has_pending() const override { return producer_->has_pending(); }
  Status flush_touched() override {
    auto st = producer_->flush();
    last_flush_ns_ = kafka::client::mono_ns();
    return st;
  }
  int64_t last_flush_ns() const override { return last_flush_ns_; }
  int64_t records_written() const override { return producer_->stats().records_delivered; }
  uint64_t bytes_written() const override { return producer_->stats().bytes_delivered; }
  const std::set<PartitionId>& touched() const override { return touched_; }

 private:
  std::unique_ptr<Producer> producer_;
  std::set<PartitionId> touched_;
  int64_t last_flush_ns_ = kafka::client::mono_ns();
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

Result<std::optional<ProducerOptions>> wire_producer_config(const std::map<std::string, std::string>& properties,
                                                            const std::string& compression, std::string* why_not) {
  if (const char* env = std::getenv("STREAMCTL_KAFKA_PRODUCER"); env != nullptr && env[0] != '\0') {
    const std::string v = env;
    if (v == "librdkafka") {
      *why_not = "STREAMCTL_KAFKA_PRODUCER=librdkafka";
      return std::optional<ProducerOptions>();
    }
    if (v != "native") {
      return Error::invalid_argument("STREAMCTL_KAFKA_PRODUCER=" + v + ": expected 'native' or 'librdkafka'");
    }
  }
  ProducerOptions c;
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
        return std::optional<ProducerOptions>();
      }
    } else if (key == "linger.ms" || key == "queue.buffering.max.ms" || key == "batch.num.messages" ||
               key == "queue.buffering.max.messages" || key == "queue.buffering.max.kbytes" || key == "retries" ||
               key == "message.send.max.retries") {
      // Batching follows the input (a batch goes when it is full or the input pauses) and retries last until
      // the delivery timeout; these librdkafka queue settings have nothing to bound here.
    } else {
      *why_not = "-X " + key;
      return std::optional<ProducerOptions>();
    }
  }
  if (c.acks != -1) {
    if (explicit_idempotence) {
      return Error::invalid_argument("-X enable.idempotence=true needs acks=all (a Kafka rule)");
    }
    c.idempotence = false;
  }
  if (c.idempotence) c.max_in_flight = std::min(c.max_in_flight, 5);
  return std::optional<ProducerOptions>(std::move(c));
}

Result<std::unique_ptr<RecordWriter>> open_wire_writer(const std::string& brokers, const std::string& topic,
                                                       int32_t partitions, ProducerOptions options,
                                                       StickyPartitioner partitioner, const GlobalOptions& global) {
  auto bootstrap = kafka::client::parse_bootstrap(brokers);
  if (!bootstrap.ok()) return std::move(bootstrap).error();
  options.log = [&global](const std::string& message) { debug(global, 1, message); };
  options.interrupted = [] { return stop_requested(); };
  auto producer = Producer::open(*bootstrap, topic, partitions, std::move(options));
  if (!producer.ok()) return std::move(producer).error();
  return std::unique_ptr<RecordWriter>(new WireWriter(std::move(producer).value(), std::move(partitioner)));
}

bool is_plaintext_protocol(const std::string& security_protocol) {
  std::string lower = security_protocol;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower == "plaintext";
}

}  // namespace streamctl::cli
