#include "engine/offset_index.h"

#include <doctest/doctest.h>

#include "tests/engine/log_test_helpers.h"
#include "base/mem_fs.h"

using namespace streamctl;
using namespace streamctl::engine;
using streamctl::MemFileSystem;

namespace {

struct IndexFixture {
  MemFileSystem fs;
  std::string path = "/p/00000000000000000100.index";
  IndexFixture() { REQUIRE(fs.create_dirs("/p").ok()); }
  OffsetIndex make(size_t max_entries = 1000) { return OffsetIndex(&fs, path, Offset(100), max_entries); }
};

}  // namespace

TEST_CASE("OffsetIndexLookupReturnsTheGreatestEntryAtOrBelowTheTarget") {
  IndexFixture f;
  OffsetIndex index = f.make();
  CHECK(index.lookup(Offset(150)) == OffsetPosition{Offset(100), 0});  // empty: segment start
  REQUIRE(index.append(Offset(109), 500));
  REQUIRE(index.append(Offset(120), 1200));
  REQUIRE(index.append(Offset(140), 3000));
  CHECK(index.lookup(Offset(100)) == OffsetPosition{Offset(100), 0});
  CHECK(index.lookup(Offset(108)) == OffsetPosition{Offset(100), 0});
  CHECK(index.lookup(Offset(109)) == OffsetPosition{Offset(109), 500});
  CHECK(index.lookup(Offset(119)) == OffsetPosition{Offset(109), 500});
  CHECK(index.lookup(Offset(120)) == OffsetPosition{Offset(120), 1200});
  CHECK(index.lookup(Offset(1000000)) == OffsetPosition{Offset(140), 3000});
  CHECK(index.lookup(Offset(5)) == OffsetPosition{Offset(100), 0});  // below the base
}

TEST_CASE("OffsetIndexFindsTheLastEntryAtOrBeforeAPosition") {
  IndexFixture f;
  OffsetIndex index = f.make();
  CHECK_FALSE(index.last_at_or_before(10000).has_value());
  REQUIRE(index.append(Offset(109), 500));
  REQUIRE(index.append(Offset(120), 1200));
  CHECK_FALSE(index.last_at_or_before(499).has_value());
  CHECK(index.last_at_or_before(500) == OffsetPosition{Offset(109), 500});
  CHECK(index.last_at_or_before(1199) == OffsetPosition{Offset(109), 500});
  CHECK(index.last_at_or_before(1200) == OffsetPosition{Offset(120), 1200});
  CHECK(index.last_at_or_before(UINT64_MAX) == OffsetPosition{Offset(120), 1200});
}

TEST_CASE("OffsetIndexRefusesEntriesThatDoNotIncrease") {
  IndexFixture f;
  OffsetIndex index = f.make();
  REQUIRE(index.append(Offset(110), 500));
  CHECK_FALSE(index.append(Offset(110), 600));  // same offset
  CHECK_FALSE(index.append(Offset(111), 500));  // same position
  CHECK_FALSE(index.append(Offset(99), 700));   // below the base
  CHECK_FALSE(index.append(Offset(100) + (int64_t{1} << 31), 800));  // relative offset overflows int32
  CHECK_FALSE(index.append(Offset(120), uint64_t{1} << 32));          // position overflows u32
  CHECK(index.entries() == 1);
}

TEST_CASE("OffsetIndexFileIsBigEndianEightByteEntriesAndLoadsBack") {
  IndexFixture f;
  {
    OffsetIndex index = f.make();
    REQUIRE(index.append(Offset(101), 0x0102));
    REQUIRE(index.append(Offset(100 + 0x1000000), 0x0a0b0c0d));
    REQUIRE(index.write().ok());
  }
  Bytes bytes = streamctl::test::file_bytes(f.fs, f.path);
  REQUIRE(bytes.size() == 16);
  CHECK(get_be32(bytes.data()) == 1);
  CHECK(get_be32(bytes.data() + 4) == 0x0102);
  CHECK(get_be32(bytes.data() + 8) == 0x1000000);
  CHECK(get_be32(bytes.data() + 12) == 0x0a0b0c0d);
  OffsetIndex again = f.make();
  auto existed = again.load();
  REQUIRE(existed.ok());
  CHECK(*existed);
  REQUIRE(again.entries() == 2);
  CHECK(again.entry(1) == OffsetPosition{Offset(100 + 0x1000000), 0x0a0b0c0d});
  CHECK(again.sanity_check(0x10000000, Offset(0x2000000)).ok());
}

