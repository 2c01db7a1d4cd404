// Client connection settings for the Kafka backend: where the brokers are and which librdkafka properties
// to use, merged from the command line, the environment and a named profile in the config file.
//
// Config file: ${XDG_CONFIG_HOME:-~/.config}/streamctl/config (STREAMCTL_CONFIG overrides the path). INI-like:
//
//   # comment (also ';')
//   [local]
//   brokers = 127.0.0.1:9092
//   [prod]
//   brokers = k1.example.com:9093,k2.example.com:9093
//   security.protocol = SASL_SSL
//   sasl.mechanisms = PLAIN
//   sasl.username = app
//   sasl.password = secret
//
// In a section, `brokers` (alias `bootstrap.servers`) names the cluster; every other key is a librdkafka
// client property (what -X sets). Keys outside any section are an error (say which profile they belong to).
//
// Precedence, highest first: flags (--brokers, -X), environment (STREAMCTL_BROKERS, STREAMCTL_PROFILE), the
// profile's settings. A profile is used only when --profile or STREAMCTL_PROFILE names it, so a config
// file never silently turns local commands into network ones. Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace streamctl::cli {

// One [name] section of the config file.
struct ClientProfile {
  std::string name;
  std::string brokers;                           // empty when the section does not set it
  std::map<std::string, std::string> properties;  // librdkafka properties, in file order of last set
};

// All profiles of a config file, by name.
using ClientProfiles = std::map<std::string, ClientProfile>;

// Parses config file text. `path` only names the file in errors ("<path>:<line>: ..."): kInvalidArgument for
// a line that is not `[name]`, `key = value`, blank or a comment, an empty key, or a key before any section.
Result<ClientProfiles> parse_client_config(std::string_view text, const std::string& path);

// ${STREAMCTL_CONFIG}, else ${XDG_CONFIG_HOME:-$HOME/.config}/streamctl/config.
std::string default_client_config_path();

// What the user asked for on the command line and in the environment.
struct ConnectionRequest {
  std::string brokers_flag;                      // --brokers (empty = not given)
  std::string profile_flag;                      // --profile (empty = not given)
  std::map<std::string, std::string> properties;  // -X key=value
  std::optional<std::string> env_brokers;         // STREAMCTL_BROKERS when set and non-empty
  std::optional<std::string> env_profile;         // STREAMCTL_PROFILE when set and non-empty
};

// The merged result. `brokers` empty means "no cluster was named": the command runs embedded.
struct ConnectionSettings {
  std::string brokers;
  std::string brokers_source;                     // "--brokers", "STREAMCTL_BROKERS", "profile 'x'" (messages)
  std::string profile;                            // the profile used, if any
  std::map<std::string, std::string> properties;  // profile properties overridden by -X
};

// Applies the precedence above. `profiles` is the parsed config file (nullopt when there is none). Errors
// (kInvalidArgument/kNotFound) when a named profile does not exist (listing the known ones) or names no
// brokers while nothing else does.
// The entries of a bootstrap list that name no port ("garbage", "kafka1"): librdkafka assumes 9092 for them,
// which error messages say, since a forgotten port is the likely mistake. Empty when every entry has one.
std::string portless_brokers(const std::string& list);

Result<ConnectionSettings> resolve_connection(const ConnectionRequest& request,
                                                      const std::optional<ClientProfiles>& profiles,
                                                      const std::string& config_path);

}  // namespace streamctl::cli
