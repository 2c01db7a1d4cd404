// kafka_load: a librdkafka load generator for `streamctl serve` (or any Kafka broker).
//
//   kafka_load produce -b HOST:PORT -t TOPIC -n COUNT [-s BYTES] [--acks 0|1|all] [--partitions P]
//                      [--linger-ms MS] [--batch-bytes B] [--window W] [--server-pid PID] [--label L] [--run R]
//   kafka_load consume -b HOST:PORT -t TOPIC -n COUNT [--partitions P] [--clients C] [--server-pid PID]
//                      [--label L] [--run R]
//
// produce sends COUNT records of BYTES (default 100) bytes, round-robin over P partitions in runs of 1000
// (so batches fill), and measures throughput from the first send until the last delivery report, plus the
// per-record produce latency (send -> delivery report: batching, network, broker append, ack). Unbounded,
// the latency mostly measures the client's own queue; --window W keeps at most W records unacknowledged
// (like a pipelining client with W requests in flight), which is the setting to compare latencies at.
// consume reads COUNT records from the beginning of P partitions (librdkafka's simple consumer, no group)
// and measures throughput from the first record to the last. librdkafka parses every fetch response on
// the one thread of its broker connection, so against a single broker one client handle tops out at what
// that thread parses (~4.5M records/s here) while the broker idles; --clients C runs C handles in
// threads, partition p read by handle p % C (as C consumer processes would).
// Output: one line per metric in the peers' format, RESULT|<label>-<metric>|<run>|<value>|<unit>|<what>;
// the server's CPU share over the run comes from /proc/<server-pid>/stat. Exit status 0 on success,
// 1 on a delivery error or a timeout (120 s).
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string brokers;
  std::string topic;
  long long count = 1000000;
  int size = 100;
  std::string acks = "1";
  int partitions = 1;
  int linger_ms = 5;
  long long batch_bytes = 1000000;
  long long window = 0;  // > 0: at most this many records sent and not yet acknowledged
  int clients = 1;       // consume: librdkafka handles (threads)
  long server_pid = 0;
  std::string label = "streamctl";
  std::string run = "1";
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "kafka_load: %s\n"
               "usage: kafka_load produce|consume -b HOST:PORT -t TOPIC -n COUNT [-s BYTES] [--acks 0|1|all]\n"
               "       [--partitions P] [--clients C] [--linger-ms MS] [--batch-bytes B] [--server-pid PID] [--label L] [--run R]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2) usage("missing mode");
  o.mode = argv[1];
  if (o.mode != "produce" && o.mode != "consume") usage("mode must be produce or consume");
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "-b") o.brokers = next();
    else if (a == "-t") o.topic = next();
    else if (a == "-n") o.count = std::atoll(next().c_str());
    else if (a == "-s") o.size = std::atoi(next().c_str());
    else if (a == "--acks") o.acks = next();
    else if (a == "--partitions") o.partitions = std::atoi(next().c_str());
    else if (a == "--clients") o.clients = std::max(1, std::atoi(next().c_str()));
    else if (a == "--linger-ms") o.linger_ms = std::atoi(next().c_str());
    else if (a == "--batch-bytes") o.batch_bytes = std::atoll(next().c_str());
    else if (a == "--window") o.window = std::atoll(next().c_str());
    else if (a == "--server-pid") o.server_pid = std::atol(next().c_str());
    else if (a == "--label") o.label = next();
    else if (a == "--run") o.run = next();
    else usage(("unknown argument " + a).c_str());
  }
  if (o.brokers.empty() || o.topic.empty()) usage("-b and -t are required");
  if (o.count <= 0 || o.size <= 0 || o.partitions <= 0) usage("-n, -s and --partitions must be positive");
  return o;
}

// utime + stime of a process, in clock ticks (0 if unknown).
long long cpu_ticks(long pid) {
  if (pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(all.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) stime = std::atoll(field.c_str());
  }
  return utime + stime;
}

