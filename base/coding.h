// All byte encoding in the project lives here (leveldb's util/coding.h, but big-endian like Kafka).
//
// * Fixed-width integers are big-endian (network order), as in Kafka's protocol and RecordBatch v2.
// * varint/varlong are zigzag-encoded signed LEB128 (Kafka's "varint"), uvarint is plain unsigned LEB128
//   (used by flexible protocol versions for compact lengths and tagged fields).
// No reinterpret_cast of structs onto bytes anywhere else: use these helpers.
// ByteWriter appends to a caller-owned vector; ByteReader reads from a caller-owned span that must outlive it.
// A ByteReader failure is sticky: after the first out-of-bounds or malformed read every read returns 0 and
// ok() is false, so decoders can read a whole structure and check once.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace streamctl {

using ByteSpan = std::span<const std::byte>;
using Bytes = std::vector<std::byte>;

// An allocator whose value-less construct() default-initialises, so vector::resize() leaves new elements
// of trivial types uninitialised instead of zero-filling them.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// Bytes for buffers that are always written before they are read and reused across calls (read buffers):
// growing one costs no memset. Same interface as Bytes; converts to ByteSpan.
using ScratchBytes = std::vector<std::byte, DefaultInitAllocator<std::byte>>;

inline ByteSpan as_byte_span(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view as_string_view(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) {
  auto b = as_byte_span(s);
  return Bytes(b.begin(), b.end());
}

// ---- fixed-width big-endian
inline void put_be16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v);
}
inline void put_be32(std::byte* p, uint32_t v) {
  p[0] = std::byte(v >> 24);
  p[1] = std::byte(v >> 16);
  p[2] = std::byte(v >> 8);
  p[3] = std::byte(v);
}
inline void put_be64(std::byte* p, uint64_t v) {
  put_be32(p, uint32_t(v >> 32));
  put_be32(p + 4, uint32_t(v));
}
inline uint16_t get_be16(const std::byte* p) {
  return uint16_t((uint16_t(p[0]) << 8) | uint16_t(p[1]));
}
inline uint32_t get_be32(const std::byte* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline uint64_t get_be64(const std::byte* p) {
  return (uint64_t(get_be32(p)) << 32) | uint64_t(get_be32(p + 4));
}

// ---- zigzag
inline uint32_t zigzag32(int32_t v) { return (uint32_t(v) << 1) ^ uint32_t(v >> 31); }
inline uint64_t zigzag64(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
inline int32_t unzigzag32(uint32_t v) { return int32_t(v >> 1) ^ -int32_t(v & 1); }
inline int64_t unzigzag64(uint64_t v) { return int64_t(v >> 1) ^ -int64_t(v & 1); }

// Number of bytes an unsigned LEB128 encoding of v takes (1..10).
inline size_t uvarint_size(uint64_t v) { return (size_t(std::bit_width(v | 1)) + 6) / 7; }
inline size_t varint_size(int64_t v) { return uvarint_size(zigzag64(v)); }

// Writes v as unsigned LEB128 at p (which must have room for uvarint_size(v) bytes); returns bytes written.
inline size_t put_uvarint(std::byte* p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = std::byte((v & 0x7f) | 0x80);
    v >>= 7;
  }
  p[n++] = std::byte(v);
  return n;
}

// Appends encoded values to a caller-owned buffer.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  void i8(int8_t v) { out_.push_back(std::byte(v)); }
  void u8(uint8_t v) { out_.push_back(std::byte(v)); }
  void i16(int16_t v) { be16(uint16_t(v)); }
  void i32(int32_t v) { be32(uint32_t(v)); }
  void i64(int64_t v) { be64(uint64_t(v)); }
  void u32(uint32_t v) { be32(v); }
  void be16(uint16_t v) {
    size_t n = grow(2);
    put_be16(out_.data() + n, v);
  }
  void be32(uint32_t v) {
    size_t n = grow(4);
    put_be32(out_.data() + n, v);
  }
  void be64(uint64_t v) {
    size_t n = grow(8);
    put_be64(out_.data() + n, v);
  }
  void f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    be64(bits);
  }
  void uvarint(uint64_t v) {
    std::byte tmp[10];
    size_t k = put_uvarint(tmp, v);
    out_.insert(out_.end(), tmp, tmp + k);
  }
  void varint(int32_t v) { uvarint(zigzag32(v)); }
  void varlong(int64_t v) { uvarint(zigzag64(v)); }
  void raw(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void raw(std::string_view s) { raw(as_byte_span(s)); }

  size_t size() const { return out_.size(); }
  Bytes& buffer() { return out_; }
  // Overwrites 4 bytes at pos (for length and CRC fields written after their content).
  void patch_be32(size_t pos, uint32_t v) { put_be32(out_.data() + pos, v); }
  void patch_be64(size_t pos, uint64_t v) { put_be64(out_.data() + pos, v); }

 private:
  size_t grow(size_t k) {
    size_t n = out_.size();
    out_.resize(n + k);
    return n;
  }
  Bytes& out_;
};

// Reads encoded values from a caller-owned span. Failure is sticky (see file comment).
class ByteReader {
 public:
  explicit ByteReader(ByteSpan in) : in_(in) {}

  bool ok() const { return ok_; }
  size_t position() const { return pos_; }
  size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  bool at_end() const { return pos_ >= in_.size(); }
  // Marks the reader failed (for semantic errors found by the caller, e.g. a negative length).
  void fail() { ok_ = false; }

  int8_t i8() { return int8_t(u8()); }
  uint8_t u8() {
    if (!need(1)) return 0;
    return uint8_t(in_[pos_++]);
  }
  int16_t i16() { return int16_t(be16()); }
  int32_t i32() { return int32_t(be32()); }
  int64_t i64() { return int64_t(be64()); }
  uint32_t u32() { return be32(); }
  uint16_t be16() {
    if (!need(2)) return 0;
    uint16_t v = get_be16(in_.data() + pos_);
    pos_ += 2;
    return v;
  }
  uint32_t be32() {
    if (!need(4)) return 0;
    uint32_t v = get_be32(in_.data() + pos_);
    pos_ += 4;
    return v;
  }
  uint64_t be64() {
    if (!need(8)) return 0;
    uint64_t v = get_be64(in_.data() + pos_);
    pos_ += 8;
    return v;
  }
  double f64() {
    uint64_t bits = be64();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  // Unsigned LEB128, at most 10 bytes; more (or a 64-bit overflow) fails the reader.
  uint64_t uvarint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (!need(1)) return 0;
      uint8_t b = uint8_t(in_[pos_++]);
      if (shift == 63 && b > 1) break;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  // Zigzag varint that must fit 32 bits.
  int32_t varint() {
    uint64_t u = uvarint();
    if (u > 0xffffffffull) {
      ok_ = false;
      return 0;
    }
    return unzigzag32(uint32_t(u));
  }
  int64_t varlong() { return unzigzag64(uvarint()); }
  // The next n bytes as a view into the input (empty and failed if fewer remain).
  ByteSpan raw(size_t n) {
    if (!need(n)) return {};
    ByteSpan s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  void skip(size_t n) { (void)raw(n); }
  ByteSpan rest() const { return ok_ ? in_.subspan(pos_) : ByteSpan{}; }

 private:
  bool need(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  ByteSpan in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace streamctl
