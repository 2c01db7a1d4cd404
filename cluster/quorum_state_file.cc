#include "cluster/quorum_state_file.h"

#include <nlohmann/json.hpp>

namespace streamctl::cluster {
namespace {

Error corrupt(const std::string& path, const std::string& why) {
  return Error::corruption("quorum-state file " + path + " is damaged (" + why +
                           "): this replica's vote cannot be recovered; restore the file, or remove the "
                           "partition directory so that the replica rejoins empty");
}

}  // namespace

Result<raft::QuorumState> read_quorum_state(FileSystem& fs, const std::string& path) {
  auto bytes = read_file(fs, path);
  if (!bytes.ok()) {
    if (bytes.error().code == ErrorCode::kNotFound) return raft::QuorumState{};
    return std::move(bytes).error();
  }
  std::string_view text = as_string_view(*bytes);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt(path, "not a JSON object");
  auto int_field = [&](const char* key, int64_t min, int64_t* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return corrupt(path, std::string(key) + " is missing");
    int64_t v = it->get<int64_t>();
    if (v < min || v > INT32_MAX) return corrupt(path, std::string(key) + " " + std::to_string(v) + " is out of range");
    *out = v;
    return ok_status();
  };
  int64_t version = 0, epoch = 0, leader = 0, voted = 0;
  STREAMCTL_TRY(int_field("data_version", 0, &version));
  if (version > 1) return corrupt(path, "data_version " + std::to_string(version) + " is not 0 or 1");
  STREAMCTL_TRY(int_field("leaderEpoch", 0, &epoch));
  STREAMCTL_TRY(int_field("leaderId", -1, &leader));
  STREAMCTL_TRY(int_field("votedId", -1, &voted));
  return raft::QuorumState{raft::Epoch(epoch), raft::NodeId(voted), raft::NodeId(leader)};
}

Status write_quorum_state(FileSystem& fs, const std::string& path, const raft::QuorumState& state,
                          const std::vector<raft::NodeId>& voters) {
  nlohmann::json current = nlohmann::json::array();
  for (raft::NodeId v : voters) current.push_back({{"voterId", v}});
  nlohmann::ordered_json j;
  j["clusterId"] = "";
  j["leaderId"] = state.leader_id;
  j["leaderEpoch"] = state.leader_epoch;
  j["votedId"] = state.voted_id;
  j["appliedOffset"] = 0;
  j["currentVoters"] = current;
  j["data_version"] = 0;
  std::string text = j.dump() + "\n";
  return write_file_atomically(fs, path, as_byte_span(text));
}

}  // namespace streamctl::cluster
