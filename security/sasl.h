// The SASL side of a Kafka connection: SaslHandshake (api 17) and SaslAuthenticate (api 36), pure (no
// sockets, no protocol codec). The server decodes a request, hands its fields to a SaslSession and encodes
// what the session returns.
//
// Kafka's flow (KIP-43, KIP-152, KIP-368):
//   ApiVersions (optional) -> SaslHandshake{mechanism} -> SaslAuthenticate{bytes} ... -> authenticated
//   * SaslHandshake v0: afterwards the client sends the SASL tokens as raw size-prefixed frames, no Kafka
//     request header (on_raw_token); v1+: tokens come in SaslAuthenticate requests (on_authenticate).
//   * Until authenticated, only ApiVersions, SaslHandshake and SaslAuthenticate are allowed
//     (may_handle_before_auth); anything else is ILLEGAL_SASL_STATE and the connection is closed.
//   * A failure answers SASL_AUTHENTICATION_FAILED (58) with a message, then the server closes.
//   * With a session lifetime > 0 (connections.max.reauth.ms), SaslAuthenticate v1+ tells the client when
//     to re-authenticate; a SaslHandshake after success starts a re-authentication with the same mechanism,
//     which must end with the same principal.
//
// Mechanisms: PLAIN and SCRAM-SHA-256/512, all checked against the salted SCRAM credential store. PLAIN
// therefore needs no password file (Kafka's PLAIN reads a JAAS file): the password sent by the client is
// run through PBKDF2 with the user's stored salt and compared with StoredKey. PLAIN sends the password
// itself, so it is only safe over TLS (SASL_SSL).
//
// Thread-safety: a SaslSession is thread-compatible (one per connection).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "security/kafka_errors.h"
#include "security/scram.h"

namespace streamctl::security {

// Kafka API keys the session cares about.
inline constexpr int16_t kApiSaslHandshake = 17;
inline constexpr int16_t kApiApiVersions = 18;
inline constexpr int16_t kApiSaslAuthenticate = 36;

// Bounds on SASL/PLAIN fields (bytes).
inline constexpr size_t kPlainMaxFieldBytes = 1024;

// A SASL/PLAIN message (RFC 4616): authzid NUL authcid NUL passwd.
struct PlainMessage {
  std::string authzid;
  std::string authcid;
  std::string password;
};
// Parses a PLAIN message: exactly three NUL-separated fields, authcid and password non-empty, each at most
// kPlainMaxFieldBytes. Errors (kInvalidArgument) never include the password.
Result<PlainMessage> parse_sasl_plain(std::string_view message);

// True when `password` matches the stored credential (PBKDF2 with its salt and iterations, constant-time
// comparison of StoredKey).
bool scram_credential_matches(ScramMechanism mechanism, const ScramCredential& credential,
                              std::string_view password);

// One server-side SASL mechanism exchange.
class SaslMechanismServer {
 public:
  virtual ~SaslMechanismServer() = default;
  // Next client token in, server token out. An error ends the exchange.
  virtual Result<std::string> step(std::string_view token) = 0;
  virtual bool complete() const = 0;
  // The authenticated user name (valid once complete()).
  virtual const std::string& username() const = 0;
};

// PLAIN, verified against SCRAM credentials (SHA-512 first, then SHA-256).
class PlainServer : public SaslMechanismServer {
 public:
  explicit PlainServer(ScramCredentialLookup lookup) : lookup_(std::move(lookup)) {}
  Result<std::string> step(std::string_view token) override;
  bool complete() const override { return complete_; }
  const std::string& username() const override { return username_; }

 private:
  ScramCredentialLookup lookup_;
  bool complete_ = false;
  bool used_ = false;
  std::string username_;
};

// SCRAM as a SaslMechanismServer.
class ScramMechanismServer : public SaslMechanismServer {
 public:
  ScramMechanismServer(ScramMechanism mechanism, ScramCredentialLookup lookup)
      : server_(mechanism, std::move(lookup)) {}
  Result<std::string> step(std::string_view token) override { return server_.step(token); }
  bool complete() const override { return server_.complete(); }
  const std::string& username() const override { return server_.username(); }

 private:
  ScramServer server_;
};

struct SaslConfig {
  // Mechanisms offered, in the order SaslHandshake lists them: any of "PLAIN", "SCRAM-SHA-256",
  // "SCRAM-SHA-512".
  std::vector<std::string> mechanisms = {"SCRAM-SHA-256", "SCRAM-SHA-512"};
  ScramCredentialLookup lookup;
  // Largest accepted token (Kafka's sasl.server.max.receive.size default).
  size_t max_token_bytes = 524288;
  // connections.max.reauth.ms: 0 = sessions do not expire.
  int64_t session_lifetime_ms = 0;
};

// Checks a mechanism list for SaslConfig (non-empty, known names, no duplicates).
Status validate_sasl_mechanisms(const std::vector<std::string>& mechanisms);

class SaslSession {
 public:
  explicit SaslSession(SaslConfig config);

  struct HandshakeReply {
    int16_t error_code = kafka_error::kNone;
    std::vector<std::string> mechanisms;  // always the enabled list (Kafka sends it on error too)
    bool close = false;                   // close the connection after sending
  };
  // SaslHandshake v0/v1 with the client's mechanism.
  HandshakeReply on_handshake(int16_t version, std::string_view mechanism);

  struct AuthenticateReply {
    int16_t error_code = kafka_error::kNone;
    std::optional<std::string> error_message;
    std::string auth_bytes;
    int64_t session_lifetime_ms = 0;  // v1+ field; 0 = none
    bool close = false;
  };
  // SaslAuthenticate v0..v2 carrying one token.
  AuthenticateReply on_authenticate(int16_t version, std::string_view auth_bytes);

  struct RawTokenReply {
    std::string token;  // to send as a size-prefixed frame (may be empty: then send nothing)
    bool send = false;
    bool close = false;
  };
  // One raw token frame after a SaslHandshake v0 (no Kafka header).
  RawTokenReply on_raw_token(std::string_view token);

  // True when the next frame from the client is a raw SASL token (SaslHandshake v0 in progress).
  bool expects_raw_token() const { return state_ == State::kRawTokens; }
  // Whether a request with this api key may be processed now. Before authentication: ApiVersions,
  // SaslHandshake and SaslAuthenticate only.
  bool may_handle(int16_t api_key) const;
  bool authenticated() const { return authenticated_; }
  // "User:<name>" once authenticated.
  const std::string& principal() const { return principal_; }
  const std::string& mechanism() const { return mechanism_; }
  // The reason for the last failure (for the server's log line), empty if none.
  const std::string& last_failure() const { return last_failure_; }

 private:
  enum class State { kInitial, kHandshakeDone, kRawTokens, kAuthenticated, kFailed };
  // Runs one token through the mechanism; on completion sets the principal.
  Result<std::string> run_token(std::string_view token);

  SaslConfig config_;
  State state_ = State::kInitial;
  std::unique_ptr<SaslMechanismServer> exchange_;
  std::string mechanism_;
  std::string principal_;
  std::string last_failure_;
  bool authenticated_ = false;
  bool reauthenticating_ = false;
};

}  // namespace streamctl::security
