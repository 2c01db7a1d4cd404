// The leader-epoch cache of a partition log and its `leader-epoch-checkpoint` file: the format, the cache's
// OffsetsForLeaderEpoch answers, how the Log learns and trims epochs, truncate_fully_and_start_at, and that
// after a crash at any point (or with a missing, garbled or wrong file) the epochs match the log exactly.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/fault_fs.h"
#include "base/mem_fs.h"
#include "engine/file_names.h"
#include "engine/leader_epoch_checkpoint.h"
#include "engine/log.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/manual_clock.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

constexpr const char* kDir = "/data/t-0";

std::string epochs_file(const std::string& dir = kDir) {
  return join_path(dir, std::string(kLeaderEpochCheckpointFileName));
}

std::string text_of(FileSystem& fs, const std::string& path) {
  Bytes b = file_bytes(fs, path);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

void write_text(FileSystem& fs, const std::string& path, const std::string& text) { write_bytes(fs, path, as_byte_span(text)); }

AppendResult append_in_epoch(Log& log, LeaderEpoch epoch, int records, const std::string& prefix = "v") {
  BatchBuildOptions o;
  o.leader_epoch = epoch;
  auto r = log.append(make_records(records, prefix), o);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

// The epochs the log's batches define (Kafka's assign rule), read from the batches themselves.
std::vector<EpochEntry> epochs_in_batches(Log& log) {
  LeaderEpochCache cache;
  Offset from = log.log_start_offset();
  const Offset end = log.log_end_offset();
  while (from < end) {
    auto r = log.read_up_to(from, 1 << 20, end);
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    if (r->records.empty()) break;  // only empty segments up to the end (a restart at a later offset)
    BatchIterator it(r->records);
    while (it.next()) cache.assign(it.header().leader_epoch, it.header().base_offset);
    REQUIRE(r->next_offset > from);
    from = r->next_offset;
  }
  cache.truncate_from_start(log.log_start_offset());
  return cache.entries();
}

std::vector<EpochEntry> entries(std::initializer_list<std::pair<int32_t, int64_t>> list) {
  std::vector<EpochEntry> out;
  for (auto [e, o] : list) out.push_back(EpochEntry{e, Offset(o)});
  return out;
}

}  // namespace

TEST_CASE("the checkpoint file is Kafka's text format and round-trips") {
  auto e = entries({{1, 0}, {3, 17}, {4, 100}});
  CHECK(encode_leader_epoch_checkpoint(e) == "0\n3\n1 0\n3 17\n4 100\n");
  CHECK(encode_leader_epoch_checkpoint({}) == "0\n0\n");
  auto back = decode_leader_epoch_checkpoint("0\n3\n1 0\n3 17\n4 100\n");
  REQUIRE(back.ok());
  CHECK(*back == e);
  MemFileSystem fs;
  REQUIRE(fs.create_dirs(kDir).ok());
  REQUIRE(write_leader_epoch_checkpoint(fs, epochs_file(), e).ok());
  CHECK(text_of(fs, epochs_file()) == "0\n3\n1 0\n3 17\n4 100\n");
  auto read = read_leader_epoch_checkpoint(fs, epochs_file());
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK(**read == e);
  auto missing = read_leader_epoch_checkpoint(fs, join_path(kDir, "nope"));
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("a garbled checkpoint file is a corruption error naming what is wrong") {
  for (const char* bad : {"", "1\n0\n", "0\n", "0\n2\n1 0\n", "0\n1\n1 0", "0\n1\n1 0\nextra\n", "0\n1\n1\n",
                          "0\n1\n-1 0\n", "0\n2\n3 0\n2 5\n", "0\n2\n1 9\n2 5\n", "0\n1\n1 x\n", "0\nz\n"}) {
    CAPTURE(bad);
    auto r = decode_leader_epoch_checkpoint(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kCorruption);
    CHECK(r.error().message.find("leader-epoch-checkpoint") != std::string::npos);
  }
}

TEST_CASE("the cache answers OffsetsForLeaderEpoch and trims on truncation at either end") {
  LeaderEpochCache c;
  CHECK(c.end_offset_for(5, Offset(10)) == EpochEndOffset{});
  CHECK(c.assign(1, Offset(0)));
  CHECK_FALSE(c.assign(1, Offset(5)));   // same epoch: already known
  CHECK_FALSE(c.assign(-1, Offset(6)));  // no epoch
  CHECK(c.assign(3, Offset(10)));
  CHECK_FALSE(c.assign(2, Offset(12)));  // older than the last: ignored (Kafka's assign)
  CHECK(c.assign(4, Offset(20)));
  CHECK(c.end_offset_for(0, Offset(30)) == EpochEndOffset{});
  CHECK(c.end_offset_for(1, Offset(30)) == EpochEndOffset{1, Offset(10)});
  CHECK(c.end_offset_for(2, Offset(30)) == EpochEndOffset{1, Offset(10)});  // largest epoch <= 2
  CHECK(c.end_offset_for(3, Offset(30)) == EpochEndOffset{3, Offset(20)});
  CHECK(c.end_offset_for(4, Offset(30)) == EpochEndOffset{4, Offset(30)});
  CHECK(c.end_offset_for(9, Offset(30)) == EpochEndOffset{4, Offset(30)});
  CHECK(c.truncate_from_end(Offset(20)));
  CHECK(c.entries() == entries({{1, 0}, {3, 10}}));
  CHECK(c.truncate_from_start(Offset(12)));
  CHECK(c.entries() == entries({{3, 12}}));
  CHECK_FALSE(c.truncate_from_start(Offset(12)));
  CHECK(c.clear());
  CHECK(c.last_epoch() == kNoLeaderEpoch);
}

TEST_CASE("the log learns epochs from appended batches and keeps them across a restart") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/400);
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    CHECK(log->leader_epochs().empty());
    append_values(*log, {"no-epoch"});  // single-node appends carry no epoch
    append_in_epoch(*log, 1, 3);
    append_in_epoch(*log, 1, 2);
    Bytes client = make_batch(make_records(4, "c"));
    auto r = log->append_batches(client, 3);
    REQUIRE(r.ok());
    append_in_epoch(*log, 5, 1);
    CHECK(log->leader_epochs() == entries({{1, 1}, {3, 6}, {5, 10}}));
    CHECK(log->end_offset_for_epoch(0) == EpochEndOffset{});
    CHECK(log->end_offset_for_epoch(1) == EpochEndOffset{1, Offset(6)});
    CHECK(log->end_offset_for_epoch(4) == EpochEndOffset{3, Offset(10)});
    CHECK(log->end_offset_for_epoch(5) == EpochEndOffset{5, Offset(11)});
    REQUIRE(log->flush().ok());
    CHECK(text_of(fs, epochs_file()) == "0\n3\n1 1\n3 6\n5 10\n");
    CHECK(log->segments().size() > 1);
  }
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->leader_epochs() == entries({{1, 1}, {3, 6}, {5, 10}}));
  CHECK(log->recovery_report().detail.empty());
  CHECK(log->leader_epochs() == epochs_in_batches(*log));
}

