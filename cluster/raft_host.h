// RaftHost: runs a node's Raft groups (the metadata quorum and one group per replicated partition) on one
// asio executor, and does for each raft::Raft what raft/raft.h asks of its host.
//
// Thread model: everything a group does runs on the host's executor, which must run one handler at a time (a
// strand, or an io_context run by one thread). add_group(), remove_group() and set_change_callback() are called
// before start() (or on the executor); append(), start() and stop() may be called from any thread (they post to
// the executor); status() and stats() from any thread (a published copy under a mutex). Callbacks run on the
// executor and must not block nor call add_group/remove_group directly (post them to the executor instead).
// Destroy the host only once its executor runs no more of its handlers (the io_context stopped, or stop()
// completed and nothing else was posted).
//
// One step = one handler on the executor: a tick of every group (every tick_interval), the delivery of a peer
// message, an append, or a flush pass. After every Raft call the host drains its effects in the documented
// order:
//   1. quorum_state: written durably (quorum-state file: tmp + fsync + rename + dir fsync) at once, BEFORE any
//      message of the same call can leave (a failed write stops the group; its messages are dropped);
//   2. messages: queued per destination node; the queue of the whole step, across ALL groups, goes out in one
//      PeerTransport::send(to, batch) per destination in the next flush pass (so the transport can coalesce
//      every fetch to one leader into one request per node pair);
//   3. flush_to: group commit. A group asking for a flush is queued once; the flush pass, posted behind the
//      handlers already waiting on the executor, sends the queued messages first (followers fetch while the
//      leader fsyncs), then flushes each queued group once (EngineRaftLog::flush = fsync of the partition log,
//      on the executor) and reports the durable end (Raft::on_flushed). Every append and fetch that arrived
//      while a flush ran is covered by the next single flush.
//   4. high watermark / role changes: pending appends settle, status() is republished, the change callback runs.
// A storage error (EngineRaftLog::error(), a failed flush or quorum-state write) stops that group with a logged
// error (its state is then unknown, as after a crash: reopen the node to recover); other groups go on.
//
// acks=all: append() completes once the high watermark passes the batch and the log still holds the batch's
// epoch there (committed: fsynced on a majority), or fails: kUnavailable when this node is not the leader, when
// leadership is lost before the commit (the batch may or may not commit later: the client retries, idempotence
// de-duplicates) or the host stops; kTimeout after `timeout`; the storage error when the group stopped.
//
// Graceful stop: stop() resigns every leadership (EndQuorumEpoch naming the preferred successors, so a new
// leader is elected without waiting for an election timeout), sends it, fails pending appends, and stops ticking.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include "base/clock.h"
#include "base/fs.h"
#include "base/result.h"
#include "cluster/peer_transport.h"
#include "cluster/raft_log.h"
#include "raft/raft.h"

namespace streamctl::cluster {

// The storage of one group: its Raft log and how to make it durable.
struct GroupLog {
  raft::RaftLog* log = nullptr;  // not owned; must outlive the host
  // Makes the whole log durable; returns the durable end offset, or the error.
  std::function<Result<raft::Offset>()> flush;
  // The first storage error of the log (ok while none); checked after every Raft call.
  std::function<Status()> error;
};

// The GroupLog of a partition's engine log.
GroupLog engine_group_log(EngineRaftLog* log);

struct GroupOptions {
  // raft.id must be the host's node id; raft.voters the group's voters. raft.seed is replaced by one derived
  // from RaftHostOptions.seed, the node id and the group, so no two replicas draw the same election timeouts.
  raft::Config raft;
  std::string quorum_state_path;  // e.g. <partition dir>/quorum-state (its directory must exist)
};

// What a group looks like from outside, as of its last step.
struct GroupStatus {
  raft::Role role = raft::Role::kUnattached;
  raft::NodeId leader = raft::kNoNode;  // the known leader of `epoch` (kNoNode: none known)
  raft::Epoch epoch = 0;
  raft::NodeId voted_for = raft::kNoNode;
  raft::Offset high_watermark = 0;      // offsets below it are committed
  raft::Offset log_end_offset = 0;
  bool stopped = false;                 // a storage error stopped the group (see error)
  std::string error;
  bool operator==(const GroupStatus&) const = default;
};

struct RaftHostOptions {
  raft::NodeId node_id = raft::kNoNode;
  FileSystem* fs = nullptr;  // quorum-state files; default posix_file_system(); not owned
  Clock* clock = nullptr;    // monotonic time for Raft; default system_clock(); not owned
  std::chrono::milliseconds tick_interval{20};
  uint64_t seed = 0;  // randomized election timeouts; 0 = random (tests pass a fixed one)
};

struct RaftHostStats {
  int64_t sends = 0;           // PeerTransport::send calls
  int64_t messages_sent = 0;   // GroupMessages in them
  int64_t flush_requests = 0;  // Effects.flush_to seen
  int64_t flushes = 0;         // log flushes done (group commit: <= flush_requests)
  int64_t quorum_state_writes = 0;
};

class RaftHost {
 public:
  using CommitCallback = std::function<void(Result<raft::OffsetAndEpoch>)>;
  using ChangeCallback = std::function<void(const GroupId&, const GroupStatus&)>;

