#include "server/config_file.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <limits>

#include "base/fs.h"
#include "base/logging.h"
#include "security/sasl.h"

namespace streamctl::server {


namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string normalise_key(std::string key) {
  for (char& c : key) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '_') c = '-';
  }
  return key;
}

Result<int64_t> parse_int(const std::string& key, const std::string& value, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || value.empty()) {
    return Error::invalid_argument(key + ": '" + value + "' is not an integer");
  }
  if (v < min || v > max) {
    return Error::invalid_argument(key + ": " + value + " is out of range [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "]");
  }
  return v;
}

Result<bool> parse_bool(const std::string& key, const std::string& value) {
  std::string v = normalise_key(value);
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  return Error::invalid_argument(key + ": '" + value + "' is not a boolean (true/false)");
}

using Setter = std::function<Status(BrokerConfig&, const std::string& key, const std::string& value)>;

Setter string_setter(std::string BrokerConfig::*field) {
  return [field](BrokerConfig& c, const std::string&, const std::string& v) -> Status {
    c.*field = v;
    return ok_status();
  };
}

template <typename T>
Setter int_setter(T BrokerConfig::*field, int64_t min, int64_t max) {
  return [field, min, max](BrokerConfig& c, const std::string& k, const std::string& v) -> Status {
    STREAMCTL_ASSIGN_OR_RETURN(int64_t n, parse_int(k, v, min, max));
    c.*field = static_cast<T>(n);
    return ok_status();
  };
}

Setter bool_setter(bool BrokerConfig::*field) {
  return [field](BrokerConfig& c, const std::string& k, const std::string& v) -> Status {
    STREAMCTL_ASSIGN_OR_RETURN(c.*field, parse_bool(k, v));
    return ok_status();
  };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"listen", string_setter(&BrokerConfig::listen)},
      {"advertise", string_setter(&BrokerConfig::advertise)},
      {"node-id", int_setter(&BrokerConfig::node_id, 0, std::numeric_limits<int32_t>::max())},
      {"http", string_setter(&BrokerConfig::http)},
      {"port-file", string_setter(&BrokerConfig::port_file)},
      {"data-dir", string_setter(&BrokerConfig::data_dir)},
      {"threads", int_setter(&BrokerConfig::threads, 1, 64)},
      {"max-connections", int_setter(&BrokerConfig::max_connections, 1, 1000000)},
      {"max-connections-per-ip", int_setter(&BrokerConfig::max_connections_per_ip, 0, 1000000)},
      {"max-connections-per-ip-overrides",
       [](BrokerConfig& c, const std::string& k, const std::string& v) -> Status {
         auto parsed = parse_connection_overrides(v);
         if (!parsed.ok()) return Error::invalid_argument(k + ": " + parsed.error().message);
         c.max_connections_per_ip_overrides = v;
         return ok_status();
       }},
      {"max-request-bytes", int_setter(&BrokerConfig::max_request_bytes, 1024, int64_t(1) << 30)},
      {"initial-max-request-bytes",
       int_setter(&BrokerConfig::initial_max_request_bytes, 1024, int64_t(1) << 30)},
      {"queued-max-request-bytes",
       int_setter(&BrokerConfig::queued_max_request_bytes, 1 << 20, int64_t(1) << 40)},
      {"max-inflight-requests", int_setter(&BrokerConfig::max_inflight_requests, 1, 100000)},
      {"max-queued-response-bytes",
       int_setter(&BrokerConfig::max_queued_response_bytes, 1024, int64_t(1) << 34)},
      {"idle-timeout-ms", int_setter(&BrokerConfig::idle_timeout_ms, 0, std::numeric_limits<int64_t>::max())},
      {"retention-check-interval-ms",
       int_setter(&BrokerConfig::retention_check_interval_ms, 0, std::numeric_limits<int64_t>::max())},
      {"flush-interval-ms",
       int_setter(&BrokerConfig::flush_interval_ms, 0, std::numeric_limits<int64_t>::max())},
      {"shutdown-timeout-ms", int_setter(&BrokerConfig::shutdown_timeout_ms, 0, 3600000)},
      {"auto-create-topics", bool_setter(&BrokerConfig::auto_create_topics)},
      {"allow-plaintext", bool_setter(&BrokerConfig::allow_plaintext)},
      {"sasl-mechanisms", string_setter(&BrokerConfig::sasl_mechanisms)},
      {"authorizer", bool_setter(&BrokerConfig::authorizer)},
      {"allow-everyone-if-no-acl-found", bool_setter(&BrokerConfig::allow_everyone_if_no_acl_found)},
      {"super-users", string_setter(&BrokerConfig::super_users)},
      {"tls-cert", string_setter(&BrokerConfig::tls_cert)},
      {"tls-key", string_setter(&BrokerConfig::tls_key)},
      {"tls-ca", string_setter(&BrokerConfig::tls_ca)},
      {"tls-handshake-timeout-ms", int_setter(&BrokerConfig::tls_handshake_timeout_ms, 1, 3600000)},
      {"default-partitions", int_setter(&BrokerConfig::default_partitions, 1, 1000000)},
      {"group-initial-rebalance-delay-ms",
       int_setter(&BrokerConfig::group_initial_rebalance_delay_ms, 0, 3600000)},
      {"group-min-session-timeout-ms",
       int_setter(&BrokerConfig::group_min_session_timeout_ms, 1, 86400000)},
      {"group-max-session-timeout-ms",
       int_setter(&BrokerConfig::group_max_session_timeout_ms, 1, 86400000)},
      {"log-level",
       [](BrokerConfig& c, const std::string& k, const std::string& v) -> Status {
         LogLevel level;
         if (!parse_log_level(v, &level)) {
           return Error::invalid_argument(k + ": '" + v + "' is not one of debug, info, warn, error, off");
         }
         c.log_level = v;
         return ok_status();
       }},
  };
  return kSetters;
}

}  // namespace

