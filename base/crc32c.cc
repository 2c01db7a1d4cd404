// CRC-32C: SSE4.2 crc32 instruction when available, slicing-by-8 tables otherwise.
//
// The 8 tables are built at compile time. table[0] is the classic byte-at-a-time table for the reflected
// polynomial; table[k][b] is the CRC of byte b followed by k zero bytes, so eight table lookups advance
// the CRC over 8 input bytes at once (Intel's "slicing-by-8").
#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define STREAMCTL_CRC32C_X86 1
#endif

namespace streamctl {
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

// ---- combining interleaved streams (hardware path)
//
// crc32 has a latency of 3 cycles but a throughput of 1 per cycle, so one dependency chain uses a third of
// the unit. The hardware path therefore runs three chains over three adjacent blocks of kBlock bytes and
// joins them: for raw CRC registers (no pre/post inversion), crc(A || B) = shift(crc(A), |B|) ^ crc_from_0(B),
// where shift(x, n) is the register after n zero bytes. shift is linear in x, so it is four 256-entry table
// lookups (ShiftTable), built at compile time from the register image of each of the 32 bits.
struct ShiftTable {
  std::array<std::array<uint32_t, 256>, 4> t{};
};

constexpr ShiftTable make_shift_table(size_t zero_bytes) {
  std::array<uint32_t, 32> column{};
  for (size_t bit = 0; bit < 32; ++bit) {
    uint32_t c = uint32_t{1} << bit;
    for (size_t i = 0; i < zero_bytes; ++i) c = (c >> 8) ^ kTables[0][c & 0xff];
    column[bit] = c;
  }
  ShiftTable s;
  for (size_t k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t v = 0;
      for (size_t bit = 0; bit < 8; ++bit) {
        if ((b >> bit) & 1) v ^= column[8 * k + bit];
      }
      s.t[k][b] = v;
    }
  }
  return s;
}

inline uint32_t shift(const ShiftTable& s, uint32_t c) {
  return s.t[0][c & 0xff] ^ s.t[1][(c >> 8) & 0xff] ^ s.t[2][(c >> 16) & 0xff] ^ s.t[3][c >> 24];
}

constexpr size_t kLongBlock = 2048;  // bytes per chain per round: 6 KiB a round
constexpr size_t kShortBlock = 128;  // for what is left: 384 bytes a round
constexpr ShiftTable kShiftLong = make_shift_table(kLongBlock);
constexpr ShiftTable kShiftShort = make_shift_table(kShortBlock);

inline uint32_t load_le32(const unsigned char* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

#if defined(STREAMCTL_CRC32C_X86)
#if defined(__x86_64__)
// Consumes rounds of 3 x block bytes from [p, p + n) into the raw register c (see ShiftTable).
__attribute__((target("sse4.2"))) uint64_t three_chains(uint64_t c, const unsigned char*& p, size_t& n,
                                                        size_t block, const ShiftTable& table) {
  while (n >= 3 * block) {
    uint64_t c1 = 0, c2 = 0;
    const unsigned char* end = p + block;
    while (p < end) {
      uint64_t w0, w1, w2;
      std::memcpy(&w0, p, 8);
      std::memcpy(&w1, p + block, 8);
      std::memcpy(&w2, p + 2 * block, 8);
      c = _mm_crc32_u64(c, w0);
      c1 = _mm_crc32_u64(c1, w1);
      c2 = _mm_crc32_u64(c2, w2);
      p += 8;
    }
    c = shift(table, shift(table, uint32_t(c)) ^ uint32_t(c1)) ^ uint32_t(c2);
    p += 2 * block;
    n -= 3 * block;
  }
  return c;
}
#endif

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
  // Three chains over adjacent blocks, joined with the shift tables (see ShiftTable).
  c64 = three_chains(c64, p, n, kLongBlock, kShiftLong);
  c64 = three_chains(c64, p, n, kShortBlock, kShiftShort);
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

}  // namespace streamctl
