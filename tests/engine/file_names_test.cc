#include "engine/file_names.h"

#include <doctest/doctest.h>

#include <limits>

using namespace streamctl;
using namespace streamctl::engine;

TEST_CASE("SegmentFileNamesAreTwentyDigitZeroPaddedBaseOffsets") {
  CHECK(offset_file_stem(Offset(0)) == "00000000000000000000");
  CHECK(log_file_name(Offset(42)) == "00000000000000000042.log");
  CHECK(offset_index_file_name(Offset(42)) == "00000000000000000042.index");
  CHECK(time_index_file_name(Offset(42)) == "00000000000000000042.timeindex");
  CHECK(log_file_name(Offset(std::numeric_limits<int64_t>::max())) == "09223372036854775807.log");
  CHECK(segment_file_name(Offset(7), SegmentFileKind::kLog, StagingSuffix::kSwap) == "00000000000000000007.log.swap");
  CHECK(segment_file_name(Offset(7), SegmentFileKind::kOffsetIndex, StagingSuffix::kCleaned) ==
        "00000000000000000007.index.cleaned");
  CHECK(segment_file_name(Offset(7), SegmentFileKind::kTimeIndex, StagingSuffix::kDeleted) ==
        "00000000000000000007.timeindex.deleted");
}

TEST_CASE("SegmentFileNamesParseBackToTheirParts") {
  for (int64_t base : {int64_t{0}, int64_t{1}, int64_t{123456789}, std::numeric_limits<int64_t>::max()}) {
    for (auto kind : {SegmentFileKind::kLog, SegmentFileKind::kOffsetIndex, SegmentFileKind::kTimeIndex}) {
      for (auto staging : {StagingSuffix::kNone, StagingSuffix::kCleaned, StagingSuffix::kSwap, StagingSuffix::kDeleted}) {
        auto parsed = parse_segment_file_name(segment_file_name(Offset(base), kind, staging));
        REQUIRE(parsed.has_value());
        CHECK(parsed->base_offset == Offset(base));
        CHECK(parsed->kind == kind);
        CHECK(parsed->staging == staging);
      }
    }
  }
}

TEST_CASE("NamesThatAreNotSegmentFilesDoNotParse") {
  for (const char* name : {"", ".lock", "recovery-checkpoint", "log-start-offset", "0000000000000000042.log",
                           "000000000000000000042.log", "0000000000000000004x.log", "00000000000000000042.txt",
                           "00000000000000000042.log.tmp", "00000000000000000042.log.swap.deleted",
                           "00000000000000000042", "00000000000000000042.", "00000000000000000042.indexx",
                           "99999999999999999999.log", "00000000000000000042.snapshot"}) {
    CAPTURE(name);
    CHECK_FALSE(parse_segment_file_name(name).has_value());
  }
}

TEST_CASE("PartitionDirectoryNamesSplitAtTheLastDash") {
  CHECK(partition_dir_name(TopicPartition{"orders", 3}) == "orders-3");
  auto simple = parse_partition_dir_name("orders-3");
  REQUIRE(simple.ok());
  CHECK(simple->topic == "orders");
  CHECK(simple->partition == 3);
  auto dashed = parse_partition_dir_name("my-topic-name-12");
  REQUIRE(dashed.ok());
  CHECK(dashed->topic == "my-topic-name");
  CHECK(dashed->partition == 12);
  auto trailing = parse_partition_dir_name("a--0");
  REQUIRE(trailing.ok());
  CHECK(trailing->topic == "a-");
  CHECK(trailing->partition == 0);
  TopicPartition tp{"x.y_z-w", 2147483647};
  auto round = parse_partition_dir_name(partition_dir_name(tp));
  REQUIRE(round.ok());
  CHECK(*round == tp);
}

TEST_CASE("MalformedPartitionDirectoryNamesAreRejectedWithTheName") {
  for (const char* name : {"orders", "-3", "orders-", "orders-x", "orders-03", "orders-2147483648",
                           "orders-+1", "orders-1 "}) {
    CAPTURE(name);
    auto r = parse_partition_dir_name(name);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    CHECK(r.error().message.find(std::string("'") + name + "'") != std::string::npos);
  }
}
