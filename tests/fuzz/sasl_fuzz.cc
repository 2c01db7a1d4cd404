// libFuzzer target for the SASL parsers a client reaches before it is authenticated: SCRAM client-first and
// client-final, the SCRAM server exchange (both steps), the SCRAM client's server-first parser and PLAIN.
// The first input byte picks the target; the rest is the message ("\n" separates the two SCRAM steps).
// Properties checked besides memory safety: saslname and base64 round trips, and no exchange ever
// authenticates without the right password.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "security/sasl.h"
#include "security/scram.h"

using namespace streamctl::security;

namespace {

const ScramCredential& credential() {
  static const ScramCredential c = derive_scram_credential(ScramMechanism::kSha256, "pencil", "salt", 4096).value();
  return c;
}

std::optional<ScramCredential> lookup(const std::string& user, ScramMechanism) {
  if (user == "user") return credential();
  return std::nullopt;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      (void)parse_scram_client_first(in);
      break;
    case 1:
      (void)parse_scram_client_final(in);
      break;
    case 2: {
      auto m = parse_sasl_plain(in);
      if (m.ok()) check(!m->authcid.empty() && !m->password.empty());
      PlainServer server(lookup);
      auto r = server.step(in);
      // Only the exact password authenticates.
      if (r.ok()) check(m.ok() && m->password == "pencil");
      break;
    }
    case 3: {
      size_t nl = in.find('\n');
      ScramServer server(ScramMechanism::kSha256, lookup, "srv");
      auto first = server.step(in.substr(0, nl));
      if (first.ok() && nl != std::string_view::npos) {
        auto fin = server.step(in.substr(nl + 1));
        // Forging a proof without the key is infeasible: a fuzzer-made client-final never succeeds.
        check(!fin.ok());
      }
      break;
    }
    case 4: {
      ScramClient client(ScramMechanism::kSha256, "user", "pencil", "cnonce");
      client.client_first();
      auto fin = client.client_final(in);
      if (fin.ok()) (void)client.verify_server_final("v=" + std::string(in.substr(0, 16)));
      break;
    }
    case 5: {
      auto back = saslname_unescape(saslname_escape(in));
      check(back.has_value() && *back == in);
      auto decoded = base64_decode(base64_encode(in));
      check(decoded.has_value() && *decoded == in);
      if (auto d = base64_decode(in)) check(d->size() <= in.size());
      break;
    }
  }
  return 0;
}
