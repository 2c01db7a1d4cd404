// Helpers shared by the partition-log tests (log_test, log_recovery_test, log_concurrency_test,
// retention_test, compaction_test, segment_test): record builders, whole-log readers and small config presets.
// Test-only; every function REQUIREs success through doctest, so a failing helper fails the calling test.
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/file_names.h"
#include "base/fs.h"
#include "engine/log.h"
#include "kafka/format/record_batch.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"

namespace streamctl::test {

// prefix + n + suffix, out of line: GCC 12 at -O3 reports false -Wrestrict warnings for inlined
// `"literal" + std::to_string(n)`.
[[gnu::noinline]] inline std::string tag(std::string_view prefix, int64_t n, std::string_view suffix = "") {
  std::string out(prefix);
  out.append(std::to_string(n));
  out.append(suffix);
  return out;
}

inline Record make_record(std::optional<std::string> key, std::optional<std::string> value,
                                  Timestamp ts = kNoTimestamp) {
  Record r;
  r.key = std::move(key);
  r.value = std::move(value);
  r.timestamp = ts;
  return r;
}

// n records "<prefix>0".."<prefix>n-1" with no key and no timestamp (the log stamps them).
inline std::vector<Record> make_records(int n, const std::string& prefix = "v", size_t pad = 0) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) out.push_back(make_record(std::nullopt, tag(prefix, i, std::string(pad, '.'))));
  return out;
}

// One stored batch built from records (base offset 0), as a client would send it.
inline Bytes make_batch(const std::vector<Record>& records, Timestamp ts = Timestamp(1000)) {
  std::vector<Record> copy = records;
  for (auto& r : copy) {
    if (r.timestamp == kNoTimestamp) r.timestamp = ts;
  }
  auto b = build_batch(copy, Offset(0), BatchBuildOptions{});
  REQUIRE_MESSAGE(b.ok(), b.error().to_string());
  return std::move(b).value();
}

// Decodes every record in a ReadResult's bytes.
inline std::vector<Record> decode_all(ByteSpan bytes) {
  std::vector<Record> out;
  BatchIterator it(bytes);
  while (it.next()) {
    auto records = decode_records(it.batch());
    REQUIRE_MESSAGE(records.ok(), records.error().to_string());
    for (auto& r : *records) out.push_back(std::move(r));
  }
  REQUIRE_MESSAGE(it.status().ok(), it.status().error().to_string());
  REQUIRE(!it.truncated_tail());
  return out;
}

// Every record from `from` to the high watermark, reading in chunks of max_bytes.
inline std::vector<Record> read_all(engine::Log& log, Offset from = Offset(-1),
                                            size_t max_bytes = 1 << 20) {
  if (from.value < 0) from = log.log_start_offset();
  std::vector<Record> out;
  Offset end = log.high_watermark();
  while (from < end) {
    auto r = log.read(from, max_bytes);
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    if (r->records.empty()) break;
    for (auto& rec : decode_all(r->records)) {
      if (rec.offset >= from) out.push_back(std::move(rec));
    }
    REQUIRE(r->next_offset > from);
    from = r->next_offset;
  }
  return out;
}

inline std::vector<std::string> values_of(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.value.value_or("<null>"));
  return out;
}

inline std::vector<int64_t> offsets_of(const std::vector<Record>& records) {
  std::vector<int64_t> out;
  for (const auto& r : records) out.push_back(r.offset.value);
  return out;
}

// A config with small segments and a dense index, so tests roll and index without much data.
inline engine::LogConfig small_config(int64_t segment_bytes = 1024, int64_t index_interval_bytes = 64) {
  engine::LogConfig c;
  c.segment_bytes = segment_bytes;
  c.index_interval_bytes = index_interval_bytes;
  c.retention_ms = -1;
  return c;
}

inline engine::LogOptions log_options(FileSystem* fs, Clock* clock, const std::string& dir,
                                      const engine::LogConfig& config) {
  engine::LogOptions o;
  o.dir = dir;
  o.tp = TopicPartition{"t", 0};
  o.config = config;
  o.fs = fs;
  o.clock = clock;
  return o;
}

inline std::unique_ptr<engine::Log> open_log(const engine::LogOptions& options) {
  auto log = engine::Log::open(options);
  REQUIRE_MESSAGE(log.ok(), log.error().to_string());
  return std::move(log).value();
}

inline engine::AppendResult append_values(engine::Log& log, const std::vector<std::string>& values) {
  std::vector<Record> records;
  for (const auto& v : values) records.push_back(make_record(std::nullopt, v));
  auto r = log.append(records, BatchBuildOptions{});
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

// Bytes of a whole file (REQUIREs success).
inline Bytes file_bytes(FileSystem& fs, const std::string& path) {
  auto b = read_file(fs, path);
  REQUIRE_MESSAGE(b.ok(), b.error().to_string());
  return std::move(b).value();
}

inline void write_bytes(FileSystem& fs, const std::string& path, ByteSpan bytes) {
  auto f = fs.open(path, OpenMode::kCreateTruncate);
  REQUIRE_MESSAGE(f.ok(), f.error().to_string());
  REQUIRE((*f)->write_at(0, bytes).ok());
  REQUIRE((*f)->close().ok());
}

inline std::string segment_path(const std::string& dir, int64_t base,
                                engine::SegmentFileKind kind = engine::SegmentFileKind::kLog) {
  return join_path(dir, engine::segment_file_name(Offset(base), kind));
}

}  // namespace streamctl::test
