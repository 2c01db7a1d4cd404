#include "cli/consumer.h"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "cli/json_record.h"
#include "base/coding.h"

namespace streamctl::cli {


// ---- BatchDecoder

Status BatchDecoder::reset(ByteSpan batch, const RecordBatchHeader& header, bool want_headers) {
  (void)header;  // RecordReader::open reads it again from the batch (a few loads)
  want_headers_ = want_headers;
  status_ = ok_status();
  reader_.reset();
  auto reader = RecordReader::open(batch);
  if (!reader.ok()) {
    status_ = reader.error();
    return status_;
  }
  reader_.emplace(std::move(reader).value());
  return ok_status();
}

bool BatchDecoder::next(RecordView* out) {
  if (!status_.ok() || !reader_) return false;
  auto more = reader_->next(record_);
  if (!more.ok()) {
    status_ = more.error();
    return false;
  }
  if (!*more) return false;
  out->offset = record_.offset.value;
  out->timestamp = record_.timestamp.value;
  out->key = record_.key;
  out->value = record_.value;
  if (want_headers_) {
    out->headers = record_.headers;
  } else {
    out->headers = {};
  }
  return true;
}

// ---- RecordFilter

RecordFilter::~RecordFilter() {
  if (has_value_) regfree(&value_re_);
  if (has_key_) regfree(&key_re_);
}

Status RecordFilter::compile(const std::string& value_pattern, const std::string& key_pattern, bool ignore_case,
                             bool invert) {
  int flags = REG_EXTENDED | REG_NOSUB | (ignore_case ? REG_ICASE : 0);
  auto build = [&](regex_t* re, const std::string& pattern, const char* flag) -> Status {
    int rc = regcomp(re, pattern.c_str(), flags);
    if (rc != 0) {
      char buf[256];
      regerror(rc, re, buf, sizeof buf);
      return Error::invalid_argument(std::string(flag) + ": invalid regular expression '" + pattern +
                                     "': " + buf);
    }
    return ok_status();
  };
  if (!value_pattern.empty()) {
    auto st = build(&value_re_, value_pattern, "--grep");
    if (!st.ok()) return st;
    has_value_ = true;
  }
  if (!key_pattern.empty()) {
    auto st = build(&key_re_, "^(" + key_pattern + ")$", "--key-match");
    if (!st.ok()) return st;
    has_key_ = true;
  }
  invert_ = invert;
  return ok_status();
}

bool RecordFilter::matches(const RecordView& record) const {
  auto search = [](const regex_t* re, std::string_view s) {
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = regoff_t(s.size());
    return regexec(re, s.data() ? s.data() : "", 1, m, REG_STARTEND) == 0;
  };
  bool ok = true;
  if (has_value_) ok = record.value && search(&value_re_, *record.value);
  if (ok && has_key_) ok = record.key && search(&key_re_, *record.key);
  return ok != invert_;
}

// ---- FdSink

FdSink::FdSink(int fd, const RecordFormatter* formatter, size_t buffer_bytes)
    : fd_(fd), formatter_(formatter), buffer_bytes_(buffer_bytes) {
  buffer_.reserve(buffer_bytes_ + (size_t(64) << 10));
}

bool FdSink::write(const RecordView& record) {
  if (closed_) return false;
  if (formatter_ != nullptr) {
    formatter_->append(record, buffer_);
  } else {
    append_json_record(record, buffer_);
  }
  if (buffer_.size() >= buffer_bytes_) return write_out();
  return true;
}

bool FdSink::write_out() {
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR && !stop_requested()) continue;
      closed_ = true;
      if (errno != EPIPE && errno != EINTR) close_reason_ = Error::from_errno(errno, "cannot write the output");
      buffer_.clear();
      return false;
    }
    p += n;
    left -= size_t(n);
    bytes_written_ += uint64_t(n);
  }
  buffer_.clear();
  return true;
}

Status FdSink::flush() {
  if (!closed_ && !buffer_.empty()) write_out();
  return close_reason_;
}

