// `streamctl produce TOPIC [FILE...]`: one record per line (or per JSON object with --json) from stdin or
// files, partitioned like Kafka's Java client, appended in large chunks, flushed before exit 0.
//
// Pipeline: LineReader (1 MiB reads, memchr) -> record fields (views into the read buffer) -> Partitioner ->
// lines: encoded straight from the read buffer into the partition's BatchBuilder (one copy of each byte,
// CRC-32C once per batch; batches up to max.message.bytes), appended with Log::append_built (no copy);
// JSON and --compression: a per-partition chunk of reused engine::Records (no allocation per record once
// warm) appended with Log::append. A chunk goes when it holds 1 MiB or 16384 records (on a helper thread
// for bulk input), or when the input would block (so `tail -f | produce` delivers each line at once) ->
// Log::flush of every touched partition before exiting 0 (one fdatasync per partition on the steady path).
// Durability: records are durable only after the final flush; an idle pipe also flushes at most once a
// second. On SIGINT/SIGTERM what was read is appended and flushed, then the exit code is 130.
// Retention: after the final flush the touched partitions get Log::apply_retention (embedded mode has no
// background thread for it).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "cli/command.h"
#include "cli/json_record.h"
#include "cli/line_reader.h"
#include "cli/offset_spec.h"
#include "cli/record_writer.h"
#include "cli/remote_produce.h"
#include "cli/kafka_client.h"
#include "engine/log.h"
#include "engine/log_config.h"

namespace streamctl::cli {

namespace {


constexpr size_t kChunkBytes = size_t(1) << 20;
constexpr size_t kChunkRecords = 16384;

struct ProduceOptions {
  std::string topic;
  std::vector<std::string> files;
  std::string key_separator;
  std::string key;
  bool has_key = false;
  std::vector<std::string> headers;
  int32_t partition = -1;
  std::string compression;
  std::string timestamp;
  bool null_empty = false;
  bool skip_empty = false;
  std::string rate;
  std::string delimiter = "\\n";
  int32_t create_partitions = 1;
  bool no_create = false;
  std::string oversize = "fail";  // fail|skip|truncate: a record whose batch exceeds max.message.bytes
  bool json_text = false;         // --json-text: non-string JSON keys/values stored as their JSON text
};

int64_t monotonic_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// "1000", "1000/s", "50/m", "2.5k/s", "1M/h" -> records per second.
Result<double> parse_rate(std::string_view text) {
  std::string_view num = text;
  double per = 1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view unit = text.substr(slash + 1);
    num = text.substr(0, slash);
    if (unit == "s" || unit == "sec") per = 1;
    else if (unit == "m" || unit == "min") per = 60;
    else if (unit == "h") per = 3600;
    else return Error::invalid_argument("--rate: unknown unit '/" + std::string(unit) + "' (use /s, /m or /h)");
  }
  double scale = 1;
  if (!num.empty() && (num.back() == 'k' || num.back() == 'K')) {
    scale = 1e3;
    num.remove_suffix(1);
  } else if (!num.empty() && num.back() == 'M') {
    scale = 1e6;
    num.remove_suffix(1);
  }
  std::string n(num);
  char* end = nullptr;
  double v = std::strtod(n.c_str(), &end);
  if (n.empty() || end != n.c_str() + n.size() || !(v > 0) || !std::isfinite(v)) {
    return Error::invalid_argument("--rate: expected a positive number of records, e.g. 100/s, 5k/s, 60/m; got '" +
                                   std::string(text) + "'");
  }
  return v * scale / per;
}

// One input: a file or stdin, opened before anything is produced so a bad path fails early.
struct Input {
  std::string name;  // "-" for stdin
  int fd = -1;
  uint64_t size = 0;  // regular files only
  bool regular = false;
};

Result<std::vector<Input>> open_inputs(const std::vector<std::string>& files) {
  std::vector<Input> inputs;
  std::vector<std::string> names = files.empty() ? std::vector<std::string>{"-"} : files;
  for (const auto& name : names) {
    Input in;
    in.name = name;
    if (name == "-") {
      in.fd = STDIN_FILENO;
    } else {
      in.fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
      if (in.fd < 0) {
        int err = errno;
        for (auto& prev : inputs) {
          if (prev.fd != STDIN_FILENO) ::close(prev.fd);
        }
        return Error::from_errno(err, "cannot open input file '" + name + "'");
      }
    }
    struct stat st;
    if (::fstat(in.fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        for (auto& prev : inputs) {
          if (prev.fd != STDIN_FILENO) ::close(prev.fd);
        }
        if (in.fd != STDIN_FILENO) ::close(in.fd);
        return Error::invalid_argument("input '" + name + "' is a directory");
      }
      if (S_ISREG(st.st_mode)) {
        in.regular = true;
        in.size = uint64_t(st.st_size);
      }
    }
    inputs.push_back(in);
  }
  return inputs;
}

// Draws "[=====>    ] 45%  44.1 MiB/97.7 MiB  12.3 MiB/s  ETA 4s" on stderr, at most every 100 ms.
class ProgressBar {
 public:
  ProgressBar(bool enabled, uint64_t total) : enabled_(enabled && total > 0), total_(total), start_(monotonic_ns()) {}
  void update(uint64_t done) {
    if (!enabled_) return;
    int64_t now = monotonic_ns();
    if (now - last_ < 100'000'000) return;
    last_ = now;
    double frac = total_ ? std::min(1.0, double(done) / double(total_)) : 0;
    double secs = double(now - start_) / 1e9;
    double rate = secs > 0 ? double(done) / secs : 0;
    const int width = 24;
    int filled = int(frac * width);
    std::string bar = "\r[";
    for (int i = 0; i < width; ++i) bar += i < filled ? '=' : (i == filled ? '>' : ' ');
    char buf[160];
    long eta = rate > 0 ? long(double(total_ - std::min(done, total_)) / rate) : -1;
    std::snprintf(buf, sizeof buf, "] %3d%%  %s/%s  %s/s  ETA %s\x1b[K", int(frac * 100), human_bytes(done).c_str(),
                  human_bytes(total_).c_str(), human_bytes(uint64_t(rate)).c_str(),
                  eta < 0 ? "-" : (std::to_string(eta) + "s").c_str());
    bar += buf;
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, bar.data(), bar.size());
    drawn_ = true;
  }
  void clear() {
    if (!drawn_) return;
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, "\r\x1b[K", 4);
    drawn_ = false;
  }

 private:
  bool enabled_;
  uint64_t total_;
  int64_t start_;
  int64_t last_ = 0;
  bool drawn_ = false;
};