Result<std::map<std::string, size_t>> parse_connection_overrides(const std::string& text) {
  std::map<std::string, size_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    const std::string entry = trim(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    pos = comma == std::string::npos ? text.size() : comma + 1;
    if (entry.empty()) continue;
    const size_t colon = entry.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return Error::invalid_argument("'" + entry + "' is not address:count (e.g. 127.0.0.1:2000)");
    }
    std::string addr = entry.substr(0, colon);
    if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']') addr = addr.substr(1, addr.size() - 2);
    STREAMCTL_ASSIGN_OR_RETURN(int64_t n, parse_int("'" + entry + "'", entry.substr(colon + 1), 0, 1000000));
    out[addr] = size_t(n);
  }
  return out;
}

Result<std::vector<ConfigEntry>> parse_config_text(const std::string& text, const std::string& origin) {
  std::vector<ConfigEntry> out;
  size_t pos = 0;
  int line_no = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = (nl == std::string::npos) ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      return Error::invalid_argument(origin + ":" + std::to_string(line_no) + ": expected 'key = value', got '" +
                                     t + "'");
    }
    std::string key = normalise_key(trim(t.substr(0, eq)));
    std::string value = trim(t.substr(eq + 1));
    if (key.empty()) {
      return Error::invalid_argument(origin + ":" + std::to_string(line_no) + ": missing key before '='");
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    out.push_back({key, value, line_no});
  }
  return out;
}

Result<std::vector<ConfigEntry>> read_config_file(const std::string& path) {
  auto bytes = read_file(*posix_file_system(), path);
  if (!bytes.ok()) {
    return Error{bytes.error().code, "cannot read config file: " + bytes.error().message};
  }
  return parse_config_text(std::string(as_string_view(*bytes)), path);
}

Status apply_config_setting(BrokerConfig& config, const std::string& key, const std::string& value) {
  std::string k = normalise_key(key);
  auto it = setters().find(k);
  if (it == setters().end()) {
    std::string known;
    for (const auto& name : config_keys()) known += (known.empty() ? "" : ", ") + name;
    return Error::invalid_argument("unknown setting '" + key + "' (known: " + known + ")");
  }
  return it->second(config, k, value);
}

