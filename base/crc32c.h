// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as Kafka's RecordBatch v2 uses.
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run time), else slicing-by-8 tables.
// Thread-safe, pure functions. The CRC convention is the usual one (initial ~0, final xor ~0): the values
// are those of RFC 3720 / Java's java.util.zip.CRC32C, e.g. crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstdint>

#include "base/coding.h"

namespace streamctl {

// Extends a running CRC: crc32c_extend(crc32c(a), b) == crc32c(a ++ b). Start with 0.
uint32_t crc32c_extend(uint32_t crc, ByteSpan data);
inline uint32_t crc32c(ByteSpan data) { return crc32c_extend(0, data); }
// Whether the hardware path is in use (reported by the benchmark).
bool crc32c_hardware();

// The two implementations behind crc32c_extend, exposed so tests can check that they agree.
// Same contract as crc32c_extend.
uint32_t crc32c_extend_software(uint32_t crc, ByteSpan data);
// REQUIRES: crc32c_hardware() (the CPU has SSE4.2); calling it otherwise is an illegal instruction.
uint32_t crc32c_extend_hardware(uint32_t crc, ByteSpan data);

}  // namespace streamctl
