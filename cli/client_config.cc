#include "cli/client_config.h"

#include <cstdlib>

#include "kafka/client/connection.h"

namespace streamctl::cli {

namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool is_brokers_key(std::string_view key) { return key == "brokers" || key == "bootstrap.servers" ||
                                                   key == "metadata.broker.list"; }

}  // namespace

Result<ClientProfiles> parse_client_config(std::string_view text, const std::string& path) {
  ClientProfiles profiles;
  ClientProfile* current = nullptr;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string_view line = trim(raw);
    auto where = [&] { return path + ":" + std::to_string(line_no) + ": "; };
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return Error::invalid_argument(where() + "section header must look like [name], got '" +
                                               std::string(line) + "'");
      }
      std::string name(trim(line.substr(1, line.size() - 2)));
      if (name.empty()) return Error::invalid_argument(where() + "empty profile name '[]'");
      current = &profiles[name];
      current->name = name;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Error::invalid_argument(where() + "expected 'key = value' or '[profile]', got '" +
                                             std::string(line) + "'");
    }
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (key.empty()) return Error::invalid_argument(where() + "empty key in '" + std::string(line) + "'");
    if (current == nullptr) {
      return Error::invalid_argument(where() + "'" + key +
                                             "' is outside any [profile] section; put it under e.g. [default]");
    }
    if (is_brokers_key(key)) {
      current->brokers = value;
    } else {
      current->properties[key] = value;
    }
  }
  return profiles;
}

std::string default_client_config_path() {
  const char* explicit_path = std::getenv("STREAMCTL_CONFIG");
  if (explicit_path != nullptr && explicit_path[0] != '\0') return explicit_path;
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/streamctl/config";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.config/streamctl/config";
  return "./streamctl-config";
}

std::string portless_brokers(const std::string& list) {
  std::string out;
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = list.find(',', at);
    if (comma == std::string::npos) comma = list.size();
    std::string entry = list.substr(at, comma - at);
    at = comma + 1;
    const auto first = entry.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    entry = entry.substr(first, entry.find_last_not_of(" \t") - first + 1);
    std::string bare = entry;
    if (auto scheme = bare.find("://"); scheme != std::string::npos) bare = bare.substr(scheme + 3);
    const bool bracketed_port = !bare.empty() && bare[0] == '[' && bare.find("]:") != std::string::npos;
    const auto colon = bare.find(':');
    const bool one_colon_port = colon != std::string::npos && bare.find(':', colon + 1) == std::string::npos;
    if (!bracketed_port && !one_colon_port) out += (out.empty() ? "" : ", ") + entry;
  }
  return out;
}

Result<ConnectionSettings> resolve_connection(const ConnectionRequest& request,
                                                      const std::optional<ClientProfiles>& profiles,
                                                      const std::string& config_path) {
  ConnectionSettings out;
  std::string profile_name = !request.profile_flag.empty() ? request.profile_flag
                             : request.env_profile        ? *request.env_profile
                                                          : std::string();
  const ClientProfile* profile = nullptr;
  if (!profile_name.empty()) {
    if (!profiles) {
      return Error::not_found("profile '" + profile_name + "' not found: there is no config file at " +
                                      config_path);
    }
    auto it = profiles->find(profile_name);
    if (it == profiles->end()) {
      std::string known;
      for (const auto& [name, p] : *profiles) known += (known.empty() ? "" : ", ") + name;
      return Error::not_found("profile '" + profile_name + "' not found in " + config_path +
                                      (known.empty() ? " (it defines no profiles)" : " (profiles: " + known + ")"));
    }
    profile = &it->second;
    out.profile = profile_name;
    out.properties = profile->properties;
  }
  for (const auto& [k, v] : request.properties) {
    if (is_brokers_key(k)) {
      continue;  // -X bootstrap.servers is handled below as the lowest-priority flag form of --brokers
    }
    out.properties[k] = v;
  }
  if (!request.brokers_flag.empty()) {
    out.brokers = request.brokers_flag;
    out.brokers_source = "--brokers";
  } else if (auto it = request.properties.find("bootstrap.servers"); it != request.properties.end()) {
    out.brokers = it->second;
    out.brokers_source = "-X bootstrap.servers";
  } else if (request.env_brokers) {
    out.brokers = *request.env_brokers;
    out.brokers_source = "STREAMCTL_BROKERS";
  } else if (profile != nullptr && !profile->brokers.empty()) {
    out.brokers = profile->brokers;
    out.brokers_source = "profile '" + profile->name + "'";
  } else if (profile != nullptr) {
    return Error::invalid_argument("profile '" + profile->name + "' in " + config_path +
                                           " sets no brokers; add 'brokers = host:port' to it or pass --brokers");
  }
  if (!out.brokers.empty()) {
    auto parsed = kafka::client::parse_bootstrap(out.brokers);
    if (!parsed.ok()) {
      return Error::invalid_argument(out.brokers_source + ": " + parsed.error().message +
                                     " (expected host:port[,host:port...], e.g. localhost:9092)");
    }
  }
  return out;
}

}  // namespace streamctl::cli
