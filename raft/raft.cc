#include "raft/raft.h"

#include <algorithm>
#include <utility>

namespace streamctl::raft {

const char* role_name(Role role) {
  switch (role) {
    case Role::kUnattached: return "unattached";
    case Role::kProspective: return "prospective";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
    case Role::kFollower: return "follower";
    case Role::kResigned: return "resigned";
  }
  return "?";
}

Raft::Raft(Config config, RaftLog* log, QuorumState persisted, int64_t now)
    : config_(std::move(config)), log_(log), rng_(config_.seed * 0x9E3779B97F4A7C15ull + 0x1234567ull) {
  is_voter_ = std::find(config_.voters.begin(), config_.voters.end(), config_.id) != config_.voters.end();
  epoch_ = persisted.leader_epoch;
  voted_ = persisted.voted_id;
  leader_ = persisted.leader_id;
  flushed_end_ = log_->end_offset();  // what survived the restart is durable
  hw_ = std::max<Offset>(0, log_->start_offset());
  election_deadline_ = now + random_timeout(config_.election_timeout_ms);
  // Correlation ids start at a random point per process lifetime, so a late response to a request of the
  // previous lifetime cannot be taken for an answer to this one's.
  next_correlation_ = 1 + static_cast<int32_t>(random_timeout(1 << 29));
  if (leader_ == config_.id) {
    role_ = Role::kResigned;  // cannot resume leadership of an epoch after a restart
  } else if (leader_ != kNoNode) {
    role_ = Role::kFollower;
    fetch_deadline_ = now + config_.fetch_timeout_ms;
    fetch_wanted_ = true;
    send_fetch(now);
  }
}

int64_t Raft::random_timeout(int64_t base) {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return base + static_cast<int64_t>(rng_ % static_cast<uint64_t>(std::max<int64_t>(base, 1)));
}

bool Raft::up_to_date(Epoch last_epoch, Offset last_offset) const {
  if (config_.mutation == Mutation::kGrantStaleLog) return true;
  Epoch mine = log_->last_epoch();
  return last_epoch > mine || (last_epoch == mine && last_offset >= log_->end_offset());
}

bool Raft::has_live_leader(int64_t now) const {
  if (role_ == Role::kLeader) return true;
  return role_ == Role::kFollower && last_leader_contact_ >= 0 &&
         now - last_leader_contact_ < config_.fetch_timeout_ms;
}

LeaderIdAndEpoch Raft::current_leader() const {
  // A leader that resigned (or restarted) is no longer advertised.
  return {leader_ == config_.id && role_ != Role::kLeader ? kNoNode : leader_, epoch_};
}

void Raft::persist() { effects_.quorum_state = QuorumState{epoch_, voted_, leader_}; }

void Raft::send(NodeId to, MessageBody body, int32_t correlation_id) {
  effects_.messages.push_back(Message{config_.id, to, correlation_id, std::move(body)});
}

void Raft::set_role(Role role) {
  if (role != role_) effects_.role_changed = true;
  role_ = role;
}

// ---- transitions

void Raft::become_unattached(Epoch epoch, int64_t now) {
  if (epoch != epoch_) voted_ = kNoNode;
  epoch_ = epoch;
  leader_ = kNoNode;
  persist();
  set_role(Role::kUnattached);
  parked_.clear();
  fetch_correlation_ = 0;
  fetch_wanted_ = false;
  election_deadline_ = now + random_timeout(config_.election_timeout_ms);
  fetch_deadline_ = now + config_.fetch_timeout_ms;
}

void Raft::become_follower(Epoch epoch, NodeId leader, int64_t now) {
  if (epoch != epoch_) voted_ = kNoNode;
  epoch_ = epoch;
  leader_ = leader;
  persist();
  set_role(Role::kFollower);
  parked_.clear();
  last_leader_contact_ = -1;  // set by the leader's own messages only
  fetch_deadline_ = now + config_.fetch_timeout_ms;
  fetch_correlation_ = 0;
  fetch_wanted_ = true;
  send_fetch(now);
}

void Raft::become_prospective(int64_t now) {
  set_role(Role::kProspective);
  stats_.pre_votes_started++;
  granted_.assign(1, config_.id);
  rejected_.clear();
  fetch_correlation_ = 0;
  fetch_wanted_ = false;
  election_deadline_ = now + random_timeout(config_.election_timeout_ms);
  votes_sent_at_ = now;
  if (granted_.size() >= majority()) {
    become_candidate(now);
    return;
  }
  send_votes(true);
}

void Raft::become_candidate(int64_t now) {
  epoch_ += 1;
  voted_ = config_.id;
  leader_ = kNoNode;
  persist();
  set_role(Role::kCandidate);
  granted_.assign(1, config_.id);
  rejected_.clear();
  election_deadline_ = now + random_timeout(config_.election_timeout_ms);
  votes_sent_at_ = now;
  if (granted_.size() >= majority()) {
    become_leader(now);
    return;
  }
  send_votes(false);
}

void Raft::become_leader(int64_t now) {
  leader_ = config_.id;
  persist();
  set_role(Role::kLeader);
  stats_.elections_won++;
  replicas_.clear();
  for (NodeId v : config_.voters)
    if (v != config_.id) replicas_[v] = ReplicaState{0, now, false, -1};
  parked_.clear();
  leader_since_ = now;
  epoch_start_offset_ = log_->end_offset();
  Batch change;
  change.epoch = epoch_;
  change.control = true;
  change.bytes = "LeaderChange:" + std::to_string(config_.id);
  log_->append(std::move(change));
  effects_.flush_to = log_->end_offset();
  for (NodeId v : config_.voters)
    if (v != config_.id) send(v, BeginQuorumEpochRequest{epoch_, config_.id});
  begin_quorum_sent_at_ = now;
  maybe_advance_hw();
}

void Raft::become_resigned(int64_t now) {
  stats_.resignations++;
  set_role(Role::kResigned);
  std::vector<std::pair<Offset, NodeId>> order;
  for (auto& [id, st] : replicas_)
    if (std::find(config_.voters.begin(), config_.voters.end(), id) != config_.voters.end())
      order.emplace_back(st.end_offset, id);
  std::sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  EndQuorumEpochRequest req{epoch_, config_.id, {}};
  for (auto& p : order) req.preferred_successors.push_back(p.second);
  for (auto& p : order) send(p.second, req);
  answer_parked(now, true);
  election_deadline_ = now + random_timeout(config_.election_timeout_ms);
}

bool Raft::observe(const LeaderIdAndEpoch& leader, int64_t now, NodeId source) {
  if (leader.leader_epoch > epoch_) {
    if (leader.leader_id != kNoNode && leader.leader_id != config_.id)
      become_follower(leader.leader_epoch, leader.leader_id, now);
    else
      become_unattached(leader.leader_epoch, now);
    return true;
  }
  // Same epoch: news if we knew no leader, or if the leader itself says it leads. A prospective that lost
  // leader L learns nothing from a third node's "L leads" (others may just not have noticed L is gone yet),
  // but L answering is proof that L is alive: follow it instead of campaigning until an election timeout
  // (and forever, since the others keep rejecting pre-votes while L lives).
  if (leader.leader_epoch == epoch_ && leader.leader_id != kNoNode && leader.leader_id != config_.id &&
      (leader_ == kNoNode || source == leader.leader_id) && role_ != Role::kLeader &&
      role_ != Role::kFollower) {
    become_follower(epoch_, leader.leader_id, now);
    return true;
  }
  return false;
}

// ---- events

void Raft::receive(Message m, int64_t now) {
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, VoteRequest>) on_vote_request(m, body, now);
        else if constexpr (std::is_same_v<T, VoteResponse>) on_vote_response(m, body, now);
        else if constexpr (std::is_same_v<T, BeginQuorumEpochRequest>) on_begin_quorum(m, body, now);
        else if constexpr (std::is_same_v<T, EndQuorumEpochRequest>) on_end_quorum(m, body, now);
        else if constexpr (std::is_same_v<T, FetchRequest>) on_fetch_request(m, now);
        else if constexpr (std::is_same_v<T, FetchResponse>) on_fetch_response(m, body, now);
        else if constexpr (std::is_same_v<T, FetchSnapshotRequest>) on_fetch_snapshot_request(m, body);
        else if constexpr (std::is_same_v<T, FetchSnapshotResponse>) on_fetch_snapshot_response(m, body, now);
        else observe(body.current_leader, now, m.source);  // Begin/EndQuorumEpoch responses
      },
      m.body);
}

