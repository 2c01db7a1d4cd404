// `streamctl group list|describe|reset-offsets|delete`: consumer groups on the local data directory, in the
// words of Kafka's kafka-consumer-groups.sh (CURRENT-OFFSET, LOG-END-OFFSET, LAG, CONSUMER-ID, ...).
//
// A group is its committed offsets (engine::GroupStore, shared with the Kafka-protocol server) plus the
// `consume --group` processes alive right now (cli/membership.h). State, as Kafka names it: Stable (live
// members), Empty (offsets but no member). Like Kafka, offsets are reset and groups deleted only while the
// group has no live member. Human output is aligned text; with --json each command prints JSON (describe:
// one object per group per line; list, reset-offsets, delete: one document).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/command.h"
#include "cli/group_consume.h"
#include "cli/kafka_client.h"
#include "cli/membership.h"
#include "cli/offset_spec.h"
#include "cli/output_format.h"
#include "cli/remote_group.h"
#include "cli/remote_topic.h"
#include "engine/group_store.h"
#include "engine/log.h"

namespace streamctl::cli {

namespace {

using Json = nlohmann::ordered_json;

struct GroupOptions {
  std::vector<std::string> groups;
  bool members = false;     // describe --members
  bool long_listing = false;  // list -l
  // reset-offsets
  std::vector<std::string> topics;  // --topic T or T:0,1,2 (repeatable)
  bool all_topics = false;
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  std::string to_datetime;
  std::string by_duration;
  std::optional<int64_t> shift_by;
  bool dry_run = false;
  bool execute = false;
  bool create = false;  // reset-offsets: a group that does not exist yet may be created
  // delete
  bool if_exists = false;
  std::vector<std::string> delete_topics;  // delete --topic T: only that topic's offsets
};

int print_json(const Json& j) {
  auto st = write_stdout(j.dump() + "\n");
  return st.ok() ? 0 : report_error(st.error());
}

int print_text(const std::string& text) {
  auto st = write_stdout(text);
  return st.ok() ? 0 : report_error(st.error());
}

std::string iso_time(int64_t ms) {
  std::string s;
  append_iso8601_utc(s, ms);
  return s;
}

// The data directory, or nullptr (no error) when the default one does not exist yet. A missing directory
// given by --data-dir is kNotFound naming it: probably a mistyped path.
Result<std::unique_ptr<engine::LogManager>> open_if_exists(const GlobalOptions& g) {
  auto lm = open_data_dir(g, /*create_if_missing=*/false);
  if (!lm.ok() && lm.error().code == ErrorCode::kNotFound && !data_dir_chosen(g)) {
    return std::unique_ptr<engine::LogManager>();
  }
  return lm;
}

// Everything known about one group.
struct GroupView {
  std::string name;
  std::map<TopicPartition, engine::CommittedOffset> committed;
  GroupActivity activity;
  std::string coordinator_state;  // remote: the group coordinator's state name; empty = derive from members
  bool exists() const { return !committed.empty() || !activity.members.empty() || !activity.owners.empty(); }
  const char* state() const {
    if (!coordinator_state.empty()) return coordinator_state.c_str();
    return activity.members.empty() ? "Empty" : "Stable";
  }
};

Result<GroupView> load_group(engine::LogManager& lm, const std::string& group) {
  GroupView v;
  v.name = group;
  STREAMCTL_ASSIGN_OR_RETURN(v.committed, lm.groups().fetch(group));
  STREAMCTL_ASSIGN_OR_RETURN(v.activity, inspect_group(lm.fs(), lm.data_dir(), group));
  return v;
}

// Groups with committed offsets, plus groups whose members are running but have committed nothing yet
// (a members directory left behind by killed members alone does not make a group).
Result<std::vector<std::string>> all_groups(engine::LogManager& lm) {
  STREAMCTL_ASSIGN_OR_RETURN(auto stored, lm.groups().list_groups());
  STREAMCTL_ASSIGN_OR_RETURN(auto with_dirs, groups_with_members(lm.fs(), lm.data_dir()));
  std::set<std::string> all(stored.begin(), stored.end());
  for (const auto& g : with_dirs) {
    if (all.count(g) != 0) continue;
    STREAMCTL_ASSIGN_OR_RETURN(GroupActivity activity, inspect_group(lm.fs(), lm.data_dir(), g));
    if (!activity.members.empty()) all.insert(g);
  }
  return std::vector<std::string>(all.begin(), all.end());
}

Error group_not_found(const std::string& group) {
  return Error::not_found("consumer group '" + group + "' does not exist (no committed offsets, no members)");
}

// One partition row of `describe`.
struct PartitionLag {
  TopicPartition tp;
  std::optional<engine::CommittedOffset> committed;
  bool topic_exists = true;
  Offset log_start;
  Offset log_end;
  std::optional<int64_t> lag;  // log end - committed (never negative); unknown without a commit
  std::string owner;           // member id, empty when unowned
};

// Where `group` commands find groups, topics and offsets: the local data directory (engine::GroupStore and
// the membership directory) or a Kafka-protocol cluster (group coordinator, Admin API). One per command run.
class GroupBackend {
 public:
  // Embedded: `lm` may be null when the data directory does not exist yet (no groups).
  explicit GroupBackend(std::unique_ptr<engine::LogManager> lm) : lm_(std::move(lm)) {}
  explicit GroupBackend(std::unique_ptr<KafkaClient> client) : client_(std::move(client)) {}

