// Metrics: the server's counters, and their Prometheus text rendering for GET /metrics (--http).
//
// Counters are lock-free atomics bumped on the request path (per API key: requests and errors; bytes
// in/out; connections; produce/fetch volume). Gauges that describe data (per-partition log start/end
// offsets, per-group members, committed offsets and lag) are computed at scrape time from the LogManager
// and the GroupCoordinator, so they are never stale and cost nothing between scrapes.
// Exposition format 0.0.4: `# HELP`, `# TYPE`, then `name{label="value"} number` lines; label values are
// escaped (\\, \", \n). Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace streamctl::engine {
class LogManager;
}

namespace streamctl::server {

class GroupCoordinator;

inline constexpr size_t kMaxApiKey = 128;
// Labels of Metrics::sasl_authentication_failures; "other" = no or an unknown mechanism.
inline constexpr const char* kSaslMechanismLabels[4] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "other"};  // counters exist for api keys [0, kMaxApiKey)

struct Metrics {
  std::array<std::atomic<uint64_t>, kMaxApiKey> requests{};      // requests received, per api key
  std::array<std::atomic<uint64_t>, kMaxApiKey> request_errors{};  // responses with a top-level or partition error
  std::atomic<uint64_t> unsupported_requests{0};  // unknown api key or version
  std::atomic<uint64_t> bytes_in{0};              // request bytes read (frames incl. size prefix)
  std::atomic<uint64_t> bytes_out{0};             // response bytes written
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};  // over max connections
  std::atomic<uint64_t> connections_rejected_per_ip{0};  // over max-connections-per-ip
  std::atomic<uint64_t> request_budget_waits{0};  // large requests that waited for queued-max-request-bytes
  std::atomic<int64_t> connections_active{0};
  std::atomic<uint64_t> connections_closed_malformed{0};  // bad frames, bad headers
  std::atomic<uint64_t> connections_closed_idle{0};
  // SASL listeners (server/sasl_gate.h): successful authentications; failures per mechanism
  // (kSaslMechanismLabels order); connections closed for a request other than ApiVersions/SaslHandshake/
  // SaslAuthenticate before authentication.
  std::atomic<uint64_t> sasl_authentications{0};
  std::array<std::atomic<uint64_t>, 4> sasl_authentication_failures{};
  std::atomic<uint64_t> connections_closed_unauthenticated{0};
  std::atomic<uint64_t> tls_handshake_failures{0};  // SSL/SASL_SSL: failed or timed-out handshakes
  std::atomic<uint64_t> produce_records{0};       // records appended (duplicates excluded)
  std::atomic<uint64_t> produce_bytes{0};         // batch bytes appended
  std::atomic<uint64_t> produce_duplicates{0};    // idempotent retries answered from producer state
  std::atomic<uint64_t> produce_upconverted_batches{0};  // Produce v0-v2 message sets converted to v2
  std::atomic<uint64_t> fetch_downconverted_partitions{0};  // Fetch v0-v3 partitions converted to magic 0/1
  std::atomic<uint64_t> fetch_bytes{0};           // record bytes returned by Fetch
  std::atomic<uint64_t> fetch_sendfile_bytes{0};  // of those, bytes sent from segment files with sendfile
  std::atomic<uint64_t> fetch_waits{0};           // Fetch requests that long-polled
  std::atomic<uint64_t> fetch_corrupt_batches{0}; // partition reads of a Fetch that met a corrupt batch
  std::atomic<int64_t> start_ms{0};               // wall clock at start (uptime)

  void count_request(int16_t api_key) {
    if (api_key >= 0 && size_t(api_key) < kMaxApiKey) requests[size_t(api_key)].fetch_add(1, std::memory_order_relaxed);
  }
  void count_error(int16_t api_key) {
    if (api_key >= 0 && size_t(api_key) < kMaxApiKey) {
      request_errors[size_t(api_key)].fetch_add(1, std::memory_order_relaxed);
    }
  }
};

// Names an api key for the `api` label ("Produce"); nullptr for keys that should not be listed.
using ApiNameFn = std::function<const char*(int16_t api_key)>;

// The whole /metrics page. `logs` and `groups` may be null (their sections are then omitted).
std::string render_prometheus(const Metrics& metrics, engine::LogManager* logs, GroupCoordinator* groups,
                              const ApiNameFn& api_name, int64_t now_ms);

// Escapes a label value for the exposition format.
std::string prometheus_label_value(const std::string& value);

}  // namespace streamctl::server
