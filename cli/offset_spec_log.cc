// offset_spec.h's bridge to engine::Log, kept apart from the pure grammar so that unit tests of the
// grammar do not need the engine's Log.
#include "cli/offset_spec.h"
#include "engine/log.h"

namespace streamctl::cli {

PartitionBounds bounds_of(engine::Log& log) {
  PartitionBounds b;
  b.log_start = log.log_start_offset();
  b.log_end = log.high_watermark();
  b.offset_for_timestamp = [&log](Timestamp ts) { return log.offset_for_timestamp(ts); };
  return b;
}

}  // namespace streamctl::cli