// Records waiting to be appended to one partition: either Record objects (the JSON path; reused across
// chunks so their strings keep their capacity) or batches encoded as the lines were read (the line path:
// RecordWriter::add into `built`). One produce run uses one of the two.
struct PartitionChunk {
  engine::Log* log = nullptr;
  std::vector<Record> records;
  size_t used = 0;
  std::unique_ptr<BatchBuilder> built;
  size_t bytes = 0;
};

// Appends full chunks on a helper thread while the main thread reads and splits the next ones (started
// only for bulk input, so a one-line produce never creates a thread). One FIFO queue keeps the order of
// chunks, hence of records per partition. At most kMaxQueued chunks wait; the main thread blocks beyond
// that. The first append error stops the worker (later chunks are dropped) and is reported to the main
// thread at its next submit or drain. The thread blocks SIGINT/SIGTERM so they interrupt the main
// thread's read(2).
class AppendWorker {
 public:
  static constexpr size_t kMaxQueued = 2;

  AppendWorker(std::string topic, BatchBuildOptions build) : topic_(std::move(topic)), build_(build) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    thread_ = std::thread([this] { loop(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  AppendWorker(const AppendWorker&) = delete;
  AppendWorker& operator=(const AppendWorker&) = delete;
  ~AppendWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Queues a chunk (records, or sealed batches in `built`); returns the worker's first error, if any (the
  // chunk is then dropped).
  Status submit(PartitionId p, engine::Log* log, std::vector<Record>&& records, size_t used,
                std::unique_ptr<BatchBuilder> built, size_t bytes) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kMaxQueued || !error_.ok(); });
    if (!error_.ok()) return error_;
    queue_.push_back(Job{p, log, std::move(records), used, std::move(built), bytes});
    cv_.notify_all();
    return ok_status();
  }

  // A builder to fill next (a recycled one, cleared, when available), or nullptr.
  std::unique_ptr<BatchBuilder> take_free_builder() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_builders_.empty()) return nullptr;
    std::unique_ptr<BatchBuilder> b = std::move(free_builders_.back());
    free_builders_.pop_back();
    b->clear();
    return b;
  }

  // A record vector to fill next (a recycled one when available, so strings keep their capacity).
  std::vector<Record> take_free() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return {};
    std::vector<Record> v = std::move(free_.back());
    free_.pop_back();
    return v;
  }

  // Waits until every queued chunk was appended; returns the first error.
  Status drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || !error_.ok(); });
    return error_;
  }

  int64_t records_written() {
    std::lock_guard<std::mutex> lock(mu_);
    return records_written_;
  }
  uint64_t bytes_written() {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_written_;
  }

 private:
  struct Job {
    PartitionId partition;
    engine::Log* log;
    std::vector<Record> records;
    size_t used;
    std::unique_ptr<BatchBuilder> built;
    size_t bytes;
  };

  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return quit_ || (!queue_.empty() && error_.ok()); });
      if (quit_) return;
      Job job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      cv_.notify_all();  // room in the queue
      lock.unlock();
      auto r = job.built ? job.log->append_built(job.built->sealed())
                         : job.log->append(std::span<const Record>(job.records.data(), job.used), build_);
      lock.lock();
      busy_ = false;
      if (r.ok()) {
        records_written_ += r->record_count;
        bytes_written_ += job.bytes;
      } else if (error_.ok()) {
        Error e = std::move(r).error();
        e.message = topic_ + "-" + std::to_string(job.partition) + ": " + e.message;
        error_ = std::move(e);
        queue_.clear();
      }
      if (job.built) {
        free_builders_.push_back(std::move(job.built));
      } else {
        free_.push_back(std::move(job.records));
      }
      cv_.notify_all();
    }
  }

  std::string topic_;
  BatchBuildOptions build_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::vector<std::vector<Record>> free_;
  std::vector<std::unique_ptr<BatchBuilder>> free_builders_;
  bool busy_ = false;
  bool quit_ = false;
  Status error_;
  int64_t records_written_ = 0;
  uint64_t bytes_written_ = 0;
  std::thread thread_;
};

// Finds the records that cannot be stored because a batch holding only them exceeds the topic's
// max.message.bytes, before they are handed to a writer, so the error names the input line and both
// backends treat them alike. The common case costs one comparison: only records within ~1% (plus codec
// framing) of the limit are encoded to measure them exactly.
class OversizeGuard {
 public:
  OversizeGuard(size_t limit, BatchBuildOptions build) : limit_(limit), build_(build) {
    build_.append_time = Timestamp(0);  // sizes do not depend on the timestamp; build_batch needs one
  }
  size_t limit() const { return limit_; }