void Raft::tick(int64_t now) {
  switch (role_) {
    case Role::kLeader: {
      answer_parked(now, false);
      if (now - begin_quorum_sent_at_ >= config_.request_timeout_ms) {
        for (auto& [id, st] : replicas_)
          if (!st.fetched_this_epoch) send(id, BeginQuorumEpochRequest{epoch_, config_.id});
        begin_quorum_sent_at_ = now;
      }
      // Check-quorum: resign if a majority (self included) was not heard from within the fetch timeout.
      if (now - leader_since_ >= config_.fetch_timeout_ms) {
        size_t live = 1;
        for (auto& [id, st] : replicas_)
          if (std::find(config_.voters.begin(), config_.voters.end(), id) != config_.voters.end() &&
              now - st.last_fetch < config_.fetch_timeout_ms)
            live++;
        if (live < majority()) become_resigned(now);
      }
      break;
    }
    case Role::kFollower:
      if (now >= fetch_deadline_) {
        if (is_voter_) become_prospective(now);
        else become_unattached(epoch_, now);
      } else if (fetch_correlation_ != 0 && now - fetch_sent_at_ >= config_.request_timeout_ms) {
        fetch_correlation_ = 0;
        fetch_wanted_ = true;
        send_fetch(now);
      } else if (fetch_correlation_ == 0 && fetch_wanted_ && flushed_end_ >= log_->end_offset()) {
        send_fetch(now);
      }
      break;
    case Role::kUnattached:
      if (!is_voter_) {
        // Observer: ask the voters in turn who leads.
        if (fetch_correlation_ == 0 || now - fetch_sent_at_ >= config_.request_timeout_ms) {
          fetch_correlation_ = 0;
          fetch_wanted_ = true;
          send_fetch(now);
        }
      } else if (now >= election_deadline_) {
        become_prospective(now);
      }
      break;
    case Role::kProspective:
    case Role::kCandidate:
      if (now >= election_deadline_) {
        become_prospective(now);
      } else if (now - votes_sent_at_ >= config_.request_timeout_ms) {
        votes_sent_at_ = now;
        send_votes(role_ == Role::kProspective);
      }
      break;
    case Role::kResigned:
      if (now >= election_deadline_ && is_voter_) become_prospective(now);
      break;
  }
}

