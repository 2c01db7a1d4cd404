// Group-mode and state-file consume (cli/group_consume.h) in process: resume where the last run stopped,
// commit only what the sink really delivered, share partitions, refuse bad option mixes.
#include "cli/group_consume.h"

#include <set>

#include <doctest/doctest.h>

#include "engine/group_store.h"
#include "engine/log_manager.h"
#include "tests/support/temp_dir.h"

using streamctl::cli::ConsumeStats;
using streamctl::cli::GlobalOptions;
using streamctl::cli::GroupConsumeOptions;
using streamctl::cli::RecordSink;
using streamctl::cli::RecordView;
using streamctl::ErrorCode;
using streamctl::Offset;
using streamctl::Record;
using streamctl::Status;
using streamctl::TopicPartition;

namespace {

// Collects values. Optionally stops taking records after `accept_limit` writes (write() returns false, as
// FdSink does on EPIPE), or reports itself closed from the flush after `flushes_before_close` flushes
// (as FdSink does when the buffered write fails at flush time).
class VectorSink final : public RecordSink {
 public:
  bool write(const RecordView& r) override {
    if (closed_) return false;
    if (accept_limit_ >= 0 && int64_t(pending_.size() + delivered_.size()) >= accept_limit_) {
      closed_ = true;
      pending_.clear();  // FdSink drops what it could not write
      return false;
    }
    pending_.push_back(std::string(r.value.value_or("")));
    return true;
  }
  Status flush() override {
    if (closed_) return streamctl::ok_status();
    if (flushes_before_close_ >= 0 && flushes_ >= flushes_before_close_) {
      closed_ = true;
      pending_.clear();
      return streamctl::ok_status();
    }
    ++flushes_;
    delivered_.insert(delivered_.end(), pending_.begin(), pending_.end());
    pending_.clear();
    return streamctl::ok_status();
  }
  bool closed() const override { return closed_; }

  std::vector<std::string> delivered_;
  int64_t accept_limit_ = -1;
  int flushes_before_close_ = -1;

 private:
  std::vector<std::string> pending_;
  bool closed_ = false;
  int flushes_ = 0;
};

constexpr std::string_view kTopic = "t";

struct Fixture {
  streamctl::test::TempDir dir{"streamctl-group-consume"};
  std::unique_ptr<streamctl::engine::LogManager> lm;
  GlobalOptions global;

  Fixture() {
    global.verbosity = -1;
    streamctl::engine::LogManagerOptions o;
    o.data_dir = dir.path();
    auto opened = streamctl::engine::LogManager::open(o);
    REQUIRE_MESSAGE(opened.ok(), opened.error().to_string());
    lm = std::move(opened).value();
    REQUIRE(lm->create_topic("t", 2, {}).ok());
  }

  // Appends `count` records "p<partition>-<i>" (i from `first`) to a partition.
  void produce(int partition, int first, int count) {
    std::vector<Record> records;
    for (int i = first; i < first + count; ++i) {
      Record r;
      std::string value = "p";
      value += std::to_string(partition);
      value += '-';
      value += std::to_string(i);
      r.value = std::move(value);
      records.push_back(std::move(r));
    }
    auto log = lm->log("t", partition);
    REQUIRE(log.ok());
    auto appended = (*log)->append(records, streamctl::BatchBuildOptions{});
    REQUIRE_MESSAGE(appended.ok(), appended.error().to_string());
  }

  GroupConsumeOptions group_options(const std::string& group) {
    GroupConsumeOptions o;
    o.topic = std::string(kTopic);
    o.group = group;
    auto spec = streamctl::cli::parse_offset_spec("beginning", streamctl::Timestamp(0));
    REQUIRE(spec.ok());
    o.start = *spec;
    return o;
  }

  ConsumeStats run(const GroupConsumeOptions& o, RecordSink& sink) {
    auto stats = streamctl::cli::run_group_consume(*lm, global, o, sink);
    REQUIRE_MESSAGE(stats.ok(), stats.error().to_string());
    return *stats;
  }

  int64_t committed_total(const std::string& group) {
    auto offsets = lm->groups().fetch(group);
    REQUIRE(offsets.ok());
    int64_t total = 0;
    for (const auto& [tp, c] : *offsets) total += c.offset.value;
    return total;
  }
};

}  // namespace

TEST_CASE("GroupRunReadsEverythingThenOnlyWhatIsNew") {
  Fixture f;
  f.produce(0, 0, 30);
  f.produce(1, 0, 20);
  VectorSink first;
  auto s1 = f.run(f.group_options("g"), first);
  CHECK(s1.records_written == 50);
  CHECK(first.delivered_.size() == 50);
  CHECK(f.committed_total("g") == 50);

  f.produce(1, 20, 5);
  VectorSink second;
  f.run(f.group_options("g"), second);
  CHECK(second.delivered_ == std::vector<std::string>{"p1-20", "p1-21", "p1-22", "p1-23", "p1-24"});

  VectorSink third;
  auto s3 = f.run(f.group_options("g"), third);
  CHECK(s3.records_written == 0);
  CHECK(third.delivered_.empty());
}

