#include "kafka/client/partitioner.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

using namespace streamctl::kafka::client;

TEST_CASE("Murmur2MatchesKafkaUtilsTestVectors") {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2
  CHECK(murmur2("21") == -973932308);
  CHECK(murmur2("foobar") == -790332482);
  CHECK(murmur2("a-little-bit-long-string") == -985981536);
  CHECK(murmur2("a-little-bit-longer-string") == -1486304829);
  CHECK(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  CHECK(murmur2(std::string_view("abc", 3)) == 479470107);
}

TEST_CASE("Murmur2HandlesBytesAbove127AsUnsigned") {
  // Java masks each byte with 0xff; a signed-char implementation would differ on these.
  std::string high = "\xff\xfe\x80\x81\x7f";
  std::string low = "\x7f\x7e\x00\x01\x7f";
  CHECK(murmur2(high) != murmur2(low));
  CHECK(murmur2(high) == murmur2(std::string("\xff\xfe\x80\x81\x7f")));
}

TEST_CASE("KeyedRecordsUseToPositiveMurmur2ModuloPartitions") {
  // toPositive(-973932308) = 1173551340; % 3 = 0, % 10 = 0, % 7 = 1173551340 % 7.
  CHECK(to_positive(-973932308) == 1173551340);
  CHECK(partition_for_key("21", 3) == 1173551340 % 3);
  CHECK(partition_for_key("21", 7) == 1173551340 % 7);
  CHECK(partition_for_key("foobar", 1) == 0);
  // Empty (non-null) keys are hashed, not sticky.
  CHECK(partition_for_key("", 5) == to_positive(murmur2("")) % 5);
}

TEST_CASE("StickyPartitionerStaysOnOnePartitionUntilBatchSizeThenSwitches") {
  StickyPartitioner p(4, 100, 42);
  auto first = p.partition(std::nullopt, 30);
  CHECK(p.partition(std::nullopt, 30) == first);
  CHECK(p.partition(std::nullopt, 30) == first);
  CHECK(p.partition(std::nullopt, 30) == first);  // 90 bytes so far: still below 100 before this one
  auto next = p.partition(std::nullopt, 30);      // 120 >= 100: switch
  CHECK(next != first);
  CHECK(next >= 0);
  CHECK(next < 4);
}

TEST_CASE("StickyPartitionerKeyedRecordsDoNotMoveTheStickyPartition") {
  StickyPartitioner p(8, 1000, 7);
  auto sticky = p.partition(std::nullopt, 10);
  for (int i = 0; i < 50; ++i) {
    std::string key = "key-" + std::to_string(i);
    CHECK(p.partition(std::string_view(key), 10) == partition_for_key(key, 8));
  }
  CHECK(p.partition(std::nullopt, 10) == sticky);
}

TEST_CASE("StickyPartitionerSpreadsNullKeysOverEveryPartitionOverTime") {
  StickyPartitioner p(5, 16, 1234);
  std::map<int, int> seen;
  for (int i = 0; i < 5000; ++i) seen[p.partition(std::nullopt, 8)]++;
  CHECK(seen.size() == 5);
  for (auto& [part, count] : seen) {
    CHECK(count > 500);  // uniform-ish: 1000 expected each
  }
}

TEST_CASE("StickyPartitionerWithOnePartitionAlwaysReturnsZero") {
  StickyPartitioner p(1, 1, 9);
  for (int i = 0; i < 10; ++i) CHECK(p.partition(std::nullopt, 100) == 0);
}