std::optional<OffsetAndEpoch> Raft::append(Batch batch) {
  if (role_ != Role::kLeader) return std::nullopt;
  batch.epoch = epoch_;
  batch.control = false;
  Offset base = log_->append(std::move(batch));
  effects_.flush_to = log_->end_offset();
  if (config_.mutation == Mutation::kCountUnflushedLeaderLog) maybe_advance_hw();
  return OffsetAndEpoch{base, epoch_};
}

void Raft::on_flushed(Offset durable_end, int64_t now) {
  flushed_end_ = std::max(flushed_end_, std::min(durable_end, log_->end_offset()));
  if (role_ == Role::kLeader) {
    maybe_advance_hw();
    answer_parked(now, true);
  } else if (fetch_wanted_ && fetch_correlation_ == 0) {
    send_fetch(now);
  }
}

void Raft::resign(int64_t now) {
  if (role_ == Role::kLeader) become_resigned(now);
}

// ---- votes

void Raft::send_votes(bool pre_vote) {
  VoteRequest req{pre_vote ? epoch_ + 1 : epoch_, config_.id, log_->last_epoch(), log_->end_offset(), pre_vote};
  for (NodeId v : config_.voters)
    if (v != config_.id && std::find(granted_.begin(), granted_.end(), v) == granted_.end()) send(v, req);
}

void Raft::on_vote_request(const Message& m, const VoteRequest& r, int64_t now) {
  VoteResponse resp;
  resp.pre_vote = r.pre_vote;
  if (!is_voter_) {
    resp.current_leader = current_leader();
    send(m.source, resp, m.correlation_id);
    return;
  }
  if (r.pre_vote) {
    resp.vote_granted = r.replica_epoch > epoch_ && up_to_date(r.last_offset_epoch, r.last_offset) &&
                        !has_live_leader(now);
  } else if (r.replica_epoch >= epoch_) {
    if (r.replica_epoch > epoch_) become_unattached(r.replica_epoch, now);
    bool free = (voted_ == kNoNode || voted_ == r.replica_id ||
                 config_.mutation == Mutation::kVoteTwice) &&
                leader_ == kNoNode && role_ != Role::kLeader && role_ != Role::kCandidate &&
                role_ != Role::kResigned;
    if (voted_ == r.replica_id) free = true;  // a duplicate request
    if (free && up_to_date(r.last_offset_epoch, r.last_offset)) {
      resp.vote_granted = true;
      if (voted_ != r.replica_id) {
        voted_ = r.replica_id;
        persist();  // durable before the response leaves
      }
      election_deadline_ = now + random_timeout(config_.election_timeout_ms);
    }
  }
  resp.current_leader = current_leader();
  send(m.source, resp, m.correlation_id);
}

