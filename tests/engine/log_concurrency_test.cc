// Several processes on one partition directory: concurrent appenders (fork()), a reader following them with
// refresh(), a writer that died mid-append, and retention or truncation done by another process.
// "Another process" is a forked child where the OS matters (flock, page cache), else a second Log object on the
// same directory (each Log takes its own lock descriptor, so they exclude each other like processes do).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "base/clock.h"
#include "engine/file_names.h"
#include "engine/log.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

// Runs fn in a forked child and returns its pid. The child never returns into doctest: it _exit()s with
// fn's result (0 = success).
template <typename Fn>
pid_t spawn(Fn fn) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int rc = 1;
    rc = fn();
    ::_exit(rc);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// "p<writer>-<seq>" values, parsed back.
bool parse_value(const std::string& v, int* writer, int* seq) {
  return std::sscanf(v.c_str(), "p%d-%d", writer, seq) == 2;
}

LogConfig concurrency_config() {
  LogConfig c = small_config(/*segment_bytes=*/8192, /*index_interval_bytes=*/256);
  return c;
}

}  // namespace

TEST_CASE("SeveralProcessesAppendingAtOnceGetEveryRecordInExactlyOnceWithDenseOffsets") {
  TempDir tmp("streamctl-concurrency");
  const std::string dir = tmp.join("events-0");
  constexpr int kWriters = 4;
  constexpr int kRecords = 400;
  {
    auto log = open_log(log_options(posix_file_system(), system_clock(), dir, concurrency_config()));
  }
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    pids.push_back(spawn([&, w]() -> int {
      auto opened = Log::open(log_options(posix_file_system(), system_clock(), dir, concurrency_config()));
      if (!opened.ok()) return 2;
      std::unique_ptr<Log> log = std::move(opened).value();
      int seq = 0;
      int round = 0;
      while (seq < kRecords) {
        // Batches of 1..4 records, one append call each, like separate produce invocations.
        int n = std::min(kRecords - seq, 1 + (round++ + w) % 4);
        std::vector<Record> records;
        for (int k = 0; k < n; ++k) {
          records.push_back(make_record(std::nullopt, tag(tag("p", w, "-"), seq++)));
        }
        auto r = log->append(records, BatchBuildOptions{});
        if (!r.ok() || r->record_count != n) return 3;
        if (r->last_offset - r->base_offset != n - 1) return 4;
      }
      return log->close().ok() ? 0 : 5;
    }));
  }
  for (pid_t pid : pids) CHECK(wait_for(pid) == 0);

  auto log = open_log(log_options(posix_file_system(), system_clock(), dir, concurrency_config()));
  CHECK(log->recovery_report().dropped_bytes == 0);
  CHECK(log->log_end_offset() == Offset(kWriters * kRecords));
  auto all = read_all(*log);
  REQUIRE(all.size() == size_t(kWriters * kRecords));
  std::map<int, int> next_seq;
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].offset == Offset(int64_t(i)));
    int w = -1, seq = -1;
    REQUIRE(parse_value(*all[i].value, &w, &seq));
    CHECK(seq == next_seq[w]);  // every record once, in each writer's order
    next_seq[w] = seq + 1;
  }
  for (int w = 0; w < kWriters; ++w) CHECK(next_seq[w] == kRecords);
  CHECK(log->segments().size() > 2);  // the writers rolled segments under each other
}

