#include "server/group_coordinator.h"

#include <algorithm>
#include <cstdio>

#include "base/logging.h"
#include "kafka/protocol/group_member_metadata.h"

namespace streamctl::server {


const char* group_state_name(GroupState state) {
  switch (state) {
    case GroupState::kEmpty: return "Empty";
    case GroupState::kPreparingRebalance: return "PreparingRebalance";
    case GroupState::kCompletingRebalance: return "CompletingRebalance";
    case GroupState::kStable: return "Stable";
    case GroupState::kDead: return "Dead";
  }
  return "Dead";
}

GroupCoordinator::GroupCoordinator(engine::GroupStore& store, Clock& clock, GroupCoordinatorConfig config)
    : store_(store), clock_(clock), config_(config), rng_(std::random_device{}()) {}

void GroupCoordinator::run(Completions& out) {
  for (auto& fn : out) fn();
  out.clear();
}

GroupCoordinator::Group* GroupCoordinator::find_group(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

ErrorCode GroupCoordinator::check_member(const Group& g, const std::string& member_id,
                                         const std::optional<std::string>& group_instance_id) {
  if (group_instance_id) {
    auto sit = g.static_members.find(*group_instance_id);
    if (sit != g.static_members.end() && sit->second != member_id) return ErrorCode::kFencedInstanceId;
  }
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return ErrorCode::kUnknownMemberId;
  if (group_instance_id && it->second.group_instance_id != group_instance_id) return ErrorCode::kFencedInstanceId;
  return ErrorCode::kNone;
}

std::string GroupCoordinator::new_member_id(const std::string& prefix) {
  // Kafka: "<client id or group instance id>-<uuid>".
  uint64_t a = rng_(), b = rng_();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", uint32_t(a >> 32), uint32_t(a >> 16) & 0xffff,
                uint32_t(a) & 0xffff, uint32_t(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return prefix + "-" + buf;
}

void GroupCoordinator::set_state(Group& g, GroupState state) {
  if (g.state == state) return;
  log_debug("group state").kv("group", g.group_id).kv("from", group_state_name(g.state))
      .kv("to", group_state_name(state)).kv("generation", g.generation_id);
  g.state = state;
}

bool GroupCoordinator::supports_protocols(const Group& g, const JoinGroupParams& p) const {
  if (g.members.empty()) return true;
  if (p.protocol_type != g.protocol_type) return false;
  // Some protocol of the joiner must be supported by every current member.
  for (const auto& [name, _] : p.protocols) {
    bool all = true;
    for (const auto& [id, m] : g.members) {
      if (id == p.member_id) continue;  // a rejoining member's old protocols do not count
      bool has = std::any_of(m.protocols.begin(), m.protocols.end(),
                             [&](const auto& pr) { return pr.first == name; });
      if (!has) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool GroupCoordinator::same_protocols(const Member& m, const JoinGroupParams& p) {
  return m.protocol_type == p.protocol_type && m.protocols == p.protocols;
}

std::string GroupCoordinator::select_protocol(const Group& g) const {
  // Candidates: protocols every member supports, in the order of the leader's (or first member's) list.
  const Member* first = nullptr;
  auto lit = g.members.find(g.leader_id);
  first = lit != g.members.end() ? &lit->second : &g.members.begin()->second;
  std::vector<std::string> candidates;
  for (const auto& [name, _] : first->protocols) {
    bool all = std::all_of(g.members.begin(), g.members.end(), [&](const auto& kv) {
      return std::any_of(kv.second.protocols.begin(), kv.second.protocols.end(),
                         [&](const auto& pr) { return pr.first == name; });
    });
    if (all) candidates.push_back(name);
  }
  if (candidates.empty()) return "";
  // Each member votes for its most preferred candidate; the most votes wins (ties: candidate order).
  std::map<std::string, int> votes;
  for (const auto& [id, m] : g.members) {
    for (const auto& [name, _] : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
        ++votes[name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const auto& c : candidates) {
    if (votes[c] > votes[best]) best = c;
  }
  return best;
}

static Bytes metadata_for(const std::vector<std::pair<std::string, Bytes>>& protocols, const std::string& name) {
  for (const auto& [n, md] : protocols) {
    if (n == name) return md;
  }
  return {};
}

JoinGroupResult GroupCoordinator::current_generation_result(const Group& g, const std::string& member_id,
                                                            bool with_members) const {
  JoinGroupResult r;
  r.error = ErrorCode::kNone;
  r.generation_id = g.generation_id;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol_name;
  r.leader_id = g.leader_id;
  r.member_id = member_id;
  if (with_members) {
    for (const auto& [id, m] : g.members) {
      r.members.push_back({id, m.group_instance_id, metadata_for(m.protocols, g.protocol_name)});
    }
  }
  return r;
}

void GroupCoordinator::join_group(const JoinGroupParams& p, JoinGroupCallback done) {
  Completions out;
  auto fail = [&](ErrorCode code, std::string member_id = "") {
    JoinGroupResult r;
    r.error = code;
    r.member_id = std::move(member_id);
    out.push_back([done, r]() { done(r); });
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_.monotonic_ms();
    if (stopped_) {
      fail(ErrorCode::kCoordinatorNotAvailable, p.member_id);
    } else if (p.group_id.empty()) {
      fail(ErrorCode::kInvalidGroupId, p.member_id);
    } else if (p.session_timeout_ms < config_.min_session_timeout_ms ||
               p.session_timeout_ms > config_.max_session_timeout_ms) {
      fail(ErrorCode::kInvalidSessionTimeout, p.member_id);
    } else if (p.protocol_type.empty() || p.protocols.empty()) {
      fail(ErrorCode::kInconsistentGroupProtocol, p.member_id);
    } else {
      Group& g = groups_[p.group_id];
      if (g.group_id.empty()) g.group_id = p.group_id;
      if (!supports_protocols(g, p)) {
        fail(ErrorCode::kInconsistentGroupProtocol, p.member_id);
      } else if (p.member_id.empty()) {
        if (p.group_instance_id) {
          auto sit = g.static_members.find(*p.group_instance_id);
          if (sit != g.static_members.end() && g.members.count(sit->second)) {
            replace_static_member(g, sit->second, p, std::move(done), out);
          } else {
            add_member_and_rebalance(g, new_member_id(*p.group_instance_id), p, std::move(done), out);
          }
        } else if (p.require_known_member_id) {
          std::string id = new_member_id(p.client_id);
          g.pending_members[id] = now + p.session_timeout_ms;
          fail(ErrorCode::kMemberIdRequired, id);
        } else {
          add_member_and_rebalance(g, new_member_id(p.client_id), p, std::move(done), out);
        }
      } else if (g.pending_members.count(p.member_id)) {
        g.pending_members.erase(p.member_id);
        add_member_and_rebalance(g, p.member_id, p, std::move(done), out);
      } else {
        auto mit = g.members.find(p.member_id);
        if (mit == g.members.end()) {
          bool fenced = p.group_instance_id && g.static_members.count(*p.group_instance_id);
          fail(fenced ? ErrorCode::kFencedInstanceId : ErrorCode::kUnknownMemberId, p.member_id);
        } else if (p.group_instance_id && mit->second.group_instance_id != p.group_instance_id) {
          fail(ErrorCode::kFencedInstanceId, p.member_id);
        } else {
          Member& m = mit->second;
          switch (g.state) {
            case GroupState::kPreparingRebalance:
              update_member_and_rebalance(g, m, p, std::move(done), out);
              break;
            case GroupState::kCompletingRebalance:
              if (same_protocols(m, p)) {
                // A retry of a join whose response got lost: answer with the current generation.
                auto r = current_generation_result(g, m.member_id, m.member_id == g.leader_id);
                out.push_back([done, r]() { done(r); });
              } else {
                update_member_and_rebalance(g, m, p, std::move(done), out);
              }
              break;
            case GroupState::kStable:
              if (m.member_id == g.leader_id || !same_protocols(m, p)) {
                // The leader rejoining (e.g. metadata changed: new topics) forces a rebalance.
                update_member_and_rebalance(g, m, p, std::move(done), out);
              } else {
                auto r = current_generation_result(g, m.member_id, false);
                m.last_heartbeat_ms = now;
                out.push_back([done, r]() { done(r); });
              }
              break;
            case GroupState::kEmpty:
            case GroupState::kDead:
              fail(ErrorCode::kUnknownMemberId, p.member_id);
              break;
          }
        }
      }
      if (g.members.empty() && g.pending_members.empty() && g.state == GroupState::kEmpty &&
          g.generation_id == 0) {
        groups_.erase(p.group_id);  // nothing was created (a rejected first join)
      }
    }
  }
  run(out);
}

void GroupCoordinator::add_member_and_rebalance(Group& g, const std::string& member_id, const JoinGroupParams& p,
                                                JoinGroupCallback done, Completions& out) {
  Member m;
  m.member_id = member_id;
  m.group_instance_id = p.group_instance_id;
  m.client_id = p.client_id;
  m.client_host = p.client_host;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms > 0 ? p.rebalance_timeout_ms : p.session_timeout_ms;
  m.protocol_type = p.protocol_type;
  m.protocols = p.protocols;
  m.awaiting_join = std::move(done);
  m.last_heartbeat_ms = clock_.monotonic_ms();
  if (g.members.empty()) g.protocol_type = p.protocol_type;
  if (g.leader_id.empty()) g.leader_id = member_id;
  if (p.group_instance_id) g.static_members[*p.group_instance_id] = member_id;
  g.members[member_id] = std::move(m);
  log_info("group member joined").kv("group", g.group_id).kv("member", member_id).kv("client_id", p.client_id)
      .kv("members", g.members.size());
  if (g.state == GroupState::kPreparingRebalance) {
    try_complete_join(g, out);
  } else {
    prepare_rebalance(g, "member " + member_id + " joined", out);
  }
}

void GroupCoordinator::update_member_and_rebalance(Group& g, Member& m, const JoinGroupParams& p,
                                                   JoinGroupCallback done, Completions& out) {
  m.protocol_type = p.protocol_type;
  m.protocols = p.protocols;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms > 0 ? p.rebalance_timeout_ms : p.session_timeout_ms;
  m.last_heartbeat_ms = clock_.monotonic_ms();
  if (m.awaiting_join) {
    // A second join while the first is held: the first one gets UNKNOWN_MEMBER_ID-free closure as in Kafka
    // (its response is superseded); answer it with REBALANCE_IN_PROGRESS so the client rejoins.
    JoinGroupResult r;
    r.error = ErrorCode::kRebalanceInProgress;
    r.member_id = m.member_id;
    out.push_back([cb = std::move(m.awaiting_join), r]() { cb(r); });
  }
  m.awaiting_join = std::move(done);
  if (g.state == GroupState::kPreparingRebalance) {
    try_complete_join(g, out);
  } else {
    prepare_rebalance(g, "member " + m.member_id + " rejoined", out);
  }
}

void GroupCoordinator::replace_static_member(Group& g, const std::string& old_id, const JoinGroupParams& p,
                                             JoinGroupCallback done, Completions& out) {
  Member old = std::move(g.members.at(old_id));
  g.members.erase(old_id);
  if (old.awaiting_join) {
    JoinGroupResult r;
    r.error = ErrorCode::kFencedInstanceId;
    r.member_id = old_id;
    out.push_back([cb = std::move(old.awaiting_join), r]() { cb(r); });
  }
  if (old.awaiting_sync) {
    SyncGroupResult r;
    r.error = ErrorCode::kFencedInstanceId;
    out.push_back([cb = std::move(old.awaiting_sync), r]() { cb(r); });
  }
  const std::string new_id = new_member_id(*p.group_instance_id);
  const bool unchanged = same_protocols(old, p);
  Member m = std::move(old);
  m.member_id = new_id;
  m.client_id = p.client_id;
  m.client_host = p.client_host;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms > 0 ? p.rebalance_timeout_ms : p.session_timeout_ms;
  m.last_heartbeat_ms = clock_.monotonic_ms();
  m.awaiting_join = nullptr;
  m.awaiting_sync = nullptr;
  const bool was_leader = g.leader_id == old_id;
  if (was_leader) g.leader_id = new_id;
  g.static_members[*p.group_instance_id] = new_id;
  log_info("static group member replaced").kv("group", g.group_id).kv("instance", *p.group_instance_id)
      .kv("old_member", old_id).kv("member", new_id);
  if (g.state == GroupState::kStable && unchanged && !was_leader) {
    // Same metadata: keep the assignment, no rebalance (KIP-345).
    g.members[new_id] = std::move(m);
    auto r = current_generation_result(g, new_id, false);
    out.push_back([done = std::move(done), r]() { done(r); });
    return;
  }
  m.protocol_type = p.protocol_type;
  m.protocols = p.protocols;
  m.awaiting_join = std::move(done);
  g.members[new_id] = std::move(m);
  if (g.state == GroupState::kPreparingRebalance) {
    try_complete_join(g, out);
  } else {
    prepare_rebalance(g, "static member " + *p.group_instance_id + " rejoined", out);
  }
}

void GroupCoordinator::prepare_rebalance(Group& g, const std::string& reason, Completions& out) {
  const int64_t now = clock_.monotonic_ms();
  if (g.state == GroupState::kCompletingRebalance) {
    // Members waiting for the old generation's assignment must rejoin.
    for (auto& [id, m] : g.members) {
      if (m.awaiting_sync) {
        SyncGroupResult r;
        r.error = ErrorCode::kRebalanceInProgress;
        out.push_back([cb = std::move(m.awaiting_sync), r]() { cb(r); });
        m.awaiting_sync = nullptr;
      }
    }
  }
  const bool from_empty = g.state == GroupState::kEmpty;
  int64_t rebalance_timeout = 0;
  for (const auto& [id, m] : g.members) rebalance_timeout = std::max<int64_t>(rebalance_timeout, m.rebalance_timeout_ms);
  g.rebalance_deadline_ms = now + rebalance_timeout;
  g.initial_delay_until_ms =
      from_empty ? now + std::min<int64_t>(config_.initial_rebalance_delay_ms, rebalance_timeout) : 0;
  set_state(g, GroupState::kPreparingRebalance);
  log_info("group rebalance started").kv("group", g.group_id).kv("generation", g.generation_id)
      .kv("members", g.members.size()).kv("reason", reason);
  try_complete_join(g, out);
}

void GroupCoordinator::try_complete_join(Group& g, Completions& out) {
  if (g.state != GroupState::kPreparingRebalance) return;
  if (clock_.monotonic_ms() < g.initial_delay_until_ms) return;
  if (!g.pending_members.empty()) return;
  for (const auto& [id, m] : g.members) {
    if (!m.awaiting_join) return;
  }
  complete_join(g, out);
}

void GroupCoordinator::complete_join(Group& g, Completions& out) {
  // Members that did not rejoin in time are out.
  std::vector<std::string> missing;
  for (const auto& [id, m] : g.members) {
    if (!m.awaiting_join) missing.push_back(id);
  }
  for (const auto& id : missing) {
    Member& m = g.members.at(id);
    if (m.group_instance_id) g.static_members.erase(*m.group_instance_id);
    log_info("group member removed").kv("group", g.group_id).kv("member", id).kv("reason", "did not rejoin in time");
    g.members.erase(id);
  }
  if (!g.members.count(g.leader_id)) g.leader_id = g.members.empty() ? "" : g.members.begin()->first;

  const int64_t now = clock_.monotonic_ms();
  ++g.generation_id;
  if (g.members.empty()) {
    g.protocol_name.clear();
    g.protocol_type.clear();
    set_state(g, GroupState::kEmpty);
    log_info("group is empty").kv("group", g.group_id).kv("generation", g.generation_id);
    return;
  }
  g.protocol_name = select_protocol(g);
  set_state(g, GroupState::kCompletingRebalance);
  int64_t rebalance_timeout = 0;
  for (const auto& [id, m] : g.members) rebalance_timeout = std::max<int64_t>(rebalance_timeout, m.rebalance_timeout_ms);
  g.sync_deadline_ms = now + rebalance_timeout;
  log_info("group generation formed").kv("group", g.group_id).kv("generation", g.generation_id)
      .kv("protocol", g.protocol_name).kv("leader", g.leader_id).kv("members", g.members.size());
  for (auto& [id, m] : g.members) {
    auto r = current_generation_result(g, id, id == g.leader_id);
    m.last_heartbeat_ms = now;
    out.push_back([cb = std::move(m.awaiting_join), r]() { cb(r); });
    m.awaiting_join = nullptr;
  }
}

void GroupCoordinator::remove_member(Group& g, const std::string& member_id, const std::string& reason,
                                     Completions& out) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  Member& m = it->second;
  if (m.awaiting_join) {
    JoinGroupResult r;
    r.error = ErrorCode::kUnknownMemberId;
    r.member_id = member_id;
    out.push_back([cb = std::move(m.awaiting_join), r]() { cb(r); });
  }
  if (m.awaiting_sync) {
    SyncGroupResult r;
    r.error = ErrorCode::kUnknownMemberId;
    out.push_back([cb = std::move(m.awaiting_sync), r]() { cb(r); });
  }
  if (m.group_instance_id) g.static_members.erase(*m.group_instance_id);
  g.members.erase(it);
  if (g.leader_id == member_id) g.leader_id = g.members.empty() ? "" : g.members.begin()->first;
  log_info("group member removed").kv("group", g.group_id).kv("member", member_id).kv("reason", reason)
      .kv("members", g.members.size());
  switch (g.state) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      prepare_rebalance(g, "member " + member_id + " left (" + reason + ")", out);
      break;
    case GroupState::kPreparingRebalance:
      try_complete_join(g, out);
      break;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
}

void GroupCoordinator::sync_group(const SyncGroupParams& p, SyncGroupCallback done) {
  Completions out;
  auto answer = [&](ErrorCode code) {
    SyncGroupResult r;
    r.error = code;
    out.push_back([done, r]() { done(r); });
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    Group* g = stopped_ ? nullptr : find_group(p.group_id);
    if (stopped_) {
      answer(ErrorCode::kCoordinatorNotAvailable);
    } else if (!g) {
      answer(ErrorCode::kUnknownMemberId);
    } else if (ErrorCode e = check_member(*g, p.member_id, p.group_instance_id); e != ErrorCode::kNone) {
      answer(e);
    } else if (p.generation_id != g->generation_id) {
      answer(ErrorCode::kIllegalGeneration);
    } else {
      Member& m = g->members.at(p.member_id);
      m.last_heartbeat_ms = clock_.monotonic_ms();
      switch (g->state) {
        case GroupState::kEmpty:
        case GroupState::kDead:
          answer(ErrorCode::kUnknownMemberId);
          break;
        case GroupState::kPreparingRebalance:
          answer(ErrorCode::kRebalanceInProgress);
          break;
        case GroupState::kStable: {
          SyncGroupResult r;
          r.protocol_type = g->protocol_type;
          r.protocol_name = g->protocol_name;
          r.assignment = m.assignment;
          out.push_back([done, r]() { done(r); });
          break;
        }
        case GroupState::kCompletingRebalance:
          if (m.awaiting_sync) {
            // A duplicate sync: the older one is superseded.
            SyncGroupResult r;
            r.error = ErrorCode::kRebalanceInProgress;
            out.push_back([cb = std::move(m.awaiting_sync), r]() { cb(r); });
          }
          m.awaiting_sync = std::move(done);
          if (p.member_id == g->leader_id) {
            for (auto& [id, member] : g->members) member.assignment.clear();
            for (const auto& [id, assignment] : p.assignments) {
              auto it = g->members.find(id);
              if (it != g->members.end()) it->second.assignment = assignment;
            }
            set_state(*g, GroupState::kStable);
            log_info("group stable").kv("group", g->group_id).kv("generation", g->generation_id)
                .kv("members", g->members.size());
            for (auto& [id, member] : g->members) {
              if (!member.awaiting_sync) continue;
              SyncGroupResult r;
              r.protocol_type = g->protocol_type;
              r.protocol_name = g->protocol_name;
              r.assignment = member.assignment;
              out.push_back([cb = std::move(member.awaiting_sync), r]() { cb(r); });
              member.awaiting_sync = nullptr;
            }
          }
          break;
      }
    }
  }
  run(out);
}

ErrorCode GroupCoordinator::heartbeat(const std::string& group_id, int32_t generation_id,
                                      const std::string& member_id,
                                      const std::optional<std::string>& group_instance_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return ErrorCode::kCoordinatorNotAvailable;
  Group* g = find_group(group_id);
  if (!g || g->state == GroupState::kEmpty) return ErrorCode::kUnknownMemberId;
  if (ErrorCode e = check_member(*g, member_id, group_instance_id); e != ErrorCode::kNone) return e;
  auto it = g->members.find(member_id);
  if (generation_id != g->generation_id) return ErrorCode::kIllegalGeneration;
  it->second.last_heartbeat_ms = clock_.monotonic_ms();
  if (g->state == GroupState::kPreparingRebalance) return ErrorCode::kRebalanceInProgress;
  return ErrorCode::kNone;
}

LeaveGroupResult GroupCoordinator::leave_group(const std::string& group_id, const std::vector<LeaveMember>& members) {
  Completions out;
  LeaveGroupResult result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) {
      result.error = ErrorCode::kCoordinatorNotAvailable;
      result.member_errors.assign(members.size(), ErrorCode::kCoordinatorNotAvailable);
    } else {
      Group* g = find_group(group_id);
      for (const auto& lm : members) {
        if (!g) {
          result.member_errors.push_back(ErrorCode::kUnknownMemberId);
          continue;
        }
        std::string id = lm.member_id;
        if (lm.group_instance_id) {
          auto sit = g->static_members.find(*lm.group_instance_id);
          if (sit == g->static_members.end()) {
            result.member_errors.push_back(ErrorCode::kUnknownMemberId);
            continue;
          }
          if (!id.empty() && id != sit->second) {
            result.member_errors.push_back(ErrorCode::kFencedInstanceId);
            continue;
          }
          id = sit->second;
        }
        if (g->pending_members.erase(id)) {
          result.member_errors.push_back(ErrorCode::kNone);
          try_complete_join(*g, out);
          continue;
        }
        if (!g->members.count(id)) {
          result.member_errors.push_back(ErrorCode::kUnknownMemberId);
          continue;
        }
        remove_member(*g, id, "left the group", out);
        result.member_errors.push_back(ErrorCode::kNone);
      }
    }
  }
  run(out);
  return result;
}

OffsetCommitOutcome GroupCoordinator::commit_offsets(
    const OffsetCommitParams& p, const std::map<TopicPartition, engine::CommittedOffset>& offsets) {
  OffsetCommitOutcome outcome;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Group* g = find_group(p.group_id);
    if (stopped_) {
      outcome.error = ErrorCode::kCoordinatorNotAvailable;
    } else if (p.group_id.empty()) {
      outcome.error = ErrorCode::kInvalidGroupId;
    } else if (!g || g->members.empty()) {
      // A group without members: only "simple" commits (generation < 0) are accepted.
      if (p.generation_id >= 0) {
        outcome.error = g ? ErrorCode::kUnknownMemberId : ErrorCode::kIllegalGeneration;
      }
    } else {
      auto it = g->members.find(p.member_id);
      if (ErrorCode e = check_member(*g, p.member_id, p.group_instance_id); e != ErrorCode::kNone) {
        outcome.error = e;
      } else if (p.generation_id != g->generation_id) {
        outcome.error = ErrorCode::kIllegalGeneration;
      } else if (g->state == GroupState::kCompletingRebalance) {
        outcome.error = ErrorCode::kRebalanceInProgress;
      } else {
        it->second.last_heartbeat_ms = clock_.monotonic_ms();
      }
    }
  }
  if (outcome.error == ErrorCode::kNone && !offsets.empty()) {
    outcome.store_status = store_.commit(p.group_id, offsets);
  }
  return outcome;
}

Result<std::map<TopicPartition, engine::CommittedOffset>> GroupCoordinator::fetch_offsets(
    const std::string& group_id) {
  return store_.fetch(group_id);
}

Result<std::vector<GroupListing>> GroupCoordinator::list_groups() {
  STREAMCTL_ASSIGN_OR_RETURN(std::vector<std::string> stored, store_.list_groups());
  std::map<std::string, GroupListing> all;
  for (const auto& name : stored) all[name] = GroupListing{name, "consumer", GroupState::kEmpty};
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, g] : groups_) {
    if (g.state == GroupState::kDead) continue;
    GroupListing l{name, g.protocol_type.empty() ? "consumer" : g.protocol_type, g.state};
    all[name] = l;
  }
  std::vector<GroupListing> out;
  for (auto& [_, l] : all) out.push_back(std::move(l));
  return out;
}

GroupDescription GroupCoordinator::describe_group(const std::string& group_id) {
  GroupDescription d;
  d.group_id = group_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) {
      d.error = ErrorCode::kCoordinatorNotAvailable;
      return d;
    }
    if (Group* g = find_group(group_id)) {
      d.state = g->state;
      d.protocol_type = g->protocol_type;
      d.protocol_name = g->protocol_name;
      d.generation_id = g->generation_id;
      d.leader_id = g->leader_id;
      for (const auto& [id, m] : g->members) {
        GroupMemberDescription md;
        md.member_id = id;
        md.group_instance_id = m.group_instance_id;
        md.client_id = m.client_id;
        md.client_host = m.client_host;
        // Kafka sends metadata and assignment only once a protocol is chosen (Stable).
        if (g->state == GroupState::kStable) {
          md.metadata = metadata_for(m.protocols, g->protocol_name);
          md.assignment = m.assignment;
        }
        d.members.push_back(std::move(md));
      }
      if (g->state == GroupState::kEmpty && !g->protocol_type.empty()) d.protocol_type = g->protocol_type;
      return d;
    }
  }
  auto stored = store_.fetch(group_id);
  if (stored.ok() && !stored->empty()) {
    d.state = GroupState::kEmpty;
    d.protocol_type = "consumer";
  } else {
    d.state = GroupState::kDead;
  }
  return d;
}