void Raft::on_vote_response(const Message& m, const VoteResponse& r, int64_t now) {
  if (observe(r.current_leader, now, m.source)) return;
  // A pre-vote answer counts for the current pre-vote round; a real vote only in the candidate's epoch.
  bool counts = r.pre_vote ? role_ == Role::kProspective
                           : role_ == Role::kCandidate && r.current_leader.leader_epoch == epoch_;
  if (!counts) return;
  auto& list = r.vote_granted ? granted_ : rejected_;
  if (std::find(list.begin(), list.end(), m.source) == list.end()) list.push_back(m.source);
  if (granted_.size() >= majority()) {
    if (role_ == Role::kProspective) become_candidate(now);
    else become_leader(now);
  }
}

// ---- leader announcements

void Raft::on_begin_quorum(const Message& m, const BeginQuorumEpochRequest& r, int64_t now) {
  BeginQuorumEpochResponse resp;
  if (r.leader_epoch >= epoch_ && r.leader_id != config_.id) {
    if (r.leader_epoch > epoch_ || !(role_ == Role::kFollower && leader_ == r.leader_id))
      become_follower(r.leader_epoch, r.leader_id, now);
    last_leader_contact_ = now;
  } else if (r.leader_epoch < epoch_) {
    resp.error_code = kFencedLeaderEpoch;
  }
  resp.current_leader = current_leader();
  send(m.source, resp, m.correlation_id);
}

void Raft::on_end_quorum(const Message& m, const EndQuorumEpochRequest& r, int64_t now) {
  EndQuorumEpochResponse resp;
  if (r.leader_epoch > epoch_) {
    become_unattached(r.leader_epoch, now);
  }
  if (r.leader_epoch == epoch_ && (leader_ == r.leader_id || leader_ == kNoNode) && role_ != Role::kLeader &&
      role_ != Role::kCandidate && is_voter_) {
    // Fast failover: the k-th preferred successor starts its election after k backoff slots.
    auto it = std::find(r.preferred_successors.begin(), r.preferred_successors.end(), config_.id);
    int64_t position = it == r.preferred_successors.end() ? static_cast<int64_t>(r.preferred_successors.size())
                                                           : it - r.preferred_successors.begin();
    leader_ = kNoNode;
    persist();
    set_role(Role::kUnattached);
    fetch_correlation_ = 0;
    fetch_wanted_ = false;
    last_leader_contact_ = -1;
    election_deadline_ = now + position * (config_.request_timeout_ms / 2) + random_timeout(10) - 10;
  }
  resp.current_leader = current_leader();
  send(m.source, resp, m.correlation_id);
}

// ---- fetch (leader side)

void Raft::on_fetch_request(const Message& m, int64_t now) {
  const auto& r = std::get<FetchRequest>(m.body);
  if (r.current_leader_epoch > epoch_) {
    observe({kNoNode, r.current_leader_epoch}, now);
  }
  if (role_ != Role::kLeader || r.current_leader_epoch < epoch_) {
    FetchResponse resp;
    resp.error_code = role_ != Role::kLeader ? kNotLeaderOrFollower : kFencedLeaderEpoch;
    resp.current_leader = current_leader();
    send(m.source, std::move(resp), m.correlation_id);
    return;
  }
  answer_fetch(m, now, true);
}

