// Consumer: the read loop behind `streamctl consume`, reusable by group mode. It reads records of one
// topic's partitions from given positions, filters them, hands each to a RecordSink, and reports progress
// (the next offset per partition) only after the sink has flushed them downstream, so a consumer group or
// a state file can commit exactly what was written.
//
// Reading: Log::read in large chunks (1 MiB per partition per round), whole batches, records decoded in
// place for uncompressed batches (no per-record allocation); control batches are skipped. While catching up
// on a backlog, the next chunk is read on a helper thread as the current one is decoded and written. Partitions are
// visited round-robin, one chunk each per round, so `-f` on several partitions interleaves them.
// Following: when every partition is at its end, the consumer waits on inotify watches of the partition
// directories (and the stop descriptor), then Log::refresh() picks up appends, segment rolls and retention
// by other processes. No busy loop: a 1 s poll timeout is the only timer (for file systems without inotify).
// A position that retention deleted is moved to the new log start with a warning.
// Ownership: the Logs are not owned and must outlive the Consumer. Thread-compatible (one thread drives it).
#pragma once

#include <regex.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/output_format.h"
#include "engine/log.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::cli {

// Decodes the records of one batch as RecordViews. Uncompressed batches are decoded in place (views into
// the batch bytes); compressed ones are decompressed once into owned records. Thread-compatible.
class BatchDecoder {
 public:
  // Starts on a batch that BatchIterator returned (valid header). The bytes must outlive the decoding.
  // Without want_headers, records come out with no headers (they are still checked).
  Status reset(ByteSpan batch, const RecordBatchHeader& header, bool want_headers);
  // Fills *out with the next record (its key, value and headers views stay valid until the next call);
  // false at the end or on a malformed record (status() then says why).
  bool next(RecordView* out);
  const Status& status() const { return status_; }

 private:
  // RecordReader does the decoding (its fast path, and the decompression of compressed batches);
  // this adapts its records to the CLI's RecordView.
  std::optional<RecordReader> reader_;
  streamctl::RecordView record_;
  bool want_headers_ = true;
  Status status_;
};

// --grep / --key-match. Both POSIX extended regular expressions, matched on raw bytes (REG_STARTEND).
class RecordFilter {
 public:
  RecordFilter() = default;
  RecordFilter(const RecordFilter&) = delete;
  RecordFilter& operator=(const RecordFilter&) = delete;
  ~RecordFilter();

  // value_pattern: the value must contain a match (like grep). key_pattern: the whole key must match
  // (so a literal key matches only itself). Empty pattern = no condition. kInvalidArgument on a bad regex.
  Status compile(const std::string& value_pattern, const std::string& key_pattern, bool ignore_case,
                         bool invert);
  bool active() const { return has_value_ || has_key_; }
  // True when the record passes (after --invert-match).
  bool matches(const RecordView& record) const;

 private:
  regex_t value_re_{};
  regex_t key_re_{};
  bool has_value_ = false;
  bool has_key_ = false;
  bool invert_ = false;
};

// Where consumed records go. The consumer calls write() per record and flush() at the end of each round
// and before it stops; after a successful flush every record written so far is downstream.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Takes one record (valid only during the call). Returns false to stop (e.g. the output was closed).
  virtual bool write(const RecordView& record) = 0;
  // Pushes everything taken so far downstream. An error stops the consumer.
  virtual Status flush() = 0;
  // True once the sink stopped taking records (e.g. the reader of a pipe went away).
  virtual bool closed() const { return false; }
  // Why it closed (ok when the output was simply closed, e.g. EPIPE from `| head`).
  virtual Status close_reason() const { return ok_status(); }
};

