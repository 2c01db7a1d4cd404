// Listener specifications in Kafka's form (listeners=PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093).
//
// Grammar: spec ("," spec)*;  spec = [NAME "://"] host ":" port;  host = name | IPv4 | "[" IPv6 "]" | ""
// NAME is one of Kafka's security protocols (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), upper case as Kafka
// writes them; a bare host:port is PLAINTEXT. An empty host means every interface (as in Kafka).
// Each listener needs its own name and its own port (port 0 asks the OS for one and may repeat).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace streamctl::net {

enum class SecurityProtocol { kPlaintext, kSsl, kSaslPlaintext, kSaslSsl };

const char* to_string(SecurityProtocol protocol);
inline bool uses_tls(SecurityProtocol p) { return p == SecurityProtocol::kSsl || p == SecurityProtocol::kSaslSsl; }
inline bool uses_sasl(SecurityProtocol p) {
  return p == SecurityProtocol::kSaslPlaintext || p == SecurityProtocol::kSaslSsl;
}

struct ListenerSpec {
  std::string name;  // "PLAINTEXT", "SASL_SSL", ...
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  std::string host;  // without brackets; empty = all interfaces
  uint16_t port = 0;
  // "NAME://host:port" with IPv6 hosts in brackets.
  std::string to_string() const;
};

// Parses a comma-separated listener list. Errors name the offending listener and what is wrong.
Result<std::vector<ListenerSpec>> parse_listeners(std::string_view text);

// The addresses to advertise in Metadata, one per listener, from --advertise in the same form as the
// listeners (NAME://host:port, bare host:port = PLAINTEXT). Each advertised name must be a listener, given at
// most once, with a concrete host (not empty, 0.0.0.0 or ::) and a non-zero port. A listener without an
// advertised entry advertises its own address (the caller decides what to do with a wildcard host).
// `advertise` may be empty. The result is in the order of `listeners`.
Result<std::vector<ListenerSpec>> resolve_advertised(const std::vector<ListenerSpec>& listeners,
                                                             std::string_view advertise);

// True for "localhost", 127.0.0.0/8 and ::1.
bool is_loopback_host(std::string_view host);

// `serve`'s safe default: a PLAINTEXT or SASL_PLAINTEXT listener (no encryption) on a non-loopback address is
// refused unless allow_plaintext; the error names the listener and the --allow-plaintext flag.
Status check_plaintext_allowed(const std::vector<ListenerSpec>& listeners, bool allow_plaintext);

}  // namespace streamctl::net