  // False when a record of `payload` bytes (key + value + header names and values) with `header_count`
  // headers certainly fits.
  bool may_exceed(size_t payload, size_t header_count) const {
    // Per record at most: length, attributes, timestamp and offset deltas, key and value lengths, header
    // count (varints) = 22 bytes, and 10 per header.
    size_t bound = payload + kBatchHeaderSize + 22 + 10 * header_count;
    if (build_.compression != Compression::kNone) bound += bound / 64 + 1024;  // incompressible data grows
    return bound > limit_;
  }

  // The exact size of a batch holding only r.
  Result<size_t> batch_bytes(const Record& r) const {
    if (build_.compression == Compression::kNone) {
      return kBatchHeaderSize + encoded_record_size(r, 0, 0);
    }
    auto batch = build_batch(std::span<const Record>(&r, 1), Offset(0), build_);
    if (!batch.ok()) return std::move(batch).error();
    return batch->size();
  }

  // Shortens r's value (at a UTF-8 character boundary) until its batch fits. False when even an empty
  // value would not fit (the key and headers alone are too large) or there is no value.
  Result<bool> truncate(Record& r, size_t batch) const {
    while (batch > limit_) {
      size_t excess = batch - limit_;
      if (!r.value || r.value->size() < excess) return false;
      size_t keep = r.value->size() - excess;
      // Drop a multi-byte character cut in half (continuation bytes are 10xxxxxx).
      const std::string& v = *r.value;
      size_t start = keep;
      while (start > 0 && keep - start < 4 && (uint8_t(v[start - 1]) & 0xC0) == 0x80) --start;
      if (start > 0) {
        uint8_t lead = uint8_t(v[start - 1]);
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (keep - (start - 1) < need) keep = start - 1;
      }
      r.value->resize(keep);
      auto b = batch_bytes(r);
      if (!b.ok()) return std::move(b).error();
      batch = *b;
    }
    return true;
  }

 private:
  size_t limit_;
  BatchBuildOptions build_;
};

class Producer final : public RecordWriter {
 public:
  // max_batch_bytes: the topic's max.message.bytes (the line path builds batches up to it).
  Producer(engine::LogManager& lm, std::string topic, int32_t partitions, BatchBuildOptions build,
           size_t max_batch_bytes, StickyPartitioner partitioner)
      : RecordWriter(std::move(partitioner)),
        lm_(lm),
        topic_(std::move(topic)),
        build_(build),
        max_batch_bytes_(max_batch_bytes) {
    chunks_.resize(size_t(partitions));
  }

  // The slot for the next record of partition p (reset by the caller's assignments).
  Result<Record*> slot(PartitionId p) override {
    STREAMCTL_TRY(open_log(p));
    PartitionChunk& c = chunks_[size_t(p)];
    if (c.used == c.records.size()) c.records.emplace_back();
    return &c.records[c.used++];
  }

  // The line path: the record is encoded into partition p's batch being built (uncompressed batches; with
  // --compression the records are kept and the Log compresses them).
  Status add(PartitionId p, std::optional<std::string_view> key, std::optional<std::string_view> value,
             const std::vector<RecordHeader>& headers, Timestamp timestamp, size_t bytes) override {
    if (build_.compression != Compression::kNone) {
      return RecordWriter::add(p, key, value, headers, timestamp, bytes);
    }
    STREAMCTL_TRY(open_log(p));
    PartitionChunk& c = chunks_[size_t(p)];
    if (!c.built) {
      if (worker_) c.built = worker_->take_free_builder();
      if (!c.built) {
        c.built = std::make_unique<BatchBuilder>(BatchBuildOptions{}, max_batch_bytes_);
        c.built->reserve(kChunkBytes + kChunkBytes / 4);  // a chunk's payload plus its record framing
      }
    }
    c.built->add(key, value, headers, timestamp);
    return added(p, bytes);
  }

  // Accounts the record just filled in; hands the chunk to the append worker when it is full.
  Status added(PartitionId p, size_t bytes) override {
    PartitionChunk& c = chunks_[size_t(p)];
    c.bytes += bytes;
    if (c.bytes >= kChunkBytes || pending_records(c) >= kChunkRecords) {
      if (!worker_) worker_ = std::make_unique<AppendWorker>(topic_, build_);
      return append(p);
    }
    return ok_status();
  }

  // Appends partition p's pending records: queued on the worker when it runs, else right here.
  Status append(PartitionId p) {
    PartitionChunk& c = chunks_[size_t(p)];
    if (pending_records(c) == 0) return ok_status();
    touched_.insert(p);
    if (c.built) c.built->seal();
    if (worker_) {
      auto st = worker_->submit(p, c.log, std::move(c.records), c.used, std::move(c.built), c.bytes);
      c.records = worker_->take_free();
      c.used = 0;
      c.bytes = 0;
      return st;
    }
    auto r = c.built ? c.log->append_built(c.built->sealed())
                     : c.log->append(std::span<const Record>(c.records.data(), c.used), build_);
    if (!r.ok()) {
      Error e = std::move(r).error();
      e.message = topic_ + "-" + std::to_string(p) + ": " + e.message;
      return e;
    }
    records_written_ += r->record_count;
    bytes_written_ += c.bytes;
    c.used = 0;
    if (c.built) c.built->clear();
    c.bytes = 0;
    return ok_status();
  }

  // Appends everything pending and waits until it is in the log (page cache).
  Status append_all() override {
    for (size_t p = 0; p < chunks_.size(); ++p) {
      auto st = append(PartitionId(p));
      if (!st.ok()) return st;
    }
    return worker_ ? worker_->drain() : ok_status();
  }

