// ExternalRecords: a response encoded with some records fields left out (Fetch's sendfile path) becomes the
// ordinary encoding, byte for byte, once those bytes are inserted at the positions the Writer reports; the
// size prefix already counts them. Misuse (a field never written, a value that also holds bytes) fails.
#include <doctest/doctest.h>

#include <stdexcept>

#include "kafka/protocol/generated/fetch.h"
#include "kafka/protocol/frame.h"
#include "kafka/protocol/wire.h"

namespace streamctl::kafka::protocol {
namespace {

Bytes filled(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte(uint8_t(seed + i * 7));
  return b;
}

// Two topics, three partitions; records of 300 B, 5 B and 20000 B (multi-byte compact lengths).
FetchResponse three_partitions() {
  FetchResponse r;
  const std::vector<std::pair<std::string, std::vector<size_t>>> layout = {{"a", {300, 5}}, {"b", {20000}}};
  uint8_t seed = 1;
  for (const auto& [topic, sizes] : layout) {
    auto& t = r.responses.emplace_back();
    t.topic = topic;
    for (size_t n : sizes) {
      auto& p = t.partitions.emplace_back();
      p.partition_index = int32_t(t.partitions.size() - 1);
      p.high_watermark = 1000;
      p.records = filled(n, seed++);
    }
  }
  return r;
}

Bytes& records_of(FetchResponse& r, size_t ordinal) {
  for (auto& t : r.responses) {
    for (auto& p : t.partitions) {
      if (ordinal-- == 0) return *p.records;
    }
  }
  throw std::out_of_range("no such partition");
}

TEST_CASE("ExternalRecordsInsertedAtTheirPositionsGiveTheOrdinaryEncoding") {
  for (int16_t version = FetchResponse::kMinVersion; version <= FetchResponse::kMaxVersion; ++version) {
    CAPTURE(version);
    FetchResponse full = three_partitions();
    Bytes expected;
    REQUIRE(encode_response_frame(42, version, ResponseBody(full), expected).ok());

    FetchResponse partial = full;
    ExternalRecords external;
    std::vector<Bytes> left_out;
    for (size_t ordinal : {size_t(0), size_t(2)}) {
      left_out.push_back(records_of(partial, ordinal));
      external.fields.push_back({ordinal, left_out.back().size(), 0});
      records_of(partial, ordinal).clear();
    }
    Bytes frame = {std::byte{0xee}};  // bytes already in the buffer stay in front
    REQUIRE(encode_response_frame(42, version, ResponseBody(partial), frame, &external).ok());
    CHECK(frame.size() == 1 + expected.size() - left_out[0].size() - left_out[1].size());
    CHECK(get_be32(frame.data() + 1) == expected.size() - 4);  // the size prefix counts them
    REQUIRE(external.fields[0].position < external.fields[1].position);
    Bytes spliced(frame.begin() + 1, frame.end());
    // Insert the later one first so the earlier position stays valid.
    for (size_t i : {size_t(1), size_t(0)}) {
      spliced.insert(spliced.begin() + ptrdiff_t(external.fields[i].position - 1), left_out[i].begin(),
                     left_out[i].end());
    }
    CHECK(spliced == expected);
  }
}

TEST_CASE("AnExternalRecordsFieldThatIsNeverWrittenOrHoldsBytesFailsTheEncoding") {
  FetchResponse r = three_partitions();
  ExternalRecords missing;
  missing.fields.push_back({3, 10, 0});  // there are three records fields: 0..2
  Bytes out;
  auto st = encode_response_frame(1, 12, ResponseBody(r), out, &missing);
  REQUIRE(!st.ok());
  CHECK(st.error().message.find("external records field 3 was not written") != std::string::npos);
  CHECK(out.empty());

  ExternalRecords both;
  both.fields.push_back({1, 5, 0});  // partition 1 still holds its 5 bytes
  st = encode_response_frame(1, 12, ResponseBody(r), out, &both);
  REQUIRE(!st.ok());
  CHECK(st.error().message.find("also holds 5 bytes") != std::string::npos);
  CHECK(out.empty());
}

}  // namespace
}  // namespace streamctl::kafka::protocol
