#include <doctest/doctest.h>

#include "raft/log.h"

using namespace streamctl::raft;

TEST_CASE("EpochCache answers the end offset of the largest epoch at or below the asked one") {
  EpochCache c;
  c.assign(1, 0);
  c.assign(1, 5);  // not newer: ignored
  c.assign(3, 10);
  c.assign(4, 20);
  CHECK(c.end_offset_for(0, 30) == OffsetAndEpoch{-1, -1});
  CHECK(c.end_offset_for(1, 30) == OffsetAndEpoch{10, 1});
  CHECK(c.end_offset_for(2, 30) == OffsetAndEpoch{10, 1});
  CHECK(c.end_offset_for(3, 30) == OffsetAndEpoch{20, 3});
  CHECK(c.end_offset_for(9, 30) == OffsetAndEpoch{30, 4});
  c.truncate_from_end(20);
  CHECK(c.last_epoch() == 3);
  c.truncate_from_start(12);
  REQUIRE(c.entries().size() == 1);
  CHECK(c.entries()[0] == std::pair<Epoch, Offset>{3, 12});
}