  // Waits for the worker's queue to empty (its first error, if any).
  Status drain() override { return worker_ ? worker_->drain() : ok_status(); }

  bool has_pending() const override {
    for (const auto& c : chunks_) {
      if (pending_records(c) > 0) return true;
    }
    return false;
  }

  // fsyncs every partition appended to. REQUIRES: append_all() first (nothing queued).
  Status flush_touched() override {
    for (auto p : touched_) {
      auto st = chunks_[size_t(p)].log->flush();
      if (!st.ok()) return st;
    }
    last_flush_ns_ = monotonic_ns();
    return ok_status();
  }
  int64_t last_flush_ns() const override { return last_flush_ns_; }

  // Embedded mode has no background retention: the producer applies retention.ms / retention.bytes to
  // the partitions it wrote (closed segments only; cheap when there is nothing to delete). Problems are
  // warnings: the records are already durable.
  void apply_retention(const GlobalOptions& g) override {
    for (auto p : touched_) {
      auto removed = chunks_[size_t(p)].log->apply_retention();
      if (!removed.ok()) {
        warn(g, "retention on " + topic_ + "-" + std::to_string(p) + ": " + removed.error().message);
      } else if (*removed > 0) {
        debug(g, 1, "retention removed " + std::to_string(*removed) + " segment(s) of " + topic_ + "-" +
                        std::to_string(p));
      }
    }
  }

  int64_t records_written() const override { return records_written_ + (worker_ ? worker_->records_written() : 0); }
  uint64_t bytes_written() const override { return bytes_written_ + (worker_ ? worker_->bytes_written() : 0); }
  const std::set<PartitionId>& touched() const override { return touched_; }

 private:
  static size_t pending_records(const PartitionChunk& c) { return c.used + (c.built ? c.built->records() : 0); }

  Status open_log(PartitionId p) {
    PartitionChunk& c = chunks_[size_t(p)];
    if (c.log != nullptr) return ok_status();
    auto log = lm_.log(topic_, p);
    if (!log.ok()) return std::move(log).error();
    c.log = *log;
    return ok_status();
  }

  engine::LogManager& lm_;
  std::string topic_;
  BatchBuildOptions build_;
  size_t max_batch_bytes_;
  std::vector<PartitionChunk> chunks_;
  std::set<PartitionId> touched_;
  std::unique_ptr<AppendWorker> worker_;
  int64_t records_written_ = 0;
  uint64_t bytes_written_ = 0;
  int64_t last_flush_ns_ = monotonic_ns();
};


std::string partition_list(const std::set<PartitionId>& parts) {
  std::string s;
  for (auto p : parts) s += (s.empty() ? "" : ",") + std::to_string(p);
  return s;
}

// Embedded: opens (creating when allowed) the topic in the local data directory and an appending writer.
// Returns -1 on success, else the exit code after reporting the error. `compression` may be filled from
// the topic's compression.type.
int open_local_producer(const ProduceOptions& o, const GlobalOptions& g, std::string& compression,
                        int64_t batch_bytes, uint64_t seed, std::unique_ptr<engine::LogManager>& manager,
                        std::unique_ptr<RecordWriter>& writer, int32_t& partitions,
                        int64_t& max_message_bytes) {
  auto lm = open_data_dir(g, /*create_if_missing=*/!o.no_create);
  if (!lm.ok()) {
    if (lm.error().code == ErrorCode::kNotFound) {
      return report_error(Error::not_found("topic '" + o.topic + "' does not exist (" + lm.error().message + ")"),
                          "drop --no-create to create it with default settings");
    }
    return report_error(lm.error());
  }
  auto md = (*lm)->describe_topic(o.topic);
  if (!md.ok() && md.error().code == ErrorCode::kNotFound) {
    if (o.no_create) {
      return report_error(md.error(), "create it with: streamctl topic create " + o.topic +
                                          " (or drop --no-create)");
    }
    auto created = (*lm)->create_topic(o.topic, o.create_partitions, {});
    if (created.ok()) {
      info(g, "created topic '" + o.topic + "' (" + std::to_string(o.create_partitions) +
                  (o.create_partitions == 1 ? " partition" : " partitions") + ", default configs)");
      md = std::move(created);
    } else if (created.error().code == ErrorCode::kAlreadyExists) {
      md = (*lm)->describe_topic(o.topic);  // another producer created it first
    } else {
      return report_error(created.error());
    }
  }
  if (!md.ok()) return report_error(md.error());
  partitions = md->partitions;

  BatchBuildOptions build;
  if (compression.empty()) {
    // No codec asked for: follow the topic's compression.type when it names one.
    auto cfg = engine::LogConfig::from_overrides(md->overrides);  // no second read of the metadata
    if (cfg.ok() && cfg->compression_type != "producer" && cfg->compression_type != "uncompressed") {
      compression = cfg->compression_type;
    }
  }
  auto cfg = engine::LogConfig::from_overrides(md->overrides);
  if (!cfg.ok()) return report_error(cfg.error());
  max_message_bytes = cfg->max_message_bytes;
  if (!compression.empty()) {
    auto c = parse_compression(compression);
    if (!c.ok()) return report_error(c.error());
    build.compression = *c;
  }

  writer = std::make_unique<Producer>(**lm, o.topic, partitions, build, size_t(max_message_bytes),
                                      StickyPartitioner(partitions, batch_bytes, seed));
  manager = std::move(lm).value();
  return -1;
}