void result(const Options& o, const std::string& metric, double value, const char* unit, const std::string& what) {
  if (value >= 100) {
    std::printf("RESULT|%s-%s|%s|%.0f|%s|%s\n", o.label.c_str(), metric.c_str(), o.run.c_str(), value, unit,
                what.c_str());
  } else {
    std::printf("RESULT|%s-%s|%s|%.2f|%s|%s\n", o.label.c_str(), metric.c_str(), o.run.c_str(), value, unit,
                what.c_str());
  }
  std::fflush(stdout);
}

void set(rd_kafka_conf_t* conf, const char* k, const std::string& v);

// Settings every handle gets. socket.nagle.disable: librdkafka alone leaves Nagle's algorithm on (its
// default is false), so a small request sent while an earlier one is unacknowledged waits in the client's
// kernel for the ACK; the peers' clients in serve_bench.sh send with TCP_NODELAY (redis-benchmark's hiredis
// sets it on connect, the NATS client sets it), as Kafka's Java client does by default.
void set_common(rd_kafka_conf_t* conf, const Options& o) {
  set(conf, "bootstrap.servers", o.brokers);
  set(conf, "socket.nagle.disable", "true");
}

// Extra librdkafka properties from the environment: KAFKA_LOAD_X="key=value,key=value" (e.g. debug=fetch).
void set_env_overrides(rd_kafka_conf_t* conf) {
  const char* env = std::getenv("KAFKA_LOAD_X");
  if (!env) return;
  std::istringstream in(env);
  std::string kv;
  while (std::getline(in, kv, ',')) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) set(conf, kv.substr(0, eq).c_str(), kv.substr(eq + 1));
  }
}

void set(rd_kafka_conf_t* conf, const char* k, const std::string& v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "kafka_load: %s=%s: %s\n", k, v.c_str(), err);
    std::exit(2);
  }
}

struct ProduceState {
  std::vector<int64_t> sent_ns;     // by record index
  std::vector<uint32_t> latency_us;  // filled by delivery reports
  std::atomic<long long> delivered{0};
  std::atomic<long long> failed{0};
  Clock::time_point origin = Clock::now();
  std::string first_error;
};

int64_t now_ns(const ProduceState& s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s.origin).count();
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* s = static_cast<ProduceState*>(opaque);
  if (m->err) {
    if (s->failed.fetch_add(1) == 0) s->first_error = rd_kafka_err2str(m->err);
    return;
  }
  size_t i = reinterpret_cast<uintptr_t>(m->_private);
  if (s->sent_ns.empty()) return;
  int64_t d = now_ns(*s) - s->sent_ns[i];
  s->latency_us[i] = uint32_t(std::min<int64_t>(d / 1000, UINT32_MAX));
  s->delivered.fetch_add(1, std::memory_order_relaxed);
}

double percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, size_t(q * double(v.size())));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

