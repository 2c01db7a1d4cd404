#include "security/sasl.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace streamctl::security {


namespace {

constexpr const char* kInvalidCredentials = "Authentication failed: Invalid user credentials";

}  // namespace

Result<PlainMessage> parse_sasl_plain(std::string_view message) {
  if (message.size() > 3 * kPlainMaxFieldBytes + 2) {
    return Error::invalid_argument("Invalid SASL/PLAIN response: " + std::to_string(message.size()) +
                                   " bytes exceeds the limit of " + std::to_string(3 * kPlainMaxFieldBytes + 2));
  }
  size_t first = message.find('\0');
  size_t second = first == std::string_view::npos ? first : message.find('\0', first + 1);
  if (second == std::string_view::npos || message.find('\0', second + 1) != std::string_view::npos) {
    return Error::invalid_argument("Invalid SASL/PLAIN response: expected 3 tokens separated by NUL");
  }
  PlainMessage out;
  out.authzid = std::string(message.substr(0, first));
  out.authcid = std::string(message.substr(first + 1, second - first - 1));
  out.password = std::string(message.substr(second + 1));
  if (out.authcid.empty()) return Error::invalid_argument("Authentication failed: username not specified");
  if (out.password.empty()) return Error::invalid_argument("Authentication failed: password not specified");
  if (out.authzid.size() > kPlainMaxFieldBytes || out.authcid.size() > kPlainMaxFieldBytes ||
      out.password.size() > kPlainMaxFieldBytes) {
    return Error::invalid_argument("Invalid SASL/PLAIN response: a field exceeds " +
                                   std::to_string(kPlainMaxFieldBytes) + " bytes");
  }
  return out;
}

bool scram_credential_matches(ScramMechanism mechanism, const ScramCredential& credential,
                              std::string_view password) {
  if (credential.iterations < kScramMinIterations || credential.iterations > kScramMaxIterations) return false;
  const EVP_MD* md = scram_digest(mechanism);
  std::string salted = scram_salted_password(md, password, credential.salt, credential.iterations);
  std::string stored = scram_hash(md, scram_client_key(md, salted));
  OPENSSL_cleanse(salted.data(), salted.size());
  return stored.size() == credential.stored_key.size() &&
         CRYPTO_memcmp(stored.data(), credential.stored_key.data(), stored.size()) == 0;
}

Result<std::string> PlainServer::step(std::string_view token) {
  if (used_) return Error::invalid_argument("SASL/PLAIN takes exactly one token");
  used_ = true;
  auto parsed = parse_sasl_plain(token);
  if (!parsed.ok()) return std::move(parsed).error();
  PlainMessage& m = parsed.value();
  if (!m.authzid.empty() && m.authzid != m.authcid) {
    OPENSSL_cleanse(m.password.data(), m.password.size());
    return Error::not_supported("Authentication failed: Client requested an authorization id that is different "
                                "from username");
  }
  bool ok = false;
  bool known = false;
  if (lookup_) {
    for (ScramMechanism mech : {ScramMechanism::kSha512, ScramMechanism::kSha256}) {
      if (auto credential = lookup_(m.authcid, mech)) {
        known = true;
        ok = scram_credential_matches(mech, *credential, m.password);
        break;
      }
    }
  }
  if (!known) {
    // Same PBKDF2 cost for an unknown user as for a wrong password: the answer time does not tell who exists.
    static const ScramCredential dummy = {std::string(32, 'x'), kScramDefaultIterations,
                                          std::string(64, '\0'), std::string(64, '\0')};
    (void)scram_credential_matches(ScramMechanism::kSha512, dummy, m.password);
  }
  OPENSSL_cleanse(m.password.data(), m.password.size());
  if (!ok) return Error{ErrorCode::kPermissionDenied, kInvalidCredentials};
  username_ = m.authcid;
  complete_ = true;
  return std::string();
}