TEST_CASE("truncation drops the epochs of the removed tail, durably, and new epochs follow") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = open_log(log_options(&fs, &clock, kDir, small_config(300)));
  append_in_epoch(*log, 1, 2);
  append_in_epoch(*log, 2, 2);
  append_in_epoch(*log, 4, 2);
  REQUIRE(log->flush().ok());
  REQUIRE(log->truncate_to(Offset(4)).ok());
  CHECK(log->leader_epochs() == entries({{1, 0}, {2, 2}}));
  CHECK(text_of(fs, epochs_file()) == "0\n2\n1 0\n2 2\n");  // written by the truncation itself
  REQUIRE(log->truncate_to(Offset(3)).ok() == false);     // mid-batch: refused, nothing changes
  CHECK(log->leader_epochs() == entries({{1, 0}, {2, 2}}));
  append_in_epoch(*log, 5, 1);
  CHECK(log->leader_epochs() == entries({{1, 0}, {2, 2}, {5, 4}}));
  CHECK(log->end_offset_for_epoch(4) == EpochEndOffset{2, Offset(4)});
  REQUIRE(log->truncate_to(Offset(2)).ok());
  CHECK(log->leader_epochs() == entries({{1, 0}}));
  CHECK(log->end_offset_for_epoch(7) == EpochEndOffset{1, Offset(2)});
}