OffsetDeleteOutcome GroupCoordinator::delete_offsets(const std::string& group_id,
                                                     const std::vector<TopicPartition>& partitions) {
  OffsetDeleteOutcome out;
  // The lock is held across the store calls: a member cannot join between the subscription check and the
  // deletion (OffsetDelete is an administrative call; other groups wait for one file rewrite at most).
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) {
    out.error = ErrorCode::kCoordinatorNotAvailable;
    return out;
  }
  if (group_id.empty()) {
    out.error = ErrorCode::kInvalidGroupId;
    return out;
  }
  Group* g = find_group(group_id);
  std::set<std::string> subscribed;
  bool subscribed_to_all = false;
  if (g != nullptr && g->state != GroupState::kEmpty) {
    if (g->protocol_type != "consumer") {
      out.error = ErrorCode::kNonEmptyGroup;
      return out;
    }
    for (const auto& [id, m] : g->members) {
      for (const auto& [name, metadata] : m.protocols) {
        auto sub = kafka::protocol::decode_subscription(metadata);
        if (!sub.ok()) {
          subscribed_to_all = true;
          continue;
        }
        subscribed.insert(sub->subscription.topics.begin(), sub->subscription.topics.end());
      }
    }
  }
  auto stored = store_.fetch(group_id);
  if (!stored.ok()) {
    log_error("offset delete failed").kv("group", group_id).kv("error", stored.error().to_string());
    out.error = ErrorCode::kKafkaStorageError;
    return out;
  }
  if (g == nullptr && stored->empty()) {
    out.error = ErrorCode::kGroupIdNotFound;
    return out;
  }
  std::vector<TopicPartition> doomed;
  for (const auto& tp : partitions) {
    if (subscribed_to_all || subscribed.count(tp.topic) > 0) {
      out.partitions[tp] = ErrorCode::kGroupSubscribedToTopic;
      continue;
    }
    out.partitions[tp] = ErrorCode::kNone;
    if (stored->count(tp) > 0) doomed.push_back(tp);
  }
  if (doomed.empty()) return out;
  auto st = store_.delete_offsets(group_id, doomed);
  if (!st.ok()) {
    log_error("offset delete failed").kv("group", group_id).kv("error", st.error().to_string());
    for (const auto& tp : doomed) out.partitions[tp] = ErrorCode::kKafkaStorageError;
    return out;
  }
  log_info("offsets deleted").kv("group", group_id).kv("partitions", doomed.size());
  // Like Kafka, an Empty group left without offsets is gone.
  if (g != nullptr && g->state == GroupState::kEmpty && g->members.empty() && g->pending_members.empty() &&
      doomed.size() == stored->size()) {
    groups_.erase(group_id);
  }
  return out;
}