TEST_CASE("OffsetIndexWritesOnlyNewEntriesAndCutsTruncatedOnes") {
  IndexFixture f;
  OffsetIndex index = f.make();
  for (int i = 1; i <= 5; ++i) REQUIRE(index.append(Offset(100 + 10 * i), uint64_t(100 * i)));
  REQUIRE(index.write().ok());
  CHECK(streamctl::test::file_bytes(f.fs, f.path).size() == 40);
  index.truncate_to_position(300);  // drops the entries at 300, 400, 500
  CHECK(index.entries() == 2);
  CHECK(index.needs_write());
  REQUIRE(index.write().ok());
  CHECK(streamctl::test::file_bytes(f.fs, f.path).size() == 16);
  REQUIRE(index.append(Offset(200), 900));
  REQUIRE(index.write().ok());
  OffsetIndex again = f.make();
  REQUIRE(again.load().ok());
  REQUIRE(again.entries() == 3);
  CHECK(again.entry(2) == OffsetPosition{Offset(200), 900});
}

TEST_CASE("OffsetIndexSanityCheckNamesTheBadEntry") {
  IndexFixture f;
  // Hand-written garbage: a position going backwards in entry 2.
  Bytes bytes(24);
  put_be32(bytes.data(), 1);
  put_be32(bytes.data() + 4, 100);
  put_be32(bytes.data() + 8, 2);
  put_be32(bytes.data() + 12, 200);
  put_be32(bytes.data() + 16, 3);
  put_be32(bytes.data() + 20, 150);
  streamctl::test::write_bytes(f.fs, f.path, bytes);
  OffsetIndex index = f.make();
  REQUIRE(index.load().ok());
  Status s = index.sanity_check(1000, Offset(200));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kCorruption);
  CHECK(s.error().message.find(f.path) != std::string::npos);
  CHECK(s.error().message.find("entry 2") != std::string::npos);
  // Positions past the log, and offsets at or past the segment's next offset, are caught too.
  OffsetIndex small = f.make();
  REQUIRE(small.append(Offset(101), 100));
  CHECK_FALSE(small.sanity_check(100, Offset(200)).ok());
  CHECK_FALSE(small.sanity_check(1000, Offset(101)).ok());
  CHECK(small.sanity_check(1000, Offset(102)).ok());
}

TEST_CASE("OffsetIndexIgnoresATrailingPartialEntryAndCutsItOnWrite") {
  IndexFixture f;
  Bytes bytes(11);
  put_be32(bytes.data(), 5);
  put_be32(bytes.data() + 4, 64);
  streamctl::test::write_bytes(f.fs, f.path, bytes);
  OffsetIndex index = f.make();
  REQUIRE(index.load().ok());
  CHECK(index.entries() == 1);
  CHECK(index.needs_write());
  REQUIRE(index.write().ok());
  CHECK(streamctl::test::file_bytes(f.fs, f.path).size() == 8);
}

TEST_CASE("OffsetIndexIsFullAtSegmentIndexBytes") {
  IndexFixture f;
  OffsetIndex index = f.make(2);
  REQUIRE(index.append(Offset(101), 10));
  CHECK_FALSE(index.full());
  REQUIRE(index.append(Offset(102), 20));
  CHECK(index.full());
}

TEST_CASE("OffsetIndexLoadMoreAcceptsOnlyEntriesThatFollow") {
  IndexFixture f;
  OffsetIndex writer = f.make();
  REQUIRE(writer.append(Offset(110), 100));
  REQUIRE(writer.write().ok());
  OffsetIndex reader = f.make();
  REQUIRE(reader.load().ok());
  REQUIRE(writer.append(Offset(120), 200));
  REQUIRE(writer.append(Offset(130), 300));
  REQUIRE(writer.write().ok());
  CHECK_FALSE(reader.load_more(3, 250).ok());  // entry at 300 is past the 250 bytes the reader trusts
  CHECK(reader.entries() == 1);
  REQUIRE(reader.load_more(3, 400).ok());
  CHECK(reader.entries() == 3);
  CHECK(reader.lookup(Offset(135)) == OffsetPosition{Offset(130), 300});
  CHECK_FALSE(reader.load_more(5, 400).ok());  // the file holds only 3
}

TEST_CASE("OffsetIndexRewriteReplacesTheFileAtomically") {
  IndexFixture f;
  streamctl::test::write_bytes(f.fs, f.path, streamctl::to_bytes("garbage garbage!"));
  OffsetIndex index = f.make();
  REQUIRE(index.append(Offset(105), 77));
  REQUIRE(index.rewrite().ok());
  Bytes bytes = streamctl::test::file_bytes(f.fs, f.path);
  REQUIRE(bytes.size() == 8);
  CHECK(get_be32(bytes.data()) == 5);
  CHECK(get_be32(bytes.data() + 4) == 77);
  CHECK_FALSE(f.fs.exists(f.path + ".tmp").value());
}
