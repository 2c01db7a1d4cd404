#include "cli/consumer.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "engine/log_manager.h"
#include "kafka/format/record_batch.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace streamctl::cli;

namespace {

std::vector<Record> sample_records() {
  std::vector<Record> rs(3);
  rs[0].timestamp = Timestamp(1000);
  rs[0].key = "k";
  rs[0].value = "v";
  rs[0].headers = {{"h", std::string("1")}, {"n", std::nullopt}};
  rs[1].timestamp = Timestamp(1001);  // null key, null value
  rs[2].timestamp = Timestamp(999);
  rs[2].key = "";
  rs[2].value = "";
  return rs;
}

Bytes build(const std::vector<Record>& rs, Compression c, int64_t base) {
  BatchBuildOptions o;
  o.compression = c;
  auto b = build_batch(rs, Offset(base), o);
  REQUIRE(b.ok());
  return std::move(b).value();
}

struct Decoded {
  int64_t offset, timestamp;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::vector<Decoded> decode_all(const Bytes& batch, bool want_headers, Status* status = nullptr) {
  BatchIterator it(batch);
  REQUIRE(it.next());
  BatchDecoder d;
  REQUIRE(d.reset(it.batch(), it.header(), want_headers).ok());
  std::vector<Decoded> out;
  cli::RecordView v;
  while (d.next(&v)) {
    Decoded x{v.offset, v.timestamp, {}, {}, {}};
    if (v.key) x.key = std::string(*v.key);
    if (v.value) x.value = std::string(*v.value);
    for (const auto& h : v.headers) {
      x.headers.emplace_back(std::string(h.key), h.value ? std::optional<std::string>(*h.value) : std::nullopt);
    }
    out.push_back(std::move(x));
  }
  if (status) *status = d.status();
  return out;
}

// Collects "partition:offset:value" per record.
class VectorSink final : public RecordSink {
 public:
  bool write(const cli::RecordView& r) override {
    lines.push_back(std::to_string(r.partition) + ":" + std::to_string(r.offset) + ":" +
                    std::string(r.value ? *r.value : "<null>"));
    return lines.size() < stop_after;
  }
  Status flush() override {
    ++flushes;
    return ok_status();
  }
  std::vector<std::string> lines;
  size_t stop_after = SIZE_MAX;
  int flushes = 0;
};

struct Fixture {
  test::TempDir dir{"streamctl-consumer-test"};
  std::unique_ptr<engine::LogManager> lm;
  GlobalOptions global;
  Fixture() {
    engine::LogManagerOptions o;
    o.data_dir = dir.path();
    auto r = engine::LogManager::open(o);
    REQUIRE(r.ok());
    lm = std::move(r).value();
    global.verbosity = -1;
    REQUIRE(lm->create_topic("t", 2, {}).ok());
  }
  engine::Log* log(int p) {
    auto l = lm->log("t", p);
    REQUIRE(l.ok());
    return *l;
  }
  void append(int p, std::initializer_list<const char*> values) {
    std::vector<Record> rs;
    for (const char* v : values) {
      Record r;
      r.timestamp = Timestamp(1714564800000);
      r.value = v;
      rs.push_back(r);
    }
    REQUIRE(log(p)->append(rs, {}).ok());
  }
  std::vector<ConsumerPartition> all(std::optional<Offset> end0, std::optional<Offset> end1) {
    return {{0, log(0), Offset(0), end0}, {1, log(1), Offset(0), end1}};
  }
};

}  // namespace

TEST_CASE("BatchDecoderDecodesEveryFieldOfUncompressedAndCompressedBatches") {
  auto rs = sample_records();
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                 Compression::kLz4, Compression::kZstd}) {
    INFO("codec ", compression_name(c));
    auto got = decode_all(build(rs, c, 100), true);
    REQUIRE(got.size() == 3);
    CHECK(got[0].offset == 100);
    CHECK(got[0].timestamp == 1000);
    CHECK(*got[0].key == "k");
    CHECK(*got[0].value == "v");
    REQUIRE(got[0].headers.size() == 2);
    CHECK(got[0].headers[0].first == "h");
    CHECK(*got[0].headers[0].second == "1");
    CHECK_FALSE(got[0].headers[1].second.has_value());
    CHECK(got[1].offset == 101);
    CHECK_FALSE(got[1].key.has_value());
    CHECK_FALSE(got[1].value.has_value());
    CHECK(got[2].timestamp == 999);
    CHECK(got[2].key->empty());
    CHECK(got[2].value->empty());
  }
}