// ---- Consumer::ReadAhead

// One helper thread and at most one read in flight. The thread blocks SIGINT/SIGTERM so signals reach the
// main thread (whose poll and writes they interrupt). Log is thread-safe; only the main thread starts and
// takes reads.
class Consumer::ReadAhead {
 public:
  ReadAhead() {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    thread_ = std::thread([this] { loop(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  ~ReadAhead() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool busy() const { return busy_; }
  PartitionId partition() const { return partition_; }
  Offset from() const { return from_; }

  void start(engine::Log* log, PartitionId partition, Offset from, size_t max_bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      log_ = log;
      partition_ = partition;
      from_ = from;
      max_bytes_ = max_bytes;
      result_.reset();
      job_ = true;
    }
    busy_ = true;
    cv_.notify_all();
  }

  Result<engine::ReadResult> take() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return result_.has_value(); });
    busy_ = false;
    Result<engine::ReadResult> r = std::move(*result_);
    result_.reset();
    return r;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return quit_ || job_; });
      if (quit_) return;
      job_ = false;
      engine::Log* log = log_;
      Offset from = from_;
      size_t max_bytes = max_bytes_;
      lock.unlock();
      auto r = log->read(from, max_bytes);
      lock.lock();
      result_.emplace(std::move(r));
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool quit_ = false;
  bool job_ = false;
  bool busy_ = false;  // main thread only: a read was started and not taken yet
  engine::Log* log_ = nullptr;
  PartitionId partition_ = -1;
  Offset from_;
  size_t max_bytes_ = 0;
  std::optional<Result<engine::ReadResult>> result_;
};

// ---- Consumer

Result<engine::ReadResult> Consumer::read_chunk(ConsumerPartition& p) {
  std::optional<Result<engine::ReadResult>> rr;
  if (read_ahead_ && read_ahead_->busy() && read_ahead_->partition() == p.partition) {
    Offset from = read_ahead_->from();
    auto ahead = read_ahead_->take();
    if (from == p.next) rr.emplace(std::move(ahead));  // else: the position moved (-n, retention); drop it
  }
  if (!rr) rr.emplace(p.log->read(p.next, options_.fetch_bytes));
  if (rr->ok()) {
    const engine::ReadResult& r = rr->value();
    bool backlog = r.records.size() >= options_.fetch_bytes / 2 && r.next_offset < r.high_watermark &&
                   !(p.end && r.next_offset >= *p.end) &&
                   !(options_.max_records >= 0 && options_.max_records < 10000);
    if (backlog) {
      if (!read_ahead_) read_ahead_ = std::make_unique<ReadAhead>();
      if (!read_ahead_->busy()) read_ahead_->start(p.log, p.partition, r.next_offset, options_.fetch_bytes);
    }
  }
  return std::move(*rr);
}

Consumer::Consumer(std::string topic, std::vector<ConsumerPartition> partitions, ConsumerOptions options,
                   const GlobalOptions* global)
    : topic_(std::move(topic)), partitions_(std::move(partitions)), options_(options), global_(global) {}

Consumer::~Consumer() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

std::map<PartitionId, Offset> Consumer::positions() const {
  std::map<PartitionId, Offset> out;
  for (const auto& p : partitions_) out[p.partition] = p.next;
  return out;
}

Status Consumer::setup_watches() {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    if (global_) debug(*global_, 1, "inotify unavailable; checking for new records every second");
    return ok_status();
  }
  for (const auto& p : partitions_) {
    int wd = ::inotify_add_watch(inotify_fd_, p.log->dir().c_str(),
                                 IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_CLOSE_WRITE);
    if (wd < 0 && global_) {
      debug(*global_, 1, "cannot watch " + p.log->dir() + ": " + std::strerror(errno) +
                             "; checking every second");
    }
  }
  return ok_status();
}

