// Group-mode and state-file consume: `streamctl consume TOPIC --group G` and `--state-file PATH`.
//
// Built on cli/consumer.h's Consumer. Positions come from, and are committed to, either the consumer group's
// committed offsets (engine::GroupStore, shared with the Kafka-protocol server) or a private state file
// (cli/state_file.h). A partition with no stored position starts at the `-o` position.
//
// What is committed is exactly what reached the output: the Consumer reports a partition's next offset only
// after the sink flushed (stdout written), and a sink that closed or failed stops the reports. Commits
// happen every commit_interval_ms while records flow, before a partition is handed to another member, and
// when consuming ends (end of data with -e, -c reached, SIGINT/SIGTERM, stdout closed). So a clean stop
// leaves nothing to re-read, and a member killed with kill -9 only re-delivers what it wrote after its last
// commit (Kafka's at-least-once).
//
// Group mode shares the topic's partitions among every `consume --group G` process on this data directory
// (cli/membership.h): each partition is read by exactly one member at a time, a new member gets its fair
// share within ~rebalance_interval_ms, and a killed member's partitions are taken over as fast.
// Thread-compatible: one call drives everything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/consumer.h"
#include "cli/offset_spec.h"
#include "engine/log_manager.h"
#include "base/result.h"

namespace streamctl::cli {

struct GroupConsumeOptions {
  std::string topic;
  std::string group;       // --group; exactly one of group / state_file is set
  std::string state_file;  // --state-file
  // State-file mode only: read just these partitions (empty = all). A group always shares all of them.
  std::vector<PartitionId> partitions;
  // -o: where a partition without a stored position starts. A range (A:B) is refused: a group or a state
  // file continues where it stopped, it has no end but -e / -c.
  OffsetSpec start;
  // follow (-f), max_records (-n), filter, want_headers, fetch_bytes. poll_timeout_ms is lowered to
  // rebalance_interval_ms so an idle follower still reacts to members joining and leaving. Without follow,
  // each partition is read up to its high watermark as of when this process took it, like plain consume.
  ConsumerOptions consumer;
  int64_t commit_interval_ms = 1000;
  int64_t rebalance_interval_ms = 500;
  std::string client_id = "streamctl";  // shown by `group describe`
};

// Validates the options: kInvalidArgument when both or neither of group/state_file are set, partitions are
// given with a group, or the start spec is a range.
Status validate_group_consume(const GroupConsumeOptions& options);

// Consumes as described at the top, writing records to `sink`, until the end of the owned partitions
// (not following), max_records, a stop signal, or the sink closing. Errors name the topic/partition/file:
// kNotFound for a missing topic, kBusy when the state file is in use, I/O and corruption errors. What was
// written before an error is committed.
// `manager` and `global` are not owned. The returned stats add up every round of partition ownership.
Result<ConsumeStats> run_group_consume(engine::LogManager& manager, const GlobalOptions& global,
                                               const GroupConsumeOptions& options, RecordSink& sink);

// ---- the `streamctl consume` takeover (CommandContext::consume_takeover, set by register_group_command)

struct ConsumeOptions;  // cli/consume_cmd.h

// The flags group mode adds to `streamctl consume`.
struct GroupModeFlags {
  std::string group;            // -G/--group NAME
  std::string state_file;       // --state-file PATH
  std::string commit_interval;  // --commit-interval DURATION (offset_spec.h duration grammar; default 1s)
};

// Runs `streamctl consume` in group or state-file mode when flags ask for it (returns the exit code), and
// returns std::nullopt otherwise (plain consume runs). Same output, filters and exit codes as plain consume.
std::optional<int> consume_in_group_mode(const ConsumeOptions& consume, const GlobalOptions& global,
                                         const GroupModeFlags& flags);

}  // namespace streamctl::cli