int produce(const Options& o) {
  ProduceState state;
  if (o.window > 0) {
    state.sent_ns.assign(size_t(o.count), 0);
    state.latency_us.assign(size_t(o.count), 0);
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_common(conf, o);
  set(conf, "acks", o.acks == "all" ? "-1" : o.acks);
  set(conf, "linger.ms", std::to_string(o.linger_ms));
  set(conf, "batch.size", std::to_string(o.batch_bytes));
  set(conf, "batch.num.messages", "100000");
  set(conf, "queue.buffering.max.messages", "2000000");
  set(conf, "queue.buffering.max.kbytes", "1048576");
  set(conf, "message.max.bytes", std::to_string(std::max<long long>(o.batch_bytes + 65536, 1000000)));
  set(conf, "compression.codec", "none");
  // Without a window, only failures get a delivery report: a callback per record costs the client more
  // than the broker spends on the record, and the unbounded run's latency would only measure the
  // client's own queue anyway. Completion is then rd_kafka_flush() with no failure reported.
  const bool per_record_reports = o.window > 0;
  if (!per_record_reports) set(conf, "delivery.report.only.error", "true");
  set_env_overrides(conf);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &state);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::fprintf(stderr, "kafka_load: %s\n", err);
    return 1;
  }
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  std::string payload(size_t(o.size), 'x');
  const long long cpu0 = cpu_ticks(o.server_pid);
  const auto t0 = Clock::now();
  for (long long i = 0; i < o.count; ++i) {
    const int32_t partition = int32_t((i / 1000) % o.partitions);
    std::snprintf(payload.data(), payload.size(), "%010lld", i);
    if (o.window > 0) state.sent_ns[size_t(i)] = now_ns(state);
    while (rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(), nullptr, 0,
                            reinterpret_cast<void*>(uintptr_t(i))) != 0) {
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "kafka_load: produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
        return 1;
      }
      rd_kafka_poll(rk, 1);
      if (o.window > 0) state.sent_ns[size_t(i)] = now_ns(state);  // latency counts from acceptance
    }
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    if (o.window > 0) {
      while (i + 1 - state.delivered.load(std::memory_order_relaxed) - state.failed.load() >= o.window) {
        rd_kafka_poll(rk, 1);
      }
    }
  }
  if (per_record_reports) {
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (state.delivered.load() + state.failed.load() < o.count && Clock::now() < deadline) rd_kafka_poll(rk, 50);
  } else {
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "kafka_load: records still unacknowledged after 120 s\n");
      return 1;
    }
    state.delivered.store(o.count - state.failed.load());
  }
  const auto t1 = Clock::now();
  const long long cpu1 = cpu_ticks(o.server_pid);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  if (state.failed.load() > 0 || state.delivered.load() < o.count) {
    std::fprintf(stderr, "kafka_load: %lld delivered, %lld failed (%s)\n", state.delivered.load(),
                 state.failed.load(), state.first_error.c_str());
    return 1;
  }
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const std::string acks = "acks" + (o.acks == "all" ? std::string("all") : o.acks) +
                           (o.window > 0 ? "-window" + std::to_string(o.window) : std::string());
  const std::string what = "librdkafka producer, " + std::to_string(o.count) + " x " + std::to_string(o.size) +
                           " B, " + acks + ", " + std::to_string(o.partitions) + " partition(s), linger.ms=" +
                           std::to_string(o.linger_ms) +
                           (o.window > 0 ? ", at most " + std::to_string(o.window) + " unacknowledged" : "");
  result(o, "produce-" + acks, double(o.count) / secs, "msgs/s", what);
  result(o, "produce-" + acks + "-mbps", double(o.count) * o.size / secs / 1e6, "MB/s", "same run, payload bytes");
  if (per_record_reports) {
    result(o, "produce-" + acks + "-p50", percentile(state.latency_us, 0.50), "us", "same run: send -> ack p50");
    result(o, "produce-" + acks + "-p99", percentile(state.latency_us, 0.99), "us", "same run: send -> ack p99");
  }
  if (o.server_pid > 0) {
    result(o, "produce-" + acks + "-server-cpu",
           100.0 * double(cpu1 - cpu0) / double(sysconf(_SC_CLK_TCK)) / secs, "% of a core",
           "server CPU during that run");
  }
  return 0;
}

// Shared by the consuming threads.
struct ConsumeState {
  std::atomic<long long> got{0};
  std::atomic<long long> bytes{0};
  std::atomic<bool> started{false};
  Clock::time_point first{};  // written once, by the thread that flips `started`
  long long cpu_first = 0;
  long server_pid = 0;
  std::atomic<bool> failed{false};
};

// Per thread: counts locally, publishes to ConsumeState once per callback batch.
struct ClientCounts {
  ConsumeState* shared = nullptr;
  long long got = 0;
  long long bytes = 0;
};

void on_message(rd_kafka_message_t* m, void* opaque) {
  auto* c = static_cast<ClientCounts*>(opaque);
  if (m->err) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      std::fprintf(stderr, "kafka_load: consume: %s\n", rd_kafka_message_errstr(m));
    }
    return;
  }
  ConsumeState* s = c->shared;
  if (!s->started.load(std::memory_order_relaxed)) {
    bool expected = false;
    if (s->started.compare_exchange_strong(expected, true)) {
      s->first = Clock::now();
      s->cpu_first = cpu_ticks(s->server_pid);
    }
  }
  ++c->got;
  c->bytes += long(m->len);
}

