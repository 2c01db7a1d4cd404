// `streamctl consume` against a Kafka-protocol cluster: the same positions (offset_spec.h, resolved with
// ListOffsets), filters, output sinks, counts and exit-at-end as the embedded Consumer, read through a
// librdkafka consumer.
//
// Plain mode assigns the partitions itself (no group). Group mode subscribes with the broker's group
// coordinator (real JoinGroup/SyncGroup rebalances, so members may be other Kafka clients such as kcat -G).
// A newly assigned partition starts at the group's committed offset, else at the -o position. Commits are
// of what reached the output: positions advance only after the sink flushed. They are committed every
// commit interval, before a partition is revoked, and when consuming ends. Without --follow, each
// partition is read up to its high watermark as of its assignment; the run ends once every partition this
// member holds is at its end (a member with nothing assigned ends at once): kcat -G cannot do that.
// --state-file (plain mode) keeps the positions in a local file instead of a group, as embedded does.
// Thread-compatible: one call drives everything (callbacks run inside its poll calls).
#pragma once

#include <string>
#include <vector>

#include "cli/client_config.h"
#include "cli/command.h"
#include "cli/consumer.h"
#include "cli/offset_spec.h"
#include "base/result.h"

namespace streamctl::cli {

struct RemoteConsumeRequest {
  std::string topic;
  std::vector<int32_t> partitions;  // plain mode: only these (empty = all); group mode: must be empty
  OffsetSpec spec;                  // start (and, plain mode, end) positions
  std::string group;                // non-empty: group mode
  ConsumerOptions consumer;         // follow, max_records, want_headers, filter
  int64_t commit_interval_ms = 1000;
  // Plain mode with --state-file: partitions start at the file's positions (else at -o), and the positions
  // of what reached the output are stored there (every commit interval and at the end, also for partitions
  // that had nothing new, so the next run starts where this one stood). Not owned.
  class StateFile* state_file = nullptr;
};

// Consumes into `sink` until the end (not following), max_records, a stop signal or the sink closing.
// Errors: kNotFound for a missing topic or partition (same messages as embedded), unreachable brokers, and
// fatal consumer errors.
Result<ConsumeStats> run_remote_consume(const ConnectionSettings& settings, const GlobalOptions& global,
                                                const RemoteConsumeRequest& request, RecordSink& sink);

}  // namespace streamctl::cli