  bool remote() const { return client_ != nullptr; }
  bool empty() const { return !client_ && !lm_; }
  engine::LogManager* local() const { return lm_.get(); }
  const KafkaClient* client() const { return client_.get(); }

  Result<std::vector<std::string>> list() const {
    if (client_) return remote_list_groups(*client_);
    if (!lm_) return std::vector<std::string>();
    return all_groups(*lm_);
  }
  Result<GroupView> load(const std::string& group) const {
    if (!client_) {
      if (!lm_) return GroupView{group, {}, {}, {}};
      return load_group(*lm_, group);
    }
    STREAMCTL_ASSIGN_OR_RETURN(RemoteGroup rg, remote_describe_group(*client_, group));
    GroupView v;
    v.name = group;
    v.committed = std::move(rg.committed);
    v.activity.members = std::move(rg.members);
    v.activity.owners = std::move(rg.owners);
    if (rg.state != "Dead" && rg.state != "Unknown") v.coordinator_state = rg.state;
    return v;
  }
  // A topic's partition count; nullopt when the topic does not exist.
  Result<std::optional<int32_t>> partitions(const std::string& topic) const {
    if (client_) {
      auto t = client_->topic(topic);
      if (!t.ok() && t.error().code == ErrorCode::kNotFound) return std::optional<int32_t>();
      if (!t.ok()) return std::move(t).error();
      return std::optional<int32_t>(int32_t(t->partitions.size()));
    }
    auto md = lm_->describe_topic(topic);
    if (!md.ok() && md.error().code == ErrorCode::kNotFound) return std::optional<int32_t>();
    if (!md.ok()) return std::move(md).error();
    return std::optional<int32_t>(md->partitions);
  }
  // Log start offset and high watermark.
  Result<std::pair<Offset, Offset>> bounds(const std::string& topic, PartitionId p) const {
    if (client_) {
      STREAMCTL_ASSIGN_OR_RETURN(auto wm, client_->watermarks(topic, p));
      return std::pair<Offset, Offset>(Offset(wm.first), Offset(wm.second));
    }
    STREAMCTL_ASSIGN_OR_RETURN(engine::Log * log, lm_->log(topic, p));
    STREAMCTL_TRY(log->refresh());
    return std::pair<Offset, Offset>(log->log_start_offset(), log->high_watermark());
  }
  Result<Offset> offset_for_time(const std::string& topic, PartitionId p, Timestamp ts) const {
    if (client_) {
      STREAMCTL_ASSIGN_OR_RETURN(int64_t o, client_->offset_for_time(topic, p, ts.value));
      return Offset(o);
    }
    STREAMCTL_ASSIGN_OR_RETURN(engine::Log * log, lm_->log(topic, p));
    return log->offset_for_timestamp(ts);
  }