Status Consumer::wait_for_data() {
  struct pollfd fds[2];
  int n = 0;
  if (inotify_fd_ >= 0) fds[n++] = {inotify_fd_, POLLIN, 0};
  if (stop_fd() >= 0) fds[n++] = {stop_fd(), POLLIN, 0};
  if (!stop_requested()) {
    int rc = ::poll(fds, nfds_t(n), options_.poll_timeout_ms);
    if (rc < 0 && errno != EINTR) return Error::from_errno(errno, "poll");
  }
  if (inotify_fd_ >= 0) {
    alignas(struct inotify_event) char buf[8192];
    while (::read(inotify_fd_, buf, sizeof buf) > 0) {
    }
  }
  for (auto& p : partitions_) {
    auto st = p.log->refresh();
    if (!st.ok()) return st;
  }
  return ok_status();
}

Status Consumer::flush_and_report(RecordSink& sink) {
  auto st = sink.flush();
  if (!st.ok()) return st;
  if (on_progress_) on_progress_(positions());
  return ok_status();
}

// A read error of partition `p`: an offset that retention deleted (or past the end) moves the position
// with a warning (ok: read again); any other error is returned naming the partition.
Status Consumer::partition_error(ConsumerPartition& p, const Error& error) const {
  if (error.code == streamctl::ErrorCode::kOffsetOutOfRange) {
    Offset start = p.log->log_start_offset();
    Offset end = p.log->log_end_offset();
    Offset to = p.next < start ? start : end;
    if (global_) {
      warn(*global_, "partition " + std::to_string(p.partition) + ": offset " + std::to_string(p.next.value) +
                         (p.next < start ? " was deleted by retention" : " is past the log end") +
                         "; continuing at " + std::to_string(to.value));
    }
    p.next = to;
    return ok_status();
  }
  Error e = error;
  e.message = topic_ + "-" + std::to_string(p.partition) + ": " + e.message;
  return e;
}

// Reads one chunk from every unfinished partition. Returns whether any record or batch was seen.
Result<bool> Consumer::read_round(RecordSink& sink, ConsumeStats& stats) {
  bool progressed = false;
  RecordView view;
  view.topic = topic_;
  for (auto& p : partitions_) {
    if (p.end && p.next >= *p.end) continue;
    auto rr = read_chunk(p);
    if (!rr.ok()) {
      STREAMCTL_TRY(partition_error(p, rr.error()));
      progressed = true;  // moved past an offset retention deleted
      continue;
    }
    if (rr->records.empty()) continue;
    view.partition = p.partition;
    // Log::read returns only batches whose length and CRC checked out (log.h: "readers never see a torn
    // batch"), so the CRC is not computed a second time here.
    BatchIterator it(rr->records, /*verify_crc=*/false);
    bool done = false;
    while (!done && it.next()) {
      const RecordBatchHeader& h = it.header();
      if (h.next_offset() <= p.next) continue;
      progressed = true;
      if (!h.is_control()) {
        auto st = decoder_.reset(it.batch(), h, options_.want_headers);
        if (!st.ok()) return Error::corruption(topic_ + "-" + std::to_string(p.partition) + ": " + st.error().message);
        while (decoder_.next(&view)) {
          if (view.offset < p.next.value) continue;
          if (p.end && view.offset >= p.end->value) {
            p.next = *p.end;
            done = true;
            break;
          }
          ++stats.records_read;
          p.next = Offset(view.offset + 1);
          if (options_.filter != nullptr && !options_.filter->matches(view)) continue;
          if (!sink.write(view)) {
            stats.output_closed = true;
            return true;
          }
          ++stats.records_written;
          if (options_.max_records >= 0 && stats.records_written >= options_.max_records) {
            stats.hit_limit = true;
            return true;
          }
        }
        if (!decoder_.status().ok()) {
          return Error::corruption(topic_ + "-" + std::to_string(p.partition) + ": " +
                                   decoder_.status().error().message);
        }
      }
      if (!done && h.next_offset() > p.next) p.next = h.next_offset();
      if (p.end && p.next >= *p.end) {
        p.next = *p.end;
        done = true;
      }
      if (stop_requested()) {
        stats.stopped_by_signal = true;
        return true;
      }
    }
    if (!it.status().ok()) {
      return Error::corruption(topic_ + "-" + std::to_string(p.partition) + ": " + it.status().error().message);
    }
  }
  return progressed;
}

