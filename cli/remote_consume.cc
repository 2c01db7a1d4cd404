#include "cli/remote_consume.h"

#include <time.h>
#include <unistd.h>

#include <map>
#include <set>

#include "cli/kafka_client.h"
#include "cli/state_file.h"

namespace streamctl::cli {

namespace {

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// One partition this process reads: [next, end).
struct Assigned {
  int64_t next = 0;
  std::optional<int64_t> end;  // exclusive; nullopt = follow
  bool done() const { return end && next >= *end; }
};

// Everything the poll loop and librdkafka's rebalance callback share.
struct ConsumeState {
  const RemoteConsumeRequest* request = nullptr;
  const GlobalOptions* global = nullptr;
  KafkaClient* client = nullptr;  // set once the client exists
  RecordSink* sink = nullptr;
  std::map<int32_t, Assigned> assigned;
  std::map<int32_t, int64_t> written;  // next offset per partition, records handed to the sink
  std::map<int32_t, int64_t> flushed;  // next offset per partition, records the sink flushed downstream
  std::map<int32_t, int64_t> committed;
  bool had_assignment = false;
  bool closing = false;
  Status error;  // first fatal error from a callback
};

PartitionBounds remote_bounds(const KafkaClient& client, const std::string& topic, int32_t p, int64_t low,
                              int64_t high) {
  PartitionBounds b;
  b.log_start = Offset{low};
  b.log_end = Offset{high};
  b.offset_for_timestamp = [&client, topic, p](Timestamp ts) -> Result<Offset> {
    auto o = client.offset_for_time(topic, p, ts.value);
    if (!o.ok()) return std::move(o).error();
    return Offset{*o};
  };
  return b;
}

// Resolves where partition p starts (and ends) from its bounds. `use_end` = plain mode (ranges allowed).
Result<Assigned> resolve_partition(const KafkaClient& client, const RemoteConsumeRequest& r,
                                           const GlobalOptions& g, int32_t p, std::optional<int64_t> committed) {
  auto wm = client.watermarks(r.topic, p);
  if (!wm.ok()) return std::move(wm).error();
  Assigned a;
  if (committed) {
    a.next = std::max(*committed, wm->first);
  } else {
    std::string note;
    auto range = resolve_offset_spec(r.spec, remote_bounds(client, r.topic, p, wm->first, wm->second), &note);
    if (!range.ok()) return std::move(range).error();
    if (!note.empty()) warn(g, "partition " + std::to_string(p) + ": " + note);
    a.next = range->start.value;
    if (range->end) a.end = range->end->value;
  }
  if (!r.consumer.follow && !a.end) a.end = wm->second;
  debug(g, 1, "partition " + std::to_string(p) + ": from offset " + std::to_string(a.next) +
                  (a.end ? " to " + std::to_string(*a.end) + " (exclusive)" : " (following)"));
  return a;
}

// Stores the flushed positions that changed in the state file (durable on return); errors are fatal.
void commit_state_file(ConsumeState& s) {
  std::map<TopicPartition, Offset> changed;
  for (const auto& [p, next] : s.flushed) {
    auto c = s.committed.find(p);
    if (c == s.committed.end() || c->second != next) changed[TopicPartition{s.request->topic, p}] = Offset{next};
  }
  if (changed.empty()) return;
  auto st = s.request->state_file->commit(changed);
  if (!st.ok()) {
    if (s.error.ok()) s.error = st;
    return;
  }
  for (const auto& [tp, next] : changed) s.committed[tp.partition] = next.value;
}

void commit(ConsumeState& s, bool sync, const std::set<int32_t>* only = nullptr) {
  if (s.request->state_file != nullptr) return commit_state_file(s);
  if (s.request->group.empty()) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(int(s.flushed.size()));
  for (const auto& [p, next] : s.flushed) {
    if (only != nullptr && !only->count(p)) continue;
    auto c = s.committed.find(p);
    if (c != s.committed.end() && c->second == next) continue;
    rd_kafka_topic_partition_list_add(list, s.request->topic.c_str(), p)->offset = next;
    s.committed[p] = next;
  }
  if (list->cnt > 0) {
    rd_kafka_resp_err_t err = rd_kafka_commit(s.client->handle(), list, sync ? 0 : 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      warn(*s.global, "committing offsets of group '" + s.request->group + "': " + rd_kafka_err2str(err));
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
}

void flush_sink(ConsumeState& s) {
  auto st = s.sink->flush();
  if (!st.ok()) {
    if (s.error.ok()) s.error = st;
    return;
  }
  if (!s.sink->closed()) s.flushed = s.written;
}

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto& s = *static_cast<ConsumeState*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    s.had_assignment = true;
    // Starting positions: the group's committed offsets, else -o.
    rd_kafka_resp_err_t cerr = rd_kafka_committed(rk, parts, int(s.client->request_timeout().count()));
    if (cerr != RD_KAFKA_RESP_ERR_NO_ERROR && s.error.ok()) {
      s.error = s.client->request_error(cerr, "committed offsets of group '" + s.request->group + "'");
    }
    for (int i = 0; i < parts->cnt; ++i) {
      rd_kafka_topic_partition_t& tp = parts->elems[i];
      std::optional<int64_t> committed;
      if (tp.offset >= 0) committed = tp.offset;
      auto a = resolve_partition(*s.client, *s.request, *s.global, tp.partition, committed);
      if (!a.ok()) {
        if (s.error.ok()) s.error = a.error();
        continue;
      }
      tp.offset = a->next;
      s.assigned[tp.partition] = *a;
      s.written[tp.partition] = a->next;
      s.flushed[tp.partition] = a->next;
      if (committed) s.committed[tp.partition] = *committed;
    }
    debug(*s.global, 1, "group '" + s.request->group + "': assigned " + std::to_string(parts->cnt) +
                            " partition(s) of '" + s.request->topic + "'");
    rd_kafka_assign(rk, parts);
  } else {
    // Revoked: what was written goes downstream and is committed before another member takes over.
    std::set<int32_t> revoked;
    for (int i = 0; i < parts->cnt; ++i) revoked.insert(parts->elems[i].partition);
    if (!s.closing) flush_sink(s);
    commit(s, /*sync=*/true, &revoked);
    for (int32_t p : revoked) {
      s.assigned.erase(p);
      s.written.erase(p);
      s.flushed.erase(p);
      s.committed.erase(p);
    }
    rd_kafka_assign(rk, nullptr);
  }
}

}  // namespace

Result<ConsumeStats> run_remote_consume(const ConnectionSettings& settings, const GlobalOptions& global,
                                                const RemoteConsumeRequest& r, RecordSink& sink) {
  const bool group_mode = !r.group.empty();
  ConsumeState state;
  state.request = &r;
  state.global = &global;
  state.sink = &sink;
  std::map<std::string, std::string> extra = {
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      // An out-of-range position (retention deleted it) comes back as an error, handled below like the
      // embedded Consumer: warn and continue at the log start (or end).
      {"auto.offset.reset", "error"},
      {"fetch.wait.max.ms", "100"},
      {"queued.min.messages", "100000"},
  };
  if (group_mode) {
    extra["group.id"] = r.group;
    // `group describe` shows streamctl members' pids, as it does for embedded groups (remote_group.h).
    extra["client.id"] = "streamctl-" + std::to_string(::getpid());
  } else {
    extra["group.id"] = "streamctl-assign";  // required by the consumer API; never joined or committed
  }
  ConsumeState* sp = &state;
  auto client = KafkaClient::create(KafkaClient::Kind::kConsumer, settings, extra, global,
                                    [sp, group_mode](rd_kafka_conf_t* conf) {
                                      rd_kafka_conf_set_opaque(conf, sp);
                                      if (group_mode) rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
                                    });
  if (!client.ok()) return std::move(client).error();
  KafkaClient& kc = **client;
  state.client = &kc;
  rd_kafka_t* rk = kc.handle();

  auto topic = kc.topic(r.topic);
  if (!topic.ok()) return std::move(topic).error();
  const int32_t count = int32_t(topic->partitions.size());

  // Plain mode without --follow reads the partitions round-robin in partition order, up to 1 MiB of
  // records each per round, like the embedded Consumer, so output order does not depend on fetch timing:
  // each partition gets its own queue instead of the shared consumer queue.
  struct QueueDeleter {
    void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  };
  std::vector<std::pair<int32_t, std::unique_ptr<rd_kafka_queue_t, QueueDeleter>>> ordered;
  if (group_mode) {
    rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, r.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kc.request_error(err, "subscribing to '" + r.topic + "'");
  } else {
    std::vector<int32_t> parts = r.partitions;
    if (parts.empty()) {
      for (int32_t p = 0; p < count; ++p) parts.push_back(p);
    }
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(int(parts.size()));
    for (int32_t p : parts) {
      if (p < 0 || p >= count) {
        rd_kafka_topic_partition_list_destroy(list);
        return Error::not_found("partition " + std::to_string(p) + " does not exist: topic '" + r.topic +
                                        "' has " + std::to_string(count) +
                                        (count == 1 ? " partition" : " partitions") + " (numbered from 0)");
      }
      if (state.assigned.count(p)) continue;
      std::optional<int64_t> stored;
      if (r.state_file != nullptr) {
        if (auto pos = r.state_file->position(TopicPartition{r.topic, p})) stored = pos->value;
      }
      auto a = resolve_partition(kc, r, global, p, stored);
      if (!a.ok()) {
        rd_kafka_topic_partition_list_destroy(list);
        return std::move(a).error();
      }
      state.assigned[p] = *a;
      if (r.state_file != nullptr) {  // every partition's position is stored, read or not
        state.written[p] = a->next;
        state.flushed[p] = a->next;
        if (stored) state.committed[p] = *stored;
      }
      if (!a->done()) rd_kafka_topic_partition_list_add(list, r.topic.c_str(), p)->offset = a->next;
    }
    state.had_assignment = true;
    if (!r.consumer.follow) {
      for (int i = 0; i < list->cnt; ++i) {
        rd_kafka_queue_t* q = rd_kafka_queue_get_partition(rk, r.topic.c_str(), list->elems[i].partition);
        if (q == nullptr) continue;
        rd_kafka_queue_forward(q, nullptr);  // keep this partition's messages on its own queue
        ordered.emplace_back(list->elems[i].partition, std::unique_ptr<rd_kafka_queue_t, QueueDeleter>(q));
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kc.request_error(err, "assigning partitions of '" + r.topic + "'");
  }

  ConsumeStats stats;
  std::vector<HeaderView> headers;
  int64_t last_commit_ms = now_ms();
  auto all_done = [&] {
    if (!state.had_assignment) return false;
    for (const auto& [p, a] : state.assigned) {
      if (!a.done()) return false;
    }
    return true;
  };
  bool stop = false;
  // One message from either queue: records go to the sink, EOF and out-of-range events move positions.
  enum class Step { kNext, kBreak };
  auto handle = [&](rd_kafka_message_t* m) -> Step {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      auto it = state.assigned.find(m->partition);
      if (it != state.assigned.end() && it->second.end && m->offset >= *it->second.end) it->second.next = m->offset;
      return Step::kNext;
    }
    if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
      auto it = state.assigned.find(m->partition);
      if (it == state.assigned.end()) return Step::kNext;
      auto wm = kc.watermarks(r.topic, m->partition);
      if (!wm.ok()) {
        state.error = wm.error();
        return Step::kBreak;
      }
      const int64_t from = it->second.next;
      const int64_t to = from < wm->first ? wm->first : wm->second;
      warn(global, "partition " + std::to_string(m->partition) + ": offset " + std::to_string(from) +
                       (from < wm->first ? " was deleted by retention" : " is past the log end") +
                       "; continuing at " + std::to_string(to));
      it->second.next = to;
      // A partition stopped by the reset error does not resume on seek: assign every partition again at
      // its current position (this one at `to`).
      rd_kafka_topic_partition_list_t* again = rd_kafka_topic_partition_list_new(int(state.assigned.size()));
      for (const auto& [ap, aa] : state.assigned) {
        if (aa.done()) continue;
        rd_kafka_topic_partition_list_add(again, r.topic.c_str(), ap)->offset = aa.next;
      }
      rd_kafka_resp_err_t aerr = rd_kafka_assign(rk, again);
      rd_kafka_topic_partition_list_destroy(again);
      if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        state.error = kc.request_error(aerr, "resuming " + r.topic + "-" + std::to_string(m->partition));
      }
      if (!state.error.ok()) return Step::kBreak;
      return Step::kNext;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
        state.error = Error::not_found("topic '" + r.topic + "' does not exist on " + settings.brokers);
        return Step::kBreak;
      }
      if (rd_kafka_fatal_error(rk, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        state.error = kc.request_error(m->err, "consuming '" + r.topic + "'");
        return Step::kBreak;
      }
      debug(global, 1, std::string("consumer: ") + rd_kafka_message_errstr(m));  // transient, retried
      return Step::kNext;
    }
    auto it = state.assigned.find(m->partition);
    if (it == state.assigned.end()) return Step::kNext;  // revoked meanwhile
    Assigned& a = it->second;
    if (a.end && m->offset >= *a.end) {
      a.next = *a.end;
      return Step::kNext;
    }
    a.next = m->offset + 1;
    ++stats.records_read;
    RecordView view;
    view.topic = r.topic;
    view.partition = m->partition;
    view.offset = m->offset;
    rd_kafka_timestamp_type_t tstype;
    view.timestamp = rd_kafka_message_timestamp(m, &tstype);
    if (m->key != nullptr) view.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) view.value = std::string_view(static_cast<const char*>(m->payload), m->len);
    headers.clear();
    rd_kafka_headers_t* hdrs = nullptr;
    if (r.consumer.want_headers && rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        HeaderView h;
        h.key = name;
        if (value != nullptr) h.value = std::string_view(static_cast<const char*>(value), size);
        headers.push_back(h);
      }
    }
    view.headers = headers;
    state.written[m->partition] = m->offset + 1;
    if (r.consumer.filter != nullptr && !r.consumer.filter->matches(view)) return Step::kNext;
    if (!sink.write(view)) {
      stats.output_closed = true;
      return Step::kBreak;
    }
    ++stats.records_written;
    if (r.consumer.max_records >= 0 && stats.records_written >= r.consumer.max_records) {
      stats.hit_limit = true;
      stop = true;
    }
    return stop ? Step::kBreak : Step::kNext;
  };

  constexpr size_t kRoundBytes = size_t(1) << 20;
  bool ordered_stop = ordered.empty();
  while (!ordered_stop) {
    bool any = false;
    for (auto& [p, q] : ordered) {
      Assigned& a = state.assigned[p];
      size_t budget = kRoundBytes;
      while (!a.done() && budget > 0 && !ordered_stop) {
        any = true;
        if (stop_requested()) {
          stats.stopped_by_signal = true;
          ordered_stop = true;
          break;
        }
        rd_kafka_message_t* m = rd_kafka_consume_queue(q.get(), 100);
        if (m == nullptr) {
          flush_sink(state);  // waiting on this partition: what was written so far goes out
          if (sink.closed()) {
            stats.output_closed = true;
            ordered_stop = true;
          }
          continue;
        }
        std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(m, rd_kafka_message_destroy);
        size_t bytes = m->len + m->key_len;
        if (handle(m) == Step::kBreak || stop || !state.error.ok()) ordered_stop = true;
        budget -= std::min(budget, bytes + 1);
      }
      if (ordered_stop) break;
    }
    flush_sink(state);
    if (!any) break;
  }
  while (ordered.empty() && !stop) {  // shared consumer queue: group mode and --follow
    if (stop_requested()) {
      stats.stopped_by_signal = true;
      break;
    }
    if (!state.error.ok()) break;
    if (!r.consumer.follow && all_done()) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) {
      flush_sink(state);
      if (sink.closed()) {
        stats.output_closed = true;
        break;
      }
      if ((group_mode || r.state_file != nullptr) && now_ms() - last_commit_ms >= r.commit_interval_ms) {
        commit(state, /*sync=*/false);
        last_commit_ms = now_ms();
      }
      continue;
    }
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(m, rd_kafka_message_destroy);
    if (handle(m) == Step::kBreak) break;
  }
  if (!stats.output_closed) flush_sink(state);
  if (sink.closed()) stats.output_closed = true;
  commit(state, /*sync=*/true);
  state.closing = true;
  client->reset();  // consumer close: leaves the group (revocation commits nothing new)
  if (!state.error.ok()) return state.error.error();
  return stats;
}

}  // namespace streamctl::cli