int run_produce(const ProduceOptions& o, const GlobalOptions& g) {
  // ---- flags
  if (g.json && (!o.key_separator.empty() || o.has_key || o.null_empty)) {
    return report_usage_error("--json reads keys and nulls from the JSON lines; do not mix it with "
                              "--key-separator, --key or --null-empty");
  }
  if (o.has_key && !o.key_separator.empty()) {
    return report_usage_error("--key and --key-separator both set the key: use --key for one key on every "
                              "record, or --key-separator to read each record's key from its line");
  }
  // Both are meaningful together only with -K: empty lines are skipped, "key<SEP>" lines become tombstones.
  if (o.null_empty && o.skip_empty && o.key_separator.empty()) {
    return report_usage_error("--null-empty and --skip-empty disagree about empty lines: --null-empty makes "
                              "them tombstones, --skip-empty drops them; choose one (together they only "
                              "make sense with --key-separator: empty lines skipped, 'key<SEP>' tombstones)");
  }
  if (o.json_text && !g.json) return report_usage_error("--json-text applies to --json input; add --json");
  std::string key_separator;
  if (!o.key_separator.empty()) {
    auto sep = unescape(o.key_separator, "--key-separator");
    if (!sep.ok()) return report_error(sep.error());
    key_separator = *sep;
  }
  auto delim = unescape(o.delimiter, "--delimiter");
  if (!delim.ok()) return report_error(delim.error());
  if (delim->size() != 1) return report_usage_error("--delimiter must be exactly one byte, e.g. '\\n', '\\0', ','");
  std::vector<RecordHeader> headers;
  for (const auto& h : o.headers) {
    auto kv = parse_key_value(h, "-H/--header");
    if (!kv.ok()) return report_error(kv.error(), "e.g. -H trace-id=abc123");
    headers.push_back({kv->first, kv->second});
  }
  const Timestamp now = system_clock()->now();
  Timestamp fixed_ts = kNoTimestamp;
  if (!o.timestamp.empty()) {
    auto ts = parse_time(o.timestamp, now);
    if (!ts.ok()) return report_error(ts.error());
    fixed_ts = *ts;
  }
  double rate = 0;
  if (!o.rate.empty()) {
    auto r = parse_rate(o.rate);
    if (!r.ok()) return report_error(r.error());
    rate = *r;
  }
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  const bool remote = backend->remote.has_value();
  auto props = parse_properties(g);
  if (!props.ok()) return report_error(props.error());
  int64_t batch_bytes = kDefaultBatchBytes;
  std::string compression = o.compression;
  for (const auto& [k, v] : *props) {
    if (k == "batch.size") {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1) return report_usage_error("-X batch.size must be a positive integer");
      batch_bytes = n;
    } else if (k == "compression.type" || k == "compression.codec") {
      if (compression.empty()) compression = v;
    } else if (!remote) {
      warn(g, "-X " + k + " has no effect on the embedded engine (known here: batch.size, compression.type)");
    }
  }
  if (o.create_partitions < 1) return report_usage_error("--partitions must be at least 1");

  // ---- inputs first: a missing file fails before anything is produced
  auto inputs = open_inputs(o.files);
  if (!inputs.ok()) {
    return report_error(inputs.error(), inputs.error().code == ErrorCode::kNotFound ? "check the path" : "");
  }
  struct Closer {
    std::vector<Input>& in;
    ~Closer() {
      for (auto& i : in) {
        if (i.fd != STDIN_FILENO) ::close(i.fd);
      }
    }
  } closer{*inputs};

  tune_allocator_for_streaming();
  // ---- topic
  auto valid = engine::LogManager::validate_topic_name(o.topic);
  if (!valid.ok()) return report_error(valid.error());
  uint64_t seed = uint64_t(monotonic_ns()) ^ (uint64_t(::getpid()) << 32);
  std::unique_ptr<engine::LogManager> local_manager;
  std::unique_ptr<RecordWriter> writer;
  int32_t partitions = 0;
  int64_t max_message_bytes = 0;
  if (remote) {
    if (!compression.empty()) {
      auto c = parse_compression(compression);
      if (!c.ok()) return report_error(c.error());
    }
    RemoteProduceRequest req;
    req.topic = o.topic;
    req.create_missing = !o.no_create;
    req.create_partitions = o.create_partitions;
    req.compression = compression;
    req.batch_bytes = batch_bytes;
    req.seed = seed;
    auto target = open_remote_producer(*backend->remote, g, req);
    if (!target.ok()) {
      if (target.error().code == ErrorCode::kNotFound) {
        return report_error(target.error(), "create it with: streamctl topic create " + o.topic +
                                                " (or drop --no-create)");
      }
      return report_error(target.error());
    }
    partitions = target->partitions;
    max_message_bytes = target->max_message_bytes;
    writer = std::move(target->writer);
  } else {
    int rc = open_local_producer(o, g, compression, batch_bytes, seed, local_manager, writer, partitions,
                                 max_message_bytes);
    if (rc >= 0) return rc;
  }
  if (o.partition >= partitions) {
    return report_error(Error::not_found("partition " + std::to_string(o.partition) + " does not exist: topic '" +
                                         o.topic + "' has " + std::to_string(partitions) +
                                         (partitions == 1 ? " partition" : " partitions")),
                        "partitions are numbered from 0; grow the topic with: streamctl topic add-partitions");
  }
  RecordWriter& producer = *writer;
  BatchBuildOptions guard_build;
  if (!compression.empty()) guard_build.compression = *parse_compression(compression);  // checked above
  const OversizeGuard guard(size_t(max_message_bytes), guard_build);
  size_t header_bytes = 0;  // the -H headers every record carries
  for (const auto& h : headers) header_bytes += h.key.size() + (h.value ? h.value->size() : 0);
  int64_t oversize_count = 0;
  size_t oversize_largest = 0;

  bool show_progress = !g.quiet() && is_tty(STDERR_FILENO);
  for (const auto& in : *inputs) {
    if (in.fd == STDIN_FILENO && is_tty(STDIN_FILENO)) {
      info(g, std::string("reading records from the terminal, one per line") + (g.json ? " (JSON objects)" : "") +
                  "; Ctrl-D ends, Ctrl-C stops");
    }
  }
  uint64_t total_size = 0;
  bool all_files = true;
  for (const auto& in : *inputs) {
    total_size += in.size;
    all_files = all_files && in.regular && in.name != "-";
  }
  ProgressBar bar(show_progress && all_files, total_size);
  uint64_t done_before = 0;  // bytes of inputs already finished

  const int64_t start_ns = monotonic_ns();
  const int64_t interval_ns = rate > 0 ? int64_t(1e9 / rate) : 0;
  int64_t next_due_ns = start_ns;
  Error failure;
  std::string failure_hint;
  bool interrupted = false;

  // Fails with the error of the first append/flush problem, or the input position for bad lines.
  auto fail = [&](Error e) {
    failure = std::move(e);
    return false;
  };
  // A bad input line: everything before it is still appended and flushed (exit 4 when that is anything).
  bool input_failure = false;
  auto fail_input = [&](Error e) {
    input_failure = true;
    return fail(std::move(e));
  };

  auto wait_for_rate = [&]() -> bool {
    int64_t now_ns = monotonic_ns();
    if (now_ns < next_due_ns) {
      auto st = producer.append_all();
      if (!st.ok()) return fail(st.error());
      int64_t wait = next_due_ns - now_ns;
      struct timespec ts = {time_t(wait / 1'000'000'000), long(wait % 1'000'000'000)};
      while (::nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_requested()) {
      }
      now_ns = monotonic_ns();
    }
    if (next_due_ns < now_ns - 1'000'000'000) next_due_ns = now_ns;  // no catch-up burst after a stall
    next_due_ns += interval_ns;
    return !stop_requested();
  };

  // CreateTime of records without one: --timestamp, else the wall clock, read once per 256 records (and
  // whenever the input goes idle) rather than per record. Stamping here also spares the engine a copy of
  // every record to fill in missing timestamps.
  Timestamp clock_now = now;
  uint32_t clock_uses = 0;
  auto record_time = [&]() -> Timestamp {
    if (fixed_ts != kNoTimestamp) return fixed_ts;
    if (++clock_uses == 256) {
      clock_uses = 0;
      clock_now = system_clock()->now();
    }
    return clock_now;
  };
  auto refresh_clock = [&] {
    clock_now = system_clock()->now();
    clock_uses = 0;
  };

  auto input_name = [](const LineReader& reader) {
    return reader.name() == "-" ? std::string("stdin") : reader.name();
  };
  // --oversize for a record that may not fit: true to produce `rec` (possibly truncated), false with
  // *skip set to leave it out, false with *skip unset when produce must stop (failure is set).
  auto check_oversize = [&](Record& rec, LineReader& reader, bool* skip) -> bool {
    *skip = false;
    auto size = guard.batch_bytes(rec);
    if (!size.ok()) return fail(size.error());
    if (*size <= guard.limit()) return true;
    const size_t payload = (rec.key ? rec.key->size() : 0) + (rec.value ? rec.value->size() : 0);
    const std::string where = input_name(reader) + " line " + std::to_string(reader.line_number());
    const std::string limit = "topic '" + o.topic + "' takes batches up to max.message.bytes=" +
                              std::to_string(guard.limit());
    ++oversize_count;
    oversize_largest = std::max(oversize_largest, payload);
    if (o.oversize == "skip") {
      warn(g, "skipped " + where + ": record too large (" + std::to_string(payload) + " bytes, a " +
                  std::to_string(*size) + "-byte batch); " + limit);
      *skip = true;
      return false;
    }
    if (o.oversize == "truncate") {
      auto fits = guard.truncate(rec, *size);
      if (!fits.ok()) return fail(fits.error());
      if (*fits) {
        warn(g, "truncated " + where + ": value cut from " + std::to_string(payload) + " to " +
                    std::to_string(rec.value->size()) + " bytes; " + limit);
        return true;
      }
      failure_hint = "only the value is truncated; this record's key and headers alone exceed the limit";
    } else {
      failure_hint = "--oversize skip or --oversize truncate keeps going past such records; or raise the limit: "
                     "streamctl topic alter " + o.topic + " --config max.message.bytes=N";
    }
    return fail_input(Error::record_too_large("record too large: " + where + " is " + std::to_string(payload) +
                                              " bytes (a " + std::to_string(*size) + "-byte batch); " + limit));
  };

  auto produce_line = [&](std::string_view line, LineReader& reader) -> bool {
    PartitionId p;
    Record* r;
    size_t bytes;
    if (g.json) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;  // blank line
      auto jr = parse_json_record(line, now, JsonInputOptions{o.json_text});
      if (!jr.ok()) {
        return fail_input(Error::invalid_argument(input_name(reader) +
                                            ", line " + std::to_string(reader.line_number()) + ": " +
                                            jr.error().message));
      }
      Record& src = jr->record;
      bytes = (src.key ? src.key->size() : 0) + (src.value ? src.value->size() : 0);
      for (const auto& h : src.headers) bytes += h.key.size() + (h.value ? h.value->size() : 0);
      if (guard.may_exceed(bytes + header_bytes, src.headers.size() + headers.size())) {
        for (const auto& h : headers) src.headers.push_back(h);
        bool skip;
        if (!check_oversize(src, reader, &skip)) return skip;
        src.headers.resize(src.headers.size() - headers.size());
        bytes = (src.key ? src.key->size() : 0) + (src.value ? src.value->size() : 0);
        for (const auto& h : src.headers) bytes += h.key.size() + (h.value ? h.value->size() : 0);
      }
      if (o.partition >= 0) {
        p = o.partition;
      } else if (jr->partition) {
        p = *jr->partition;
        if (p >= partitions) {
          return fail_input(Error::not_found(input_name(reader) + ", line " +
                                       std::to_string(reader.line_number()) + ": partition " + std::to_string(p) +
                                       " does not exist: topic '" + o.topic + "' has " +
                                       std::to_string(partitions) + " (create the topic with enough partitions "
                                       "first, or pass --partition)"));
        }
      } else {
        std::optional<std::string_view> key;
        if (src.key) key = *src.key;
        p = producer.partitioner().partition(key, bytes);
      }
      auto slot = producer.slot(p);
      if (!slot.ok()) return fail(slot.error());
      r = *slot;
      r->key = std::move(src.key);
      r->value = std::move(src.value);
      r->headers = std::move(src.headers);
      for (const auto& h : headers) r->headers.push_back(h);
      r->timestamp = src.timestamp != kNoTimestamp ? src.timestamp : record_time();
    } else {
      std::optional<std::string_view> key;
      std::optional<std::string_view> value = line;
      if (o.has_key) {
        key = std::string_view(o.key);
      } else if (!key_separator.empty()) {
        size_t at = line.find(key_separator);
        if (at != std::string_view::npos) {
          key = line.substr(0, at);
          value = line.substr(at + key_separator.size());
        }
      }
      if (value->empty()) {
        if (o.skip_empty && line.empty()) return true;  // "key<SEP>" is not an empty line
        if (o.null_empty) value.reset();
      }
      bytes = (key ? key->size() : 0) + (value ? value->size() : 0);
      if (guard.may_exceed(bytes + header_bytes, headers.size())) {  // rare: measure exactly
        Record whole;
        assign_optional(whole.key, key);
        assign_optional(whole.value, value);
        whole.headers = headers;
        bool skip;
        if (!check_oversize(whole, reader, &skip)) return skip;
        if (value && whole.value->size() < value->size()) value = value->substr(0, whole.value->size());
        bytes = (key ? key->size() : 0) + (value ? value->size() : 0);
      }
      p = o.partition >= 0 ? o.partition : producer.partitioner().partition(key, bytes);
      // The fields go straight from the read buffer into the batch being built (embedded writer).
      auto st = producer.add(p, key, value, headers, record_time(), bytes + header_bytes);
      if (!st.ok()) return fail(st.error());
      return true;
    }
    for (const auto& h : headers) bytes += h.key.size() + (h.value ? h.value->size() : 0);
    auto st = producer.added(p, bytes);
    if (!st.ok()) return fail(st.error());
    return true;
  };

  bool ok = true;
  for (auto& in : *inputs) {
    if (!ok || interrupted) break;
    LineReader reader(in.fd, in.name, (*delim)[0]);
    std::string_view line;
    uint64_t lines_since_check = 0;
    for (;;) {
      auto r = reader.next(&line, /*may_read=*/false);
      if (r == LineReader::Next::kNeedRead) {
        // About to read: if the input is not ready (a slow pipe), deliver what we hold first.
        if (producer.has_pending() && !reader.input_ready()) {
          auto st = producer.append_all();
          if (!st.ok()) {
            ok = fail(st.error());
            break;
          }
          if (monotonic_ns() - producer.last_flush_ns() > 1'000'000'000) {
            auto fs = producer.flush_touched();
            if (!fs.ok()) {
              ok = fail(fs.error());
              break;
            }
          }
        }
        bar.update(done_before + reader.bytes_consumed());
        r = reader.next(&line);
        refresh_clock();  // after the read: a slow pipe's next line gets the time it arrived, not the last one's
      }
      if (r == LineReader::Next::kInterrupted) {
        if (stop_requested()) {
          interrupted = true;
          break;
        }
        continue;
      }
      if (r == LineReader::Next::kError) {
        ok = fail_input(reader.error());
        break;
      }
      if (r == LineReader::Next::kEof) break;
      if (interval_ns > 0) {
        if (!wait_for_rate()) {
          if (!failure.message.empty()) ok = false;
          interrupted = stop_requested();
          if (!ok || interrupted) break;
        }
        refresh_clock();  // paced records are seconds apart: stamp each with its own time
      }
      if (!produce_line(line, reader)) {
        ok = false;
        break;
      }
      if (interval_ns > 0) bar.update(done_before + reader.bytes_consumed());  // paced: show every record
      if (++lines_since_check == 4096) {
        lines_since_check = 0;
        bar.update(done_before + reader.bytes_consumed());
        if (stop_requested()) {
          interrupted = true;
          break;
        }
      }
    }
    done_before += reader.bytes_read();
  }
  bar.clear();
  if (stop_requested()) interrupted = true;

  // ---- deliver and make durable what was read (also after a failure or an interrupt)
  if (ok || input_failure) {
    auto st = producer.append_all();
    if (!st.ok()) {
      ok = false;
      failure = st.error();
    }
  }
  auto drained = producer.drain();  // nothing may still be appending while we flush
  if (!drained.ok() && ok) {
    ok = false;
    failure = drained.error();
  }
  auto flushed = producer.flush_touched();
  if (!flushed.ok() && ok) {
    ok = false;
    failure = flushed.error();
  }
  if (flushed.ok()) producer.apply_retention(g);

  const double secs = double(monotonic_ns() - start_ns) / 1e9;
  const int64_t n = producer.records_written();
  if (oversize_count > 0 && o.oversize != "fail") {
    warn(g, std::to_string(oversize_count) + " record" + (oversize_count == 1 ? "" : "s") + " over max.message.bytes=" +
                std::to_string(guard.limit()) + " of '" + o.topic + "' " + (o.oversize == "skip" ? "skipped" : "truncated") +
                " (largest " + std::to_string(oversize_largest) + " bytes)");
  }
  if (!ok) {
    if (n > 0 && (flushed.ok() || remote)) {
      report_error(failure, failure_hint);
      info(g, std::to_string(n) + (n == 1 ? " record before the error was" : " records before the error were") +
                  " written and flushed to '" +
                  o.topic + "'");
      return to_int(ExitCode::kPartial);
    }
    return report_error(failure, failure_hint);
  }
  if (((is_tty(STDERR_FILENO) && !g.quiet()) || g.verbose()) && n == 0) {
    info(g, "nothing produced to '" + o.topic + "' (the input had no records)");
  } else if ((is_tty(STDERR_FILENO) && !g.quiet()) || g.verbose()) {
    char buf[256];
    const double per_sec = secs > 0 ? double(n) / secs : 0.0;
    std::snprintf(buf, sizeof buf, "produced %lld record%s (%s) to '%s' partition%s %s in %.2f s (%.0f record%s/s, %s/s)",
                  static_cast<long long>(n), n == 1 ? "" : "s", human_bytes(producer.bytes_written()).c_str(),
                  o.topic.c_str(), producer.touched().size() == 1 ? "" : "s",
                  producer.touched().empty() ? "-" : partition_list(producer.touched()).c_str(), secs,
                  per_sec, std::llround(per_sec) == 1 ? "" : "s",
                  human_bytes(uint64_t(secs > 0 ? double(producer.bytes_written()) / secs : 0)).c_str());
    info(g, buf);
  }
  if (interrupted) {
    info(g, "interrupted: " + std::to_string(n) + (n == 1 ? " record read before the signal was" : " records read before the signal were") +
                  " written and flushed");
    return to_int(ExitCode::kInterrupted);
  }
  return 0;
}

}  // namespace

