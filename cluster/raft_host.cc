#include "cluster/raft_host.h"

#include <asio/post.hpp>

#include <random>

#include "base/logging.h"
#include "cluster/quorum_state_file.h"

namespace streamctl::cluster {
namespace {

std::string name_of(const GroupId& g) { return g.topic + "-" + std::to_string(g.partition); }

Error unavailable(std::string message) { return Error{ErrorCode::kUnavailable, std::move(message)}; }

}  // namespace

GroupLog engine_group_log(EngineRaftLog* log) {
  GroupLog g;
  g.log = log;
  g.flush = [log] { return log->flush(); };
  g.error = [log] { return log->error(); };
  return g;
}

RaftHost::RaftHost(asio::any_io_executor executor, PeerTransport* transport, RaftHostOptions options)
    : executor_(std::move(executor)),
      transport_(transport),
      options_(std::move(options)),
      fs_(options_.fs ? options_.fs : posix_file_system()),
      clock_(options_.clock ? options_.clock : system_clock()),
      seed_(options_.seed != 0 ? options_.seed : (uint64_t(std::random_device()()) << 32) ^ std::random_device()()),
      timer_(executor_) {
  // Messages may arrive as soon as peers know this node; groups not added yet drop theirs (Raft resends).
  transport_->set_handler([this](GroupMessage m) { on_message(std::move(m)); });
}

RaftHost::~RaftHost() = default;

Status RaftHost::add_group(const GroupId& group, GroupLog log, GroupOptions options) {
  if (groups_.count(group)) return Error::already_exists("Raft group " + name_of(group) + " is already hosted");
  if (options.raft.id != options_.node_id)
    return Error::invalid_argument("Raft group " + name_of(group) + " is configured for node " +
                                   std::to_string(options.raft.id) + ", this host is node " +
                                   std::to_string(options_.node_id));
  STREAMCTL_ASSIGN_OR_RETURN(raft::QuorumState persisted, read_quorum_state(*fs_, options.quorum_state_path));
  auto g = std::make_unique<Group>();
  g->id = group;
  g->storage = std::move(log);
  g->options = std::move(options);
  // splitmix64 over (host seed, node, group): distinct timeouts per replica, reproducible for a fixed seed.
  uint64_t x = seed_ ^ (uint64_t(uint32_t(options_.node_id)) << 32) ^ uint64_t(GroupIdHash()(group));
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  g->options.raft.seed = x ^ (x >> 31);
  g->raft = std::make_unique<raft::Raft>(g->options.raft, g->storage.log, persisted, now());
  Group& ref = *g;
  groups_.emplace(group, std::move(g));
  drain(ref);
  return ok_status();
}

Status RaftHost::remove_group(const GroupId& group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return Error::not_found("Raft group " + name_of(group) + " is not hosted here");
  Group* g = it->second.get();
  std::vector<Completion> failed;
  for (auto& [offset, w] : g->waiters)
    failed.emplace_back(std::move(w.done), unavailable("Raft group " + name_of(group) + " was removed from node " +
                                                       std::to_string(options_.node_id)));
  std::erase(flush_queue_, g);
  groups_.erase(it);
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_.erase(group);
  }
  complete(failed);
  return ok_status();
}

void RaftHost::set_change_callback(ChangeCallback callback) { on_change_ = std::move(callback); }

void RaftHost::start() {
  asio::post(executor_, [this] {
    if (started_ || stopped_) return;
    started_ = true;
    arm_timer();
  });
}

void RaftHost::append(const GroupId& group, raft::Batch batch, std::chrono::milliseconds timeout,
                      CommitCallback done) {
  STREAMCTL_CHECK(timeout.count() > 0, "append timeout must be positive");
  asio::post(executor_, [this, group, batch = std::move(batch), timeout, done = std::move(done)]() mutable {
    do_append(group, std::move(batch), timeout, std::move(done));
  });
}

void RaftHost::stop(std::function<void()> done) {
  asio::post(executor_, [this, done = std::move(done)]() mutable { do_stop(std::move(done)); });
}

std::optional<GroupStatus> RaftHost::status(const GroupId& group) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = status_.find(group);
  if (it == status_.end()) return std::nullopt;
  return it->second;
}

RaftHostStats RaftHost::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

// ---- on the executor

void RaftHost::arm_timer() {
  timer_.expires_after(options_.tick_interval);
  timer_.async_wait([this](const std::error_code& ec) {
    if (ec || stopped_) return;
    on_tick();
    arm_timer();
  });
}

