// Group-mode and state-file consume; semantics in group_consume.h.
#include "cli/group_consume.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>

#include "cli/consume_cmd.h"
#include "cli/kafka_client.h"
#include "cli/membership.h"
#include "cli/remote_consume.h"
#include "cli/state_file.h"
#include "engine/group_store.h"

namespace streamctl::cli {


namespace {

// Where positions live: the group's committed offsets, or a private state file.
class PositionStore {
 public:
  virtual ~PositionStore() = default;
  // The stored next offset of a partition, read fresh (another member may have just committed it).
  virtual Result<std::optional<Offset>> load(PartitionId partition) = 0;
  // Durable when it returns.
  virtual Status commit(const std::map<PartitionId, Offset>& positions) = 0;
};

class GroupPositions final : public PositionStore {
 public:
  GroupPositions(engine::GroupStore& store, Clock& clock, std::string group, std::string topic)
      : store_(store), clock_(clock), group_(std::move(group)), topic_(std::move(topic)) {}

  Result<std::optional<Offset>> load(PartitionId partition) override {
    STREAMCTL_ASSIGN_OR_RETURN(auto all, store_.fetch(group_));
    auto it = all.find(TopicPartition{topic_, partition});
    if (it == all.end()) return std::optional<Offset>();
    return std::optional<Offset>(it->second.offset);
  }

  Status commit(const std::map<PartitionId, Offset>& positions) override {
    std::map<TopicPartition, engine::CommittedOffset> offsets;
    for (const auto& [p, offset] : positions) {
      engine::CommittedOffset c;
      c.offset = offset;
      c.commit_time = clock_.now();
      offsets[TopicPartition{topic_, p}] = c;
    }
    return store_.commit(group_, offsets);
  }

 private:
  engine::GroupStore& store_;
  Clock& clock_;
  std::string group_;
  std::string topic_;
};

class StatePositions final : public PositionStore {
 public:
  StatePositions(std::unique_ptr<StateFile> file, std::string topic)
      : file_(std::move(file)), topic_(std::move(topic)) {}

  Result<std::optional<Offset>> load(PartitionId partition) override {
    return file_->position(TopicPartition{topic_, partition});
  }

  Status commit(const std::map<PartitionId, Offset>& positions) override {
    std::map<TopicPartition, Offset> out;
    for (const auto& [p, offset] : positions) out[TopicPartition{topic_, p}] = offset;
    return file_->commit(out);
  }

 private:
  std::unique_ptr<StateFile> file_;
  std::string topic_;
};

// Forwards to the real sink and remembers whether everything it took reached the output. Once a flush
// failed or the output closed, later progress reports may count records that were never written (the sink
// drops its buffer), so they must not be committed.
class GuardedSink final : public RecordSink {
 public:
  explicit GuardedSink(RecordSink& inner) : inner_(inner) {}
  bool write(const RecordView& record) override {
    if (!inner_.write(record)) healthy_ = false;
    return healthy_;
  }
  Status flush() override {
    Status st = inner_.flush();
    if (!st.ok() || inner_.closed()) healthy_ = false;
    return st;
  }
  bool closed() const override { return inner_.closed(); }
  Status close_reason() const override { return inner_.close_reason(); }
  bool healthy() const { return healthy_; }

 private:
  RecordSink& inner_;
  bool healthy_ = true;
};

std::string partition_list(const std::vector<TopicPartition>& tps) {
  std::string out;
  for (const auto& tp : tps) {
    if (!out.empty()) out += ",";
    out += std::to_string(tp.partition);
  }
  return out.empty() ? "none" : out;
}

class GroupConsumeSession {
 public:
  GroupConsumeSession(engine::LogManager& manager, const GlobalOptions& global, const GroupConsumeOptions& options,
                      RecordSink& sink)
      : manager_(manager), global_(global), options_(options), sink_(sink) {}

