#include "base/crc32c.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

using namespace streamctl;

namespace {

uint64_t crc_test_seed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("STREAMCTL_TEST_SEED");
    uint64_t s = env ? std::strtoull(env, nullptr, 0) : std::random_device{}();
    std::printf("crc32c_test: seed %llu (override with STREAMCTL_TEST_SEED)\n",
                static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

// Bit-at-a-time reference, straight from the definition (reflected polynomial 0x82F63B78).
uint32_t reference_crc32c(ByteSpan data) {
  uint32_t c = 0xffffffffu;
  for (std::byte b : data) {
    c ^= uint32_t(b);
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

Bytes filled(size_t n, uint8_t v) { return Bytes(n, std::byte{v}); }

}  // namespace

TEST_CASE("Rfc3720TestVectorsMatch") {
  Bytes ascending(32), descending(32);
  for (size_t i = 0; i < 32; ++i) {
    ascending[i] = std::byte(i);
    descending[i] = std::byte(31 - i);
  }
  CHECK(crc32c(filled(32, 0x00)) == 0x8A9136AAu);
  CHECK(crc32c(filled(32, 0xFF)) == 0x62A8AB43u);
  CHECK(crc32c(ascending) == 0x46DD794Eu);
  CHECK(crc32c(descending) == 0x113FDB5Cu);
  CHECK(crc32c(as_byte_span("123456789")) == 0xE3069283u);
  CHECK(crc32c({}) == 0u);
}

TEST_CASE("SoftwareAndHardwarePathsBothMatchTheTestVectors") {
  Bytes ascending(32);
  for (size_t i = 0; i < 32; ++i) ascending[i] = std::byte(i);
  CHECK(crc32c_extend_software(0, filled(32, 0x00)) == 0x8A9136AAu);
  CHECK(crc32c_extend_software(0, filled(32, 0xFF)) == 0x62A8AB43u);
  CHECK(crc32c_extend_software(0, ascending) == 0x46DD794Eu);
  CHECK(crc32c_extend_software(0, as_byte_span("123456789")) == 0xE3069283u);
  MESSAGE("crc32c hardware path: " << std::string(crc32c_hardware() ? "sse4.2" : "not available"));
  if (crc32c_hardware()) {
    CHECK(crc32c_extend_hardware(0, filled(32, 0x00)) == 0x8A9136AAu);
    CHECK(crc32c_extend_hardware(0, filled(32, 0xFF)) == 0x62A8AB43u);
    CHECK(crc32c_extend_hardware(0, ascending) == 0x46DD794Eu);
    CHECK(crc32c_extend_hardware(0, as_byte_span("123456789")) == 0xE3069283u);
  }
}

TEST_CASE("HardwareEqualsSoftwareForAllLengthsAndAlignments") {
  std::mt19937_64 rng(crc_test_seed());
  Bytes buf(1024 + 64);
  for (auto& b : buf) b = std::byte(rng());
  for (size_t align = 0; align < 16; ++align) {
    for (size_t len = 0; len <= 1024; ++len) {
      ByteSpan s(buf.data() + align, len);
      uint32_t sw = crc32c_extend_software(0, s);
      uint32_t via_default = crc32c(s);
      if (sw != via_default) {
        FAIL("default path differs at align " << align << " len " << len);
      }
      if (crc32c_hardware()) {
        uint32_t hw = crc32c_extend_hardware(0, s);
        if (hw != sw) FAIL("hardware " << hw << " != software " << sw << " at align " << align << " len " << len);
      }
    }
  }
  // Against the bit-at-a-time definition on a sample of lengths.
  for (size_t len : {0, 1, 3, 7, 8, 9, 31, 32, 33, 63, 100, 1000}) {
    ByteSpan s(buf.data() + 3, len);
    CHECK(crc32c(s) == reference_crc32c(s));
    CHECK(crc32c_extend_software(0, s) == reference_crc32c(s));
  }
}

TEST_CASE("ExtendingInPiecesEqualsOneShot") {
  std::mt19937_64 rng(crc_test_seed() + 1);
  Bytes buf(5000);
  for (auto& b : buf) b = std::byte(rng());
  uint32_t whole = crc32c(buf);
  for (int trial = 0; trial < 200; ++trial) {
    size_t cut1 = rng() % buf.size();
    size_t cut2 = cut1 + rng() % (buf.size() - cut1);
    ByteSpan all(buf);
    uint32_t c = crc32c(all.subspan(0, cut1));
    c = crc32c_extend(c, all.subspan(cut1, cut2 - cut1));
    c = crc32c_extend(c, all.subspan(cut2));
    CHECK(c == whole);
    uint32_t s = crc32c_extend_software(crc32c_extend_software(0, all.subspan(0, cut1)), all.subspan(cut1));
    CHECK(s == whole);
  }
}

TEST_CASE("EverySingleBitFlipChangesTheCrc") {
  Bytes buf(64);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = std::byte(i * 7 + 1);
  uint32_t base = crc32c(buf);
  for (size_t i = 0; i < buf.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      buf[i] ^= std::byte(1u << bit);
      CHECK(crc32c(buf) != base);
      buf[i] ^= std::byte(1u << bit);
    }
  }
  CHECK(crc32c(buf) == base);
}

TEST_CASE("HardwareInterleavedChainsEqualSoftwareOnLargeInputs") {
  // The hardware path joins three chains over 3 x 2048-byte and 3 x 128-byte rounds: cover lengths at and
  // around those round sizes, several rounds, odd tails, and a non-zero starting CRC.
  std::mt19937_64 rng(crc_test_seed() + 7);
  Bytes buf(64 * 1024 + 64);
  for (auto& b : buf) b = std::byte(rng());
  std::vector<size_t> lengths = {383, 384, 385, 6143, 6144, 6145, 6144 + 384, 2 * 6144 + 383, 3 * 6144 + 1,
                                 64 * 1024};
  for (int i = 0; i < 40; ++i) lengths.push_back(size_t(rng() % (64 * 1024)));
  for (size_t align : {0, 1, 5, 8}) {
    for (size_t len : lengths) {
      ByteSpan s(buf.data() + align, len);
      const uint32_t sw = crc32c_extend_software(0x12345678u, s);
      CHECK(crc32c_extend(0x12345678u, s) == sw);
      if (crc32c_hardware()) {
        const uint32_t hw = crc32c_extend_hardware(0x12345678u, s);
        if (hw != sw) FAIL("hardware " << hw << " != software " << sw << " at align " << align << " len " << len);
      }
    }
  }
  CHECK(crc32c(ByteSpan(buf.data(), 20000)) == reference_crc32c(ByteSpan(buf.data(), 20000)));
}
