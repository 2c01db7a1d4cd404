// Serverless consumer-group membership over flock'd files; protocol and file layout in membership.h.
#include "cli/membership.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

namespace streamctl::cli {


namespace {

constexpr const char* kMemberSuffix = ".member";
constexpr const char* kJoiningSuffix = ".joining";
constexpr const char* kClaimSuffix = ".claim";
constexpr const char* kMembersDirSuffix = ".members";
constexpr size_t kMaxEscapedName = 200;
constexpr size_t kCutEscapedName = 180;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string strip_suffix(const std::string& s, const std::string& suffix) {
  return s.substr(0, s.size() - suffix.size());
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Inverse of group_file_name; false for names group_file_name cannot produce.
bool decode_group_file_name(const std::string& name, std::string* group) {
  group->clear();
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') {
      group->push_back(name[i]);
      continue;
    }
    if (i + 2 >= name.size()) return false;
    int hi = hex_value(name[i + 1]);
    int lo = hex_value(name[i + 2]);
    if (hi < 0 || lo < 0) return false;
    group->push_back(char(hi * 16 + lo));
    i += 2;
  }
  return !group->empty() && group_file_name(*group) == name;
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

std::string random_hex16() {
  std::random_device rd;
  uint64_t v = (uint64_t(rd()) << 32) ^ uint64_t(rd());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string member_json(const MemberInfo& m) {
  nlohmann::json j = {{"member_id", m.member_id}, {"pid", m.pid},           {"host", m.host},
                      {"client_id", m.client_id}, {"joined_ms", m.joined_ms}};
  return j.dump() + "\n";
}

// Parses a member file; a file being written or damaged yields just the id from its name.
MemberInfo parse_member(const std::string& id, const std::string& text) {
  MemberInfo m;
  m.member_id = id;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    m.pid = j.value("pid", int64_t(0));
    m.host = j.value("host", std::string());
    m.client_id = j.value("client_id", std::string());
    m.joined_ms = j.value("joined_ms", int64_t(0));
  }
  if (m.pid == 0) m.pid = std::atoll(id.c_str());
  return m;
}

Result<std::string> read_lock_contents(File& file) {
  STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, file.size());
  std::string text(std::min<uint64_t>(size, 4096), '\0');
  STREAMCTL_ASSIGN_OR_RETURN(
      size_t n, file.read_at(0, std::span<std::byte>(reinterpret_cast<std::byte*>(text.data()), text.size())));
  text.resize(n);
  return text;
}

Status write_lock_contents(File& file, const std::string& text) {
  STREAMCTL_TRY(file.truncate(0));
  return file.write_at(0, as_byte_span(text));
}

// Probes a lock file held exclusively by its owner: true when some process holds it.
// A probe that wins the lock holds it (shared) only until it returns.
Result<bool> is_held(FileSystem& fs, const std::string& path) {
  auto probe = fs.lock(path, LockMode::kShared, /*wait=*/false);
  if (probe.ok()) return false;
  if (probe.error().code == ErrorCode::kBusy) return true;
  // Not there and not creatable (a read-only directory): nobody holds it.
  if (probe.error().code == ErrorCode::kNotFound) return false;
  return probe.error();
}

// Parses "<topic>-<partition>.claim".
bool parse_claim_name(const std::string& name, TopicPartition* tp) {
  if (!ends_with(name, kClaimSuffix)) return false;
  std::string stem = strip_suffix(name, kClaimSuffix);
  size_t dash = stem.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == stem.size()) return false;
  std::string digits = stem.substr(dash + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  if (digits.size() > 9) return false;
  tp->topic = stem.substr(0, dash);
  tp->partition = std::stoi(digits);
  return true;
}

}  // namespace

std::string group_file_name(const std::string& group) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  auto finish = [&]() {
    if (out.size() <= kMaxEscapedName) return out;
    // Keep file names well below NAME_MAX: cut, then add a hash of the whole id ('~' is never escaped out).
    uint64_t h = 14695981039346656037ull;  // FNV-1a 64
    for (unsigned char c : group) {
      h ^= c;
      h *= 1099511628211ull;
    }
    out.resize(kCutEscapedName);
    out.push_back('~');
    for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(h >> shift) & 0xF]);
    return out;
  };
  for (size_t i = 0; i < group.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(group[i]);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '-' || (c == '.' && i != 0);
    if (keep) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return finish();
}

std::string group_members_dir(const std::string& data_dir, const std::string& group) {
  return join_path(join_path(join_path(data_dir, "__meta"), "groups"),
                           group_file_name(group) + kMembersDirSuffix);
}

