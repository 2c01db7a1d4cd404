#include "cli/kafka_client.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/advert.h"

namespace streamctl::cli {

namespace {

int g_librdkafka_verbosity = 0;  // set from -v when a client is created (main thread, before any client)

void log_callback(const rd_kafka_t*, int level, const char* facility, const char* message) {
  // librdkafka logs connection failures at level 3 on every retry; they are noise for a CLI that reports
  // its own error, so they show only with -v (errors) or -vv (everything the client logs).
  if (g_librdkafka_verbosity < 1 || (level > 4 && g_librdkafka_verbosity < 2)) return;
  std::string line = std::string("streamctl: librdkafka: ") + facility + ": " + message + "\n";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

std::string seconds_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count() / 1000) + (ms.count() % 1000 ? "." + std::to_string(ms.count() % 1000 / 100) : "") +
         " s";
}

}  // namespace

ErrorCode error_code_for(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return ErrorCode::kOk;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return ErrorCode::kNotFound;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return ErrorCode::kAlreadyExists;
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return ErrorCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return ErrorCode::kRecordTooLarge;
    case RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
      return ErrorCode::kBusy;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
      return ErrorCode::kTimeout;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
      return ErrorCode::kUnavailable;
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
      return ErrorCode::kNotSupported;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return ErrorCode::kPermissionDenied;
    default:
      return ErrorCode::kIoError;
  }
}

Error kafka_error(rd_kafka_resp_err_t err, const std::string& context) {
  std::string text = rd_kafka_err2str(err);
  return {error_code_for(err), context.empty() ? text : context + ": " + text};
}

Result<std::unique_ptr<KafkaClient>> KafkaClient::create(
    Kind kind, const ConnectionSettings& settings, const std::map<std::string, std::string>& extra,
    const GlobalOptions& global, const std::function<void(rd_kafka_conf_t*)>& customize) {
  g_librdkafka_verbosity = global.verbosity;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  auto set = [&](const std::string& k, const std::string& v, const char* origin) -> Status {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      return Error::invalid_argument(std::string(origin) + " " + k + "=" + v + ": " + errstr);
    }
    return ok_status();
  };
  std::vector<std::pair<std::string, std::string>> all = {{"bootstrap.servers", settings.brokers},
                                                          {"client.id", "streamctl"}};
  for (const auto& kv : extra) all.push_back(kv);
  Status st;
  for (const auto& [k, v] : all) {
    st = set(k, v, "client property");
    if (!st.ok()) break;
  }
  if (st.ok()) {
    const std::string origin = settings.profile.empty() ? "-X" : "-X (or profile '" + settings.profile + "')";
    for (const auto& [k, v] : settings.properties) {
      st = set(k, v, origin.c_str());
      if (!st.ok()) break;
    }
  }
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st.error();
  }
  rd_kafka_conf_set_log_cb(conf, log_callback);
  if (customize) customize(conf);
  rd_kafka_t* rk = rd_kafka_new(kind == Kind::kProducer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, errstr,
                                sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new takes the conf only on success
    return Error::invalid_argument(std::string("cannot create the Kafka client: ") + errstr);
  }
  std::chrono::milliseconds request_timeout = kRemoteRequestTimeout;
  if (auto it = settings.properties.find("socket.timeout.ms"); it != settings.properties.end()) {
    request_timeout = std::chrono::milliseconds(std::atoll(it->second.c_str()));  // librdkafka validated it
  }
  return std::unique_ptr<KafkaClient>(new KafkaClient(rk, kind, settings, request_timeout));
}

KafkaClient::~KafkaClient() {
  if (kind_ == Kind::kConsumer) rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

std::string KafkaClient::unreachable_advice() const {
  const std::string portless = portless_brokers(settings_.brokers);
  if (!portless.empty()) return "no port given for " + portless + ", so 9092 was tried: write host:port";
  return "is a broker listening there?";
}

Error KafkaClient::unreachable(rd_kafka_resp_err_t err, const std::string& what,
                               std::chrono::milliseconds waited) const {
  Error e = kafka_error(err, "");
  if (waited.count() <= 0) waited = request_timeout_;
  e.message = "no answer from Kafka brokers " + settings_.brokers +
              (settings_.brokers_source.empty() ? "" : " (from " + settings_.brokers_source + ")") + " within " +
              seconds_text(waited) + (what.empty() ? "" : " for " + what) + ": " + e.message;
  if (!portless_brokers(settings_.brokers).empty()) e.message += " (" + unreachable_advice() + ")";
  if (e.code == streamctl::ErrorCode::kIoError) e.code = streamctl::ErrorCode::kUnavailable;
  return e;
}

Error KafkaClient::request_error(rd_kafka_resp_err_t err, const std::string& what,
                                 std::chrono::milliseconds waited) const {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
      return unreachable(err, what, waited);
    default:
      return kafka_error(err, what);
  }
}