TEST_CASE("deleting the log's prefix moves the first epoch up to the new log start") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/200);
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int i = 0; i < 6; ++i) append_in_epoch(*log, 1, 1, std::string(60, 'a'));
    for (int i = 0; i < 6; ++i) append_in_epoch(*log, 2, 1, std::string(60, 'b'));
    REQUIRE(log->delete_records_before(Offset(3)).ok());
    CHECK(log->leader_epochs() == entries({{1, 3}, {2, 6}}));
    REQUIRE(log->delete_records_before(Offset(8)).ok());
    CHECK(log->leader_epochs() == entries({{2, 8}}));
    CHECK(log->end_offset_for_epoch(1) == EpochEndOffset{});
    REQUIRE(log->flush().ok());
  }
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->log_start_offset() == Offset(8));
  CHECK(log->leader_epochs() == entries({{2, 8}}));
  CHECK(log->recovery_report().detail.empty());
}

TEST_CASE("truncate_fully_and_start_at empties the log and restarts it anywhere, epochs cleared") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/200);
  for (int64_t target : {int64_t(0), int64_t(3), int64_t(7), int64_t(12), int64_t(500)}) {
    CAPTURE(target);
    std::string dir = "/data/full-" + std::to_string(target);
    {
      auto log = open_log(log_options(&fs, &clock, dir, config));
      for (int i = 0; i < 4; ++i) append_in_epoch(*log, 1, 1, std::string(60, 'a'));
      for (int i = 0; i < 4; ++i) append_in_epoch(*log, 2, 1, std::string(60, 'b'));
      REQUIRE(log->delete_records_before(Offset(2)).ok());
      REQUIRE(log->truncate_fully_and_start_at(Offset(target)).ok());
      CHECK(log->log_start_offset() == Offset(target));
      CHECK(log->log_end_offset() == Offset(target));
      CHECK(log->leader_epochs().empty());
      CHECK(read_all(*log).empty());
      CHECK(append_in_epoch(*log, 3, 2).base_offset == Offset(target));
      CHECK(log->leader_epochs() == entries({{3, target}}));
    }
    auto log = open_log(log_options(&fs, &clock, dir, config));
    CHECK(log->log_start_offset() == Offset(target));
    CHECK(log->log_end_offset() == Offset(target + 2));
    CHECK(log->leader_epochs() == entries({{3, target}}));
    CHECK(values_of(read_all(*log)) == std::vector<std::string>{"v0", "v1"});
  }
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->truncate_fully_and_start_at(Offset(-1)).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("a missing, garbled or wrong checkpoint file is rebuilt from the log, never trusted blindly") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/300);
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    append_in_epoch(*log, 1, 2);
    append_in_epoch(*log, 2, 3);
    append_in_epoch(*log, 3, 1);
    append_in_epoch(*log, 3, 4);
    append_in_epoch(*log, 6, 2);
    REQUIRE(log->flush().ok());
  }
  const auto truth = entries({{1, 0}, {2, 2}, {3, 5}, {6, 10}});
  struct Case {
    const char* what;
    std::optional<std::string> text;  // nullopt: the file is removed
    bool reported;
  };
  for (const Case& c : {Case{"missing", std::nullopt, false},
                        Case{"garbage", std::string("\x01\x02garbage"), true},
                        Case{"torn", std::string("0\n4\n1 0\n2 2\n3 5\n6 1"), true},
                        Case{"an epoch missing", std::string("0\n3\n1 0\n2 2\n6 10\n"), true},
                        Case{"a wrong start offset", std::string("0\n4\n1 0\n2 2\n3 6\n6 10\n"), true},
                        Case{"a wrong epoch", std::string("0\n4\n1 0\n2 2\n4 5\n6 10\n"), true},
                        Case{"the last epoch missing", std::string("0\n3\n1 0\n2 2\n3 5\n"), true},
                        Case{"empty", std::string("0\n0\n"), true},
                        Case{"an extra epoch", std::string("0\n5\n1 0\n2 2\n3 5\n6 10\n7 11\n"), true}}) {
    CAPTURE(c.what);
    if (c.text) {
      write_text(fs, epochs_file(), *c.text);
    } else {
      REQUIRE(fs.remove_file(epochs_file()).ok());
    }
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    CHECK(log->leader_epochs() == truth);
    CHECK(log->end_offset_for_epoch(3) == EpochEndOffset{3, Offset(10)});
    CHECK(text_of(fs, epochs_file()) == encode_leader_epoch_checkpoint(truth));  // written back
    if (c.reported) CHECK(log->recovery_report().detail.find("rebuilt the leader epochs") != std::string::npos);
  }
}