// ---- merge_by_time

struct Consumer::Cursor {
  ConsumerPartition* p = nullptr;
  std::optional<engine::ReadResult> chunk;  // the bytes `it` and `decoder` point into
  std::optional<BatchIterator> it;
  BatchDecoder decoder;
  bool in_batch = false;  // decoder is on a data batch
  RecordView head;        // the next record to deliver (valid while has_head)
  bool has_head = false;
};

// A record kept past its chunk (the -o -N tail of a merge).
struct Consumer::OwnedRecord {
  PartitionId partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;

  explicit OwnedRecord(const RecordView& r) : partition(r.partition), offset(r.offset), timestamp(r.timestamp) {
    if (r.key) key.emplace(*r.key);
    if (r.value) value.emplace(*r.value);
    for (const auto& h : r.headers) {
      headers.emplace_back(std::string(h.key), h.value ? std::optional<std::string>(std::string(*h.value)) : std::nullopt);
    }
  }
};

Status Consumer::advance(Cursor& c, bool* progressed) {
  ConsumerPartition& p = *c.p;
  c.has_head = false;
  auto named = [&](const Status& st) -> Status {
    return Error::corruption(topic_ + "-" + std::to_string(p.partition) + ": " + st.error().message);
  };
  for (;;) {
    if (p.end && p.next >= *p.end) {
      p.next = *p.end;
      c.in_batch = false;
      return ok_status();
    }
    if (c.in_batch) {
      if (c.decoder.next(&c.head)) {
        if (c.head.offset < p.next.value) continue;
        if (p.end && c.head.offset >= p.end->value) {
          p.next = *p.end;
          c.in_batch = false;
          return ok_status();
        }
        c.head.topic = topic_;
        c.head.partition = p.partition;
        c.has_head = true;
        return ok_status();
      }
      if (!c.decoder.status().ok()) return named(c.decoder.status());
      c.in_batch = false;
      Offset after = c.it->header().next_offset();
      if (after > p.next) p.next = p.end && after > *p.end ? *p.end : after;
      continue;
    }
    if (c.it && c.it->next()) {
      const RecordBatchHeader& h = c.it->header();
      if (h.next_offset() <= p.next) continue;
      *progressed = true;
      if (h.is_control()) {
        p.next = p.end && h.next_offset() > *p.end ? *p.end : h.next_offset();
        continue;
      }
      auto st = c.decoder.reset(c.it->batch(), h, options_.want_headers);
      if (!st.ok()) return named(st);
      c.in_batch = true;
      continue;
    }
    if (c.it && !c.it->status().ok()) return named(c.it->status());
    c.it.reset();
    c.chunk.reset();
    auto rr = read_chunk(p);
    if (!rr.ok()) {
      STREAMCTL_TRY(partition_error(p, rr.error()));
      *progressed = true;
      continue;
    }
    if (rr->records.empty()) return ok_status();  // nothing more for now
    c.chunk.emplace(std::move(rr).value());
    // Log::read returns only batches whose length and CRC checked out: no second CRC pass.
    c.it.emplace(ByteSpan(c.chunk->records.data(), c.chunk->records.size()), /*verify_crc=*/false);
  }
}

bool Consumer::deliver(RecordSink& sink, const RecordView& record, ConsumeStats& stats) {
  if (!sink.write(record)) {
    stats.output_closed = true;
    return false;
  }
  ++stats.records_written;
  if (options_.max_records >= 0 && stats.records_written >= options_.max_records) {
    stats.hit_limit = true;
    return false;
  }
  return true;
}