TEST_CASE("CountLimitCommitsExactlyWhatWasWritten") {
  Fixture f;
  f.produce(0, 0, 40);
  auto o = f.group_options("g");
  o.consumer.max_records = 15;
  VectorSink a;
  auto s = f.run(o, a);
  CHECK(s.hit_limit);
  CHECK(a.delivered_.size() == 15);
  CHECK(f.committed_total("g") == 15);
  VectorSink b;
  f.run(f.group_options("g"), b);
  CHECK(b.delivered_.size() == 25);
  CHECK(b.delivered_.front() == "p0-15");
}

TEST_CASE("RecordsTheSinkDroppedAreNotCommitted") {
  Fixture f;
  f.produce(0, 0, 10);
  f.produce(1, 0, 10);
  // The output closes after 7 records were taken: the 7 were never flushed downstream, so nothing may be
  // committed past what an earlier flush delivered (here: nothing).
  VectorSink closing;
  closing.accept_limit_ = 7;
  auto s = f.run(f.group_options("g"), closing);
  CHECK(s.output_closed);
  CHECK(closing.delivered_.empty());
  CHECK(f.committed_total("g") == 0);
  // The next run delivers everything: nothing was lost.
  VectorSink next;
  f.run(f.group_options("g"), next);
  CHECK(next.delivered_.size() == 20);
}

TEST_CASE("AFlushThatFailsIsNotCommitted") {
  Fixture f;
  f.produce(0, 0, 10);
  VectorSink failing;
  failing.flushes_before_close_ = 0;  // the very first flush finds the output gone
  f.run(f.group_options("g"), failing);
  CHECK(failing.delivered_.empty());
  CHECK(f.committed_total("g") == 0);
}

TEST_CASE("NewGroupStartsAtTheStartPositionAndCommitsIt") {
  Fixture f;
  f.produce(0, 0, 10);
  auto o = f.group_options("late");
  auto spec = streamctl::cli::parse_offset_spec("-3", streamctl::Timestamp(0));
  REQUIRE(spec.ok());
  o.start = *spec;
  VectorSink sink;
  f.run(o, sink);
  CHECK(sink.delivered_ == std::vector<std::string>{"p0-7", "p0-8", "p0-9"});
  auto offsets = f.lm->groups().fetch("late");
  REQUIRE(offsets.ok());
  CHECK(offsets->at(TopicPartition{"t", 0}).offset == Offset(10));
  CHECK(offsets->at(TopicPartition{"t", 1}).offset == Offset(0));  // empty partition: start committed
}

TEST_CASE("StateFileModeReadsTheChosenPartitionsAndResumes") {
  Fixture f;
  f.produce(0, 0, 5);
  f.produce(1, 0, 5);
  auto o = f.group_options("");
  o.group.clear();
  o.state_file = f.dir.join("job.state");
  o.partitions = {1};
  VectorSink a;
  f.run(o, a);
  CHECK(a.delivered_.size() == 5);
  CHECK(a.delivered_.front() == "p1-0");
  f.produce(1, 5, 2);
  f.produce(0, 5, 2);
  VectorSink b;
  f.run(o, b);
  CHECK(b.delivered_ == std::vector<std::string>{"p1-5", "p1-6"});
  auto groups = f.lm->groups().list_groups();  // no group offsets were written
  REQUIRE(groups.ok());
  CHECK(groups->empty());
}

TEST_CASE("BadOptionMixesAreRefused") {
  Fixture f;
  auto both = f.group_options("g");
  both.state_file = f.dir.join("x.state");
  CHECK(streamctl::cli::validate_group_consume(both).error().code == ErrorCode::kInvalidArgument);
  auto neither = f.group_options("");
  CHECK(streamctl::cli::validate_group_consume(neither).error().code == ErrorCode::kInvalidArgument);
  auto partitions = f.group_options("g");
  partitions.partitions = {0};
  CHECK(streamctl::cli::validate_group_consume(partitions).error().code == ErrorCode::kInvalidArgument);
  auto range = f.group_options("g");
  auto spec = streamctl::cli::parse_offset_spec("0:10", streamctl::Timestamp(0));
  REQUIRE(spec.ok());
  range.start = *spec;
  CHECK(streamctl::cli::validate_group_consume(range).error().code == ErrorCode::kInvalidArgument);
  VectorSink sink;
  auto missing = f.group_options("g");
  missing.topic = "nope";
  auto r = streamctl::cli::run_group_consume(*f.lm, f.global, missing, sink);
  REQUIRE(!r.ok());
  CHECK(r.error().code == ErrorCode::kNotFound);
}

TEST_CASE("TwoSequentialMembersNeverReadARecordTwice") {
  Fixture f;
  f.produce(0, 0, 100);
  f.produce(1, 0, 100);
  std::set<std::string> seen;
  for (int run = 0; run < 4; ++run) {
    auto o = f.group_options("g");
    o.consumer.max_records = 60;
    VectorSink sink;
    f.run(o, sink);
    for (const auto& v : sink.delivered_) CHECK_MESSAGE(seen.insert(v).second, v);
  }
  CHECK(seen.size() == 200);
}
