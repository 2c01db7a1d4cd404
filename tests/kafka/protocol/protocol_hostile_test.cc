// Hostile frames: truncations, absurd counts and lengths, negative lengths and random mutations must
// produce an Error (never a crash, never an allocation sized by what the frame merely claims), and
// whatever does decode must re-encode to bytes that decode to the same thing.
//
// This file replaces the global operator new/delete (forwarding to malloc/free) so that a test can
// record the largest single allocation made while it decodes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <new>
#include <random>
#include <string>

#include "kafka/protocol/frame.h"
#include "tests/kafka/protocol/protocol_test_util.h"

namespace {

thread_local bool g_track_allocations = false;
thread_local size_t g_largest_allocation = 0;

void* tracked_malloc(size_t n) {
  if (g_track_allocations && n > g_largest_allocation) g_largest_allocation = n;
  return std::malloc(n == 0 ? 1 : n);
}

}  // namespace

// Every non-aligned form is replaced so that allocation and release always pair malloc with free
// (ASan checks the pairing). noinline: GCC would otherwise inline free() into std::allocator code
// and warn that it does not match the builtin operator new it assumes.
[[gnu::noinline]] void* operator new(size_t n) {
  void* p = tracked_malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
[[gnu::noinline]] void* operator new[](size_t n) {
  void* p = tracked_malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
[[gnu::noinline]] void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return tracked_malloc(n);
}
[[gnu::noinline]] void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return tracked_malloc(n);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace streamctl::kafka::protocol {
namespace {

using testing::all_captures;
using testing::from_hex;
using testing::to_hex;

// Largest single allocation made by f().
template <typename F>
size_t largest_allocation(F&& f) {
  g_largest_allocation = 0;
  g_track_allocations = true;
  f();
  g_track_allocations = false;
  return g_largest_allocation;
}

uint64_t test_seed() {
  if (const char* s = std::getenv("STREAMCTL_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

TEST_CASE("EveryTruncationOfEveryCapturedRequestFails") {
  size_t attempts = 0;
  for (const auto& c : all_captures()) {
    CAPTURE(c.label());
    for (size_t len = 0; len < c.request.size(); ++len) {
      auto r = decode_request(ByteSpan(c.request).first(len));
      CHECK_FALSE(r.ok());
      if (!r.ok()) CHECK(r.error().code == streamctl::ErrorCode::kCorruption);
      ++attempts;
    }
  }
  CHECK(attempts > 10000);
}

TEST_CASE("EveryTruncationOfEveryCapturedResponseFails") {
  for (const auto& c : all_captures()) {
    // Skip the mock's malformed ApiVersions v3 answers (see protocol_golden_test.cc): they are
    // invalid as a whole, and one of their prefixes happens to be a valid v3 body.
    if (!c.response || (c.api_key == 18 && c.api_version == 3)) continue;
    CAPTURE(c.label());
    for (size_t len = 0; len < c.response->size(); ++len) {
      CHECK_FALSE(decode_response(c.api_key, c.api_version,
                                  ByteSpan(*c.response).first(len))
                      .ok());
    }
  }
}

TEST_CASE("ArrayCountOfTwoBillionWithNoDataFailsWithoutAllocating") {
  // Metadata v1 request claiming 2^31-1 topics, classic int32 count.
  auto classic = from_hex("0003000100000001ffff" "7fffffff" "0001");
  // Fetch v4 with 2^31-1 topics.
  auto fetch = from_hex("0001000400000001ffff" "ffffffff" "00000000" "00000000" "7fffffff" "00"
                        "7fffffff");
  // ApiVersions v3 (flexible): compact string length 2^32-2 for client_software_name.
  auto compact = from_hex("0012000300000001ffff00" "ffffffff0f" "00");
  for (const auto* frame : {&classic, &fetch, &compact}) {
    CAPTURE(to_hex(*frame));
    Result<Request> r = Error{};
    size_t largest = largest_allocation([&] { r = decode_request(*frame); });
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == streamctl::ErrorCode::kCorruption);
    CHECK(r.error().message.find("exceeds") != std::string::npos);
    CHECK(largest < 4096);
  }
}

TEST_CASE("NegativeLengthsOtherThanMinusOneFail") {
  struct Case {
    const char* frame;
    const char* field;
  };
  const Case cases[] = {
      // Metadata v1 topic name length -2.
      {"0003000100000001ffff" "00000001" "fffe", "MetadataRequestTopic.name"},
      // Metadata v1 topics count -5.
      {"0003000100000001ffff" "fffffffb", "MetadataRequest.topics"},
      // Produce v7 records length -3 (acks 1, timeout, 1 topic "t", 1 partition).
      {"0000000700000001ffff" "ffff" "0001" "00007530" "00000001" "000174" "00000001" "00000000"
       "fffffffd",
       "PartitionProduceData.records"},
      // Header client id length -7.
      {"0003000100000001fff9", "RequestHeader.client_id"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.frame);
    auto r = decode_request(from_hex(c.frame));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == streamctl::ErrorCode::kCorruption);
    CHECK(r.error().message.find(c.field) != std::string::npos);
    CHECK(r.error().message.find("negative") != std::string::npos);
  }
}

TEST_CASE("NullWhereANonNullableFieldIsExpectedFails") {
  // Produce v7 topic name null.
  auto r = decode_request(from_hex("0000000700000001ffff" "ffff" "0001" "00007530" "00000001" "ffff"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("TopicProduceData.name") != std::string::npos);
}

TEST_CASE("HugeStringAndBytesLengthsFail") {
  // Topic name claiming 32767 bytes with 3 present.
  auto s = decode_request(from_hex("0003000100000001ffff" "00000001" "7fff" "616263"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("exceeds the 3 remaining bytes") != std::string::npos);
  // Records claiming 2^31-1 bytes.
  Result<Request> p = Error{};
  size_t largest = largest_allocation([&] {
    p = decode_request(from_hex("0000000700000001ffff" "ffff" "0001" "00007530" "00000001" "000174"
                                "00000001" "00000000" "7fffffff" "00"));
  });
  REQUIRE_FALSE(p.ok());
  CHECK(largest < 4096);
  // Compact string longer than Kafka's 32767 limit (length 40000, data present) is rejected.
  Bytes frame = from_hex("0012000300000001ffff00");
  frame.push_back(std::byte{0xc1});  // uvarint 40001 = c1 b8 02
  frame.push_back(std::byte{0xb8});
  frame.push_back(std::byte{0x02});
  frame.resize(frame.size() + 40000, std::byte{'a'});
  frame.push_back(std::byte{0x01});
  frame.push_back(std::byte{0x00});
  auto big = decode_request(frame);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message.find("exceeds 32767") != std::string::npos);
}

TEST_CASE("TaggedFieldCountAndSizeAreBoundedByTheFrame") {
  // ApiVersions v3 body: two empty compact strings, then a tag section claiming 2^20 entries.
  auto many = decode_request(from_hex("0012000300000001ffff00" "01" "01" "808040"));
  REQUIRE_FALSE(many.ok());
  CHECK(many.error().message.find("tagged field count") != std::string::npos);
  // One entry claiming 100 bytes with 2 present.
  auto big = decode_request(from_hex("0012000300000001ffff00" "01" "01" "01" "05" "64" "aabb"));
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message.find("size 100") != std::string::npos);
  // A well-formed unknown tag is kept and re-encoded.
  auto kept = decode_request(from_hex("0012000300000001ffff00" "01" "01" "01" "05" "02" "aabb"));
  REQUIRE(kept.ok());
  Bytes out;
  REQUIRE(encode_request(*kept, out).ok());
  CHECK(to_hex(out) == "0012000300000001ffff00" "01" "01" "01" "05" "02" "aabb");
}

// decode -> encode -> decode must be a fixed point for anything the decoder accepts.
void check_reencode_is_stable(const Request& req) {
  Bytes once;
  auto st = encode_request(req, once);
  REQUIRE_MESSAGE(st.ok(), st.error().to_string());
  auto again = decode_request(once);
  REQUIRE_MESSAGE(again.ok(), again.error().to_string());
  CHECK(again->body == req.body);
  Bytes twice;
  REQUIRE(encode_request(*again, twice).ok());
  CHECK(once == twice);
}

TEST_CASE("RandomlyMutatedCapturedRequestsNeverCrashAndReencodeStably") {
  const uint64_t seed = test_seed();
  MESSAGE("seed (set STREAMCTL_TEST_SEED to repeat): " << seed);
  std::mt19937_64 rng(seed);
  const auto& captures = all_captures();
  int decoded = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes frame = captures[rng() % captures.size()].request;
    const int mutations = 1 + int(rng() % 4);
    for (int m = 0; m < mutations && !frame.empty(); ++m) {
      const size_t pos = rng() % frame.size();
      switch (rng() % 4) {
        case 0:
          frame[pos] ^= std::byte(1u << (rng() % 8));
          break;
        case 1:
          frame[pos] = std::byte(rng() % 2 ? 0xff : 0x00);
          break;
        case 2:
          frame.erase(frame.begin() + long(pos));
          break;
        default:
          frame.insert(frame.begin() + long(pos), std::byte(rng()));
          break;
      }
    }
    auto req = decode_request(frame);
    if (!req.ok()) continue;
    ++decoded;
    check_reencode_is_stable(*req);
  }
  MESSAGE(decoded << " of 20000 mutated frames still decoded");
  CHECK(decoded > 0);
}

TEST_CASE("RandomBodiesForEveryApiAndVersionNeverCrash") {
  const uint64_t seed = test_seed();
  MESSAGE("seed (set STREAMCTL_TEST_SEED to repeat): " << seed);
  std::mt19937_64 rng(seed);
  for (const ApiInfo& a : api_table()) {
    for (int16_t v = a.decodable.min; v <= a.decodable.max; ++v) {
      for (int iter = 0; iter < 200; ++iter) {
        Bytes body(rng() % 64);
        for (auto& b : body) b = std::byte(rng() % 3 == 0 ? 0 : rng());
        auto req = decode_request_message(static_cast<int16_t>(a.key), v, body);
        if (req.ok()) {
          Bytes out;
          CHECK(encode_request_message(*req, v, out).ok());
        }
        auto resp = decode_response_message(static_cast<int16_t>(a.key), v, body);
        if (resp.ok()) {
          Bytes out;
          CHECK(encode_response_message(*resp, v, out).ok());
        }
      }
    }
  }
}

}  // namespace
}  // namespace streamctl::kafka::protocol