 private:
  std::unique_ptr<engine::LogManager> lm_;
  std::unique_ptr<KafkaClient> client_;
};

// The backend for `group` commands: the cluster when one is named or the data directory is served (its
// coordinator knows the live members), else the data directory (nullptr inside when it does not exist).
Result<std::unique_ptr<GroupBackend>> open_group_backend(const GlobalOptions& g) {
  STREAMCTL_ASSIGN_OR_RETURN(Backend backend, select_backend(g));
  if (backend.remote) {
    STREAMCTL_ASSIGN_OR_RETURN(auto client, admin_client(*backend.remote, g));
    return std::make_unique<GroupBackend>(std::move(client));
  }
  STREAMCTL_ASSIGN_OR_RETURN(auto lm, open_if_exists(g));
  return std::make_unique<GroupBackend>(std::move(lm));
}

// The partitions a group has touched: every partition of each topic with a commit or a claim.
Result<std::vector<PartitionLag>> partition_lags(const GroupBackend& backend, const GroupView& v) {
  std::set<std::string> topics;
  for (const auto& [tp, c] : v.committed) topics.insert(tp.topic);
  for (const auto& [tp, owner] : v.activity.owners) topics.insert(tp.topic);
  std::vector<PartitionLag> rows;
  for (const auto& topic : topics) {
    std::set<PartitionId> partitions;
    STREAMCTL_ASSIGN_OR_RETURN(std::optional<int32_t> count, backend.partitions(topic));
    const bool exists = count.has_value();
    for (PartitionId p = 0; p < count.value_or(0); ++p) partitions.insert(p);
    for (const auto& [tp, c] : v.committed) {
      if (tp.topic == topic) partitions.insert(tp.partition);
    }
    for (PartitionId p : partitions) {
      PartitionLag row;
      row.tp = TopicPartition{topic, p};
      row.topic_exists = exists && p < *count;
      auto c = v.committed.find(row.tp);
      if (c != v.committed.end()) row.committed = c->second;
      auto o = v.activity.owners.find(row.tp);
      if (o != v.activity.owners.end()) row.owner = o->second;
      if (row.topic_exists) {
        STREAMCTL_ASSIGN_OR_RETURN(auto b, backend.bounds(topic, p));
        row.log_start = b.first;
        row.log_end = b.second;
        if (row.committed) row.lag = std::max<int64_t>(0, row.log_end - row.committed->offset);
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

int64_t total_lag(const std::vector<PartitionLag>& rows) {
  int64_t total = 0;
  for (const auto& r : rows) total += r.lag.value_or(0);
  return total;
}

const MemberInfo* member_by_id(const GroupView& v, const std::string& id) {
  for (const auto& m : v.activity.members) {
    if (m.member_id == id) return &m;
  }
  return nullptr;
}

// ---- list

int run_list(const GroupOptions& o, const GlobalOptions& g) {
  auto backend = open_group_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  if ((*backend)->empty()) return g.json ? print_json(Json::array()) : 0;
  const GroupBackend& b = **backend;
  auto names = b.list();
  if (!names.ok()) return report_error(names.error());
  if (!g.json && !o.long_listing) {
    std::string out;
    for (const auto& n : *names) out += n + "\n";
    return print_text(out);
  }
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows = {{"GROUP", "STATE", "MEMBERS", "TOPICS", "TOTAL-LAG"}};
  for (const auto& name : *names) {
    auto v = b.load(name);
    if (!v.ok()) return report_error(v.error());
    auto lags = partition_lags(b, *v);
    if (!lags.ok()) return report_error(lags.error());
    std::set<std::string> topics;
    for (const auto& r : *lags) topics.insert(r.tp.topic);
    std::string topic_list;
    for (const auto& t : topics) topic_list += (topic_list.empty() ? "" : ",") + t;
    int64_t lag = total_lag(*lags);
    arr.push_back({{"group", name},
                   {"state", v->state()},
                   {"members", v->activity.members.size()},
                   {"topics", Json(std::vector<std::string>(topics.begin(), topics.end()))},
                   {"total_lag", lag}});
    rows.push_back({name, v->state(), std::to_string(v->activity.members.size()),
                    topic_list.empty() ? "-" : topic_list, std::to_string(lag)});
  }
  if (g.json) return print_json(arr);
  return print_text(format_table(rows, color_enabled(1)));
}

// ---- describe

Json describe_json(const GroupView& v, const std::vector<PartitionLag>& lags) {
  Json members = Json::array();
  for (const auto& m : v.activity.members) {
    Json owned = Json::array();
    for (const auto& [tp, owner] : v.activity.owners) {
      if (owner == m.member_id) owned.push_back({{"topic", tp.topic}, {"partition", tp.partition}});
    }
    members.push_back({{"member_id", m.member_id},
                       {"host", m.host},
                       {"pid", m.pid},
                       {"client_id", m.client_id},
                       {"joined_ms", m.joined_ms},
                       {"partitions", owned}});
  }
  Json partitions = Json::array();
  for (const auto& r : lags) {
    Json row = {{"topic", r.tp.topic}, {"partition", r.tp.partition}};
    row["committed_offset"] = r.committed ? Json(r.committed->offset.value) : Json(nullptr);
    row["log_start_offset"] = r.topic_exists ? Json(r.log_start.value) : Json(nullptr);
    row["log_end_offset"] = r.topic_exists ? Json(r.log_end.value) : Json(nullptr);
    row["lag"] = r.lag ? Json(*r.lag) : Json(nullptr);
    row["member_id"] = r.owner.empty() ? Json(nullptr) : Json(r.owner);
    row["commit_time_ms"] = r.committed ? Json(r.committed->commit_time.value) : Json(nullptr);
    row["metadata"] = r.committed ? Json(r.committed->metadata) : Json(nullptr);
    row["topic_exists"] = r.topic_exists;
    partitions.push_back(std::move(row));
  }
  return {{"group", v.name},
          {"state", v.state()},
          {"members", members},
          {"partitions", partitions},
          {"total_lag", total_lag(lags)}};
}

std::string describe_text(const GroupView& v, const std::vector<PartitionLag>& lags, bool show_members) {
  const bool color = color_enabled(1);
  std::string out = "GROUP " + v.name + "  STATE " + v.state() + "  MEMBERS " +
                    std::to_string(v.activity.members.size()) + "  TOTAL-LAG " + std::to_string(total_lag(lags)) +
                    "\n\n";
  if (show_members) {
    std::vector<std::vector<std::string>> rows = {{"CONSUMER-ID", "HOST", "PID", "CLIENT-ID", "#PARTITIONS",
                                                   "PARTITIONS", "JOINED"}};
    for (const auto& m : v.activity.members) {
      std::string owned;
      int count = 0;
      for (const auto& [tp, owner] : v.activity.owners) {
        if (owner != m.member_id) continue;
        owned += (owned.empty() ? "" : ",") + tp.to_string();
        ++count;
      }
      rows.push_back({m.member_id, m.host, std::to_string(m.pid), m.client_id, std::to_string(count),
                      owned.empty() ? "-" : owned, m.joined_ms > 0 ? iso_time(m.joined_ms) : "-"});
    }
    if (v.activity.members.empty()) {
      out += "Consumer group '" + v.name + "' has no active members.\n";
    } else {
      out += format_table(rows, color);
    }
    return out;
  }
  std::vector<std::vector<std::string>> rows = {{"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                                                 "CONSUMER-ID", "HOST", "CLIENT-ID"}};
  for (const auto& r : lags) {
    const MemberInfo* m = r.owner.empty() ? nullptr : member_by_id(v, r.owner);
    rows.push_back({r.tp.topic, std::to_string(r.tp.partition),
                    r.committed ? std::to_string(r.committed->offset.value) : "-",
                    r.topic_exists ? std::to_string(r.log_end.value) : "(deleted)",
                    r.lag ? std::to_string(*r.lag) : "-", r.owner.empty() ? "-" : r.owner,
                    m != nullptr ? m->host : "-", m != nullptr ? m->client_id : "-"});
  }
  if (lags.empty()) {
    out += "Consumer group '" + v.name + "' has no committed offsets yet.\n";
  } else {
    out += format_table(rows, color);
  }
  return out;
}

int run_describe(const GroupOptions& o, const GlobalOptions& g) {
  auto backend = open_group_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  if ((*backend)->empty()) {
    return report_error(group_not_found(o.groups.front()), "list groups with: streamctl group list");
  }
  const GroupBackend& b = **backend;
  std::string text;
  for (size_t i = 0; i < o.groups.size(); ++i) {
    auto v = b.load(o.groups[i]);
    if (!v.ok()) return report_error(v.error());
    if (!v->exists()) {
      return report_error(group_not_found(o.groups[i]), "list groups with: streamctl group list");
    }
    auto lags = partition_lags(b, *v);
    if (!lags.ok()) return report_error(lags.error());
    if (g.json) {
      int rc = print_json(describe_json(*v, *lags));
      if (rc != 0) return rc;
      continue;
    }
    if (i > 0) text += "\n";
    text += describe_text(*v, *lags, o.members);
  }
  return g.json ? 0 : print_text(text);
}

// ---- reset-offsets

// "orders" -> all partitions; "orders:0,2" -> those.
struct TopicScope {
  std::string topic;
  std::vector<PartitionId> partitions;  // empty = all
};

Result<TopicScope> parse_topic_scope(const std::string& text) {
  TopicScope s;
  size_t colon = text.find(':');
  s.topic = text.substr(0, colon);
  if (s.topic.empty()) return Error::invalid_argument("--topic '" + text + "': the topic name is empty");
  if (colon == std::string::npos) return s;
  std::string rest = text.substr(colon + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t comma = rest.find(',', pos);
    std::string part = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos) {
      return Error::invalid_argument("--topic '" + text + "': '" + part +
                                     "' is not a partition number (expected TOPIC or TOPIC:0,1,2)");
    }
    s.partitions.push_back(std::stoi(part));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return s;
}

struct ResetRow {
  TopicPartition tp;
  std::optional<Offset> current;
  Offset target;
  std::string note;  // e.g. clamped
};

int run_reset(const GroupOptions& o, const GlobalOptions& g) {
  const std::string& group = o.groups.front();
  int modes = int(o.to_earliest) + int(o.to_latest) + int(o.to_offset.has_value()) + int(!o.to_datetime.empty()) +
              int(!o.by_duration.empty()) + int(o.shift_by.has_value());
  if (modes != 1) {
    return report_usage_error(
        "choose exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --by-duration, --shift-by",
        "e.g. streamctl group reset-offsets " + group + " --topic app-logs --to-earliest --dry-run");
  }
  if (o.all_topics == !o.topics.empty()) {
    return report_usage_error("choose the partitions with --topic TOPIC[:P,P...] (repeatable) or --all-topics");
  }
  if (o.dry_run && o.execute) return report_usage_error("--dry-run and --execute contradict each other");
  // As kafka-consumer-groups.sh: a dry run unless --execute.
  const bool dry_run = !o.execute;
  const Timestamp now = system_clock()->now();
  std::optional<Timestamp> target_time;
  if (!o.to_datetime.empty()) {
    auto t = parse_time(o.to_datetime, now);
    if (!t.ok()) return report_error(t.error());
    target_time = *t;
  }
  if (!o.by_duration.empty()) {
    std::string d = o.by_duration;
    if (!d.empty() && d[0] == '-') d.erase(0, 1);
    auto ms = parse_duration_ms(d);
    if (!ms.ok()) return report_error(ms.error());
    target_time = now - *ms;
  }
  std::vector<TopicScope> scopes;
  for (const auto& t : o.topics) {
    auto s = parse_topic_scope(t);
    if (!s.ok()) return report_error(s.error());
    scopes.push_back(*s);
  }

  auto backend = open_group_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  if ((*backend)->empty()) {
    return report_error(Error::not_found("no data directory at " + resolve_data_dir(g) +
                                         " (nothing has been produced there yet)"));
  }
  const GroupBackend& b = **backend;
  auto v = b.load(group);
  if (!v.ok()) return report_error(v.error());
  if (!v->exists() && !o.create) {
    return report_error(Error::not_found("consumer group '" + group + "' does not exist (no committed offsets, "
                                         "no members)"),
                        "check the name with: streamctl group list; or add --create to start the group at "
                        "these offsets");
  }
  if (o.all_topics) {
    std::set<std::string> topics;
    for (const auto& [tp, c] : v->committed) topics.insert(tp.topic);
    if (topics.empty()) {
      return report_error(Error::not_found("consumer group '" + group + "' has no committed offsets, so " +
                                           "--all-topics names nothing"),
                          "name the topics with --topic TOPIC");
    }
    for (const auto& t : topics) scopes.push_back(TopicScope{t, {}});
  }
  if (!v->activity.members.empty()) {
    const MemberInfo& m = v->activity.members.front();
    const std::string who = m.pid > 0 ? "pid " + std::to_string(m.pid) : m.member_id;
    std::string why = "consumer group '" + group + "' has " + std::to_string(v->activity.members.size()) +
                      " active member(s) (e.g. " + who + " on " + m.host +
                      "); offsets can only be reset while the group is inactive";
    if (!dry_run) {
      return report_error(Error::busy(why), "stop its 'streamctl consume --group " + group + "' processes first");
    }
    warn(g, why + " (this is a dry run)");
  }

  std::vector<ResetRow> rows;
  for (const auto& s : scopes) {
    auto count = b.partitions(s.topic);
    if (!count.ok()) return report_error(count.error());
    if (!count->has_value()) {
      return report_error(Error::not_found("topic '" + s.topic + "' does not exist"),
                          "list topics with: streamctl topic list");
    }
    const int32_t partition_count = **count;
    std::vector<PartitionId> partitions = s.partitions;
    if (partitions.empty()) {
      for (PartitionId p = 0; p < partition_count; ++p) partitions.push_back(p);
    }
    for (PartitionId p : partitions) {
      if (p < 0 || p >= partition_count) {
        return report_error(Error::not_found("topic '" + s.topic + "' has no partition " + std::to_string(p) +
                                             " (it has " + std::to_string(partition_count) + ")"));
      }
      auto bounds = b.bounds(s.topic, p);
      if (!bounds.ok()) return report_error(bounds.error());
      ResetRow row;
      row.tp = TopicPartition{s.topic, p};
      auto c = v->committed.find(row.tp);
      if (c != v->committed.end()) row.current = c->second.offset;
      const Offset start = bounds->first;
      const Offset end = bounds->second;
      Offset target;
      if (o.to_earliest) {
        target = start;
      } else if (o.to_latest) {
        target = end;
      } else if (o.to_offset) {
        target = Offset(*o.to_offset);
      } else if (target_time) {
        auto t = b.offset_for_time(s.topic, p, *target_time);
        if (!t.ok()) return report_error(t.error());
        target = *t;
      } else {
        if (!row.current) {
          return report_error(
              Error::invalid_argument("--shift-by: consumer group '" + group + "' has no committed offset for " +
                                      row.tp.to_string() + " to shift"),
              "use --to-earliest, --to-latest, --to-offset or --to-datetime for such partitions");
        }
        target = *row.current + *o.shift_by;
      }
      if (target < start) {
        row.note = "clamped up to the log start offset " + std::to_string(start.value);
        target = start;
      } else if (target > end) {
        row.note = "clamped down to the log end offset " + std::to_string(end.value);
        target = end;
      }
      row.target = target;
      rows.push_back(std::move(row));
    }
  }

  if (!dry_run && b.remote()) {
    std::map<TopicPartition, int64_t> offsets;
    for (const auto& r : rows) offsets[r.tp] = r.target.value;
    auto st = remote_commit_offsets(*b.client(), group, offsets);
    if (!st.ok()) {
      if (st.error().code == ErrorCode::kBusy) {
        return report_error(st.error(), "stop the group's consumers first");
      }
      return report_error(st.error());
    }
  } else if (!dry_run) {
    std::map<TopicPartition, engine::CommittedOffset> offsets;
    for (const auto& r : rows) {
      engine::CommittedOffset c;
      c.offset = r.target;
      c.commit_time = now;
      c.metadata = "reset by streamctl group reset-offsets";
      offsets[r.tp] = c;
    }
    auto st = b.local()->groups().commit(group, offsets);
    if (!st.ok()) return report_error(st.error());
  }

  for (const auto& r : rows) {
    if (!r.note.empty()) warn(g, r.tp.to_string() + ": " + r.note);
  }
  if (g.json) {
    Json parts = Json::array();
    for (const auto& r : rows) {
      parts.push_back({{"topic", r.tp.topic},
                       {"partition", r.tp.partition},
                       {"current_offset", r.current ? Json(r.current->value) : Json(nullptr)},
                       {"new_offset", r.target.value}});
    }
    return print_json({{"group", group}, {"dry_run", dry_run}, {"partitions", parts}});
  }
  std::vector<std::vector<std::string>> table = {{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"}};
  for (const auto& r : rows) {
    table.push_back({group, r.tp.topic, std::to_string(r.tp.partition),
                     r.current ? std::to_string(r.current->value) : "-", std::to_string(r.target.value)});
  }
  int rc = print_text(format_table(table, color_enabled(1)));
  if (rc != 0) return rc;
  info(g, dry_run ? "dry run: nothing was changed (add --execute to apply)"
                    : "reset " + std::to_string(rows.size()) + " partition offset(s) of group '" + group + "'");
  return 0;
}

// ---- delete

int run_delete(const GroupOptions& o, const GlobalOptions& g) {
  auto backend = open_group_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  const GroupBackend& b = **backend;
  Json results = Json::array();
  for (const auto& group : o.groups) {
    if (b.empty()) {
      if (o.if_exists) {
        results.push_back({{"group", group}, {"deleted", false}});
        continue;
      }
      return report_error(group_not_found(group), "list groups with: streamctl group list");
    }
    auto v = b.load(group);
    if (!v.ok()) return report_error(v.error());
    if (!v->exists()) {
      if (o.if_exists) {
        info(g, "consumer group '" + group + "' does not exist");
        results.push_back({{"group", group}, {"deleted", false}});
        continue;
      }
      return report_error(group_not_found(group), "list groups with: streamctl group list");
    }
    if (!v->activity.members.empty()) {
      const MemberInfo& m = v->activity.members.front();
      const std::string who = m.pid > 0 ? "pid " + std::to_string(m.pid) : m.member_id;
      return report_error(Error::busy("consumer group '" + group + "' is not empty: " +
                                      std::to_string(v->activity.members.size()) + " active member(s), e.g. " +
                                      who + " on " + m.host),
                          "stop its 'streamctl consume --group " + group + "' processes first");
    }
    if (!o.delete_topics.empty()) {
      std::vector<TopicPartition> doomed;
      for (const auto& [tp, c] : v->committed) {
        if (std::find(o.delete_topics.begin(), o.delete_topics.end(), tp.topic) != o.delete_topics.end()) {
          doomed.push_back(tp);
        }
      }
      auto st = b.remote() ? remote_delete_offsets(*b.client(), group, doomed, g)
                           : b.local()->groups().delete_offsets(group, doomed);
      if (!st.ok()) return report_error(st.error());
      info(g, "deleted " + std::to_string(doomed.size()) + " committed offset(s) of group '" + group + "'");
      Json topics = Json(o.delete_topics);
      results.push_back({{"group", group}, {"deleted_offsets", doomed.size()}, {"topics", topics}});
      continue;
    }
    if (b.remote()) {
      auto st = remote_delete_group(*b.client(), group);
      if (!st.ok()) return report_error(st.error());
    } else {
      if (!v->committed.empty()) {
        auto st = b.local()->groups().delete_group(group);
        if (!st.ok() && st.error().code != ErrorCode::kNotFound) return report_error(st.error());
      }
      auto st = remove_group_members_dir(b.local()->fs(), b.local()->data_dir(), group);
      if (!st.ok()) return report_error(st.error());
    }
    info(g, "deleted consumer group '" + group + "'");
    results.push_back({{"group", group}, {"deleted", true}});
  }
  if (g.json) return print_json(o.groups.size() == 1 && !results.empty() ? results.at(0) : results);
  return 0;
}

// Adds --group / --state-file / --commit-interval to `streamctl consume` (registered before this command)
// and lets group mode take over the invocations that use them.
void add_group_mode_to_consume(CLI::App& app, CommandContext& ctx) {
  auto found = app.get_subcommands([](CLI::App* sub) { return sub->get_name() == "consume"; });
  if (found.empty()) return;
  CLI::App* consume = found.front();
  auto flags = std::make_shared<GroupModeFlags>();
  consume->add_option("-G,--group", flags->group,
                      "consumer group: share the partitions with other 'consume --group' processes, start from "
                      "the committed offsets (else -o), commit what was written")
      ->type_name("NAME");
  consume->add_option("--state-file", flags->state_file,
                      "keep positions in this file instead (cron: everything since the last run)")
      ->type_name("PATH");
  consume->add_option("--commit-interval", flags->commit_interval,
                      "how often --group/--state-file commit while reading (default 1s)")
      ->type_name("DURATION");
  consume->footer(consume->get_footer() + R"(

Consumer groups (--group) and state files (--state-file):
  Positions are committed every --commit-interval and at the end (end of data, -n reached, SIGINT/SIGTERM,
  closed pipe), counting only records written to stdout; the next run continues from there. A partition
  with no committed position starts at -o (default beginning). Several 'consume --group G' processes on
  one data directory share the partitions: each record goes to one of them; a member that dies (even
  kill -9) has its partitions taken over within a second, re-reading only what it wrote after its last
  commit. Without -f each process exits once its partitions are read to the end.
  streamctl consume app-logs --group nightly-report --format '%d %s\n' > report.txt
  streamctl consume app-logs --state-file ~/.cache/app-logs.state | ./aggregate.sh
  streamctl group describe nightly-report            # committed offsets and lag)");
  ctx.consume_takeover = [flags](const ConsumeOptions& o, const GlobalOptions& g) {
    return consume_in_group_mode(o, g, *flags);
  };
}

}  // namespace

void register_group_command(CLI::App& app, CommandContext& ctx) {
  add_group_mode_to_consume(app, ctx);
  auto opts = std::make_shared<GroupOptions>();
  CLI::App* group = app.add_subcommand("group", "list, describe (lag), reset and delete consumer groups");
  group->require_subcommand(1);
  group->footer(R"(A consumer group is a set of 'streamctl consume TOPIC --group NAME' processes sharing a topic's
partitions, plus the offsets they committed (the next offset to read, per partition).

Examples:
  streamctl group list -l
  streamctl group describe nightly-report            # per partition: CURRENT-OFFSET, LOG-END-OFFSET, LAG
  streamctl group reset-offsets nightly-report --topic app-logs --to-datetime 2024-11-25T00:00 --dry-run
  streamctl group delete nightly-report)");

  auto set_run = [&ctx, opts](int (*fn)(const GroupOptions&, const GlobalOptions&)) {
    return [&ctx, opts, fn] { ctx.run = [&ctx, opts, fn] { return fn(*opts, ctx.global); }; };
  };

  CLI::App* list = group->add_subcommand("list", "list consumer groups (one name per line; -l for a table)");
  list->add_flag("-l,--long", opts->long_listing, "show state, members, topics and total lag");
  list->footer("Examples:\n  streamctl group list\n  streamctl group list -l\n  streamctl group list --json");
  list->callback(set_run(run_list));

  CLI::App* describe = group->add_subcommand(
      "describe", "per partition: committed offset, log end offset, lag and owner; plus total lag");
  describe->add_option("group", opts->groups, "group name(s)")->required();
  describe->add_flag("--members", opts->members, "list the live members and their partitions instead");
  describe->footer(R"(Columns follow kafka-consumer-groups.sh: CURRENT-OFFSET is the committed offset (the next to
read), LAG = LOG-END-OFFSET - CURRENT-OFFSET ('-' when nothing is committed). STATE is Stable while
'consume --group' processes are running, Empty otherwise.

Examples:
  streamctl group describe nightly-report
  streamctl group describe nightly-report --members
  streamctl group describe nightly-report --json | jq .total_lag)");
  describe->callback(set_run(run_describe));

  CLI::App* reset = group->add_subcommand(
      "reset-offsets", "move a group's committed offsets (only while the group has no live member)");
  reset->add_option("group", opts->groups, "group name")->required()->expected(1);
  reset->add_option("--topic", opts->topics, "TOPIC or TOPIC:P,P,... (repeatable)")->type_name("TOPIC[:P,...]");
  reset->add_flag("--all-topics", opts->all_topics, "every topic the group has committed offsets for");
  reset->add_flag("--to-earliest", opts->to_earliest, "to the log start offset");
  reset->add_flag("--to-latest", opts->to_latest, "to the log end offset (skip everything there is)");
  reset->add_option("--to-offset", opts->to_offset, "to offset N (clamped into the log)")->type_name("N");
  reset->add_option("--to-datetime", opts->to_datetime,
                    "to the first record at or after TIME: ISO-8601 (2024-11-25T09:00, local time unless Z or "
                    "+HH:MM), epoch ms, or relative (-1h)")
      ->type_name("TIME");
  reset->add_option("--by-duration", opts->by_duration, "to the first record of the last DURATION (90m, 1h30m, 2d)")
      ->type_name("DURATION");
  reset->add_option("--shift-by", opts->shift_by, "move each committed offset by N (negative: re-read N records)")
      ->type_name("N");
  reset->add_flag("--dry-run", opts->dry_run, "print the new offsets without changing anything (the default)");
  reset->add_flag("--execute", opts->execute, "apply the change (without it, a dry run, as kafka-consumer-groups)");
  reset->add_flag("--create", opts->create, "accept a group that does not exist yet (it starts at the new offsets)");
  reset->footer(R"(Prints GROUP TOPIC PARTITION CURRENT-OFFSET NEW-OFFSET. A dry run unless --execute. Offsets outside
the log are clamped to its start or end (with a warning). A group that does not exist is refused (exit 3)
unless --create. --execute is refused (exit 1) while 'consume --group' members are running.

Examples:
  streamctl group reset-offsets nightly-report --topic app-logs --to-earliest            # shows the change
  streamctl group reset-offsets nightly-report --topic app-logs --to-earliest --execute  # applies it
  streamctl group reset-offsets nightly-report --topic app-logs:0,1 --shift-by -100 --execute
  streamctl group reset-offsets nightly-report --all-topics --by-duration 2h --execute
  streamctl group reset-offsets new-report --topic app-logs --to-datetime 2024-11-25T09:30:00Z --create --execute)");
  reset->callback(set_run(run_reset));

  CLI::App* del = group->add_subcommand("delete", "delete consumer groups (their committed offsets)");
  del->add_option("group", opts->groups, "group name(s)")->required();
  del->add_option("--topic", opts->delete_topics, "delete only the offsets of this topic (repeatable)")
      ->type_name("TOPIC");
  del->add_flag("--if-exists", opts->if_exists, "succeed if a group does not exist");
  del->footer(R"(Refused (exit 1) while the group has live members. A deleted group starts again from -o.

Examples:
  streamctl group delete nightly-report
  streamctl group delete nightly-report --topic old-topic      # forget one topic's offsets)");
  del->callback(set_run(run_delete));
}

}  // namespace streamctl::cli
