#include "net/listener.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace streamctl::net {


const char* to_string(SecurityProtocol protocol) {
  switch (protocol) {
    case SecurityProtocol::kPlaintext: return "PLAINTEXT";
    case SecurityProtocol::kSsl: return "SSL";
    case SecurityProtocol::kSaslPlaintext: return "SASL_PLAINTEXT";
    case SecurityProtocol::kSaslSsl: return "SASL_SSL";
  }
  return "PLAINTEXT";
}

std::string ListenerSpec::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return name + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace {

Result<ListenerSpec> parse_one(std::string_view spec) {
  const std::string quoted = "listener '" + std::string(spec) + "'";
  ListenerSpec out;
  std::string_view rest = spec;
  size_t sep = spec.find("://");
  if (sep != std::string_view::npos) {
    out.name = std::string(spec.substr(0, sep));
    rest = spec.substr(sep + 3);
    bool known = false;
    for (auto p : {SecurityProtocol::kPlaintext, SecurityProtocol::kSsl, SecurityProtocol::kSaslPlaintext,
                   SecurityProtocol::kSaslSsl}) {
      if (out.name == net::to_string(p)) {
        out.protocol = p;
        known = true;
      }
    }
    if (!known) {
      return Error::invalid_argument(quoted + ": unknown security protocol '" + out.name +
                                     "' (use PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)");
    }
  } else {
    out.name = "PLAINTEXT";
  }
  std::string_view port_text;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Error::invalid_argument(quoted + ": expected [IPv6]:port");
    }
    out.host = std::string(rest.substr(1, close - 1));
    in6_addr addr{};
    if (inet_pton(AF_INET6, out.host.c_str(), &addr) != 1) {
      return Error::invalid_argument(quoted + ": '" + out.host + "' is not an IPv6 address");
    }
    port_text = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return Error::invalid_argument(quoted + ": expected host:port");
    out.host = std::string(rest.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return Error::invalid_argument(quoted + ": an IPv6 address needs brackets, e.g. [::1]:9092");
    }
    for (char c : out.host) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      if (!ok) return Error::invalid_argument(quoted + ": host '" + out.host + "' has an invalid character");
    }
    port_text = rest.substr(colon + 1);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return Error::invalid_argument(quoted + ": port '" + std::string(port_text) + "' is not a number in 0..65535");
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

}  // namespace

Result<std::vector<ListenerSpec>> parse_listeners(std::string_view text) {
  std::vector<ListenerSpec> out;
  std::set<std::string> names;
  std::set<uint16_t> ports;
  if (text.empty()) return Error::invalid_argument("no listener given (e.g. PLAINTEXT://127.0.0.1:9092)");
  size_t pos = 0;
  for (;;) {
    size_t comma = text.find(',', pos);
    std::string_view one = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (one.empty()) return Error::invalid_argument("empty listener in '" + std::string(text) + "'");
    STREAMCTL_ASSIGN_OR_RETURN(ListenerSpec spec, parse_one(one));
    if (!names.insert(spec.name).second) {
      return Error::invalid_argument("listener name " + spec.name + " is used twice in '" + std::string(text) +
                                     "' (each listener needs its own name)");
    }
    if (spec.port != 0 && !ports.insert(spec.port).second) {
      return Error::invalid_argument("port " + std::to_string(spec.port) + " is used by two listeners in '" +
                                     std::string(text) + "'");
    }
    out.push_back(std::move(spec));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

Result<std::vector<ListenerSpec>> resolve_advertised(const std::vector<ListenerSpec>& listeners,
                                                     std::string_view advertise) {
  std::vector<ListenerSpec> out = listeners;
  if (advertise.empty()) return out;
  auto parsed = parse_listeners(advertise);
  if (!parsed.ok()) return Error::invalid_argument("--advertise: " + parsed.error().message);
  for (const ListenerSpec& a : parsed.value()) {
    auto it = std::find_if(out.begin(), out.end(), [&](const ListenerSpec& l) { return l.name == a.name; });
    if (it == out.end()) {
      return Error::invalid_argument("--advertise " + a.to_string() + ": there is no listener named " + a.name);
    }
    if (a.host.empty() || a.host == "0.0.0.0" || a.host == "::") {
      return Error::invalid_argument("--advertise " + a.to_string() +
                                     ": clients cannot connect to a wildcard address; give a host name or IP");
    }
    if (a.port == 0) return Error::invalid_argument("--advertise " + a.to_string() + ": port 0 cannot be advertised");
    *it = a;
  }
  return out;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Status check_plaintext_allowed(const std::vector<ListenerSpec>& listeners, bool allow_plaintext) {
  if (allow_plaintext) return ok_status();
  for (const ListenerSpec& l : listeners) {
    if (!uses_tls(l.protocol) && !is_loopback_host(l.host)) {
      return Error::invalid_argument("listener " + l.to_string() +
                                     " is unencrypted on a non-loopback address; use SSL or SASL_SSL, bind "
                                     "127.0.0.1, or pass --allow-plaintext to accept it");
    }
  }
  return ok_status();
}

}  // namespace streamctl::net
