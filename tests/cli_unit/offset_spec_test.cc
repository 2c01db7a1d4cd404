#include "cli/offset_spec.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

using namespace streamctl::cli;
using streamctl::engine::Offset;
using streamctl::engine::Result;
using streamctl::engine::Timestamp;
using Kind = OffsetPosition::Kind;

namespace {

const Timestamp kNow(1714564800000);  // 2024-05-01T12:00:00Z

OffsetSpec parse_ok(std::string_view text) {
  auto r = parse_offset_spec(text, kNow);
  INFO(text, " -> ", r.ok() ? "" : r.error().message);
  REQUIRE(r.ok());
  return *r;
}

std::string parse_error(std::string_view text) {
  auto r = parse_offset_spec(text, kNow);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}

// Partition [100, 200) where offset o has timestamp 1000 * o.
PartitionBounds sample_bounds() {
  PartitionBounds b;
  b.log_start = Offset(100);
  b.log_end = Offset(200);
  b.offset_for_timestamp = [](Timestamp ts) -> Result<Offset> {
    int64_t o = (ts.value + 999) / 1000;
    if (o < 100) o = 100;
    if (o > 200) o = 200;
    return Offset(o);
  };
  return b;
}

}  // namespace

TEST_CASE("NamedPositionsParse") {
  CHECK(parse_ok("beginning").start.kind == Kind::kBeginning);
  CHECK(parse_ok("oldest").start.kind == Kind::kBeginning);
  CHECK(parse_ok("earliest").start.kind == Kind::kBeginning);
  CHECK(parse_ok("end").start.kind == Kind::kEnd);
  CHECK(parse_ok("latest").start.kind == Kind::kEnd);
  CHECK_FALSE(parse_ok("end").is_range);
}

TEST_CASE("NumericPositionsParse") {
  CHECK(parse_ok("42").start == OffsetPosition{Kind::kOffset, 42});
  CHECK(parse_ok("+5").start == OffsetPosition{Kind::kFromBeginning, 5});
  CHECK(parse_ok("-10").start == OffsetPosition{Kind::kFromEnd, 10});
  CHECK(parse_ok("0").start == OffsetPosition{Kind::kOffset, 0});
}

TEST_CASE("TimesParseAsEpochMillisRelativeAndIso8601") {
  CHECK(parse_ok("@1700000000000").start == OffsetPosition{Kind::kTimestamp, 1700000000000});
  CHECK(parse_ok("@now").start.value == kNow.value);
  CHECK(parse_ok("@-1h").start.value == kNow.value - 3'600'000);
  CHECK(parse_ok("@-30m").start.value == kNow.value - 1'800'000);
  CHECK(parse_ok("@-2d").start.value == kNow.value - 2 * 86'400'000);
  CHECK(parse_ok("@-1h30m").start.value == kNow.value - 5'400'000);
  CHECK(parse_ok("@-500ms").start.value == kNow.value - 500);
  CHECK(parse_ok("@2024-05-01T12:00:00Z").start.value == 1714564800000);
  CHECK(parse_ok("@2024-05-01T12:00:00.250Z").start.value == 1714564800250);
  CHECK(parse_ok("@2024-05-01T14:00:00+02:00").start.value == 1714564800000);
  CHECK(parse_ok("@2024-05-01T07:30-0430").start.value == 1714564800000);
  CHECK(parse_ok("@2024-05-01 12:00Z").start.value == 1714564800000);
}

TEST_CASE("IsoTimesWithoutZoneAreLocalTime") {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);  // Central Europe, no tzdata needed
  tzset();
  CHECK(parse_ok("@2024-05-01T14:00").start.value == 1714564800000);  // CEST = UTC+2
  CHECK(parse_ok("@2024-01-01").start.value == 1704063600000);        // CET midnight = 23:00Z
  if (old) setenv("TZ", saved.c_str(), 1); else unsetenv("TZ");
  tzset();
}

TEST_CASE("RangesParseWithEitherSideOptional") {
  auto r = parse_ok("100:200");
  CHECK(r.is_range);
  CHECK(r.start == OffsetPosition{Kind::kOffset, 100});
  REQUIRE(r.end);
  CHECK(*r.end == OffsetPosition{Kind::kOffset, 200});

  auto open_end = parse_ok("-10:");
  CHECK(open_end.is_range);
  CHECK(open_end.start == OffsetPosition{Kind::kFromEnd, 10});
  CHECK_FALSE(open_end.end);

  auto open_start = parse_ok(":50");
  CHECK(open_start.start.kind == Kind::kBeginning);
  CHECK(*open_start.end == OffsetPosition{Kind::kOffset, 50});

  auto times = parse_ok("@-2h:@-1h");
  CHECK(times.start.value == kNow.value - 7'200'000);
  CHECK(times.end->value == kNow.value - 3'600'000);
}

