#include "server/metrics.h"

#include <map>
#include <sstream>

#include "engine/group_store.h"
#include "engine/log_manager.h"
#include "server/group_coordinator.h"

namespace streamctl::server {

std::string prometheus_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {

void header(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << ' ' << type << '\n';
}

void scalar(std::ostringstream& o, const char* name, const char* type, const char* help, double v) {
  header(o, name, type, help);
  o << name << ' ' << v << '\n';
}

void scalar(std::ostringstream& o, const char* name, const char* type, const char* help, uint64_t v) {
  header(o, name, type, help);
  o << name << ' ' << v << '\n';
}

std::string tp_labels(const TopicPartition& tp) {
  return "topic=\"" + prometheus_label_value(tp.topic) + "\",partition=\"" + std::to_string(tp.partition) + "\"";
}

}  // namespace

std::string render_prometheus(const Metrics& m, engine::LogManager* logs, GroupCoordinator* groups,
                              const ApiNameFn& api_name, int64_t now_ms) {
  std::ostringstream o;
  header(o, "streamctl_requests_total", "counter", "Kafka requests received, by API.");
  for (size_t k = 0; k < kMaxApiKey; ++k) {
    uint64_t n = m.requests[k].load(std::memory_order_relaxed);
    const char* name = api_name ? api_name(int16_t(k)) : nullptr;
    if (!name && n == 0) continue;
    o << "streamctl_requests_total{api=\"" << (name ? name : std::to_string(k).c_str()) << "\"} " << n << '\n';
  }
  header(o, "streamctl_request_errors_total", "counter", "Kafka responses carrying an error code, by API.");
  for (size_t k = 0; k < kMaxApiKey; ++k) {
    uint64_t n = m.request_errors[k].load(std::memory_order_relaxed);
    const char* name = api_name ? api_name(int16_t(k)) : nullptr;
    if (!name && n == 0) continue;
    o << "streamctl_request_errors_total{api=\"" << (name ? name : std::to_string(k).c_str()) << "\"} " << n
      << '\n';
  }
  scalar(o, "streamctl_unsupported_requests_total", "counter", "Requests for an unknown API or version.",
         uint64_t(m.unsupported_requests.load()));
  scalar(o, "streamctl_bytes_in_total", "counter", "Request bytes received.", uint64_t(m.bytes_in.load()));
  scalar(o, "streamctl_bytes_out_total", "counter", "Response bytes sent.", uint64_t(m.bytes_out.load()));
  scalar(o, "streamctl_connections_accepted_total", "counter", "Client connections accepted.",
         uint64_t(m.connections_accepted.load()));
  scalar(o, "streamctl_connections_rejected_total", "counter", "Connections refused over max-connections.",
         uint64_t(m.connections_rejected.load()));
  scalar(o, "streamctl_connections_rejected_per_ip_total", "counter",
         "Connections refused over max-connections-per-ip (answered POLICY_VIOLATION, then closed).",
         uint64_t(m.connections_rejected_per_ip.load()));
  scalar(o, "streamctl_request_budget_waits_total", "counter",
         "Large requests whose reading waited for queued-max-request-bytes (memory held by requests being read).",
         uint64_t(m.request_budget_waits.load()));
  scalar(o, "streamctl_connections_active", "gauge", "Open client connections.",
         double(m.connections_active.load()));
  scalar(o, "streamctl_connections_closed_malformed_total", "counter",
         "Connections closed for a malformed or oversized frame.", uint64_t(m.connections_closed_malformed.load()));
  scalar(o, "streamctl_connections_closed_idle_total", "counter", "Connections closed after the idle timeout.",
         uint64_t(m.connections_closed_idle.load()));
  scalar(o, "streamctl_sasl_authentications_total", "counter", "Successful SASL authentications.",
         uint64_t(m.sasl_authentications.load()));
  o << "# HELP streamctl_sasl_authentication_failures_total Failed SASL authentications (answered "
       "SASL_AUTHENTICATION_FAILED or UNSUPPORTED_SASL_MECHANISM, then closed).\n"
       "# TYPE streamctl_sasl_authentication_failures_total counter\n";
  for (size_t i = 0; i < m.sasl_authentication_failures.size(); ++i) {
    o << "streamctl_sasl_authentication_failures_total{mechanism=\"" << kSaslMechanismLabels[i] << "\"} "
      << m.sasl_authentication_failures[i].load(std::memory_order_relaxed) << '\n';
  }
  scalar(o, "streamctl_connections_closed_unauthenticated_total", "counter",
         "SASL connections closed for a request other than ApiVersions/SaslHandshake/SaslAuthenticate before "
         "authentication.",
         uint64_t(m.connections_closed_unauthenticated.load()));
  scalar(o, "streamctl_tls_handshake_failures_total", "counter",
         "TLS handshakes on SSL/SASL_SSL listeners that failed or did not finish in time.",
         uint64_t(m.tls_handshake_failures.load()));
  scalar(o, "streamctl_produce_records_total", "counter", "Records appended by Produce.",
         uint64_t(m.produce_records.load()));
  scalar(o, "streamctl_produce_bytes_total", "counter", "Record batch bytes appended by Produce.",
         uint64_t(m.produce_bytes.load()));
  scalar(o, "streamctl_produce_duplicates_total", "counter",
         "Idempotent retries answered from producer state (not appended again).",
         uint64_t(m.produce_duplicates.load()));
  scalar(o, "streamctl_produce_upconverted_batches_total", "counter",
         "Produce v0-v2 message sets (magic 0/1) converted to RecordBatch v2 on append.",
         uint64_t(m.produce_upconverted_batches.load()));
  scalar(o, "streamctl_fetch_downconverted_partitions_total", "counter",
         "Fetch v0-v3 partition reads converted to message format v0/v1 for old clients.",
         uint64_t(m.fetch_downconverted_partitions.load()));
  scalar(o, "streamctl_fetch_bytes_total", "counter", "Record bytes returned by Fetch.",
         uint64_t(m.fetch_bytes.load()));
  scalar(o, "streamctl_fetch_sendfile_bytes_total", "counter",
         "Record bytes Fetch sent straight from segment files (sendfile, no copy).",
         uint64_t(m.fetch_sendfile_bytes.load()));
  scalar(o, "streamctl_fetch_waits_total", "counter", "Fetch requests that waited for data (long poll).",
         uint64_t(m.fetch_waits.load()));
  scalar(o, "streamctl_fetch_corrupt_batches_total", "counter",
         "Partition reads of a Fetch that met a batch failing validation (answered CORRUPT_MESSAGE).",
         uint64_t(m.fetch_corrupt_batches.load()));
  if (m.start_ms.load() > 0) {
    scalar(o, "streamctl_uptime_seconds", "gauge", "Seconds since the server started.",
           double(now_ms - m.start_ms.load()) / 1000.0);
  }

  std::map<TopicPartition, int64_t> end_offsets;
  if (logs) {
    auto topics = logs->list_topics();
    if (topics.ok()) {
      std::ostringstream start, end, size;
      for (const auto& t : *topics) {
        auto md = logs->describe_topic(t);
        if (!md.ok()) continue;
        for (int32_t p = 0; p < md->partitions; ++p) {
          auto log = logs->log(t, p);
          if (!log.ok()) continue;
          TopicPartition tp{t, p};
          int64_t leo = (*log)->log_end_offset().value;
          end_offsets[tp] = leo;
          end << "streamctl_partition_log_end_offset{" << tp_labels(tp) << "} " << leo << '\n';
          start << "streamctl_partition_log_start_offset{" << tp_labels(tp) << "} "
                << (*log)->log_start_offset().value << '\n';
          size << "streamctl_partition_size_bytes{" << tp_labels(tp) << "} " << (*log)->size_bytes() << '\n';
        }
      }
      header(o, "streamctl_partition_log_end_offset", "gauge", "Next offset to be assigned, per partition.");
      o << end.str();
      header(o, "streamctl_partition_log_start_offset", "gauge", "First readable offset, per partition.");
      o << start.str();
      header(o, "streamctl_partition_size_bytes", "gauge", "Bytes on disk, per partition.");
      o << size.str();
    }
  }
  if (groups) {
    auto counts = groups->member_counts();
    header(o, "streamctl_group_members", "gauge", "Members of each active consumer group.");
    for (const auto& [g, n] : counts) {
      o << "streamctl_group_members{group=\"" << prometheus_label_value(g) << "\"} " << n << '\n';
    }
    auto listing = groups->list_groups();
    if (listing.ok()) {
      std::ostringstream committed, lag;
      for (const auto& l : *listing) {
        auto offsets = groups->fetch_offsets(l.group_id);
        if (!offsets.ok()) continue;
        for (const auto& [tp, co] : *offsets) {
          std::string labels = "group=\"" + prometheus_label_value(l.group_id) + "\"," + tp_labels(tp);
          committed << "streamctl_group_committed_offset{" << labels << "} " << co.offset.value << '\n';
          auto it = end_offsets.find(tp);
          if (it != end_offsets.end()) {
            int64_t d = it->second - co.offset.value;
            lag << "streamctl_group_lag{" << labels << "} " << (d < 0 ? 0 : d) << '\n';
          }
        }
      }
      header(o, "streamctl_group_committed_offset", "gauge", "Committed offset per group and partition.");
      o << committed.str();
      header(o, "streamctl_group_lag", "gauge", "Log end offset minus committed offset, per group and partition.");
      o << lag.str();
    }
  }
  return o.str();
}

}  // namespace streamctl::server