TEST_CASE("AReaderProcessFollowingWithRefreshSeesEveryBatchOnceAndNeverATornOne") {
  TempDir tmp("streamctl-follow");
  const std::string dir = tmp.join("follow-0");
  constexpr int kRecords = 1500;
  {
    auto log = open_log(log_options(posix_file_system(), system_clock(), dir, concurrency_config()));
  }
  pid_t writer = spawn([&]() -> int {
    auto opened = Log::open(log_options(posix_file_system(), system_clock(), dir, concurrency_config()));
    if (!opened.ok()) return 2;
    std::unique_ptr<Log> log = std::move(opened).value();
    for (int i = 0; i < kRecords; i += 3) {
      std::vector<Record> records;
      for (int k = i; k < std::min(kRecords, i + 3); ++k) {
        records.push_back(make_record(std::nullopt, tag("p0-", k, std::string(size_t(k % 50), '#'))));
      }
      if (!log->append(records, BatchBuildOptions{}).ok()) return 3;
    }
    return log->close().ok() ? 0 : 4;
  });
  auto log = open_log(log_options(posix_file_system(), system_clock(), dir, concurrency_config()));
  Offset next(0);
  int expected = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (expected < kRecords && std::chrono::steady_clock::now() < deadline) {
    REQUIRE(log->refresh().ok());
    auto r = log->read(next, 4096);
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    if (r->records.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    for (const auto& rec : decode_all(r->records)) {  // decode_all REQUIREs whole, CRC-valid batches
      if (rec.offset < next) continue;
      REQUIRE(rec.offset == Offset(expected));
      int w = -1, seq = -1;
      REQUIRE(parse_value(*rec.value, &w, &seq));
      REQUIRE(seq == expected);
      ++expected;
    }
    next = r->next_offset;
  }
  CHECK(expected == kRecords);
  CHECK(wait_for(writer) == 0);
}

TEST_CASE("AWriterThatDiedMidAppendLeavesATornTailTheNextAppenderTruncates") {
  TempDir tmp("streamctl-torn");
  const std::string dir = tmp.join("torn-0");
  ManualClock clock;
  auto a = open_log(log_options(posix_file_system(), &clock, dir, small_config(1 << 20)));
  append_values(*a, {"one", "two"});
  // Another process wrote the first half of a batch and was killed.
  Bytes batch = make_batch(make_records(3, "ghost"));
  {
    auto f = posix_file_system()->open(segment_path(dir, 0), OpenMode::kReadWrite);
    REQUIRE(f.ok());
    REQUIRE((*f)->append(ByteSpan(batch.data(), batch.size() / 2)).ok());
  }
  // A reader never sees it...
  auto reader = open_log(log_options(posix_file_system(), &clock, dir, small_config(1 << 20)));
  CHECK(reader->log_end_offset() == Offset(2));  // open() took the lock and cut the torn tail already
  // ...and a writer that was open before it happened truncates it under the lock before appending.
  {
    auto f = posix_file_system()->open(segment_path(dir, 0), OpenMode::kReadWrite);
    REQUIRE(f.ok());
    REQUIRE((*f)->append(ByteSpan(batch.data(), batch.size() - 1)).ok());
  }
  REQUIRE(reader->refresh().ok());
  CHECK(reader->log_end_offset() == Offset(2));
  auto r = a->append(make_records(1, "three"), BatchBuildOptions{});
  REQUIRE(r.ok());
  CHECK(r->base_offset == Offset(2));
  CHECK(a->recovery_report().dropped_bytes == batch.size() - 1);
  REQUIRE(reader->refresh().ok());
  CHECK(values_of(read_all(*reader)) == std::vector<std::string>{"one", "two", "three0"});
}

TEST_CASE("AppendsFromTwoLogObjectsInterleaveWithoutReusingOffsets") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/300);
  auto a = open_log(log_options(&fs, &clock, "/d/t-0", config));
  auto b = open_log(log_options(&fs, &clock, "/d/t-0", config));
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    Log& log = (i % 3 == 0) ? *b : *a;
    auto r = log.append(make_records(2, tag("i", i, "-")), BatchBuildOptions{});
    REQUIRE(r.ok());
    CHECK(r->base_offset == Offset(2 * i));
    expected.push_back(tag("i", i, "-0"));
    expected.push_back(tag("i", i, "-1"));
  }
  REQUIRE(a->refresh().ok());
  REQUIRE(b->refresh().ok());
  CHECK(values_of(read_all(*a)) == expected);
  CHECK(values_of(read_all(*b)) == expected);
  CHECK(a->segments().size() == b->segments().size());
}

TEST_CASE("AReaderCopesWithSegmentsDeletedByRetentionInAnotherProcess") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/300);
  config.retention_bytes = 700;
  auto writer = open_log(log_options(&fs, &clock, "/d/t-0", config));
  for (int i = 0; i < 30; ++i) append_values(*writer, {tag("r", i)});
  auto reader = open_log(log_options(&fs, &clock, "/d/t-0", config));
  CHECK(read_all(*reader).size() == 30);
  auto deleted = writer->apply_retention();
  REQUIRE(deleted.ok());
  REQUIRE(*deleted > 0);
  // Without refresh the reader's old segments are gone underneath it: a read there is out of range or
  // still served from the descriptors it holds, never garbage.
  auto stale = reader->read(Offset(0), 1 << 20);
  if (stale.ok()) {
    CHECK(decode_all(stale->records).front().offset == Offset(0));
  } else {
    CHECK(stale.error().code == ErrorCode::kOffsetOutOfRange);
  }
  REQUIRE(reader->refresh().ok());
  CHECK(reader->log_start_offset() == writer->log_start_offset());
  CHECK(reader->log_start_offset() > Offset(0));
  CHECK(reader->read(Offset(0), 100).error().code == ErrorCode::kOffsetOutOfRange);
  auto rest = read_all(*reader);
  CHECK(rest.size() == size_t(30 - reader->log_start_offset().value));
  // And keeps following new appends in the new segments.
  for (int i = 30; i < 40; ++i) append_values(*writer, {tag("r", i)});
  REQUIRE(reader->refresh().ok());
  CHECK(reader->log_end_offset() == Offset(40));
  CHECK(read_all(*reader).back().value == "r39");
}

TEST_CASE("AWriterCatchesUpWithATruncationDoneByAnotherProcess") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/300);
  auto a = open_log(log_options(&fs, &clock, "/d/t-0", config));
  auto b = open_log(log_options(&fs, &clock, "/d/t-0", config));
  for (int i = 0; i < 20; ++i) append_values(*a, {tag("a", i)});
  REQUIRE(b->truncate_to(Offset(7)).ok());
  auto r = a->append(make_records(1, "after"), BatchBuildOptions{});
  REQUIRE(r.ok());
  CHECK(r->base_offset == Offset(7));
  auto all = read_all(*a);
  REQUIRE(all.size() == 8);
  CHECK(all.back().value == "after0");
}
