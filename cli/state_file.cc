// StateFile: format and locking described in state_file.h.
#include "cli/state_file.h"

#include <nlohmann/json.hpp>

namespace streamctl::cli {


namespace {
constexpr int kStateFileVersion = 1;
}  // namespace

Result<std::unique_ptr<StateFile>> StateFile::open(FileSystem* fs, Clock* clock,
                                                   const std::string& path) {
  if (path.empty()) return Error::invalid_argument("--state-file needs a path");
  std::string parent = parent_path(path);
  STREAMCTL_ASSIGN_OR_RETURN(bool parent_exists, fs->exists(parent));
  if (!parent_exists) {
    return Error::not_found("the directory of state file " + path + " does not exist");
  }
  auto lock = fs->lock(path + ".lock", LockMode::kExclusive, /*wait=*/false);
  if (!lock.ok()) {
    if (lock.error().code == ErrorCode::kBusy) {
      return Error::busy("state file " + path + " is in use by another streamctl process (" + path +
                         ".lock is locked); is the previous run still going?");
    }
    return lock.error();
  }
  std::unique_ptr<StateFile> state(new StateFile(fs, clock, path, std::move(lock).value()));
  STREAMCTL_ASSIGN_OR_RETURN(bool exists, fs->exists(path));
  if (exists) {
    STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, read_file(*fs, path));
    STREAMCTL_ASSIGN_OR_RETURN(state->positions_, decode(std::string(as_string_view(bytes)), path));
  }
  return state;
}

std::optional<Offset> StateFile::position(const TopicPartition& tp) const {
  auto it = positions_.find(tp);
  if (it == positions_.end()) return std::nullopt;
  return it->second;
}

Status StateFile::commit(const std::map<TopicPartition, Offset>& positions) {
  auto merged = positions_;
  for (const auto& [tp, offset] : positions) merged[tp] = offset;
  std::string text = encode(merged, clock_->now().value);
  STREAMCTL_TRY(write_file_atomically(*fs_, path_, as_byte_span(text)));
  positions_ = std::move(merged);
  return ok_status();
}

std::string StateFile::encode(const std::map<TopicPartition, Offset>& positions, int64_t updated_ms) {
  nlohmann::json offsets = nlohmann::json::object();
  for (const auto& [tp, offset] : positions) offsets[tp.topic][std::to_string(tp.partition)] = offset.value;
  nlohmann::json j = {{"version", kStateFileVersion}, {"updated_ms", updated_ms}, {"offsets", offsets}};
  return j.dump(2) + "\n";
}

Result<std::map<TopicPartition, Offset>> StateFile::decode(const std::string& text, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Error::corruption("state file " + path + " is not a streamctl state file: " + why +
                             " (fix or remove it; removing restarts from -o)");
  };
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("invalid JSON");
  if (!j.is_object()) return bad("not a JSON object");
  if (!j.contains("version") || !j["version"].is_number_integer()) return bad("no \"version\"");
  if (j["version"].get<int64_t>() != kStateFileVersion) {
    return bad("unsupported version " + j["version"].dump());
  }
  std::map<TopicPartition, Offset> positions;
  if (!j.contains("offsets")) return positions;
  const auto& offsets = j["offsets"];
  if (!offsets.is_object()) return bad("\"offsets\" is not an object");
  for (const auto& [topic, parts] : offsets.items()) {
    if (!parts.is_object()) return bad("offsets of topic '" + topic + "' are not an object");
    for (const auto& [partition, offset] : parts.items()) {
      if (partition.empty() || partition.size() > 9 ||
          partition.find_first_not_of("0123456789") != std::string::npos) {
        return bad("bad partition '" + partition + "' for topic '" + topic + "'");
      }
      if (!offset.is_number_integer() || offset.get<int64_t>() < 0) {
        return bad("bad offset " + offset.dump() + " for " + topic + "-" + partition);
      }
      positions[TopicPartition{topic, std::stoi(partition)}] = Offset(offset.get<int64_t>());
    }
  }
  return positions;
}

}  // namespace streamctl::cli