void RaftHost::on_tick() {
  const int64_t t = now();
  std::vector<Completion> done;
  for (auto& [id, g] : groups_) {
    if (g->stopped) continue;
    g->raft->tick(t);
    drain(*g);
    settle(*g, &done, t);
  }
  complete(done);
}

void RaftHost::on_message(GroupMessage message) {
  if (stopped_) return;
  auto it = groups_.find(message.group);
  if (it == groups_.end() || it->second->stopped) return;  // not (or no longer) hosted here: Raft resends
  Group& g = *it->second;
  g.raft->receive(std::move(message.message), now());
  drain(g);
}

void RaftHost::do_append(const GroupId& group, raft::Batch batch, std::chrono::milliseconds timeout,
                         CommitCallback done) {
  auto it = groups_.find(group);
  if (stopped_) return done(unavailable("node " + std::to_string(options_.node_id) + " is shutting down"));
  if (it == groups_.end())
    return done(Error::not_found("no Raft group for " + name_of(group) + " on node " +
                                 std::to_string(options_.node_id)));
  Group& g = *it->second;
  if (g.stopped) return done(unavailable("Raft group " + name_of(group) + " stopped: " + g.published.error));
  std::optional<raft::OffsetAndEpoch> appended = g.raft->append(std::move(batch));
  if (!appended) {
    drain(g);
    return done(unavailable("node " + std::to_string(options_.node_id) + " is not the leader of " +
                            name_of(group) + " (leader " + std::to_string(g.raft->leader()) + ", epoch " +
                            std::to_string(g.raft->epoch()) + ")"));
  }
  g.waiters.emplace(appended->offset, Waiter{appended->epoch, now() + timeout.count(), std::move(done)});
  drain(g);
}

void RaftHost::do_stop(std::function<void()> done) {
  if (!stopped_) {
    const int64_t t = now();
    for (auto& [id, g] : groups_) {
      if (g->stopped || g->raft->role() != raft::Role::kLeader) continue;
      g->raft->resign(t);
      drain(*g);
    }
    send_queued();
    stopped_ = true;
    timer_.cancel();
    std::vector<Completion> failed;
    for (auto& [id, g] : groups_) {
      for (auto& [offset, w] : g->waiters)
        failed.emplace_back(std::move(w.done),
                            unavailable("node " + std::to_string(options_.node_id) + " is shutting down"));
      g->waiters.clear();
    }
    complete(failed);
  }
  done();
}

void RaftHost::drain(Group& g) {
  raft::Effects& e = g.raft->effects();
  if (g.stopped) {
    e.clear();
    return;
  }
  if (Status err = g.storage.error(); !err.ok()) {
    e.clear();
    return stop_group(g, err.error());
  }
  // 1. The quorum state is durable before any message of this call leaves.
  if (e.quorum_state) {
    Status s = write_quorum_state(*fs_, g.options.quorum_state_path, *e.quorum_state, g.options.raft.voters);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.quorum_state_writes++;
    }
    if (!s.ok()) {
      e.clear();
      return stop_group(g, s.error());
    }
  }
  // 2. Messages wait for the flush pass, coalesced per destination across groups.
  for (raft::Message& m : e.messages) {
    raft::NodeId to = m.destination;
    outbox_[to].push_back(GroupMessage{g.id, std::move(m)});
  }
  // 3. Group commit: one queued flush per group, whatever the number of requests.
  if (e.flush_to) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.flush_requests++;
    }
    if (!g.flush_queued) {
      g.flush_queued = true;
      flush_queue_.push_back(&g);
    }
  }
  e.clear();
  // 4. HW and role: pending appends settle, the status is republished.
  std::vector<Completion> done;
  settle(g, &done);
  publish(g);
  if (!outbox_.empty() || !flush_queue_.empty()) schedule_pass();
  complete(done);
}

void RaftHost::stop_group(Group& g, const Error& error) {
  g.stopped = true;
  log_error("raft group stopped on a storage error")
      .kv("node_id", options_.node_id)
      .kv("group", name_of(g.id))
      .kv("error", error.to_string());
  std::vector<Completion> failed;
  for (auto& [offset, w] : g.waiters) failed.emplace_back(std::move(w.done), Error{error});
  g.waiters.clear();
  g.published.error = error.to_string();
  publish(g);
  complete(failed);
}

