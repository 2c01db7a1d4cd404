// CRC-32C: SSE4.2 crc32 instruction when available, slicing-by-8 tables otherwise.
//
// The 8 tables are built at compile time. table[0] is the classic byte-at-a-time table for the reflected
// polynomial; table[k][b] is the CRC of byte b followed by k zero bytes, so eight table lookups advance
// the CRC over 8 input bytes at once (Intel's "slicing-by-8").
#include "engine/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define STREAMCTL_CRC32C_X86 1
#endif

namespace streamctl::engine {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  return t;
}

constexpr Tables kTables = make_tables();

inline uint32_t load_le32(const unsigned char* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

#if defined(STREAMCTL_CRC32C_X86)
__attribute__((target("sse4.2"))) uint32_t hardware_extend(uint32_t crc, const unsigned char* p,
                                                            size_t n) {
  uint32_t c = ~crc;
  // Align to 8 bytes so the 64-bit loads in the main loop do not straddle cache lines needlessly.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(c, *p++);
    --n;
  }
#if defined(__x86_64__)
  uint64_t c64 = c;
  // Four independent loads per iteration; the crc32 dependency chain is the limit (1 per 3 cycles).
  while (n >= 32) {
    uint64_t w0, w1, w2, w3;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    std::memcpy(&w2, p + 16, 8);
    std::memcpy(&w3, p + 24, 8);
    c64 = _mm_crc32_u64(c64, w0);
    c64 = _mm_crc32_u64(c64, w1);
    c64 = _mm_crc32_u64(c64, w2);
    c64 = _mm_crc32_u64(c64, w3);
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c64 = _mm_crc32_u64(c64, w);
    p += 8;
    n -= 8;
  }
  c = uint32_t(c64);
#endif
  while (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    c = _mm_crc32_u32(c, w);
    p += 4;
    n -= 4;
  }
  while (n > 0) {
    c = _mm_crc32_u8(c, *p++);
    --n;
  }
  return ~c;
}

bool detect_hardware() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#endif

uint32_t software_extend(uint32_t crc, const unsigned char* p, size_t n) {
  uint32_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 3) != 0) {
    c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xff];
    --n;
  }
  while (n >= 8) {
    uint32_t lo = load_le32(p) ^ c;
    uint32_t hi = load_le32(p + 4);
    c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
        kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xff];
    --n;
  }
  return ~c;
}

// Chosen once, on first use (thread-safe static initialisation).
bool use_hardware() {
#if defined(STREAMCTL_CRC32C_X86)
  static const bool hw = detect_hardware();
  return hw;
#else
  return false;
#endif
}

const unsigned char* data_of(ByteSpan data) {
  return reinterpret_cast<const unsigned char*>(data.data());
}

}  // namespace

bool crc32c_hardware() { return use_hardware(); }

uint32_t crc32c_extend_software(uint32_t crc, ByteSpan data) {
  return software_extend(crc, data_of(data), data.size());
}

uint32_t crc32c_extend_hardware(uint32_t crc, ByteSpan data) {
#if defined(STREAMCTL_CRC32C_X86)
  return hardware_extend(crc, data_of(data), data.size());
#else
  return software_extend(crc, data_of(data), data.size());
#endif
}

uint32_t crc32c_extend(uint32_t crc, ByteSpan data) {
#if defined(STREAMCTL_CRC32C_X86)
  if (use_hardware()) return hardware_extend(crc, data_of(data), data.size());
#endif
  return software_extend(crc, data_of(data), data.size());
}

}  // namespace streamctl::engine