// A sink that formats records (template or JSON lines) into a large buffer and writes it to a descriptor
// with one write(2) per ~1 MiB. EPIPE (reader gone, SIGPIPE ignored) ends it cleanly.
class FdSink final : public RecordSink {
 public:
  // formatter == nullptr means JSON lines. The formatter must outlive the sink.
  FdSink(int fd, const RecordFormatter* formatter, size_t buffer_bytes = size_t(1) << 20);
  bool write(const RecordView& record) override;
  Status flush() override;
  Status close_reason() const override { return close_reason_; }
  // True once the reader went away (EPIPE) or a write failed.
  bool closed() const override { return closed_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  bool write_out();

  int fd_;
  const RecordFormatter* formatter_;
  size_t buffer_bytes_;
  std::string buffer_;
  bool closed_ = false;
  Status close_reason_;
  uint64_t bytes_written_ = 0;
};

// One partition to consume.
struct ConsumerPartition {
  PartitionId partition = 0;
  engine::Log* log = nullptr;         // not owned
  Offset next;                // next offset to deliver
  std::optional<Offset> end;  // stop before this offset (exclusive); nullopt = no end
};

struct ConsumerOptions {
  bool follow = false;       // at the end of every partition: wait for more instead of stopping
  int64_t max_records = -1;  // stop after writing this many records (-1 = no limit)
  size_t fetch_bytes = size_t(1) << 20;  // per partition per round
  bool want_headers = true;  // decode headers (false when the output never shows them)
  const RecordFilter* filter = nullptr;  // not owned; nullptr = every record
  int poll_timeout_ms = 1000;            // fallback wake-up while following
  // Interleave the partitions by record timestamp (a k-way merge; ties: lower partition first), as a log
  // reader expects, instead of one chunk per partition in turn. Records of one partition stay in offset
  // order. While following, what has arrived is merged (a partition with nothing new does not hold the
  // others back).
  bool merge_by_time = false;
  // With merge_by_time: of the records merged until every partition was first caught up (its end, or the
  // high watermark when following), deliver only the last N (`-o -N`: the last N records of the topic; each
  // partition starts N before its end). -1 = deliver everything.
  int64_t tail_records = -1;
};

struct ConsumeStats {
  int64_t records_written = 0;  // records handed to the sink (after filtering)
  int64_t records_read = 0;     // records looked at (including filtered out)
  bool stopped_by_signal = false;
  bool output_closed = false;   // the sink stopped taking records (EPIPE)
  bool hit_limit = false;       // max_records reached
};

class Consumer {
 public:
  // REQUIRES: partitions of `topic`, each with a log. `global` is for warnings (not owned).
  Consumer(std::string topic, std::vector<ConsumerPartition> partitions, ConsumerOptions options,
           const GlobalOptions* global);
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  ~Consumer();

  // Called after each successful sink flush with the next offset of every partition (all records before
  // it are downstream). Group mode commits these.
  void set_on_progress(std::function<void(const std::map<PartitionId, Offset>&)> f) {
    on_progress_ = std::move(f);
  }
  // Called once per round (and on every wake-up while following); returning false stops run() cleanly
  // (after a flush and a progress report). Group mode uses it to react to rebalances.
  void set_on_round(std::function<bool()> f) { on_round_ = std::move(f); }

  // Runs until every partition reached its end (not following), max_records, a stop signal, the sink
  // closing, or on_round returning false. Errors: I/O or corruption while reading, sink flush errors.
  Result<ConsumeStats> run(RecordSink& sink);

  // Current positions (next offset per partition): every record before them was handed to the sink. When
  // run() ended with output_closed, some of those never reached the reader: commit the last value passed
  // to on_progress instead.
  std::map<PartitionId, Offset> positions() const;

 private:
  Status setup_watches();
  Result<bool> read_round(RecordSink& sink, ConsumeStats& stats);

  // merge_by_time: one cursor per partition, holding the next record to deliver (the head).
  struct Cursor;
  struct OwnedRecord;
  Result<bool> merge_round(RecordSink& sink, ConsumeStats& stats);
  // Moves `c` to its partition's next record (reading chunks as needed): c.has_head, or none for now.
  Status advance(Cursor& c, bool* progressed);
  // Hands one record to the sink (filter, limit); false when the run must stop (stats say why).
  bool deliver(RecordSink& sink, const RecordView& record, ConsumeStats& stats);
  Status partition_error(ConsumerPartition& p, const Error& e) const;
  Status wait_for_data();
  Status flush_and_report(RecordSink& sink);

  // Reads the next chunk of a partition on a helper thread while the current one is decoded (bulk
  // catch-up only: started when a read returned a full chunk and more data is known to exist).
  class ReadAhead;
  Result<engine::ReadResult> read_chunk(ConsumerPartition& p);

  std::unique_ptr<ReadAhead> read_ahead_;
  std::string topic_;
  std::vector<ConsumerPartition> partitions_;
  ConsumerOptions options_;
  const GlobalOptions* global_;
  std::function<void(const std::map<PartitionId, Offset>&)> on_progress_;
  std::function<bool()> on_round_;
  int inotify_fd_ = -1;
  BatchDecoder decoder_;
  std::vector<std::unique_ptr<Cursor>> cursors_;  // merge_by_time only
  std::deque<OwnedRecord> tail_;                  // tail_records: the last N merged records, not yet written
  bool tail_pending_ = false;                     // still collecting the tail (before the first catch-up)
};

}  // namespace streamctl::cli
