#include "engine/time_index.h"

#include <doctest/doctest.h>

#include "tests/engine/log_test_helpers.h"
#include "base/mem_fs.h"

using namespace streamctl;
using namespace streamctl::engine;
using streamctl::MemFileSystem;

namespace {

struct TimeIndexFixture {
  MemFileSystem fs;
  std::string path = "/p/00000000000000000100.timeindex";
  TimeIndexFixture() { REQUIRE(fs.create_dirs("/p").ok()); }
  TimeIndex make(size_t max_entries = 1000) { return TimeIndex(&fs, path, Offset(100), max_entries); }
};

}  // namespace

TEST_CASE("TimeIndexAddsAnEntryOnlyWhenTheTimestampExceedsTheLastOne") {
  TimeIndexFixture f;
  TimeIndex index = f.make();
  CHECK(index.maybe_append(Timestamp(1000), Offset(105)));
  CHECK_FALSE(index.maybe_append(Timestamp(1000), Offset(110)));  // not greater
  CHECK_FALSE(index.maybe_append(Timestamp(900), Offset(115)));   // older
  CHECK(index.maybe_append(Timestamp(1500), Offset(120)));
  CHECK_FALSE(index.maybe_append(Timestamp(2000), Offset(119)));  // offset going backwards
  CHECK_FALSE(index.maybe_append(kNoTimestamp, Offset(130)));
  CHECK(index.entries() == 2);
  CHECK(index.last_entry() == TimestampOffset{Timestamp(1500), Offset(120)});
}

TEST_CASE("TimeIndexLookupGivesWhereToStartLookingForATimestamp") {
  TimeIndexFixture f;
  TimeIndex index = f.make();
  CHECK(index.lookup(Timestamp(5)) == Offset(100));  // empty: segment start
  REQUIRE(index.maybe_append(Timestamp(1000), Offset(109)));
  REQUIRE(index.maybe_append(Timestamp(2000), Offset(119)));
  REQUIRE(index.maybe_append(Timestamp(3000), Offset(129)));
  // Every record at or before an entry's offset is at most that entry's timestamp, so the first record with
  // timestamp >= target comes after the last entry older than target.
  CHECK(index.lookup(Timestamp(500)) == Offset(100));
  CHECK(index.lookup(Timestamp(1000)) == Offset(100));
  CHECK(index.lookup(Timestamp(1001)) == Offset(110));
  CHECK(index.lookup(Timestamp(2000)) == Offset(110));
  CHECK(index.lookup(Timestamp(2500)) == Offset(120));
  CHECK(index.lookup(Timestamp(9999)) == Offset(130));
}

TEST_CASE("TimeIndexFileIsTwelveByteBigEndianEntries") {
  TimeIndexFixture f;
  {
    TimeIndex index = f.make();
    REQUIRE(index.maybe_append(Timestamp(0x0102030405060708), Offset(107)));
    REQUIRE(index.write().ok());
  }
  Bytes bytes = streamctl::test::file_bytes(f.fs, f.path);
  REQUIRE(bytes.size() == 12);
  CHECK(get_be64(bytes.data()) == 0x0102030405060708ull);
  CHECK(get_be32(bytes.data() + 8) == 7);
  TimeIndex again = f.make();
  REQUIRE(again.load().ok());
  REQUIRE(again.entries() == 1);
  CHECK(again.entry(0) == TimestampOffset{Timestamp(0x0102030405060708), Offset(107)});
}

TEST_CASE("TimeIndexTruncateDropsEntriesAtOrAfterTheOffset") {
  TimeIndexFixture f;
  TimeIndex index = f.make();
  REQUIRE(index.maybe_append(Timestamp(10), Offset(105)));
  REQUIRE(index.maybe_append(Timestamp(20), Offset(110)));
  REQUIRE(index.maybe_append(Timestamp(30), Offset(115)));
  REQUIRE(index.write().ok());
  index.truncate_to_offset(Offset(110));
  CHECK(index.entries() == 1);
  REQUIRE(index.write().ok());
  CHECK(streamctl::test::file_bytes(f.fs, f.path).size() == 12);
  index.truncate_to_offset(Offset(100));
  CHECK(index.entries() == 0);
}

TEST_CASE("TimeIndexSanityCheckCatchesGarbage") {
  TimeIndexFixture f;
  Bytes bytes(24);
  put_be64(bytes.data(), 2000);
  put_be32(bytes.data() + 8, 3);
  put_be64(bytes.data() + 12, 1000);  // timestamp going backwards
  put_be32(bytes.data() + 20, 4);
  streamctl::test::write_bytes(f.fs, f.path, bytes);
  TimeIndex index = f.make();
  REQUIRE(index.load().ok());
  Status s = index.sanity_check(Offset(200));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("entry 1") != std::string::npos);
  CHECK(s.error().message.find(f.path) != std::string::npos);
  TimeIndex good = f.make();
  REQUIRE(good.maybe_append(Timestamp(5), Offset(150)));
  CHECK(good.sanity_check(Offset(151)).ok());
  CHECK_FALSE(good.sanity_check(Offset(150)).ok());  // offset not below the segment's next offset
}

TEST_CASE("TimeIndexIsFullAtSegmentIndexBytes") {
  TimeIndexFixture f;
  TimeIndex index = f.make(1);
  CHECK_FALSE(index.full());
  REQUIRE(index.maybe_append(Timestamp(1), Offset(100)));
  CHECK(index.full());
}