// Delivers records in timestamp order across the partitions until none has a record available (or 64k
// records, so run() flushes and reports progress regularly). Returns whether anything was seen.
Result<bool> Consumer::merge_round(RecordSink& sink, ConsumeStats& stats) {
  bool progressed = false;
  if (cursors_.empty()) {
    for (auto& p : partitions_) {
      cursors_.push_back(std::make_unique<Cursor>());
      cursors_.back()->p = &p;
    }
  }
  for (auto& c : cursors_) {
    if (!c->has_head) STREAMCTL_TRY(advance(*c, &progressed));
  }
  for (int n = 0; n < 65536; ++n) {
    Cursor* best = nullptr;
    for (auto& c : cursors_) {
      if (!c->has_head) continue;
      if (best == nullptr || c->head.timestamp < best->head.timestamp ||
          (c->head.timestamp == best->head.timestamp && c->p->partition < best->p->partition)) {
        best = c.get();
      }
    }
    if (best == nullptr) break;
    progressed = true;
    ++stats.records_read;
    best->p->next = Offset(best->head.offset + 1);
    if (options_.filter == nullptr || options_.filter->matches(best->head)) {
      if (tail_pending_) {
        tail_.emplace_back(best->head);
        if (int64_t(tail_.size()) > options_.tail_records) tail_.pop_front();
      } else if (!deliver(sink, best->head, stats)) {
        return true;
      }
    }
    STREAMCTL_TRY(advance(*best, &progressed));
    if (stop_requested()) {
      stats.stopped_by_signal = true;
      return true;
    }
  }
  bool any_head = false;
  for (auto& c : cursors_) any_head = any_head || c->has_head;
  if (!any_head && tail_pending_) {
    // Every partition caught up: the last N merged records are the topic's last N.
    tail_pending_ = false;
    std::vector<HeaderView> headers;
    for (const auto& r : tail_) {
      RecordView v;
      v.topic = topic_;
      v.partition = r.partition;
      v.offset = r.offset;
      v.timestamp = r.timestamp;
      if (r.key) v.key = std::string_view(*r.key);
      if (r.value) v.value = std::string_view(*r.value);
      headers.clear();
      for (const auto& [k, val] : r.headers) {
        headers.push_back({k, val ? std::optional<std::string_view>(*val) : std::nullopt});
      }
      v.headers = headers;
      if (!deliver(sink, v, stats)) return true;
    }
    tail_.clear();
  }
  return progressed;
}

Result<ConsumeStats> Consumer::run(RecordSink& sink) {
  ConsumeStats stats;
  if (options_.follow) {
    auto st = setup_watches();
    if (!st.ok()) return st.error();
    for (auto& p : partitions_) {
      auto rs = p.log->refresh();
      if (!rs.ok()) return rs.error();
    }
  }
  const bool merging = options_.merge_by_time && partitions_.size() > 1;
  tail_pending_ = merging && options_.tail_records >= 0;
  auto all_done = [&] {
    for (const auto& p : partitions_) {
      if (!p.end || p.next < *p.end) return false;
    }
    return true;
  };
  for (;;) {
    if (stop_requested()) {
      stats.stopped_by_signal = true;
      break;
    }
    if (on_round_ && !on_round_()) break;
    auto progressed = merging ? merge_round(sink, stats) : read_round(sink, stats);
    if (!progressed.ok()) {
      (void)sink.flush();  // deliver what was read before the error
      return std::move(progressed).error();
    }
    if (stats.output_closed || stats.hit_limit || stats.stopped_by_signal) break;
    auto st = flush_and_report(sink);
    if (!st.ok()) return st.error();
    if (sink.closed()) {
      stats.output_closed = true;
      break;
    }
    if (all_done()) break;
    if (!*progressed) {
      if (!options_.follow) break;
      auto ws = wait_for_data();
      if (!ws.ok()) return ws.error();
    }
  }
  if (!stats.output_closed) {
    auto st = flush_and_report(sink);
    if (!st.ok()) return st.error();
  }
  if (sink.closed()) stats.output_closed = true;
  return stats;
}

}  // namespace streamctl::cli
