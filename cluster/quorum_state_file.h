// QuorumStateFile: the durable raft::QuorumState of one Raft group, Kafka's `quorum-state` file in the
// group's partition directory (e.g. <data>/orders-0/quorum-state, <data>/__cluster_metadata-0/quorum-state).
//
// Format: Kafka's QuorumStateData JSON (data_version 0), one line:
//   {"clusterId":"","leaderId":2,"leaderEpoch":7,"votedId":-1,"appliedOffset":0,
//    "currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}
// leaderId / votedId are -1 when none. Only leaderEpoch, leaderId and votedId are read back (the voter set comes
// from the node configuration); data_version 0 and 1 are accepted.
// Durability: write() is atomic and durable on return (quorum-state.tmp, fsync, rename, fsync of the directory):
// after a crash the file holds the old or the new state, never a mix. A file that exists but cannot be parsed
// is kCorruption naming it (never read as "no vote": that could vote twice in one epoch). Stateless functions;
// thread-safe as far as the FileSystem is.
#pragma once

#include <string>
#include <vector>

#include "base/fs.h"
#include "base/result.h"
#include "raft/types.h"

namespace streamctl::cluster {

inline constexpr std::string_view kQuorumStateFile = "quorum-state";

// The quorum state stored at `path`; the zero state (epoch 0, no vote, no leader) when the file does not exist.
Result<raft::QuorumState> read_quorum_state(FileSystem& fs, const std::string& path);

// Durably replaces the file at `path` (its directory must exist).
Status write_quorum_state(FileSystem& fs, const std::string& path, const raft::QuorumState& state,
                          const std::vector<raft::NodeId>& voters);

}  // namespace streamctl::cluster