std::string claim_file_name(const TopicPartition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition) + kClaimSuffix;
}

GroupMembership::GroupMembership(FileSystem* fs, Clock* clock, std::string dir, MemberInfo info)
    : fs_(fs), clock_(clock), dir_(std::move(dir)), info_(std::move(info)) {}

GroupMembership::~GroupMembership() { (void)leave(); }

Result<std::unique_ptr<GroupMembership>> GroupMembership::join(FileSystem* fs, Clock* clock,
                                                               const std::string& data_dir,
                                                               const std::string& group,
                                                               const std::string& client_id) {
  if (group.empty()) return Error::invalid_argument("the group name must not be empty");
  MemberInfo info;
  info.pid = int64_t(::getpid());
  info.host = hostname();
  info.client_id = client_id;
  info.joined_ms = clock->now().value;
  std::string dir = group_members_dir(data_dir, group);
  STREAMCTL_TRY(fs->create_dirs(dir));
  std::unique_ptr<GroupMembership> m(new GroupMembership(fs, clock, dir, std::move(info)));
  STREAMCTL_TRY(m->register_member());
  return m;
}

Status GroupMembership::register_member() {
  // A stale-file sweep by another member may remove our .joining file in the instant between its creation
  // and our flock (it looked unlocked); the rename then fails with kNotFound and we retry with a new id.
  for (int attempt = 0; attempt < 5; ++attempt) {
    info_.member_id = std::to_string(info_.pid) + "-" + random_hex16();
    std::string joining = join_path(dir_, info_.member_id + kJoiningSuffix);
    std::string final_path = join_path(dir_, info_.member_id + kMemberSuffix);
    STREAMCTL_ASSIGN_OR_RETURN(auto lock, fs_->lock(joining, LockMode::kExclusive, /*wait=*/false));
    STREAMCTL_TRY(write_lock_contents(lock->file(), member_json(info_)));
    Status renamed = fs_->rename(joining, final_path);
    if (renamed.ok()) {
      member_lock_ = std::move(lock);
      return ok_status();
    }
    if (renamed.error().code != ErrorCode::kNotFound) return renamed;
  }
  return Error::busy("could not register a member file in " + dir_ + " (removed repeatedly while joining)");
}

Result<int> GroupMembership::count_live_members() {
  STREAMCTL_ASSIGN_OR_RETURN(auto names, fs_->list_dir(dir_));
  const std::string mine = info_.member_id + kMemberSuffix;
  bool saw_mine = false;
  int live = 1;
  for (const auto& name : names) {
    if (name == mine) {
      saw_mine = true;
      continue;
    }
    bool member = ends_with(name, kMemberSuffix);
    if (!member && !ends_with(name, kJoiningSuffix)) continue;
    std::string path = join_path(dir_, name);
    auto held = is_held(*fs_, path);
    if (!held.ok()) {
      // Removed by another member's sweep between list_dir and the probe.
      if (held.error().code == ErrorCode::kNotFound) continue;
      return held.error();
    }
    if (*held) {
      if (member) ++live;
      continue;
    }
    // Nobody holds it: the process is gone. Several members may sweep at once; losing the race is fine.
    Status removed = fs_->remove_file(path);
    if (!removed.ok() && removed.error().code != ErrorCode::kNotFound) return removed.error();
  }
  if (!saw_mine) {
    // Someone removed our file (e.g. `rm -rf` of the members directory): register again so others count us.
    member_lock_.reset();
    STREAMCTL_TRY(fs_->create_dirs(dir_));
    STREAMCTL_TRY(register_member());
  }
  return live;
}