TEST_CASE("BatchDecoderSkipsHeadersWhenNotWanted") {
  auto got = decode_all(build(sample_records(), Compression::kNone, 0), false);
  REQUIRE(got.size() == 3);
  CHECK(got[0].headers.empty());
  CHECK(*got[0].value == "v");
  CHECK(got[2].offset == 2);
}

TEST_CASE("BatchDecoderReportsAMalformedRecord") {
  auto batch = build(sample_records(), Compression::kNone, 7);
  batch[kBatchHeaderSize] = std::byte{0x01};  // first record length: zigzag -1
  put_be32(batch.data() + kCrcOffset, compute_batch_crc(batch));  // CRC-valid, bad record
  Status st;
  auto got = decode_all(batch, true, &st);
  CHECK(got.empty());
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("base offset 7") != std::string::npos);
}

TEST_CASE("RecordFilterGrepsValuesAndMatchesWholeKeys") {
  cli::RecordView r;
  r.key = std::string_view("user-1");
  r.value = std::string_view("ERROR disk full");
  {
    RecordFilter f;
    REQUIRE(f.compile("disk", "", false, false).ok());
    CHECK(f.matches(r));
  }
  {
    RecordFilter f;
    REQUIRE(f.compile("", "user-1", false, false).ok());
    CHECK(f.matches(r));
    cli::RecordView longer = r;
    longer.key = std::string_view("user-12");
    CHECK_FALSE(f.matches(longer));  // whole-key match
  }
  {
    RecordFilter f;
    REQUIRE(f.compile("error", "", true, false).ok());
    CHECK(f.matches(r));
  }
  {
    RecordFilter f;
    REQUIRE(f.compile("disk", "", false, true).ok());
    CHECK_FALSE(f.matches(r));  // inverted
  }
  {
    RecordFilter f;
    REQUIRE(f.compile("x", "", false, false).ok());
    cli::RecordView tombstone;
    CHECK_FALSE(f.matches(tombstone));  // a null value never matches
  }
  RecordFilter bad;
  auto st = bad.compile("(", "", false, false);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("--grep") != std::string::npos);
}

TEST_CASE("ConsumerReadsEveryPartitionToItsEndAndReportsProgress") {
  Fixture fx;
  fx.append(0, {"a", "b", "c"});
  fx.append(1, {"x"});
  Consumer consumer("t", fx.all(Offset(3), Offset(1)), {}, &fx.global);
  std::map<PartitionId, Offset> progress;
  consumer.set_on_progress([&](const std::map<PartitionId, Offset>& p) { progress = p; });
  VectorSink sink;
  auto stats = consumer.run(sink);
  REQUIRE(stats.ok());
  CHECK(stats->records_written == 4);
  CHECK(sink.lines == std::vector<std::string>{"0:0:a", "0:1:b", "0:2:c", "1:0:x"});
  CHECK(progress[0] == Offset(3));
  CHECK(progress[1] == Offset(1));
  CHECK(sink.flushes >= 1);
}

TEST_CASE("ConsumerStopsAtRangeEndsAndCounts") {
  Fixture fx;
  fx.append(0, {"a", "b", "c", "d"});
  {
    std::vector<ConsumerPartition> parts = {{0, fx.log(0), Offset(1), Offset(3)}};
    Consumer c("t", parts, {}, &fx.global);
    VectorSink sink;
    REQUIRE(c.run(sink).ok());
    CHECK(sink.lines == std::vector<std::string>{"0:1:b", "0:2:c"});
    CHECK(c.positions().at(0) == Offset(3));
  }
  {
    ConsumerOptions o;
    o.max_records = 2;
    std::vector<ConsumerPartition> parts = {{0, fx.log(0), Offset(0), Offset(4)}};
    Consumer c("t", parts, o, &fx.global);
    VectorSink sink;
    auto stats = c.run(sink);
    REQUIRE(stats.ok());
    CHECK(stats->hit_limit);
    CHECK(sink.lines.size() == 2);
    CHECK(c.positions().at(0) == Offset(2));  // exactly what was written: a group commits this
  }
}

