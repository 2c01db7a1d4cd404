#include "server/sasl_gate.h"

#include <sys/stat.h>

#include <chrono>

#include "base/logging.h"
#include "kafka/protocol/api_keys.h"
#include "kafka/protocol/frame.h"
#include "kafka/protocol/generated/messages.h"

namespace streamctl::server {

namespace p = kafka::protocol;

namespace {

const std::string kAnonymous = "User:ANONYMOUS";

size_t mechanism_label(const std::string& mechanism) {
  for (size_t i = 0; i + 1 < std::size(kSaslMechanismLabels); ++i) {
    if (mechanism == kSaslMechanismLabels[i]) return i;
  }
  return std::size(kSaslMechanismLabels) - 1;
}

SaslGate::Outcome close_outcome(std::string reason) {
  SaslGate::Outcome out;
  out.verdict = SaslGate::Outcome::Verdict::kClose;
  out.reason = std::move(reason);
  return out;
}

}  // namespace

Result<std::unique_ptr<ReloadingCredentials>> ReloadingCredentials::open(std::string path) {
  std::unique_ptr<ReloadingCredentials> r(new ReloadingCredentials(std::move(path)));
  r->stamp_ = r->stamp();
  STREAMCTL_ASSIGN_OR_RETURN(auto store, security::CredentialStore::open(r->path_));
  r->store_ = std::move(store);
  return r;
}

std::string ReloadingCredentials::stamp() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return "";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

std::shared_ptr<security::CredentialStore> ReloadingCredentials::current() {
  const std::string now = stamp();
  std::lock_guard<std::mutex> g(mu_);
  if (now != stamp_) {
    auto reopened = security::CredentialStore::open(path_);
    if (reopened.ok()) {
      store_ = std::move(*reopened);
      log_info("SASL users reloaded").kv("path", path_).kv("users", int64_t(store_->list().size()));
    } else {
      log_warn("cannot reload SASL users; keeping the previous ones").kv("error", reopened.error().message);
    }
    stamp_ = now;
  }
  return store_;
}

security::ScramCredentialLookup ReloadingCredentials::lookup_function() {
  return [this](const std::string& user, security::ScramMechanism mechanism) {
    return current()->lookup(user, mechanism);
  };
}

size_t ReloadingCredentials::user_count() { return current()->list().size(); }

bool SecurityAudit::allow_log(uint64_t& suppressed) {
  std::lock_guard<std::mutex> g(mu_);
  if (!limiter_.allow(std::chrono::steady_clock::now())) return false;
  suppressed = limiter_.take_suppressed();
  return true;
}

void SecurityAudit::tls_failure(const std::string& peer, const std::string& reason) {
  metrics_.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
  uint64_t suppressed = 0;
  if (!allow_log(suppressed)) return;
  auto line = log_warn("TLS handshake failed");
  line.kv("peer", peer).kv("reason", reason);
  if (suppressed > 0) line.kv("suppressed", int64_t(suppressed));
}

void SecurityAudit::failure(const std::string& peer, const std::string& mechanism, const std::string& reason) {
  metrics_.sasl_authentication_failures[mechanism_label(mechanism)].fetch_add(1, std::memory_order_relaxed);
  uint64_t suppressed = 0;
  if (!allow_log(suppressed)) return;
  auto line = log_warn("SASL authentication failed");
  line.kv("peer", peer).kv("mechanism", mechanism.empty() ? std::string("none") : mechanism).kv("reason", reason);
  if (suppressed > 0) line.kv("suppressed", int64_t(suppressed));
}

void SecurityAudit::success(const std::string& peer, const std::string& principal, const std::string& mechanism) {
  metrics_.sasl_authentications.fetch_add(1, std::memory_order_relaxed);
  log_debug("SASL authenticated").kv("peer", peer).kv("principal", principal).kv("mechanism", mechanism);
}

SaslGate::SaslGate(security::SaslConfig config, SecurityAudit& audit, std::string peer)
    : session_(std::move(config)), audit_(audit), peer_(std::move(peer)) {}

const std::string& SaslGate::principal() const {
  return session_.authenticated() ? session_.principal() : kAnonymous;
}

void SaslGate::note_failure(int16_t error_code) {
  std::string reason = session_.last_failure();
  if (reason.empty()) reason = "error code " + std::to_string(error_code);
  const std::string& mech = session_.mechanism().empty() ? requested_mechanism_ : session_.mechanism();
  audit_.failure(peer_, mech, reason);
}

SaslGate::Outcome SaslGate::on_raw_token(ByteSpan frame) {
  const bool was_authenticated = session_.authenticated();
  auto r = session_.on_raw_token(as_string_view(frame));
  Outcome out;
  if (r.close) {
    note_failure(security::kafka_error::kSaslAuthenticationFailed);
    if (!r.send) return close_outcome("SASL authentication failed");
    out.close_after = true;
    out.reason = "SASL authentication failed";
  } else if (!was_authenticated && session_.authenticated()) {
    audit_.success(peer_, session_.principal(), session_.mechanism());
  }
  out.verdict = Outcome::Verdict::kAnswered;
  if (r.send) {
    ByteWriter w(out.reply.frame);
    w.be32(uint32_t(r.token.size()));
    w.raw(std::string_view(r.token));
  } else {
    out.reply.action = Reply::Action::kNoResponse;
  }
  return out;
}

SaslGate::Outcome SaslGate::on_request(const p::RequestHeader& header, ByteSpan body) {
  const int16_t key = header.api_key;
  const int16_t version = header.api_version;
  if (!session_.may_handle(key)) {
    audit_.metrics().connections_closed_unauthenticated.fetch_add(1, std::memory_order_relaxed);
    return close_outcome(std::string(p::api_name(key)) + " request before SASL authentication (only ApiVersions, "
                         "SaslHandshake and SaslAuthenticate are accepted until then)");
  }
  if (key != security::kApiSaslHandshake && key != security::kApiSaslAuthenticate) return Outcome{};
  audit_.metrics().count_request(key);
  if (!p::is_advertised(key, version)) {
    audit_.metrics().unsupported_requests.fetch_add(1, std::memory_order_relaxed);
    return close_outcome(std::string("unsupported version ") + std::to_string(version) + " of " + p::api_name(key));
  }
  auto decoded = p::decode_request_message(key, version, body);
  if (!decoded.ok()) {
    audit_.metrics().connections_closed_malformed.fetch_add(1, std::memory_order_relaxed);
    return close_outcome("malformed request: " + decoded.error().message);
  }
  Outcome out;
  out.verdict = Outcome::Verdict::kAnswered;
  p::ResponseBody response;
  int16_t error = 0;
  bool close = false;
  if (key == security::kApiSaslHandshake) {
    const auto& req = std::get<p::SaslHandshakeRequest>(*decoded);
    requested_mechanism_ = req.mechanism;
    auto r = session_.on_handshake(version, req.mechanism);
    p::SaslHandshakeResponse resp;
    resp.error_code = r.error_code;
    resp.mechanisms = r.mechanisms;
    error = r.error_code;
    close = r.close;
    response = std::move(resp);
  } else {
    const auto& req = std::get<p::SaslAuthenticateRequest>(*decoded);
    const bool was_authenticated = session_.authenticated();
    auto r = session_.on_authenticate(version, as_string_view(req.auth_bytes));
    p::SaslAuthenticateResponse resp;
    resp.error_code = r.error_code;
    resp.error_message = r.error_message;
    resp.auth_bytes.assign(reinterpret_cast<const std::byte*>(r.auth_bytes.data()),
                           reinterpret_cast<const std::byte*>(r.auth_bytes.data()) + r.auth_bytes.size());
    resp.session_lifetime_ms = r.session_lifetime_ms;
    error = r.error_code;
    close = r.close;
    if (!close && error == 0 && !was_authenticated && session_.authenticated()) {
      audit_.success(peer_, session_.principal(), session_.mechanism());
    }
    response = std::move(resp);
  }
  if (error != 0) {
    audit_.metrics().count_error(key);
    note_failure(error);
  }
  if (close) {
    out.close_after = true;
    out.reason = std::string(p::api_name(key)) + " failed (error " + std::to_string(error) + ")";
  }
  auto st = p::encode_response_frame(header.correlation_id, version, response, out.reply.frame);
  if (!st.ok()) return close_outcome("cannot encode the response: " + st.error().message);
  return out;
}

}  // namespace streamctl::server