TEST_CASE("after a crash at every step of a replication workload the epochs match the log exactly") {
  // Appends in rising epochs, flushes, tail truncations, prefix deletion and truncate_fully_and_start_at; the
  // file system dies after n operations (n = 0, 1, 2, ... until the workload completes), power is lost, and the
  // reopened log's epochs must be exactly what its batches say.
  LogConfig config = small_config(/*segment_bytes=*/250);
  auto workload = [&](Log& log) -> Status {
    auto append = [&](LeaderEpoch epoch, int n) -> Status {
      BatchBuildOptions o;
      o.leader_epoch = epoch;
      for (int i = 0; i < n; ++i) {
        auto r = log.append(make_records(1, std::string(40, char('a' + epoch))), o);
        if (!r.ok()) return std::move(r).error();
      }
      return ok_status();
    };
    STREAMCTL_TRY(append(1, 3));
    STREAMCTL_TRY(log.flush());
    STREAMCTL_TRY(append(2, 4));
    STREAMCTL_TRY(log.truncate_to(Offset(5)));
    STREAMCTL_TRY(append(3, 3));
    STREAMCTL_TRY(log.flush());
    STREAMCTL_TRY(append(4, 2));
    STREAMCTL_TRY(log.delete_records_before(Offset(4)));
    STREAMCTL_TRY(log.flush());
    STREAMCTL_TRY(log.truncate_to(Offset(7)));
    STREAMCTL_TRY(append(6, 2));
    STREAMCTL_TRY(log.truncate_fully_and_start_at(Offset(20)));
    STREAMCTL_TRY(append(7, 2));
    STREAMCTL_TRY(log.flush());
    STREAMCTL_TRY(log.truncate_fully_and_start_at(Offset(21)));
    STREAMCTL_TRY(append(8, 1));
    return log.flush();
  };
  bool completed = false;
  int reopened_with_epochs = 0;
  for (uint64_t n = 0; !completed && n < 2000; ++n) {
    CAPTURE(n);
    MemFileSystem mem;
    FaultInjectionFileSystem fs(&mem);
    ManualClock clock;
    {
      auto opened = Log::open(log_options(&fs, &clock, kDir, config));
      if (opened.ok()) {
        std::unique_ptr<Log> log = std::move(opened).value();
        fs.deactivate_after(n, FsOp::kAll);
        completed = workload(*log).ok();
      }
      fs.set_active(false);
    }
    REQUIRE(fs.crash().ok());
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    CHECK(log->leader_epochs() == epochs_in_batches(*log));
    if (!log->leader_epochs().empty()) ++reopened_with_epochs;
    // The file written back by open agrees, and the next open trusts it without a rebuild.
    const std::string state = "file " + text_of(fs, epochs_file()) + "start " +
                              std::to_string(log->log_start_offset().value) + " end " +
                              std::to_string(log->log_end_offset().value);
    CAPTURE(state);
    log.reset();
    auto again = open_log(log_options(&fs, &clock, kDir, config));
    CHECK(again->leader_epochs() == epochs_in_batches(*again));
    CHECK_MESSAGE(again->recovery_report().detail.find("rebuilt the leader epochs") == std::string::npos,
                  again->recovery_report().detail);
  }
  CHECK(completed);
  CHECK(reopened_with_epochs > 10);
}