void Raft::answer_fetch(const Message& m, int64_t now, bool allow_park) {
  const auto& r = std::get<FetchRequest>(m.body);
  FetchResponse resp;
  resp.current_leader = {config_.id, epoch_};
  resp.log_start_offset = log_->start_offset();
  bool voter = std::find(config_.voters.begin(), config_.voters.end(), r.replica_id) != config_.voters.end();
  ReplicaState& st = replicas_[r.replica_id];
  st.last_fetch = now;
  st.fetched_this_epoch = true;

  // Validate (fetch offset, last fetched epoch) against this log, as Kafka's validateOffsetAndEpoch does.
  bool valid = false;
  SnapshotId snapshot = log_->latest_snapshot();
  if (r.fetch_offset < log_->start_offset()) {
    // Metadata group: fetch the snapshot. Partition (prefix deleted, no snapshot): the follower restarts
    // at log_start_offset.
    resp.snapshot_id = snapshot;
  } else if (config_.mutation == Mutation::kSkipDivergenceCheck && r.fetch_offset <= log_->end_offset()) {
    valid = true;
  } else if (r.fetch_offset == log_->start_offset() && r.last_fetched_epoch == std::max<Epoch>(0, snapshot.epoch)) {
    valid = true;
  } else {
    OffsetAndEpoch e = log_->end_offset_for_epoch(r.last_fetched_epoch);
    if (e.epoch < 0) {
      // The follower's last epoch is older than anything this log still holds.
      if (snapshot.epoch >= 0) resp.snapshot_id = snapshot;
      else resp.diverging_epoch = {log_->start_offset(), 0};
    } else if (e.epoch != r.last_fetched_epoch || e.offset < r.fetch_offset) {
      resp.diverging_epoch = e;  // the follower truncates to the end of that epoch and fetches again
    } else {
      valid = true;
    }
  }
  if (valid) {
    if (voter) {
      st.end_offset = std::max(st.end_offset, r.fetch_offset);
      maybe_advance_hw();
    }
    if (r.fetch_offset == log_->end_offset() && allow_park && st.last_sent_hw == hw_) {
      parked_.push_back(Parked{m, now});  // long poll: answered on new data or HW change
      return;
    }
    resp.records.reserve(static_cast<size_t>(
        std::min<Offset>(static_cast<Offset>(config_.fetch_max_batches), log_->end_offset() - r.fetch_offset)));
    resp.records_base_offset = log_->read(r.fetch_offset, config_.fetch_max_batches, &resp.records);
  }
  resp.high_watermark = hw_;
  st.last_sent_hw = hw_;
  send(m.source, std::move(resp), m.correlation_id);
}

void Raft::answer_parked(int64_t now, bool all) {
  if (parked_.empty()) return;
  std::vector<Parked> parked;
  parked.swap(parked_);
  for (auto& p : parked) {
    const auto& r = std::get<FetchRequest>(p.request.body);
    bool news = log_->end_offset() > r.fetch_offset || hw_ > r.fetch_offset;
    if (role_ != Role::kLeader) continue;  // dropped: the follower re-fetches after its timeout
    if (all || news || now - p.since >= config_.fetch_max_wait_ms)
      answer_fetch(p.request, now, false);
    else
      parked_.push_back(std::move(p));
  }
}

void Raft::maybe_advance_hw() {
  if (role_ != Role::kLeader) return;
  Offset own = config_.mutation == Mutation::kCountUnflushedLeaderLog ? log_->end_offset() : flushed_end_;
  Offset candidate;
  if (config_.mutation == Mutation::kCommitWithoutMajority) {
    candidate = own;
  } else {
    std::vector<Offset> ends;
    ends.push_back(own);
    for (NodeId v : config_.voters)
      if (v != config_.id) ends.push_back(replicas_[v].end_offset);
    std::sort(ends.begin(), ends.end(), std::greater<Offset>());
    candidate = ends[majority() - 1];
  }
  // Nothing is exposed before an entry of this epoch commits.
  if (candidate > epoch_start_offset_ && candidate > hw_) {
    hw_ = candidate;
    effects_.high_watermark = hw_;
  }
}

// ---- fetch (follower side)

void Raft::send_fetch(int64_t now) {
  if (fetch_correlation_ != 0) return;
  NodeId target = leader_;
  if (role_ != Role::kFollower) {
    if (is_voter_ || config_.voters.empty()) return;
    target = config_.voters[discovery_index_++ % config_.voters.size()];
  }
  if (flushed_end_ < log_->end_offset()) {
    // Report only flushed data: fetch once the flush completes.
    fetch_wanted_ = true;
    effects_.flush_to = log_->end_offset();
    return;
  }
  fetch_wanted_ = false;
  FetchRequest req{config_.id, epoch_, log_->end_offset(), log_->last_epoch(), log_->start_offset()};
  fetch_correlation_ = next_correlation_++;
  fetch_sent_at_ = now;
  send(target, req, fetch_correlation_);
}

void Raft::update_follower_hw(Offset leader_hw) {
  Offset hw = std::min(leader_hw, log_->end_offset());
  if (hw > hw_) {
    hw_ = hw;
    effects_.high_watermark = hw_;
  }
}