Status apply_config_entries(BrokerConfig& config, const std::vector<ConfigEntry>& entries,
                            const std::string& origin) {
  for (const auto& e : entries) {
    auto st = apply_config_setting(config, e.key, e.value);
    if (!st.ok()) {
      return Error{st.error().code, origin + ":" + std::to_string(e.line) + ": " + st.error().message};
    }
  }
  return ok_status();
}

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const auto& [k, _] : setters()) keys.push_back(k);
  return keys;
}

Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text, const std::string& what) {
  std::string host;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error::invalid_argument(what + ": '" + text + "' is not [ipv6]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      return Error::invalid_argument(what + ": '" + text + "' is not host:port");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return Error::invalid_argument(what + ": '" + text + "' has no host");
  auto p = parse_int(what, port, 0, 65535);
  if (!p.ok()) return Error::invalid_argument(what + ": '" + text + "' has a bad port (0-65535)");
  return std::make_pair(host, static_cast<uint16_t>(*p));
}

Result<std::vector<net::ListenerSpec>> broker_listeners(const BrokerConfig& c) {
  auto listeners = net::parse_listeners(c.listen);
  if (!listeners.ok()) return Error::invalid_argument("--listen: " + listeners.error().message);
  return listeners;
}

Result<std::vector<net::ListenerSpec>> broker_advertised(const BrokerConfig& c,
                                                         const std::vector<net::ListenerSpec>& listeners) {
  std::string advertise = c.advertise;
  // A bare host:port advertises the first listener, whatever its security protocol.
  if (!advertise.empty() && advertise.find("://") == std::string::npos && !listeners.empty() &&
      advertise.find(',') == std::string::npos) {
    advertise = listeners.front().name + "://" + advertise;
  }
  auto adverts = net::resolve_advertised(listeners, advertise);
  if (!adverts.ok()) return Error::invalid_argument("--advertise: " + adverts.error().message);
  return adverts;
}

std::vector<std::string> split_mechanisms(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string m = text.substr(start, comma - start);
    m.erase(0, m.find_first_not_of(" \t"));
    m.erase(m.find_last_not_of(" \t") + 1);
    if (!m.empty()) out.push_back(m);
    start = comma + 1;
  }
  return out;
}

Status validate_broker_config(const BrokerConfig& c) {
  if (c.data_dir.empty()) return Error::invalid_argument("no data directory (--data-dir or data-dir =)");
  STREAMCTL_ASSIGN_OR_RETURN(auto listeners, broker_listeners(c));
  if (auto st = net::check_plaintext_allowed(listeners, c.allow_plaintext); !st.ok()) {
    return Error::invalid_argument(st.error().message);
  }
  STREAMCTL_TRY(broker_advertised(c, listeners));
  for (const auto& l : listeners) {
    if (net::uses_tls(l.protocol) && (c.tls_cert.empty() || c.tls_key.empty())) {
      return Error::invalid_argument("--listen " + l.to_string() + ": a TLS listener needs --tls-cert and --tls-key");
    }
  }
  if (auto st = security::validate_sasl_mechanisms(split_mechanisms(c.sasl_mechanisms)); !st.ok()) {
    return Error::invalid_argument("--sasl-mechanisms: " + st.error().message);
  }
  if (!c.http.empty()) STREAMCTL_TRY(parse_host_port(c.http, "--http"));
  if (c.initial_max_request_bytes > c.max_request_bytes) {
    return Error::invalid_argument("initial-max-request-bytes (" + std::to_string(c.initial_max_request_bytes) +
                                   ") exceeds max-request-bytes (" + std::to_string(c.max_request_bytes) + ")");
  }
  if (c.group_min_session_timeout_ms > c.group_max_session_timeout_ms) {
    return Error::invalid_argument("group-min-session-timeout-ms exceeds group-max-session-timeout-ms");
  }
  if (c.threads < 1) return Error::invalid_argument("threads must be at least 1");
  return ok_status();
}

}  // namespace streamctl::server