Status validate_sasl_mechanisms(const std::vector<std::string>& mechanisms) {
  if (mechanisms.empty()) return Error::invalid_argument("no SASL mechanism enabled");
  for (size_t i = 0; i < mechanisms.size(); ++i) {
    const std::string& m = mechanisms[i];
    if (m != "PLAIN" && !parse_scram_mechanism(m)) {
      return Error::invalid_argument("unknown SASL mechanism '" + m +
                                     "' (supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
    }
    if (std::find(mechanisms.begin(), mechanisms.begin() + static_cast<std::ptrdiff_t>(i), m) !=
        mechanisms.begin() + static_cast<std::ptrdiff_t>(i)) {
      return Error::invalid_argument("SASL mechanism '" + m + "' listed twice");
    }
  }
  return ok_status();
}

SaslSession::SaslSession(SaslConfig config) : config_(std::move(config)) {}

bool SaslSession::may_handle(int16_t api_key) const {
  if (state_ == State::kAuthenticated) return true;
  if (state_ == State::kFailed || state_ == State::kRawTokens) return false;
  return api_key == kApiApiVersions || api_key == kApiSaslHandshake || api_key == kApiSaslAuthenticate;
}

SaslSession::HandshakeReply SaslSession::on_handshake(int16_t version, std::string_view mechanism) {
  HandshakeReply reply;
  reply.mechanisms = config_.mechanisms;
  bool reauth = state_ == State::kAuthenticated && version >= 1 && config_.session_lifetime_ms > 0;
  if (state_ != State::kInitial && !reauth) {
    last_failure_ = "SaslHandshake received in the wrong state";
    state_ = State::kFailed;
    reply.error_code = kafka_error::kIllegalSaslState;
    reply.close = true;
    return reply;
  }
  if (version < 0 || version > 1) {
    last_failure_ = "SaslHandshake version " + std::to_string(version) + " is not supported";
    state_ = State::kFailed;
    reply.error_code = kafka_error::kUnsupportedVersion;
    reply.close = true;
    return reply;
  }
  bool enabled = std::find(config_.mechanisms.begin(), config_.mechanisms.end(), mechanism) !=
                 config_.mechanisms.end();
  if (!enabled || (reauth && mechanism != mechanism_)) {
    last_failure_ = reauth && enabled ? "re-authentication must use the same mechanism " + mechanism_
                                      : "unsupported SASL mechanism '" + std::string(mechanism) + "'";
    state_ = State::kFailed;
    reply.error_code = kafka_error::kUnsupportedSaslMechanism;
    reply.close = true;
    return reply;
  }
  mechanism_ = std::string(mechanism);
  if (auto scram = parse_scram_mechanism(mechanism)) {
    exchange_ = std::make_unique<ScramMechanismServer>(*scram, config_.lookup);
  } else {
    exchange_ = std::make_unique<PlainServer>(config_.lookup);
  }
  reauthenticating_ = reauth;
  state_ = version == 0 ? State::kRawTokens : State::kHandshakeDone;
  return reply;
}

Result<std::string> SaslSession::run_token(std::string_view token) {
  if (token.size() > config_.max_token_bytes) {
    return Error::invalid_argument("SASL token of " + std::to_string(token.size()) +
                                   " bytes exceeds the limit of " + std::to_string(config_.max_token_bytes));
  }
  auto out = exchange_->step(token);
  if (!out.ok()) return out;
  if (exchange_->complete()) {
    std::string principal = "User:" + exchange_->username();
    if (reauthenticating_ && principal != principal_) {
      return Error{ErrorCode::kPermissionDenied,
                   "Cannot change principals during re-authentication from " + principal_ + " to " + principal};
    }
    principal_ = std::move(principal);
    authenticated_ = true;
    reauthenticating_ = false;
    state_ = State::kAuthenticated;
  }
  return out;
}

SaslSession::AuthenticateReply SaslSession::on_authenticate(int16_t version, std::string_view auth_bytes) {
  AuthenticateReply reply;
  if (state_ != State::kHandshakeDone) {
    last_failure_ = state_ == State::kRawTokens
                        ? "SaslAuthenticate received after a SaslHandshake v0 (raw tokens expected)"
                        : "SaslAuthenticate received before SaslHandshake";
    state_ = State::kFailed;
    reply.error_code = kafka_error::kIllegalSaslState;
    reply.error_message = "Unexpected SaslAuthenticate request: " + last_failure_;
    reply.close = true;
    return reply;
  }
  if (version < 0 || version > 2) {
    last_failure_ = "SaslAuthenticate version " + std::to_string(version) + " is not supported";
    state_ = State::kFailed;
    reply.error_code = kafka_error::kUnsupportedVersion;
    reply.close = true;
    return reply;
  }
  auto out = run_token(auth_bytes);
  if (!out.ok()) {
    last_failure_ = out.error().message;
    state_ = State::kFailed;
    authenticated_ = false;
    reply.error_code = kafka_error::kSaslAuthenticationFailed;
    reply.error_message = out.error().code == ErrorCode::kPermissionDenied ||
                                  out.error().code == ErrorCode::kNotSupported
                              ? out.error().message
                              : "Authentication failed: " + out.error().message;
    reply.close = true;
    return reply;
  }
  reply.auth_bytes = std::move(out).value();
  if (state_ == State::kAuthenticated && version >= 1) reply.session_lifetime_ms = config_.session_lifetime_ms;
  return reply;
}

SaslSession::RawTokenReply SaslSession::on_raw_token(std::string_view token) {
  RawTokenReply reply;
  if (state_ != State::kRawTokens) {
    last_failure_ = "raw SASL token received without a SaslHandshake v0";
    state_ = State::kFailed;
    reply.close = true;
    return reply;
  }
  auto out = run_token(token);
  if (!out.ok()) {
    // Raw mode has no error field: Kafka closes the connection.
    last_failure_ = out.error().message;
    state_ = State::kFailed;
    authenticated_ = false;
    reply.close = true;
    return reply;
  }
  reply.token = std::move(out).value();
  // PLAIN answers with nothing: Kafka sends an empty frame in raw mode too (the client waits for it).
  reply.send = true;
  return reply;
}

}  // namespace streamctl::security