  Result<ConsumeStats> run() {
    STREAMCTL_TRY(open());
    ConsumeStats total;
    Status failure = loop(total);
    // Commit what reached the output, whatever ended the loop, then leave so others take over at once.
    Status committed = commit_owned();
    if (membership_) {
      Status left = membership_->leave();
      if (failure.ok() && committed.ok() && !left.ok()) failure = left;
    }
    if (!failure.ok()) return std::move(failure).error();
    if (!committed.ok()) return std::move(committed).error();
    return total;
  }

 private:
  Status open() {
    STREAMCTL_TRY(manager_.describe_topic(options_.topic));
    if (!options_.group.empty()) {
      STREAMCTL_ASSIGN_OR_RETURN(membership_,
                                 GroupMembership::join(&manager_.fs(), &manager_.clock(), manager_.data_dir(),
                                                       options_.group, options_.client_id));
      store_ = std::make_unique<GroupPositions>(manager_.groups(), manager_.clock(), options_.group,
                                                options_.topic);
      debug(global_, 1, "joined group '" + options_.group + "' as member " + membership_->member_id());
    } else {
      STREAMCTL_ASSIGN_OR_RETURN(auto file,
                                 StateFile::open(&manager_.fs(), &manager_.clock(), options_.state_file));
      store_ = std::make_unique<StatePositions>(std::move(file), options_.topic);
    }
    return ok_status();
  }

  int64_t now_ms() const { return manager_.clock().monotonic_ms(); }

  Result<std::vector<TopicPartition>> subscription() {
    STREAMCTL_ASSIGN_OR_RETURN(auto meta, manager_.describe_topic(options_.topic));
    std::vector<TopicPartition> out;
    if (!options_.partitions.empty()) {
      for (PartitionId p : options_.partitions) {
        if (p < 0 || p >= meta.partitions) {
          return Error::not_found("topic '" + options_.topic + "' has no partition " + std::to_string(p) +
                                  " (it has " + std::to_string(meta.partitions) + ")");
        }
        out.push_back(TopicPartition{options_.topic, p});
      }
      return out;
    }
    for (int32_t p = 0; p < meta.partitions; ++p) out.push_back(TopicPartition{options_.topic, p});
    return out;
  }

  // Takes a partition: its start position, and (not following) the end to stop at.
  Status take(PartitionId p) {
    STREAMCTL_ASSIGN_OR_RETURN(Offset start, start_position(p));
    owned_[p] = start;
    if (!options_.consumer.follow) {
      STREAMCTL_ASSIGN_OR_RETURN(engine::Log * log, manager_.log(options_.topic, p));
      ends_[p] = std::max(start, log->high_watermark());
    }
    return ok_status();
  }

  Result<RebalanceResult> rebalance() {
    STREAMCTL_ASSIGN_OR_RETURN(auto subscribed, subscription());
    last_rebalance_ms_ = now_ms();
    return membership_->rebalance(subscribed);
  }

  // Where a partition we just took starts: its stored position, or -o.
  Result<Offset> start_position(PartitionId p) {
    STREAMCTL_ASSIGN_OR_RETURN(engine::Log * log, manager_.log(options_.topic, p));
    STREAMCTL_TRY(log->refresh());  // another process may have appended since the log was opened
    STREAMCTL_ASSIGN_OR_RETURN(std::optional<Offset> stored, store_->load(p));
    if (stored) {
      committed_[p] = *stored;
      if (*stored <= log->log_end_offset()) return *stored;
      warn(global_, options_.topic + "-" + std::to_string(p) + ": the stored position " +
                        std::to_string(stored->value) + " is past the log end " +
                        std::to_string(log->log_end_offset().value) + " (was the topic re-created?); starting at -o " +
                        (options_.start.text.empty() ? std::string("default") : options_.start.text));
    }
    std::string note;
    STREAMCTL_ASSIGN_OR_RETURN(ResolvedRange range, resolve_offset_spec(options_.start, bounds_of(*log), &note));
    if (!note.empty()) warn(global_, options_.topic + "-" + std::to_string(p) + ": " + note);
    return range.start;
  }