void Raft::on_fetch_response(const Message& m, FetchResponse& r, int64_t now) {
  if (m.correlation_id != fetch_correlation_ || fetch_correlation_ == 0) {
    observe(r.current_leader, now, m.source);
    return;
  }
  fetch_correlation_ = 0;
  if (observe(r.current_leader, now, m.source)) return;
  if (role_ != Role::kFollower || m.source != leader_ || r.error_code != kNone) {
    // Retried on a later tick: observers at once (next voter), followers after the request timeout
    // (kBackoff is an id no response carries).
    fetch_wanted_ = true;
    if (role_ == Role::kFollower) {
      fetch_correlation_ = kBackoff;
      fetch_sent_at_ = now;
    }
    return;
  }
  last_leader_contact_ = now;
  fetch_deadline_ = now + config_.fetch_timeout_ms;
  if (r.diverging_epoch.epoch >= 0) {
    OffsetAndEpoch local = log_->end_offset_for_epoch(r.diverging_epoch.epoch);
    Offset to = std::min(r.diverging_epoch.offset, local.epoch < 0 ? log_->start_offset() : local.offset);
    to = std::max(to, log_->start_offset());
    if (to < log_->end_offset()) {
      stats_.truncations++;
      stats_.truncated_offsets += log_->end_offset() - to;
      log_->truncate_to(to);
      flushed_end_ = std::min(flushed_end_, to);
    }
    send_fetch(now);
    return;
  }
  if (r.records.empty() && r.snapshot_id.epoch < 0 && log_->end_offset() < r.log_start_offset) {
    // Behind a partition leader that deleted its prefix: restart at the leader's log start.
    stats_.truncations++;
    stats_.truncated_offsets += log_->end_offset() - log_->start_offset();
    log_->truncate_fully_and_start_at(r.log_start_offset);
    flushed_end_ = log_->end_offset();
    send_fetch(now);
    return;
  }
  if (r.snapshot_id.epoch >= 0 && r.snapshot_id.offset >= hw_) {
    fetch_correlation_ = next_correlation_++;
    fetch_sent_at_ = now;
    send(leader_, FetchSnapshotRequest{config_.id, epoch_, r.snapshot_id, 0}, fetch_correlation_);
    return;
  }
  if (!r.records.empty()) {
    if (r.records_base_offset != log_->end_offset()) {
      send_fetch(now);
      return;
    }
    for (Batch& b : r.records) log_->append(std::move(b));
    effects_.flush_to = log_->end_offset();
  }
  update_follower_hw(r.high_watermark);
  send_fetch(now);  // after the flush if records were appended
}

void Raft::on_fetch_snapshot_request(const Message& m, const FetchSnapshotRequest& r) {
  FetchSnapshotResponse resp;
  resp.current_leader = current_leader();
  resp.snapshot_id = r.snapshot_id;
  if (role_ != Role::kLeader || r.current_leader_epoch != epoch_) {
    resp.error_code = role_ != Role::kLeader ? kNotLeaderOrFollower : kFencedLeaderEpoch;
  } else if (!(log_->latest_snapshot() == r.snapshot_id)) {
    resp.error_code = kSnapshotNotFound;
  } else {
    resp.unaligned_records = log_->read_snapshot(r.snapshot_id);
    resp.size = static_cast<int64_t>(resp.unaligned_records.size());
  }
  send(m.source, std::move(resp), m.correlation_id);
}

void Raft::on_fetch_snapshot_response(const Message& m, const FetchSnapshotResponse& r, int64_t now) {
  if (m.correlation_id != fetch_correlation_ || fetch_correlation_ == 0) return;
  fetch_correlation_ = 0;
  if (observe(r.current_leader, now, m.source)) return;
  if (role_ != Role::kFollower || m.source != leader_) return;
  last_leader_contact_ = now;
  fetch_deadline_ = now + config_.fetch_timeout_ms;
  // Never install a snapshot that ends below our high watermark (a stale response): committed data stays.
  if (r.error_code == kNone && r.snapshot_id.offset >= hw_ && log_->install_snapshot(r.snapshot_id, r.unaligned_records)) {
    stats_.snapshots_installed++;
    flushed_end_ = log_->end_offset();
    if (r.snapshot_id.offset > hw_) {
      hw_ = r.snapshot_id.offset;
      effects_.high_watermark = hw_;
    }
  }
  send_fetch(now);
}

}  // namespace streamctl::raft