Result<RebalanceResult> GroupMembership::rebalance(const std::vector<TopicPartition>& subscribed) {
  RebalanceResult result;
  STREAMCTL_ASSIGN_OR_RETURN(result.live_members, count_live_members());

  std::set<TopicPartition> wanted(subscribed.begin(), subscribed.end());
  for (auto it = claims_.begin(); it != claims_.end();) {
    if (wanted.count(it->first) == 0) {
      result.dropped.push_back(it->first);
      it = claims_.erase(it);
    } else {
      ++it;
    }
  }

  const int partitions = int(wanted.size());
  result.fair_share = partitions == 0 ? 0 : (partitions + result.live_members - 1) / result.live_members;

  if (int(claims_.size()) < result.fair_share) {
    std::vector<TopicPartition> order(wanted.begin(), wanted.end());
    size_t start = std::hash<std::string>()(info_.member_id) % order.size();
    std::rotate(order.begin(), order.begin() + long(start), order.end());
    for (const auto& tp : order) {
      if (int(claims_.size()) >= result.fair_share) break;
      if (claims_.count(tp) != 0) continue;
      auto lock = fs_->lock(join_path(dir_, claim_file_name(tp)), LockMode::kExclusive,
                            /*wait=*/false);
      if (!lock.ok()) {
        if (lock.error().code == ErrorCode::kBusy) continue;  // owned by another member (or a probe)
        return lock.error();
      }
      // The owner's id in the claim file is informational (for `group describe`); failure to write it
      // does not affect ownership, which is the lock alone.
      (void)write_lock_contents(lock.value()->file(), info_.member_id + "\n");
      claims_.emplace(tp, std::move(lock).value());
      result.acquired.push_back(tp);
    }
  }

  int excess = int(claims_.size()) - result.fair_share;
  // Give back the partitions furthest from our rotation start first; any choice is correct.
  for (auto it = claims_.rbegin(); excess > 0 && it != claims_.rend(); ++it, --excess) {
    result.excess.push_back(it->first);
  }
  return result;
}

void GroupMembership::release(const TopicPartition& tp) { claims_.erase(tp); }

Status GroupMembership::leave() {
  claims_.clear();
  if (!member_lock_) return ok_status();
  std::string path = join_path(dir_, info_.member_id + kMemberSuffix);
  // Remove while still holding the lock, so no sweeper can mistake a live member for a stale file.
  Status removed = fs_->remove_file(path);
  member_lock_.reset();
  if (!removed.ok() && removed.error().code != ErrorCode::kNotFound) return removed;
  return ok_status();
}

std::vector<TopicPartition> GroupMembership::owned() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, lock] : claims_) out.push_back(tp);
  return out;
}

Result<GroupActivity> inspect_group(FileSystem& fs, const std::string& data_dir, const std::string& group) {
  GroupActivity activity;
  std::string dir = group_members_dir(data_dir, group);
  STREAMCTL_ASSIGN_OR_RETURN(bool exists, fs.exists(dir));
  if (!exists) return activity;
  STREAMCTL_ASSIGN_OR_RETURN(auto names, fs.list_dir(dir));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string path = join_path(dir, name);
    TopicPartition tp;
    bool member = ends_with(name, kMemberSuffix);
    bool claim = !member && parse_claim_name(name, &tp);
    if (!member && !claim) continue;
    auto held = is_held(fs, path);
    if (!held.ok()) {
      if (held.error().code == ErrorCode::kNotFound) continue;
      return held.error();
    }
    if (!*held) continue;
    auto file = fs.open(path, OpenMode::kRead);
    std::string text;
    if (file.ok()) {
      auto contents = read_lock_contents(**file);
      if (contents.ok()) text = *contents;
    }
    if (member) {
      activity.members.push_back(parse_member(strip_suffix(name, kMemberSuffix), text));
    } else {
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      activity.owners[tp] = text;
    }
  }
  return activity;
}

Result<std::vector<std::string>> groups_with_members(FileSystem& fs, const std::string& data_dir) {
  std::vector<std::string> groups;
  std::string dir = join_path(join_path(data_dir, "__meta"), "groups");
  STREAMCTL_ASSIGN_OR_RETURN(bool exists, fs.exists(dir));
  if (!exists) return groups;
  STREAMCTL_ASSIGN_OR_RETURN(auto names, fs.list_dir(dir));
  for (const auto& name : names) {
    if (!ends_with(name, kMembersDirSuffix)) continue;
    std::string group;
    if (decode_group_file_name(strip_suffix(name, kMembersDirSuffix), &group)) groups.push_back(group);
  }
  std::sort(groups.begin(), groups.end());
  return groups;
}

Status remove_group_members_dir(FileSystem& fs, const std::string& data_dir, const std::string& group) {
  std::string dir = group_members_dir(data_dir, group);
  STREAMCTL_ASSIGN_OR_RETURN(bool exists, fs.exists(dir));
  if (!exists) return ok_status();
  STREAMCTL_ASSIGN_OR_RETURN(GroupActivity activity, inspect_group(fs, data_dir, group));
  if (!activity.members.empty()) {
    const MemberInfo& m = activity.members.front();
    return Error::busy("group '" + group + "' has " + std::to_string(activity.members.size()) +
                       " active member(s), e.g. " + m.member_id + " (pid " + std::to_string(m.pid) + " on " +
                       m.host + "); stop them first");
  }
  return remove_all(fs, dir);
}

}  // namespace streamctl::cli