  // Commits the positions of owned partitions that changed since they were last stored.
  Status commit_owned() {
    std::map<PartitionId, Offset> changed;
    for (const auto& [p, offset] : owned_) {
      auto it = committed_.find(p);
      if (it == committed_.end() || it->second != offset) changed[p] = offset;
    }
    last_commit_ms_ = now_ms();
    if (changed.empty()) return ok_status();
    STREAMCTL_TRY(store_->commit(changed));
    for (const auto& [p, offset] : changed) committed_[p] = offset;
    return ok_status();
  }

  // Applies a membership step: hand back excess partitions (commit first), take new ones (read after claim).
  Status apply(const RebalanceResult& r) {
    for (const auto& tp : r.dropped) {
      owned_.erase(tp.partition);
      ends_.erase(tp.partition);
    }
    if (!r.excess.empty()) {
      STREAMCTL_TRY(commit_owned());
      for (const auto& tp : r.excess) {
        membership_->release(tp);
        owned_.erase(tp.partition);
        ends_.erase(tp.partition);
      }
    }
    for (const auto& tp : r.acquired) STREAMCTL_TRY(take(tp.partition));
    if (!r.acquired.empty() || !r.excess.empty() || !r.dropped.empty()) {
      debug(global_, 1,
            "group '" + options_.group + "': " + std::to_string(r.live_members) + " member(s), this one (" +
                membership_->member_id() + ") owns partitions " + partition_list(membership_->owned()) +
                (r.excess.empty() ? std::string() : " (handed over " + partition_list(r.excess) + ")"));
    }
    return ok_status();
  }

  // Sleeps up to ms, waking early on SIGINT/SIGTERM.
  void idle(int64_t ms) {
    struct pollfd fd = {stop_fd(), POLLIN, 0};
    if (stop_fd() < 0 || stop_requested()) {
      if (!stop_requested()) ::poll(nullptr, 0, int(ms));
      return;
    }
    ::poll(&fd, 1, int(ms));
  }

  Status loop(ConsumeStats& total) {
    std::optional<RebalanceResult> pending;
    for (;;) {
      if (stop_requested()) {
        total.stopped_by_signal = true;
        return ok_status();
      }
      if (membership_) {
        RebalanceResult r;
        if (pending) {
          r = std::move(*pending);
          pending.reset();
        } else {
          STREAMCTL_ASSIGN_OR_RETURN(r, rebalance());
        }
        STREAMCTL_TRY(apply(r));
      } else {
        STREAMCTL_ASSIGN_OR_RETURN(auto subscribed, subscription());
        for (const auto& tp : subscribed) {
          if (owned_.count(tp.partition) == 0) STREAMCTL_TRY(take(tp.partition));
        }
      }
      if (owned_.empty()) {
        if (!options_.consumer.follow) return ok_status();  // -e and nothing to read
        idle(options_.rebalance_interval_ms);
        continue;
      }

      ConsumerOptions copts = options_.consumer;
      copts.poll_timeout_ms = int(std::min<int64_t>(copts.poll_timeout_ms, options_.rebalance_interval_ms));
      if (options_.consumer.max_records >= 0) {
        copts.max_records = options_.consumer.max_records - total.records_written;
        if (copts.max_records <= 0) {
          total.hit_limit = true;
          return ok_status();
        }
      }
      std::vector<ConsumerPartition> parts;
      for (const auto& [p, offset] : owned_) {
        STREAMCTL_ASSIGN_OR_RETURN(engine::Log * log, manager_.log(options_.topic, p));
        auto end = ends_.find(p);
        parts.push_back(ConsumerPartition{p, log, offset,
                                          end == ends_.end() ? std::nullopt : std::optional<Offset>(end->second)});
      }
      GuardedSink guard(sink_);
      Status callback_error;
      Consumer consumer(options_.topic, std::move(parts), copts, &global_);
      consumer.set_on_progress([&](const std::map<PartitionId, Offset>& positions) {
        if (!guard.healthy()) return;  // some of these records never reached the output
        for (const auto& [p, offset] : positions) owned_[p] = offset;
        if (callback_error.ok() && now_ms() - last_commit_ms_ >= options_.commit_interval_ms) {
          callback_error = commit_owned();
        }
      });
      consumer.set_on_round([&] {
        if (!callback_error.ok()) return false;
        if (!membership_ || now_ms() - last_rebalance_ms_ < options_.rebalance_interval_ms) return true;
        auto r = rebalance();
        if (!r.ok()) {
          callback_error = std::move(r).error();
          return false;
        }
        if (r->acquired.empty() && r->excess.empty() && r->dropped.empty()) return true;
        pending = std::move(r).value();  // stop this round; the loop applies it with positions flushed
        return false;
      });
      auto stats = consumer.run(guard);
      if (!stats.ok()) return std::move(stats).error();
      if (!callback_error.ok()) return callback_error;
      total.records_written += stats->records_written;
      total.records_read += stats->records_read;
      total.stopped_by_signal = total.stopped_by_signal || stats->stopped_by_signal;
      total.output_closed = total.output_closed || stats->output_closed;
      total.hit_limit = total.hit_limit || stats->hit_limit;
      if (stats->stopped_by_signal || stats->output_closed || stats->hit_limit || !guard.healthy()) {
        return ok_status();
      }
      if (pending) continue;
      if (!options_.consumer.follow) {
        // Our partitions are at their end. In a group, partitions may have been freed meanwhile (a member
        // left): take them and read them too before exiting, so a run really reads "everything".
        if (!membership_) return ok_status();
        STREAMCTL_ASSIGN_OR_RETURN(auto r, rebalance());
        if (r.acquired.empty()) return apply(r);
        pending = std::move(r);
      }
    }
  }