TEST_CASE("RangesOfIsoTimesSplitAtTheRightColon") {
  auto r = parse_ok("@2024-05-01T10:00:00Z:@2024-05-01T11:00Z");
  CHECK(r.is_range);
  CHECK(r.start.value == 1714557600000);
  CHECK(r.end->value == 1714561200000);
  auto mixed = parse_ok("5:@2024-05-01T11:00Z");
  CHECK(mixed.start == OffsetPosition{Kind::kOffset, 5});
  CHECK(mixed.end->value == 1714561200000);
  // A single time with seconds is not mistaken for a range.
  auto single = parse_ok("@2024-05-01T10:00:05Z");
  CHECK_FALSE(single.is_range);
  CHECK(single.start.value == 1714557605000);
}

TEST_CASE("BadSpecsNameTheTextAndShowTheGrammar") {
  std::string e = parse_error("begining");
  CHECK(e.find("'begining'") != std::string::npos);
  CHECK(e.find("beginning | end | N") != std::string::npos);
  CHECK(parse_error("-1h").find("@-1h") != std::string::npos);  // suggests the time form
  CHECK(parse_error("@-5").find("unit") != std::string::npos);
  CHECK(parse_error("@2024-13-01").find("month") != std::string::npos);
  CHECK(parse_error("@2024-02-30").find("day") != std::string::npos);
  CHECK(parse_error("@yesterday").find("yesterday") != std::string::npos);
  CHECK(parse_error("1:2:3").find("1:2:3") != std::string::npos);
  CHECK(parse_error("99999999999999999999").find("too large") != std::string::npos);
  CHECK(parse_error("").find("empty") != std::string::npos);
  CHECK(parse_error("@-1x").find("unit") != std::string::npos);
}

TEST_CASE("DurationsCombineUnits") {
  CHECK(*parse_duration_ms("90s") == 90'000);
  CHECK(*parse_duration_ms("1w") == 7 * 86'400'000LL);
  CHECK(*parse_duration_ms("1h1m1s1ms") == 3'661'001);
  CHECK_FALSE(parse_duration_ms("h").ok());
  CHECK_FALSE(parse_duration_ms("10").ok());
}

TEST_CASE("PositionsResolveAgainstPartitionBounds") {
  auto b = sample_bounds();
  auto resolve = [&](std::string_view text) {
    auto spec = parse_ok(text);
    auto r = resolve_offset_spec(spec, b);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(resolve("beginning").start == Offset(100));
  CHECK(resolve("end").start == Offset(200));
  CHECK(resolve("150").start == Offset(150));
  CHECK(resolve("+5").start == Offset(105));
  CHECK(resolve("+500").start == Offset(200));
  CHECK(resolve("-10").start == Offset(190));
  CHECK(resolve("-500").start == Offset(100));
  CHECK(resolve("@150000").start == Offset(150));
  CHECK(resolve("@149500").start == Offset(150));
  CHECK(resolve("@0").start == Offset(100));
  CHECK(resolve("@999999999").start == Offset(200));
  CHECK_FALSE(resolve("end").end);
}

TEST_CASE("OutOfRangeOffsetsAreClampedWithANote") {
  auto b = sample_bounds();
  std::string note;
  auto low = resolve_position(OffsetPosition{Kind::kOffset, 3}, b, &note);
  CHECK(*low == Offset(100));
  CHECK(note.find("below the log start offset 100") != std::string::npos);
  note.clear();
  auto high = resolve_position(OffsetPosition{Kind::kOffset, 900}, b, &note);
  CHECK(*high == Offset(200));
  CHECK(note.find("past the log end offset 200") != std::string::npos);
  note.clear();
  CHECK(*resolve_position(OffsetPosition{Kind::kOffset, 120}, b, &note) == Offset(120));
  CHECK(note.empty());
}

TEST_CASE("RangeEndsResolveRelativeToTheStart") {
  auto b = sample_bounds();
  auto range = [&](std::string_view text) {
    auto r = resolve_offset_spec(parse_ok(text), b);
    REQUIRE(r.ok());
    return *r;
  };
  auto r1 = range("120:130");
  CHECK(r1.start == Offset(120));
  CHECK(*r1.end == Offset(130));
  auto r2 = range("120:+5");
  CHECK(*r2.end == Offset(125));
  auto r3 = range("-10:end");
  CHECK(r3.start == Offset(190));
  CHECK(*r3.end == Offset(200));
  // End before start is refused when it is parsed, with the range the user probably meant.
  CHECK(parse_error("150:120").find("did you mean '120:150'") != std::string::npos);
  CHECK(parse_error("-3:-5").find("is empty") != std::string::npos);
  auto r5 = range("190:500");  // absolute end in the future is kept (for --follow)
  CHECK(*r5.end == Offset(500));
  auto r6 = range("@110000:@120000");
  CHECK(r6.start == Offset(110));
  CHECK(*r6.end == Offset(120));
}