TEST_CASE("ConsumerFiltersAndCountsWhatItRead") {
  Fixture fx;
  fx.append(0, {"ok 1", "ERROR 2", "ok 3", "ERROR 4"});
  RecordFilter f;
  REQUIRE(f.compile("^ERROR", "", false, false).ok());
  ConsumerOptions o;
  o.filter = &f;
  std::vector<ConsumerPartition> parts = {{0, fx.log(0), Offset(0), Offset(4)}};
  Consumer c("t", parts, o, &fx.global);
  VectorSink sink;
  auto stats = c.run(sink);
  REQUIRE(stats.ok());
  CHECK(sink.lines == std::vector<std::string>{"0:1:ERROR 2", "0:3:ERROR 4"});
  CHECK(stats->records_read == 4);
  CHECK(c.positions().at(0) == Offset(4));  // filtered records are consumed too
}

TEST_CASE("ConsumerStopsWhenTheSinkCloses") {
  Fixture fx;
  fx.append(0, {"a", "b", "c"});
  std::vector<ConsumerPartition> parts = {{0, fx.log(0), Offset(0), Offset(3)}};
  Consumer c("t", parts, {}, &fx.global);
  VectorSink sink;
  sink.stop_after = 1;
  auto stats = c.run(sink);
  REQUIRE(stats.ok());
  CHECK(stats->output_closed);
  CHECK(sink.lines.size() == 1);
}

TEST_CASE("OnRoundReturningFalseStopsTheConsumer") {
  Fixture fx;
  fx.append(0, {"a"});
  ConsumerOptions o;
  o.follow = true;  // would wait forever without the hook
  std::vector<ConsumerPartition> parts = {{0, fx.log(0), Offset(0), std::nullopt}};
  Consumer c("t", parts, o, &fx.global);
  int rounds = 0;
  c.set_on_round([&] { return ++rounds < 3; });
  c.set_on_progress([](const std::map<PartitionId, Offset>&) {});
  VectorSink sink;
  REQUIRE(c.run(sink).ok());
  CHECK(sink.lines == std::vector<std::string>{"0:0:a"});
  CHECK(rounds == 3);
}

TEST_CASE("ConsumerReadsALargeBacklogInOrder") {
  Fixture fx;
  std::vector<Record> rs;
  std::string payload(200, 'x');
  for (int i = 0; i < 20000; ++i) {
    Record r;
    r.timestamp = Timestamp(1);
    r.value = std::to_string(i) + payload;
    rs.push_back(std::move(r));
  }
  REQUIRE(fx.log(0)->append(rs, {}).ok());
  std::vector<ConsumerPartition> parts = {{0, fx.log(0), Offset(0), Offset(20000)}};
  ConsumerOptions o;
  o.fetch_bytes = 64 << 10;  // many chunks: exercises the read-ahead
  Consumer c("t", parts, o, &fx.global);
  VectorSink sink;
  auto stats = c.run(sink);
  REQUIRE(stats.ok());
  REQUIRE(sink.lines.size() == 20000);
  bool in_order = true;
  for (int i = 0; i < 20000; ++i) in_order = in_order && sink.lines[i] == "0:" + std::to_string(i) + ":" + std::to_string(i) + payload;
  CHECK(in_order);
}

TEST_CASE("FdSinkWritesFormattedRecordsAndTreatsEpipeAsClosed") {
  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  auto fmt = RecordFormatter::compile("%o=%s\\n");
  REQUIRE(fmt.ok());
  {
    FdSink sink(fds[1], &*fmt);
    cli::RecordView r;
    r.offset = 5;
    r.value = std::string_view("hi");
    CHECK(sink.write(r));
    REQUIRE(sink.flush().ok());
    char buf[16] = {};
    CHECK(::read(fds[0], buf, sizeof buf) == 5);
    CHECK(std::string(buf) == "5=hi\n");
    ::close(fds[0]);
    CHECK(sink.write(r));  // buffered
    CHECK(sink.flush().ok());  // EPIPE: closed, not an error
    CHECK(sink.closed());
    CHECK_FALSE(sink.write(r));
  }
  ::close(fds[1]);
}