  engine::LogManager& manager_;
  const GlobalOptions& global_;
  const GroupConsumeOptions& options_;
  RecordSink& sink_;
  std::unique_ptr<GroupMembership> membership_;
  std::unique_ptr<PositionStore> store_;
  std::map<PartitionId, Offset> owned_;      // owned partition -> next offset whose predecessors are written
  std::map<PartitionId, Offset> committed_;  // last position stored (or loaded) per partition
  std::map<PartitionId, Offset> ends_;       // not following: where each owned partition stops
  int64_t last_commit_ms_ = 0;
  int64_t last_rebalance_ms_ = 0;
};

}  // namespace

Status validate_group_consume(const GroupConsumeOptions& options) {
  if (!options.group.empty() && !options.state_file.empty()) {
    return Error::invalid_argument("--group and --state-file do not mix: a group stores its positions itself");
  }
  if (options.group.empty() && options.state_file.empty()) {
    return Error::invalid_argument("group-mode consume needs --group NAME or --state-file PATH");
  }
  if (!options.group.empty() && !options.partitions.empty()) {
    return Error::invalid_argument("-p/--partition does not mix with --group: the members of a group share all "
                                   "partitions among themselves");
  }
  if (options.start.is_range) {
    return Error::invalid_argument("-o " + options.start.text + " is a range; with --group or --state-file, -o " +
                                   "only says where partitions without a stored position start (stop with -e or -c)");
  }
  if (options.commit_interval_ms < 0 || options.rebalance_interval_ms <= 0) {
    return Error::invalid_argument("commit and rebalance intervals must be positive");
  }
  return ok_status();
}

Result<ConsumeStats> run_group_consume(engine::LogManager& manager, const GlobalOptions& global,
                                       const GroupConsumeOptions& options, RecordSink& sink) {
  STREAMCTL_TRY(validate_group_consume(options));
  GroupConsumeSession session(manager, global, options, sink);
  return session.run();
}

constexpr const char* kStateFileBusyHint =
    "runs sharing a state file must not overlap (e.g. cron: flock -n, or a longer period)";

std::optional<int> consume_in_group_mode(const ConsumeOptions& o, const GlobalOptions& g,
                                         const GroupModeFlags& flags) {
  if (flags.group.empty() && flags.state_file.empty()) return std::nullopt;
  if (o.count == 0 || o.count < -1) return report_usage_error("--count must be at least 1");
  GroupConsumeOptions go;
  go.topic = o.topic;
  go.group = flags.group;
  go.state_file = flags.state_file;
  go.partitions = o.partitions;
  if (!flags.commit_interval.empty()) {
    auto ms = parse_duration_ms(flags.commit_interval);
    if (!ms.ok()) return report_error(ms.error());
    go.commit_interval_ms = *ms;
  }
  auto spec = parse_offset_spec(o.offset, system_clock()->now());
  if (!spec.ok()) return report_error(spec.error());
  go.start = *spec;
  auto valid = validate_group_consume(go);
  if (!valid.ok()) return report_error(valid.error());
  auto output = make_consume_output(o, g);
  if (!output.ok()) return report_error(output.error());
  go.consumer.follow = o.follow;
  go.consumer.max_records = o.count;
  go.consumer.want_headers = output->want_headers;
  go.consumer.filter = output->filter.get();

  const std::string source = go.group.empty() ? "state file " + go.state_file : "group '" + go.group + "'";
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  if (backend->remote) {
    RemoteConsumeRequest req;
    std::unique_ptr<StateFile> state_file;
    if (!go.state_file.empty()) {
      auto sf = StateFile::open(posix_file_system(), system_clock(), go.state_file);
      if (!sf.ok()) {
        if (sf.error().code == streamctl::ErrorCode::kBusy) {
          return report_error(sf.error(), kStateFileBusyHint);
        }
        return report_error(sf.error());
      }
      state_file = std::move(sf).value();
      req.state_file = state_file.get();
      req.partitions = go.partitions;
    }
    req.topic = go.topic;
    req.spec = go.start;
    req.group = go.group;
    req.consumer = go.consumer;
    req.commit_interval_ms = go.commit_interval_ms;
    FdSink sink(STDOUT_FILENO, output->formatter.get());
    auto stats = run_remote_consume(*backend->remote, g, req, sink);
    if (!stats.ok()) {
      const Error& e = stats.error();
      if (e.code == streamctl::ErrorCode::kNotFound && e.message.find("topic '") == 0) {
        return report_error(e, "list topics with: streamctl topic list");
      }
      return report_error(e);
    }
    debug(g, 1, "consumed " + std::to_string(stats->records_written) + " record(s) from '" + o.topic + "' as " +
                    source + "; positions committed");
    if (!sink.close_reason().ok()) return report_error(sink.close_reason().error());
    return consume_exit_code(*stats);
  }
  auto lm = open_data_dir(g, /*create_if_missing=*/false);
  if (!lm.ok()) {
    if (lm.error().code == streamctl::ErrorCode::kNotFound) {
      return report_error(Error::not_found("topic '" + o.topic + "' does not exist (" + lm.error().message + ")"),
                          "produce to it first: echo hello | streamctl produce " + o.topic);
    }
    return report_error(lm.error());
  }
  FdSink sink(STDOUT_FILENO, output->formatter.get());
  auto stats = run_group_consume(**lm, g, go, sink);
  if (!stats.ok()) {
    const Error& e = stats.error();
    if (e.code == streamctl::ErrorCode::kNotFound && e.message.find("topic '") == 0) {
      return report_error(e, "list topics with: streamctl topic list");
    }
    if (e.code == streamctl::ErrorCode::kBusy && !go.state_file.empty()) {
      return report_error(e, kStateFileBusyHint);
    }
    return report_error(e);
  }
  debug(g, 1, "consumed " + std::to_string(stats->records_written) + " record(s) from '" + o.topic + "' as " +
                  source + "; positions committed");
  if (!sink.close_reason().ok()) return report_error(sink.close_reason().error());
  return consume_exit_code(*stats);
}

}  // namespace streamctl::cli
