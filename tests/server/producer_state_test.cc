// ProducerStateManager: idempotent sequence checks, duplicate answers, epochs, id allocation, rebuild.
#include <doctest/doctest.h>

#include <set>

#include "server/producer_state.h"
#include "base/mem_fs.h"

namespace streamctl::server {
namespace {

const TopicPartition kTp{"t", 0};

ProducerBatch batch(int64_t pid, int16_t epoch, int32_t first, int32_t count) {
  ProducerBatch b;
  b.producer_id = pid;
  b.producer_epoch = epoch;
  b.first_sequence = first;
  RecordBatchHeader h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = first;
  h.last_offset_delta = count - 1;
  b.last_sequence = ProducerBatch::from_header(h).last_sequence;
  return b;
}

// A fake log: appends assign consecutive offsets.
struct FakeLog {
  int64_t next = 0;
  int appends = 0;
  ProducerStateManager::AppendFn append(int32_t count) {
    return [this, count]() -> Result<BatchPlacement> {
      BatchPlacement p;
      p.base_offset = Offset(next);
      p.last_offset = Offset(next + count - 1);
      next += count;
      ++appends;
      return p;
    };
  }
};

struct Fixture {
  MemFileSystem fs;
  ProducerStateManager::TailLoader loader;
  std::unique_ptr<ProducerStateManager> psm;
  FakeLog log;
  Fixture() {
    REQUIRE(fs.create_dirs("/data/__meta").ok());
    psm = std::make_unique<ProducerStateManager>(fs, "/data/__meta", nullptr);
  }
  IdempotentAppendResult send(const ProducerBatch& b, int32_t count) { return psm->append(kTp, b, log.append(count), 0); }
};

TEST_CASE("InSequenceBatchesAreAppendedAndARetryIsAnsweredWithTheOriginalOffsets") {
  Fixture f;
  auto r1 = f.send(batch(7, 0, 0, 10), 10);
  CHECK(r1.outcome == SequenceOutcome::kAppended);
  CHECK(r1.placement.base_offset.value == 0);
  auto r2 = f.send(batch(7, 0, 10, 5), 5);
  CHECK(r2.outcome == SequenceOutcome::kAppended);
  CHECK(r2.placement.base_offset.value == 10);
  auto dup = f.send(batch(7, 0, 0, 10), 10);
  CHECK(dup.outcome == SequenceOutcome::kDuplicate);
  CHECK(dup.placement.base_offset.value == 0);
  CHECK(dup.placement.last_offset.value == 9);
  CHECK(f.log.appends == 2);
  CHECK(f.log.next == 15);
}

TEST_CASE("AGapInSequencesIsOutOfOrder") {
  Fixture f;
  REQUIRE(f.send(batch(1, 0, 0, 3), 3).outcome == SequenceOutcome::kAppended);
  CHECK(f.send(batch(1, 0, 5, 1), 1).outcome == SequenceOutcome::kOutOfOrder);
  CHECK(f.send(batch(1, 0, 2, 2), 2).outcome == SequenceOutcome::kOutOfOrder);  // overlaps, not a cached batch
  CHECK(f.log.appends == 1);
}

TEST_CASE("OnlyTheLastFiveBatchesAreRecognisedAsDuplicates") {
  Fixture f;
  for (int i = 0; i < 6; ++i) REQUIRE(f.send(batch(1, 0, i, 1), 1).outcome == SequenceOutcome::kAppended);
  CHECK(f.send(batch(1, 0, 1, 1), 1).outcome == SequenceOutcome::kDuplicate);
  CHECK(f.send(batch(1, 0, 0, 1), 1).outcome == SequenceOutcome::kOutOfOrder);
}

TEST_CASE("EpochsFenceOldProducersAndANewEpochStartsAtSequenceZero") {
  Fixture f;
  REQUIRE(f.send(batch(1, 3, 0, 2), 2).outcome == SequenceOutcome::kAppended);
  CHECK(f.send(batch(1, 2, 2, 1), 1).outcome == SequenceOutcome::kInvalidEpoch);
  CHECK(f.send(batch(1, 4, 5, 1), 1).outcome == SequenceOutcome::kOutOfOrder);
  CHECK(f.send(batch(1, 4, 0, 1), 1).outcome == SequenceOutcome::kAppended);
  CHECK(f.send(batch(1, 4, 1, 1), 1).outcome == SequenceOutcome::kAppended);
}

TEST_CASE("SequenceNumbersWrapFromInt32MaxToZero") {
  Fixture f;
  REQUIRE(f.send(batch(1, 0, 2147483646, 2), 2).outcome == SequenceOutcome::kAppended);
  CHECK(f.send(batch(1, 0, 0, 1), 1).outcome == SequenceOutcome::kAppended);
}

TEST_CASE("ProducersAreIndependentPerPartitionAndPerId") {
  Fixture f;
  REQUIRE(f.send(batch(1, 0, 0, 1), 1).outcome == SequenceOutcome::kAppended);
  REQUIRE(f.send(batch(2, 0, 0, 1), 1).outcome == SequenceOutcome::kAppended);
  auto other = f.psm->append({"t", 1}, batch(1, 0, 0, 1), f.log.append(1), 0);
  CHECK(other.outcome == SequenceOutcome::kAppended);
  CHECK(f.psm->entry_count() == 3);
}

TEST_CASE("AFailedAppendRecordsNothing") {
  Fixture f;
  auto r = f.psm->append(kTp, batch(1, 0, 0, 1),
                         []() -> Result<BatchPlacement> { return Error::no_space("disk full"); }, 0);
  CHECK(r.outcome == SequenceOutcome::kAppendFailed);
  CHECK(r.error.code == streamctl::ErrorCode::kNoSpace);
  // The retry is a new batch, not a duplicate.
  CHECK(f.send(batch(1, 0, 0, 1), 1).outcome == SequenceOutcome::kAppended);
}

TEST_CASE("ProducerIdsAreNeverHandedOutTwiceAcrossRestarts") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").ok());
  std::set<int64_t> seen;
  for (int restart = 0; restart < 3; ++restart) {
    ProducerStateManager psm(fs, "/d", nullptr);
    for (int i = 0; i < 1500; ++i) {
      auto id = psm.init_producer_id();
      REQUIRE(id.ok());
      CHECK(id->producer_epoch == 0);
      CHECK(seen.insert(id->producer_id).second);
    }
  }
  CHECK(seen.size() == 4500);
}

TEST_CASE("StateIsRebuiltFromTheLogTailSoRetriesAfterARestartAreNotDuplicated") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").ok());
  int loads = 0;
  auto loader = [&loads](const TopicPartition& tp) -> Result<std::vector<RecordBatchHeader>> {
    ++loads;
    std::vector<RecordBatchHeader> out;
    if (tp.partition != 0) return out;
    for (int i = 0; i < 3; ++i) {
      RecordBatchHeader h;
      h.base_offset = Offset(100 + 10 * i);
      h.last_offset_delta = 9;
      h.producer_id = 9;
      h.producer_epoch = 1;
      h.base_sequence = 10 * i;
      out.push_back(h);
    }
    return out;
  };
  ProducerStateManager psm(fs, "/d", loader);
  FakeLog log;
  log.next = 130;
  auto dup = psm.append(kTp, batch(9, 1, 20, 10), log.append(10), 0);
  CHECK(dup.outcome == SequenceOutcome::kDuplicate);
  CHECK(dup.placement.base_offset.value == 120);
  CHECK(psm.append(kTp, batch(9, 1, 40, 1), log.append(1), 0).outcome == SequenceOutcome::kOutOfOrder);
  CHECK(psm.append(kTp, batch(9, 1, 30, 1), log.append(1), 0).outcome == SequenceOutcome::kAppended);
  CHECK(loads == 1);  // once per partition
}

TEST_CASE("IdleProducersExpireAndDeletedTopicsAreForgotten") {
  Fixture f;
  REQUIRE(f.psm->append(kTp, batch(1, 0, 0, 1), f.log.append(1), 1000).outcome == SequenceOutcome::kAppended);
  REQUIRE(f.psm->append(kTp, batch(2, 0, 0, 1), f.log.append(1), 5000).outcome == SequenceOutcome::kAppended);
  CHECK(f.psm->expire(6000, 2000) == 1);
  CHECK(f.psm->entry_count() == 1);
  f.psm->remove_topic("t");
  CHECK(f.psm->entry_count() == 0);
}

}  // namespace
}  // namespace streamctl::server