void RaftHost::settle(Group& g, std::vector<Completion>* out, int64_t expired_before) {
  if (g.waiters.empty()) return;
  const raft::Raft& r = *g.raft;
  // Below the HW: committed, if the log still holds the batch's epoch at its offset (a leader change may have
  // replaced it). The map is ordered by offset, so this touches only what settles.
  const raft::Offset hw = r.high_watermark();
  while (!g.waiters.empty() && g.waiters.begin()->first < hw) {
    auto it = g.waiters.begin();
    const raft::Offset offset = it->first;
    Waiter& w = it->second;
    raft::OffsetAndEpoch held = g.storage.log->end_offset_for_epoch(w.epoch);
    if (held.epoch == w.epoch && held.offset > offset)
      out->emplace_back(std::move(w.done), raft::OffsetAndEpoch{offset, w.epoch});
    else
      out->emplace_back(std::move(w.done), unavailable("the batch at offset " + std::to_string(offset) + " of " +
                                                       name_of(g.id) + " was replaced after a leader change"));
    g.waiters.erase(it);
  }
  // Not leading: every pending append fails (each drain sees the loss, so while leading every pending append
  // is of the current epoch).
  if (r.role() != raft::Role::kLeader) {
    for (auto& [offset, w] : g.waiters)
      out->emplace_back(std::move(w.done),
                        unavailable("node " + std::to_string(options_.node_id) + " lost the leadership of " +
                                    name_of(g.id) + " (epoch " + std::to_string(w.epoch) + ") before offset " +
                                    std::to_string(offset) + " committed; leader now " + std::to_string(r.leader()) +
                                    " in epoch " + std::to_string(r.epoch())));
    g.waiters.clear();
    return;
  }
  if (expired_before < 0) return;
  for (auto it = g.waiters.begin(); it != g.waiters.end();) {
    if (it->second.deadline_ms > expired_before) {
      ++it;
      continue;
    }
    out->emplace_back(std::move(it->second.done),
                      Error{ErrorCode::kTimeout, "offset " + std::to_string(it->first) + " of " + name_of(g.id) +
                                                     " was not committed in time (no majority reachable?)"});
    it = g.waiters.erase(it);
  }
}

void RaftHost::publish(Group& g) {
  GroupStatus s;
  const raft::Raft& r = *g.raft;
  s.role = r.role();
  // A resigned (or restarted) leader no longer names itself, as Raft's own answers to peers do.
  s.leader = r.role() != raft::Role::kLeader && r.leader() == r.id() ? raft::kNoNode : r.leader();
  s.epoch = r.epoch();
  s.voted_for = r.voted_for();
  s.high_watermark = r.high_watermark();
  s.log_end_offset = g.storage.log->end_offset();
  s.stopped = g.stopped;
  s.error = g.published.error;
  if (s == g.published && g.published_once) return;
  g.published = s;
  g.published_once = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_[g.id] = s;
  }
  if (on_change_) on_change_(g.id, s);
}

void RaftHost::schedule_pass() {
  if (pass_scheduled_ || in_pass_) return;
  pass_scheduled_ = true;
  asio::post(executor_, [this] { flush_pass(); });
}

void RaftHost::flush_pass() {
  pass_scheduled_ = false;
  if (stopped_) return;
  in_pass_ = true;
  send_queued();  // followers fetch while the leader fsyncs
  std::vector<Group*> queue;
  queue.swap(flush_queue_);
  for (Group* g : queue) {
    g->flush_queued = false;
    if (g->stopped) continue;
    Result<raft::Offset> durable = g->storage.flush();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.flushes++;
    }
    if (!durable.ok()) {
      stop_group(*g, durable.error());
      continue;
    }
    g->raft->on_flushed(*durable, now());
    drain(*g);
  }
  send_queued();
  in_pass_ = false;
  if (!flush_queue_.empty()) schedule_pass();
}

void RaftHost::send_queued() {
  if (outbox_.empty()) return;
  std::map<raft::NodeId, std::vector<GroupMessage>> out;
  out.swap(outbox_);
  int64_t messages = 0;
  for (auto& [to, batch] : out) {
    messages += int64_t(batch.size());
    transport_->send(to, std::move(batch));
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.sends += int64_t(out.size());
  stats_.messages_sent += messages;
}

void RaftHost::complete(std::vector<Completion>& completions) {
  for (auto& [done, result] : completions) done(std::move(result));
  completions.clear();
}

}  // namespace streamctl::cluster