Result<ClusterMetadata> KafkaClient::metadata(const std::string* topic,
                                                      std::chrono::milliseconds timeout) const {
  if (timeout.count() == 0) timeout = request_timeout_;
  rd_kafka_topic_t* rkt = nullptr;
  if (topic != nullptr) rkt = rd_kafka_topic_new(rk_, topic->c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  // Asked in slices of at most a second, so that brokers that refuse every connection (nothing listens: a
  // typo in --brokers, a stopped server) are reported after kRefusedGiveUp instead of the whole timeout,
  // as kcat does; a broker that accepts but answers slowly still gets the whole timeout.
  using std::chrono::milliseconds;
  const auto start = std::chrono::steady_clock::now();
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  for (;;) {
    const auto elapsed = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
    if (elapsed >= timeout) break;
    const milliseconds slice = std::min<milliseconds>(timeout - elapsed, milliseconds(1000));
    err = rd_kafka_metadata(rk_, topic == nullptr ? 1 : 0, rkt, &md, int(slice.count()));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    const bool refused = err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
    if (refused && std::chrono::steady_clock::now() - start >= kRefusedGiveUp) {
      if (rkt != nullptr) rd_kafka_topic_destroy(rkt);
      Error e = kafka_error(err, "");
      return Error{streamctl::ErrorCode::kUnavailable,
                           "cannot connect to Kafka brokers " + settings_.brokers +
                               (settings_.brokers_source.empty() ? "" : " (from " + settings_.brokers_source + ")") +
                               ": every connection failed for " + seconds_text(kRefusedGiveUp) + " (" + e.message +
                               "); " + unreachable_advice()};
    }
    if (err != RD_KAFKA_RESP_ERR__TIMED_OUT && !refused) break;
  }
  if (rkt != nullptr) rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return request_error(err, "metadata", timeout);
  ClusterMetadata out;
  out.answered_by = md->orig_broker_id;
  for (int i = 0; i < md->broker_cnt; ++i) {
    out.brokers.push_back({md->brokers[i].id, md->brokers[i].host, md->brokers[i].port});
  }
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    TopicMetadata tm;
    tm.name = t.topic;
    tm.error = t.err;
    for (int j = 0; j < t.partition_cnt; ++j) {
      const rd_kafka_metadata_partition_t& p = t.partitions[j];
      PartitionMetadata pm;
      pm.id = p.id;
      pm.leader = p.leader;
      pm.error = p.err;
      pm.replicas.assign(p.replicas, p.replicas + p.replica_cnt);
      pm.isr.assign(p.isrs, p.isrs + p.isr_cnt);
      tm.partitions.push_back(std::move(pm));
    }
    std::sort(tm.partitions.begin(), tm.partitions.end(), [](auto& a, auto& b) { return a.id < b.id; });
    out.topics.push_back(std::move(tm));
  }
  rd_kafka_metadata_destroy(md);
  std::sort(out.brokers.begin(), out.brokers.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::sort(out.topics.begin(), out.topics.end(), [](auto& a, auto& b) { return a.name < b.name; });
  out.controller = rd_kafka_controllerid(rk_, int(timeout.count()));
  return out;
}

Result<TopicMetadata> KafkaClient::topic(const std::string& name) const {
  // All-topics metadata: asking for one topic by name lets a broker with auto.create.topics.enable create it.
  auto md = metadata(nullptr);
  if (!md.ok()) return std::move(md).error();
  for (auto& t : md->topics) {
    if (t.name != name) continue;
    if (t.error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (t.error == RD_KAFKA_RESP_ERR_NO_ERROR &&
                                                              t.partitions.empty())) {
      return Error::not_found("topic '" + name + "' does not exist on " + settings_.brokers);
    }
    if (t.error != RD_KAFKA_RESP_ERR_NO_ERROR) return request_error(t.error, "topic '" + name + "'");
    return std::move(t);
  }
  return Error::not_found("topic '" + name + "' does not exist on " + settings_.brokers);
}

Result<std::pair<int64_t, int64_t>> KafkaClient::watermarks(const std::string& topic,
                                                                    int32_t partition) const {
  int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high,
                                                             int(request_timeout_.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return request_error(err, "offsets of " + topic + "-" + std::to_string(partition));
  }
  return std::pair<int64_t, int64_t>(low, high);
}

Result<int64_t> KafkaClient::offset_for_time(const std::string& topic, int32_t partition,
                                                     int64_t ts) const {
  if (ts < 0) {
    // Before the epoch every record qualifies; ListOffsets would read -1/-2 as "latest"/"earliest".
    auto wm = watermarks(topic, partition);
    if (!wm.ok()) return std::move(wm).error();
    return wm->first;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = ts;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_, list, int(request_timeout_.count()));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  int64_t offset = list->elems[0].offset;
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return request_error(err, "offset by time of " + topic + "-" + std::to_string(partition));
  }
  if (offset < 0) {  // no record at or after ts: the end
    auto wm = watermarks(topic, partition);
    if (!wm.ok()) return std::move(wm).error();
    return wm->second;
  }
  return offset;
}