  // `executor` runs one handler at a time (see above); `transport` must outlive the host.
  RaftHost(asio::any_io_executor executor, PeerTransport* transport, RaftHostOptions options);
  ~RaftHost();
  RaftHost(const RaftHost&) = delete;
  RaftHost& operator=(const RaftHost&) = delete;

  // Adds a group, restoring its quorum state from options.quorum_state_path (kCorruption when that file is
  // damaged; kAlreadyExists for a known group; kInvalidArgument for a config of another node).
  // REQUIRES: before start(), or on the executor.
  Status add_group(const GroupId& group, GroupLog log, GroupOptions options);
  // Stops hosting `group` (topic deleted, replica moved): its pending appends fail (kUnavailable), its
  // messages are dropped from now on; the log and quorum-state file are the caller's. kNotFound if unknown.
  // REQUIRES: before start(), or on the executor.
  Status remove_group(const GroupId& group);
  // Runs after each step that changed a group's status (on the executor; during add_group on its caller).
  // REQUIRES: before start().
  void set_change_callback(ChangeCallback callback);

  // Starts receiving peer messages and ticking.
  void start();
  // Appends `batch` through this node's leadership of `group` and calls `done` (on the executor) once it is
  // committed, or with the error (see the file comment). REQUIRES: timeout > 0.
  void append(const GroupId& group, raft::Batch batch, std::chrono::milliseconds timeout, CommitCallback done);
  // Resigns leaderships, sends the EndQuorumEpochs, fails pending appends and stops; then calls `done` on the
  // executor. Later events are ignored.
  void stop(std::function<void()> done);

  std::optional<GroupStatus> status(const GroupId& group) const;
  RaftHostStats stats() const;
  raft::NodeId node_id() const { return options_.node_id; }
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct Waiter {
    raft::Epoch epoch = 0;
    int64_t deadline_ms = 0;
    CommitCallback done;
  };
  struct Group {
    GroupId id;
    GroupLog storage;
    GroupOptions options;
    std::unique_ptr<raft::Raft> raft;
    bool flush_queued = false;
    bool stopped = false;
    std::multimap<raft::Offset, Waiter> waiters;  // pending appends by base offset
    GroupStatus published;
    bool published_once = false;
  };
  using Completion = std::pair<CommitCallback, Result<raft::OffsetAndEpoch>>;

  int64_t now() const { return clock_->monotonic_ms(); }
  void on_message(GroupMessage message);
  void on_tick();
  void arm_timer();
  void do_append(const GroupId& group, raft::Batch batch, std::chrono::milliseconds timeout, CommitCallback done);
  void do_stop(std::function<void()> done);
  // Drains g's effects (see the file comment) and schedules the flush pass when needed.
  void drain(Group& g);
  void stop_group(Group& g, const Error& error);
  // Settles g's pending appends against its HW and role; `expired_before` fails those past their deadline.
  void settle(Group& g, std::vector<Completion>* out, int64_t expired_before = -1);
  void publish(Group& g);
  void schedule_pass();
  void flush_pass();
  void send_queued();
  static void complete(std::vector<Completion>& completions);

  asio::any_io_executor executor_;
  PeerTransport* transport_;
  RaftHostOptions options_;
  FileSystem* fs_;
  Clock* clock_;
  uint64_t seed_;
  asio::steady_timer timer_;
  ChangeCallback on_change_;

  std::unordered_map<GroupId, std::unique_ptr<Group>, GroupIdHash> groups_;
  std::map<raft::NodeId, std::vector<GroupMessage>> outbox_;
  std::vector<Group*> flush_queue_;
  bool pass_scheduled_ = false;
  bool in_pass_ = false;  // inside flush_pass (it sends what its flushes emitted itself)
  bool started_ = false;
  bool stopped_ = false;

  mutable std::mutex mu_;  // guards status_ and stats_
  std::unordered_map<GroupId, GroupStatus, GroupIdHash> status_;
  RaftHostStats stats_;
};

}  // namespace streamctl::cluster