void register_produce_command(CLI::App& app, CommandContext& ctx) {
  auto opts = std::make_shared<ProduceOptions>();
  CLI::App* cmd = app.add_subcommand("produce", "append records to a topic: one per line from stdin or files");
  cmd->add_option("topic", opts->topic, "topic (created with default settings if missing)")->required();
  cmd->add_option("files", opts->files, "input files ('-' = stdin; default stdin)");
  cmd->add_option("-K,--key-separator", opts->key_separator, "text before the first SEP is the key (escapes: \\t ...)")
      ->type_name("SEP");
  auto* key = cmd->add_option("-k,--key", opts->key, "the same key for every record")->type_name("KEY");
  cmd->add_option("-H,--header", opts->headers, "header name=value on every record (repeatable)")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("-p,--partition", opts->partition, "write every record to this partition (default: Kafka's "
                                                      "partitioner: murmur2 of the key, sticky for null keys)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-z,--compression", opts->compression, "none|gzip|snappy|lz4|zstd (default: topic's "
                                                         "compression.type, else none)")
      ->type_name("CODEC");
  cmd->add_option("--timestamp", opts->timestamp, "record timestamp: epoch ms, ISO-8601, -1h, now (default: now)")
      ->type_name("TIME");
  cmd->add_flag("-Z,--null-empty", opts->null_empty, "an empty value becomes null (a tombstone)");
  cmd->add_flag("--skip-empty", opts->skip_empty, "skip empty lines instead of producing empty records");
  cmd->add_option("--rate", opts->rate, "at most N records per second (N/s, N/m, N/h; k and M suffixes)")
      ->type_name("N/s");
  cmd->add_option("-D,--delimiter", opts->delimiter, "record delimiter byte (default \\n; e.g. '\\0')")
      ->type_name("BYTE");
  cmd->add_option("--partitions", opts->create_partitions, "partitions when auto-creating the topic (default 1)")
      ->type_name("N");
  cmd->add_flag("--no-create", opts->no_create, "fail instead of creating a missing topic");
  cmd->add_flag("--json-text", opts->json_text, "with --json: store a non-string key or value (number, object, "
                                                "array, true/false) as its compact JSON text instead of failing");
  cmd->add_option("--oversize", opts->oversize, "a record too large for the topic's max.message.bytes: fail "
                                                "(default; what came before is kept), skip or truncate its value")
      ->type_name("ACTION")
      ->check(CLI::IsMember({"fail", "skip", "truncate"}));
  cmd->footer(R"(Input: one record per line; with the global --json, one JSON object per line:
  {"key":"k","value":"v","headers":[{"key":"h","value":"x"}],"partition":0,"timestamp":1714564800000}
  (null vs "" kept; key_b64/value_b64 for binary; the shape 'consume --json' prints).
Exits 0 only after every record is durably appended (fsync); against brokers, once every record is
acknowledged (acks=all unless -X acks). A summary prints on a terminal.

Examples:
  tail -F /var/log/app.log | streamctl produce app-logs
  streamctl produce orders -K : <<< 'user-1:{"total":12}'         # key user-1
  streamctl produce events big.log other.log -z zstd              # progress bar on a terminal
  streamctl produce metrics -H source=cron --rate 100/s < data.txt
  streamctl consume orders --json | streamctl produce orders-copy --json)");
  cmd->callback([&ctx, opts, key] {
    opts->has_key = key->count() > 0;
    ctx.run = [&ctx, opts] { return run_produce(*opts, ctx.global); };
  });
}

}  // namespace streamctl::cli
