// Reading a topic over Kafka: ListOffsets (where a partition starts and ends, or the offset for a time)
// and Fetch (record batches from a position), at the highest versions the broker and the codec share.
// fetch_once is one request to one broker; Fetcher follows a set of partitions across their leaders
// (found with native Metadata from the bootstrap list), one Fetch in flight to each leader at a time
// (all leaders asked at once), advancing each partition's position past the whole batches it returns.
// For a follower (cluster mode) the batches are the bytes to append; a consumer decodes them
// (kafka/format's BatchIterator / decode_records).
//
// Partition errors: a moved or missing leader (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE,
// UNKNOWN_TOPIC_OR_PARTITION, FENCED/UNKNOWN_LEADER_EPOCH) refreshes metadata and is retried on the next
// poll; any other (OFFSET_OUT_OF_RANGE, ...) is returned in FetchedPartition::error_code for the caller.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "kafka/client/connection.h"
#include "kafka/client/metadata.h"

namespace streamctl::kafka::client {

struct FetchOptions {
  int32_t max_wait_ms = 500;             // the broker holds the request until min_bytes or this long
  int32_t min_bytes = 1;
  int32_t max_bytes = 50 << 20;          // the whole response (v3+)
  int32_t partition_max_bytes = 1 << 20;
  int8_t isolation_level = 0;            // 0 read_uncommitted, 1 read_committed
  int32_t replica_id = -1;               // -1 for a consumer; a follower's broker id
};

struct FetchedPartition {
  int32_t partition = 0;
  int16_t error_code = 0;
  int64_t fetch_offset = 0;       // the position asked for
  int64_t next_offset = 0;        // after the last whole batch returned; fetch_offset when none
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  int64_t last_stable_offset = -1;
  Bytes records;                  // whole RecordBatches only (a trailing partial batch is cut off)
};

// One Fetch of `topic`'s partitions at `positions` (partition -> offset) from `conn`.
Result<std::vector<FetchedPartition>> fetch_once(BrokerConnection& conn, const std::string& topic,
                                                 const std::map<int32_t, int64_t>& positions,
                                                 const FetchOptions& options);

inline constexpr int64_t kLatestOffset = -1;    // ListOffsets: the end of the log (the next offset)
inline constexpr int64_t kEarliestOffset = -2;  // ListOffsets: the log start offset

// The offset for `timestamp` (kLatestOffset, kEarliestOffset, or the first record at or after a time in
// ms) of each partition, asked of `conn` (the partitions' leader). A partition error is an Error
// (broker_error naming the partition).
Result<std::map<int32_t, int64_t>> list_offsets(BrokerConnection& conn, const std::string& topic,
                                                const std::vector<int32_t>& partitions, int64_t timestamp);

class Fetcher {
 public:
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;
  ~Fetcher();

  // Metadata for `topic` from the first bootstrap broker that answers. kNotFound when the cluster does
  // not have the topic.
  static Result<std::unique_ptr<Fetcher>> open(const std::vector<BrokerAddress>& bootstrap, std::string topic,
                                               ConnectionOptions connection, FetchOptions options);

  // The topic's partition count (from metadata).
  int32_t partitions() const;
  // Follows `partition` from `offset` (kEarliestOffset / kLatestOffset: asked of its leader).
  Status assign(int32_t partition, int64_t offset);
  // The next offset to fetch, -1 if not assigned.
  int64_t position(int32_t partition) const;

  // One round: a Fetch to every leader of an assigned partition (at once), each waiting up to
  // max_wait_ms for data. Returns the partitions that answered with records or an error the caller must
  // see; positions advance past what is returned. Connection failures drop that leader's connection
  // (retried next round) and are not errors. Errors: metadata cannot be had (no bootstrap or known
  // broker answers: kUnavailable; the topic is gone: kNotFound), or a leader has no Fetch v4+.
  Result<std::vector<FetchedPartition>> poll();

 private:
  struct Impl;
  explicit Fetcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamctl::kafka::client
