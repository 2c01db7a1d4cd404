// `streamctl consume`: its options and the pieces group mode reuses (output and filter set-up, partition
// resolution, exit codes). Plain consume: resolve -o on each selected partition, run a Consumer into an
// FdSink on stdout, map the outcome to an exit code. Thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/consumer.h"
#include "cli/offset_spec.h"
#include "cli/output_format.h"
#include "engine/log_manager.h"
#include "base/result.h"

namespace streamctl::cli {

struct ConsumeOptions {
  std::string topic;
  std::string offset = "beginning";   // -o/--offset, the grammar in offset_spec.h
  bool offset_given = false;          // -o was on the command line (group mode: only for new groups)
  std::vector<int32_t> partitions;    // -p/--partition (empty = all)
  int64_t count = -1;                 // -n/--count (-1 = no limit)
  bool follow = false;                // -f/--follow
  std::string format;                 // --format template (empty = kDefaultFormat)
  std::string grep;                   // --grep REGEX on the value
  std::string key_match;              // --key-match REGEX on the whole key
  bool ignore_case = false;           // -i/--ignore-case
  bool invert_match = false;          // --invert-match
  std::string null_text;              // --null-text: what %k/%s print for null
  bool by_partition = false;          // --by-partition: no interleaving by timestamp
};

// The formatter (nullptr when the output is JSON lines) and filter a consume run uses.
struct ConsumeOutput {
  std::unique_ptr<RecordFormatter> formatter;
  std::unique_ptr<RecordFilter> filter;  // nullptr when no filter was asked for
  bool want_headers = true;
};

// Builds the formatter and filter from the options (usage errors for a bad template or regex).
Result<ConsumeOutput> make_consume_output(const ConsumeOptions& options, const GlobalOptions& global);

// The selected partitions of the topic, each opened (kNotFound naming the topic or partition).
Result<std::vector<std::pair<PartitionId, engine::Log*>>> open_partitions(
    engine::LogManager& lm, const std::string& topic, const std::vector<int32_t>& selected);

// The exit code of a finished consume: 0 when at least one record was written (or the reader closed the
// pipe), 5 (nothing consumed) when none was.
int consume_exit_code(const ConsumeStats& stats);

// Plain consume (no group): what `streamctl consume` runs when group mode does not take over.
int run_consume(const ConsumeOptions& options, const GlobalOptions& global);

}  // namespace streamctl::cli