Result<KafkaClient::EventPtr> KafkaClient::admin(
    rd_kafka_admin_op_t op, const std::function<void(rd_kafka_queue_t*, rd_kafka_AdminOptions_t*)>& start,
    const std::string& what) const {
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk_);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk_, op);
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options, int(request_timeout_.count()), errstr, sizeof errstr);
  start(queue, options);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, int(request_timeout_.count()) + 2000);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  if (ev == nullptr) return unreachable(RD_KAFKA_RESP_ERR__TIMED_OUT, what);
  EventPtr out(ev, rd_kafka_event_destroy);
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return request_error(rd_kafka_event_error(ev), what);
  }
  return out;
}

Result<Backend> select_backend(const GlobalOptions& global) {
  ConnectionRequest req;
  req.brokers_flag = global.brokers;
  req.profile_flag = global.profile;
  for (const auto& p : global.properties) {
    auto kv = parse_key_value(p, "-X");
    if (!kv.ok()) return std::move(kv).error();
    req.properties[kv->first] = kv->second;
  }
  if (const char* e = std::getenv("STREAMCTL_BROKERS"); e != nullptr && e[0] != '\0') req.env_brokers = e;
  if (const char* e = std::getenv("STREAMCTL_PROFILE"); e != nullptr && e[0] != '\0') req.env_profile = e;
  std::optional<ClientProfiles> profiles;
  const std::string path = default_client_config_path();
  if (!req.profile_flag.empty() || req.env_profile) {
    std::ifstream in(path);
    if (in) {
      std::stringstream buf;
      buf << in.rdbuf();
      auto parsed = parse_client_config(buf.str(), path);
      if (!parsed.ok()) return std::move(parsed).error();
      profiles = std::move(parsed).value();
    }
  }
  auto settings = resolve_connection(req, profiles, path);
  if (!settings.ok()) return std::move(settings).error();
  Backend backend;
  if (!settings->brokers.empty()) {
    debug(global, 1, "using Kafka brokers " + settings->brokers + " (from " + settings->brokers_source + ")");
    backend.remote = std::move(settings).value();
    return backend;
  }
  const std::string dir = resolve_data_dir(global);
  auto owner = engine::check_data_dir_owner(dir);
  if (!owner.ok()) return std::move(owner).error();
  if (!owner->has_value()) return backend;  // embedded
  const engine::ServerAdvert& a = **owner;
  const std::string where = a.advertised.empty() ? a.listen : a.advertised;
  if (where.empty()) {
    return Error::busy("data directory " + dir + " is owned by streamctl serve (pid " +
                               std::to_string(a.pid) + "), which is still starting; retry in a moment");
  }
  debug(global, 1, "data directory " + dir + " is served by streamctl serve (pid " + std::to_string(a.pid) +
                       ") on " + where + ": going through it");
  settings->brokers = where;
  settings->brokers_source = "the serve advertisement in " + dir;
  backend.remote = std::move(settings).value();
  backend.routed = true;
  return backend;
}

}  // namespace streamctl::cli
