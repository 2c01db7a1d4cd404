// The `streamctl serve --config FILE` format: one `key = value` per line, keys named like the long flags
// without the dashes (`listen`, `advertise`, `node-id`, `http`, `max-connections`, ...; `_` may be used
// for `-`). Blank lines and lines starting with '#' are ignored; values may be quoted with "..." and keep
// inner spaces. An unknown key or a bad value is an error naming the file, the line and the key.
// Example:
//   listen = 127.0.0.1:9092
//   data-dir = /var/lib/streamctl
//   http = 127.0.0.1:9644
//   retention-check-interval-ms = 60000
// Plain functions, thread-safe.
#pragma once

#include <map>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/listener.h"
#include "server/broker_config.h"

namespace streamctl::server {

// One parsed line: key (normalised: lower case, '_' -> '-') and value, with its line number.
struct ConfigEntry {
  std::string key;
  std::string value;
  int line = 0;
};

// Parses the text of a config file (no key validation). `origin` names it in errors.
Result<std::vector<ConfigEntry>> parse_config_text(const std::string& text, const std::string& origin);
// Reads and parses a config file.
Result<std::vector<ConfigEntry>> read_config_file(const std::string& path);
// Applies one setting to `config` (the same names as the flags). kInvalidArgument for an unknown key or
// a bad value, naming both.
Status apply_config_setting(BrokerConfig& config, const std::string& key, const std::string& value);
// Applies every entry in order; errors carry "<origin>:<line>: ".
Status apply_config_entries(BrokerConfig& config, const std::vector<ConfigEntry>& entries,
                                    const std::string& origin);
// Every key apply_config_setting accepts, sorted.
std::vector<std::string> config_keys();
// Checks cross-field rules (ports, sizes, data dir present). Error messages say which setting to fix.
Status validate_broker_config(const BrokerConfig& config);
// --listen as listeners (a bare host:port is PLAINTEXT).
Result<std::vector<net::ListenerSpec>> broker_listeners(const BrokerConfig& config);
// What each listener advertises (net::resolve_advertised), in --listen order; a bare --advertise host:port
// is the first listener's.
Result<std::vector<net::ListenerSpec>> broker_advertised(const BrokerConfig& config,
                                                         const std::vector<net::ListenerSpec>& listeners);
// --sasl-mechanisms "A,B" -> {"A", "B"} (spaces trimmed, empty entries dropped).
std::vector<std::string> split_mechanisms(const std::string& text);

// max-connections-per-ip-overrides: "addr:n,addr:n" (the count after the last colon, so IPv6 addresses
// work as they are, "::1:20" or "[::1]:20") -> address -> limit. Empty text is an empty map.
// kInvalidArgument naming the entry when one has no count, a bad count or an empty address.
Result<std::map<std::string, size_t>> parse_connection_overrides(const std::string& text);

// "host:port" -> {host, port}; "[::1]:9092" for IPv6. kInvalidArgument when malformed or port > 65535.
Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text, const std::string& what);

}  // namespace streamctl::server
