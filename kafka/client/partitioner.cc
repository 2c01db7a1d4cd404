#include "kafka/client/partitioner.h"

namespace streamctl::kafka::client {

int32_t murmur2(std::string_view data) {
  // Java ints wrap; do the arithmetic on uint32_t and reinterpret at the end.
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const uint32_t length = uint32_t(data.size());
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  uint32_t h = seed ^ length;
  const uint32_t length4 = length / 4;
  for (uint32_t i = 0; i < length4; ++i) {
    const uint32_t i4 = i * 4;
    uint32_t k = uint32_t(bytes[i4]) | (uint32_t(bytes[i4 + 1]) << 8) | (uint32_t(bytes[i4 + 2]) << 16) |
                 (uint32_t(bytes[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint32_t tail = length & ~uint32_t(3);
  switch (length % 4) {
    case 3: h ^= uint32_t(bytes[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= uint32_t(bytes[tail + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t(bytes[tail]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return int32_t(h);
}

StickyPartitioner::StickyPartitioner(int32_t num_partitions, int64_t batch_bytes, uint64_t seed)
    : num_partitions_(num_partitions < 1 ? 1 : num_partitions),
      batch_bytes_(batch_bytes < 1 ? 1 : batch_bytes),
      rng_state_(seed == 0 ? 0x9e3779b97f4a7c15ull : seed) {}

uint64_t StickyPartitioner::next_random() {
  // xorshift64*: plenty for spreading batches.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  return rng_state_ * 0x2545f4914f6cdd1dull;
}

PartitionId StickyPartitioner::next_sticky() {
  if (num_partitions_ == 1) return 0;
  // Like Kafka's StickyPartitionCache: a random partition other than the current one.
  PartitionId p;
  do {
    p = PartitionId(next_random() % uint64_t(num_partitions_));
  } while (p == sticky_);
  return p;
}

PartitionId StickyPartitioner::partition(const std::optional<std::string_view>& key,
                                                 size_t record_bytes) {
  if (key) return partition_for_key(*key, num_partitions_);
  if (sticky_ < 0 || sticky_bytes_ >= batch_bytes_) {
    sticky_ = next_sticky();
    sticky_bytes_ = 0;
  }
  sticky_bytes_ += int64_t(record_bytes);
  return sticky_;
}

}  // namespace streamctl::kafka::client