ErrorCode GroupCoordinator::delete_group(const std::string& group_id) {
  bool known_in_memory = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return ErrorCode::kCoordinatorNotAvailable;
    if (group_id.empty()) return ErrorCode::kInvalidGroupId;
    if (Group* g = find_group(group_id)) {
      if (!g->members.empty() || !g->pending_members.empty() || g->state != GroupState::kEmpty) {
        return ErrorCode::kNonEmptyGroup;
      }
      groups_.erase(group_id);
      known_in_memory = true;
    }
  }
  auto st = store_.delete_group(group_id);
  if (!st.ok()) {
    if (st.error().code == streamctl::ErrorCode::kNotFound) {
      return known_in_memory ? ErrorCode::kNone : ErrorCode::kGroupIdNotFound;
    }
    log_error("group delete failed").kv("group", group_id).kv("error", st.error().to_string());
    return ErrorCode::kKafkaStorageError;
  }
  log_info("group deleted").kv("group", group_id);
  return ErrorCode::kNone;
}

size_t GroupCoordinator::tick() {
  Completions out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return 0;
    const int64_t now = clock_.monotonic_ms();
    for (auto git = groups_.begin(); git != groups_.end();) {
      Group& g = git->second;
      // MEMBER_ID_REQUIRED ids that never came back.
      for (auto it = g.pending_members.begin(); it != g.pending_members.end();) {
        if (now >= it->second) {
          it = g.pending_members.erase(it);
        } else {
          ++it;
        }
      }
      // Session timeouts. Members with a held JoinGroup/SyncGroup are covered by the rebalance deadlines.
      std::vector<std::string> expired;
      for (const auto& [id, m] : g.members) {
        if (m.awaiting_join || m.awaiting_sync) continue;
        if (now - m.last_heartbeat_ms >= m.session_timeout_ms) expired.push_back(id);
      }
      for (const auto& id : expired) remove_member(g, id, "session timeout", out);

      if (g.state == GroupState::kPreparingRebalance) {
        if (now >= g.rebalance_deadline_ms) {
          complete_join(g, out);
        } else {
          try_complete_join(g, out);
        }
      } else if (g.state == GroupState::kCompletingRebalance && now >= g.sync_deadline_ms) {
        // The leader (or someone) never sent SyncGroup: drop those who did not, and start over.
        std::vector<std::string> lagging;
        for (const auto& [id, m] : g.members) {
          if (!m.awaiting_sync) lagging.push_back(id);
        }
        for (const auto& id : lagging) remove_member(g, id, "no SyncGroup within the rebalance timeout", out);
      }
      if (g.state == GroupState::kEmpty && g.members.empty() && g.pending_members.empty()) {
        git = groups_.erase(git);  // offsets stay in the store; nothing else to keep
      } else {
        ++git;
      }
    }
  }
  size_t n = out.size();
  run(out);
  return n;
}

void GroupCoordinator::shutdown() {
  Completions out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [gid, g] : groups_) {
      for (auto& [id, m] : g.members) {
        if (m.awaiting_join) {
          JoinGroupResult r;
          r.error = ErrorCode::kCoordinatorNotAvailable;
          r.member_id = id;
          out.push_back([cb = std::move(m.awaiting_join), r]() { cb(r); });
          m.awaiting_join = nullptr;
        }
        if (m.awaiting_sync) {
          SyncGroupResult r;
          r.error = ErrorCode::kCoordinatorNotAvailable;
          out.push_back([cb = std::move(m.awaiting_sync), r]() { cb(r); });
          m.awaiting_sync = nullptr;
        }
      }
    }
  }
  run(out);
}

std::map<std::string, size_t> GroupCoordinator::member_counts() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, size_t> out;
  for (const auto& [id, g] : groups_) out[id] = g.members.size();
  return out;
}

}  // namespace streamctl::server