// One librdkafka handle reading partitions p with p % clients == index until the shared count is reached.
void consume_client(const Options& o, int index, ConsumeState& state, Clock::time_point deadline) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_common(conf, o);
  set(conf, "enable.partition.eof", "false");
  set(conf, "fetch.wait.max.ms", "100");
  set(conf, "queued.max.messages.kbytes", "262144");
  set(conf, "fetch.max.bytes", "52428800");
  set(conf, "max.partition.fetch.bytes", "1048576");
  set_env_overrides(conf);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    std::fprintf(stderr, "kafka_load: %s\n", err);
    state.failed = true;
    return;
  }
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  std::vector<int> mine;
  for (int p = index; p < o.partitions; p += o.clients) mine.push_back(p);
  for (int p : mine) {
    if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, queue) != 0) {
      std::fprintf(stderr, "kafka_load: consume_start %d: %s\n", p, rd_kafka_err2str(rd_kafka_last_error()));
      state.failed = true;
    }
  }
  ClientCounts counts;
  counts.shared = &state;
  while (!state.failed && state.got.load(std::memory_order_relaxed) < o.count && Clock::now() < deadline) {
    long long before = counts.got, before_bytes = counts.bytes;
    rd_kafka_consume_callback_queue(queue, 100, on_message, &counts);
    state.got += counts.got - before;
    state.bytes += counts.bytes - before_bytes;
  }
  for (int p : mine) rd_kafka_consume_stop(rkt, p);
  rd_kafka_queue_destroy(queue);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

// The legacy (simple) consumer with a callback per record over one queue, as kcat -C uses: the
// high-level consumer's per-record poll costs ~2 us on the client, which would cap the measurement.
int consume(const Options& o) {
  ConsumeState state;
  state.server_pid = o.server_pid;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(120);
  std::vector<std::thread> threads;
  const int clients = std::min(o.clients, std::max(1, o.partitions));
  Options each = o;
  each.clients = clients;
  for (int i = 0; i < clients; ++i) threads.emplace_back([&, i] { consume_client(each, i, state, deadline); });
  // The clock stops when the last record arrives, not when the handles are torn down.
  Clock::time_point t1{};
  long long cpu1 = 0;
  while (state.got.load() < o.count && !state.failed && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  t1 = Clock::now();
  cpu1 = cpu_ticks(o.server_pid);
  for (auto& t : threads) t.join();
  const long long got = state.got.load();
  if (got < o.count) {
    std::fprintf(stderr, "kafka_load: consumed %lld of %lld before the deadline\n", got, o.count);
    return 1;
  }
  // Throughput from the first record to the last: librdkafka's fixed start-up (metadata, offset lookup)
  // is reported on its own.
  const double secs = std::chrono::duration<double>(t1 - state.first).count();
  result(o, "consume", double(got) / secs, "msgs/s",
         "librdkafka consumer" + std::string(clients > 1 ? "s (" + std::to_string(clients) + " handles)" : "") +
             ", " + std::to_string(got) + " records from " + std::to_string(o.partitions) +
             " partition(s), from the beginning; first record to last");
  result(o, "consume-mbps", double(state.bytes.load()) / secs / 1e6, "MB/s", "same run, payload bytes");
  result(o, "consume-startup-ms", std::chrono::duration<double, std::milli>(state.first - t0).count(), "ms",
         "same run: start until the first record (client start-up, not throughput)");
  if (o.server_pid > 0) {
    result(o, "consume-server-cpu", 100.0 * double(cpu1 - state.cpu_first) / double(sysconf(_SC_CLK_TCK)) / secs,
           "% of a core", "server CPU during that run");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  return o.mode == "produce" ? produce(o) : consume(o);
}
