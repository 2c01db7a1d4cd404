#include "security/sasl.h"

#include <doctest/doctest.h>

#include <map>

using namespace streamctl::security;
using streamctl::ErrorCode;

namespace {

// A lookup over a few users with real credentials (derived once per test binary: PBKDF2 is slow).
struct Users {
  std::map<std::pair<std::string, ScramMechanism>, ScramCredential> creds;
  Users() {
    for (auto mech : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
      creds[{"alice", mech}] = new_scram_credential(mech, "alice-pw").value();
    }
    creds[{"bob", ScramMechanism::kSha256}] = new_scram_credential(ScramMechanism::kSha256, "bob-pw").value();
  }
  ScramCredentialLookup lookup() const {
    return [this](const std::string& u, ScramMechanism m) -> std::optional<ScramCredential> {
      auto it = creds.find({u, m});
      if (it == creds.end()) return std::nullopt;
      return it->second;
    };
  }
};

const Users& users() {
  static const Users u;
  return u;
}

SaslConfig config(std::vector<std::string> mechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}) {
  SaslConfig c;
  c.mechanisms = std::move(mechanisms);
  c.lookup = users().lookup();
  return c;
}

std::string plain(const std::string& authzid, const std::string& user, const std::string& pw) {
  return authzid + std::string(1, '\0') + user + std::string(1, '\0') + pw;
}

}  // namespace

TEST_CASE("PlainParserSplitsExactlyThreeFields") {
  auto m = parse_sasl_plain(plain("", "alice", "pw"));
  REQUIRE(m.ok());
  CHECK(m->authzid.empty());
  CHECK(m->authcid == "alice");
  CHECK(m->password == "pw");
  CHECK(parse_sasl_plain(plain("alice", "alice", "p\x01w")).ok());
  for (std::string bad : {std::string(""), std::string("alice"), std::string("a\0b", 3), plain("", "", "pw"),
                          plain("", "alice", ""), plain("", "alice", "pw") + std::string(1, '\0'),
                          plain("", std::string(1025, 'u'), "pw"), std::string(4000, 'x')}) {
    auto r = parse_sasl_plain(bad);
    CHECK_FALSE(r.ok());
    CHECK(r.error().message.find("pw") == std::string::npos);  // never echoes the password
  }
}

TEST_CASE("PlainIsCheckedAgainstTheSaltedStore") {
  for (std::string pw : {"alice-pw", "wrong"}) {
    PlainServer s(users().lookup());
    auto r = s.step(plain("", "alice", pw));
    CHECK(r.ok() == (pw == "alice-pw"));
    CHECK(s.complete() == (pw == "alice-pw"));
  }
  PlainServer bob(users().lookup());  // only a SHA-256 credential
  CHECK(bob.step(plain("", "bob", "bob-pw")).ok());
  PlainServer nobody(users().lookup());
  CHECK(nobody.step(plain("", "nobody", "x")).error().code == ErrorCode::kPermissionDenied);
  PlainServer impersonate(users().lookup());
  CHECK(impersonate.step(plain("bob", "alice", "alice-pw")).error().code == ErrorCode::kNotSupported);
  PlainServer twice(users().lookup());
  REQUIRE(twice.step(plain("", "alice", "alice-pw")).ok());
  CHECK_FALSE(twice.step(plain("", "alice", "alice-pw")).ok());
}

TEST_CASE("HandshakeListsMechanismsAndRefusesUnknownOnes") {
  SaslSession s(config({"SCRAM-SHA-512", "PLAIN"}));
  auto r = s.on_handshake(1, "GSSAPI");
  CHECK(r.error_code == kafka_error::kUnsupportedSaslMechanism);
  CHECK(r.error_code == 33);
  CHECK(r.mechanisms == std::vector<std::string>{"SCRAM-SHA-512", "PLAIN"});
  CHECK(r.close);
  SaslSession t(config({"PLAIN"}));
  CHECK(t.on_handshake(1, "SCRAM-SHA-256").error_code == 33);  // known but not enabled
}

TEST_CASE("ScramOverSaslAuthenticateV2AuthenticatesAndReportsLifetime") {
  for (auto mech : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
    SaslConfig c = config();
    c.session_lifetime_ms = 3600000;
    SaslSession s(c);
    CHECK(s.may_handle(kApiApiVersions));
    CHECK_FALSE(s.may_handle(0));  // Produce before authentication
    REQUIRE(s.on_handshake(1, scram_mechanism_name(mech)).error_code == 0);
    CHECK_FALSE(s.expects_raw_token());
    ScramClient client(mech, "alice", "alice-pw");
    auto r1 = s.on_authenticate(2, client.client_first());
    REQUIRE(r1.error_code == 0);
    CHECK(r1.session_lifetime_ms == 0);  // not yet authenticated
    CHECK_FALSE(s.authenticated());
    auto r2 = s.on_authenticate(2, client.client_final(r1.auth_bytes).value());
    REQUIRE(r2.error_code == 0);
    CHECK(r2.session_lifetime_ms == 3600000);
    CHECK(client.verify_server_final(r2.auth_bytes).ok());
    CHECK(s.authenticated());
    CHECK(s.principal() == "User:alice");
    CHECK(s.may_handle(0));
  }
}

TEST_CASE("WrongPasswordEndsInSaslAuthenticationFailedAndClose") {
  SaslSession s(config());
  REQUIRE(s.on_handshake(1, "SCRAM-SHA-256").error_code == 0);
  ScramClient client(ScramMechanism::kSha256, "alice", "nope");
  auto r1 = s.on_authenticate(1, client.client_first());
  auto r2 = s.on_authenticate(1, client.client_final(r1.auth_bytes).value());
  CHECK(r2.error_code == kafka_error::kSaslAuthenticationFailed);
  CHECK(r2.error_code == 58);
  CHECK(r2.error_message == "Authentication failed: Invalid user credentials");
  CHECK(r2.close);
  CHECK_FALSE(s.authenticated());
  CHECK_FALSE(s.may_handle(kApiSaslHandshake));
  CHECK_FALSE(s.last_failure().empty());
}

TEST_CASE("MalformedTokenFailsWithAReason") {
  SaslSession s(config());
  REQUIRE(s.on_handshake(1, "SCRAM-SHA-512").error_code == 0);
  auto r = s.on_authenticate(0, "hello");
  CHECK(r.error_code == 58);
  CHECK(r.error_message->find("gs2 header") != std::string::npos);
  CHECK(r.close);
}

TEST_CASE("OutOfOrderFramesAreIllegalSaslState") {
  {
    SaslSession s(config());
    auto r = s.on_authenticate(1, "n,,n=alice,r=abc");  // before SaslHandshake
    CHECK(r.error_code == kafka_error::kIllegalSaslState);
    CHECK(r.error_code == 34);
    CHECK(r.close);
  }
  {
    SaslSession s(config());
    REQUIRE(s.on_handshake(1, "PLAIN").error_code == 0);
    CHECK(s.on_handshake(1, "PLAIN").error_code == 34);  // second handshake before authentication
  }
  {
    SaslSession s(config());
    REQUIRE(s.on_handshake(0, "PLAIN").error_code == 0);  // v0: raw tokens expected
    CHECK(s.on_authenticate(1, plain("", "alice", "alice-pw")).error_code == 34);
  }
  {
    SaslSession s(config());
    CHECK(s.on_raw_token(plain("", "alice", "alice-pw")).close);  // raw token without handshake
  }
  {
    SaslSession s(config());
    REQUIRE(s.on_handshake(1, "PLAIN").error_code == 0);
    REQUIRE(s.on_authenticate(1, plain("", "alice", "alice-pw")).error_code == 0);
    // Authenticated, no re-authentication configured: another handshake is illegal.
    CHECK(s.on_handshake(1, "PLAIN").error_code == 34);
  }
}

TEST_CASE("OversizedTokenIsRefused") {
  SaslConfig c = config();
  c.max_token_bytes = 64;
  SaslSession s(c);
  REQUIRE(s.on_handshake(1, "PLAIN").error_code == 0);
  auto r = s.on_authenticate(2, plain("", "alice", std::string(100, 'x')));
  CHECK(r.error_code == 58);
  CHECK(r.error_message->find("exceeds the limit of 64") != std::string::npos);
  CHECK(r.close);
}

TEST_CASE("HandshakeV0CarriesRawTokens") {
  SaslSession s(config());
  REQUIRE(s.on_handshake(0, "SCRAM-SHA-256").error_code == 0);
  CHECK(s.expects_raw_token());
  CHECK_FALSE(s.may_handle(kApiApiVersions));  // the next frame is a raw token, not a request
  ScramClient client(ScramMechanism::kSha256, "bob", "bob-pw");
  auto r1 = s.on_raw_token(client.client_first());
  REQUIRE(r1.send);
  auto r2 = s.on_raw_token(client.client_final(r1.token).value());
  REQUIRE(r2.send);
  CHECK(client.verify_server_final(r2.token).ok());
  CHECK(s.principal() == "User:bob");
  CHECK_FALSE(s.expects_raw_token());

  SaslSession p(config());
  REQUIRE(p.on_handshake(0, "PLAIN").error_code == 0);
  auto r = p.on_raw_token(plain("", "alice", "alice-pw"));
  CHECK(r.send);
  CHECK(r.token.empty());  // PLAIN answers with an empty frame
  CHECK(p.authenticated());
  SaslSession q(config());
  REQUIRE(q.on_handshake(0, "PLAIN").error_code == 0);
  CHECK(q.on_raw_token(plain("", "alice", "bad")).close);
  CHECK_FALSE(q.authenticated());
}

TEST_CASE("ReauthenticationKeepsMechanismAndPrincipal") {
  SaslConfig c = config();
  c.session_lifetime_ms = 1000;
  {
    SaslSession s(c);
    REQUIRE(s.on_handshake(1, "PLAIN").error_code == 0);
    REQUIRE(s.on_authenticate(2, plain("", "alice", "alice-pw")).error_code == 0);
    REQUIRE(s.on_handshake(1, "PLAIN").error_code == 0);
    auto again = s.on_authenticate(2, plain("", "alice", "alice-pw"));
    CHECK(again.error_code == 0);
    CHECK(again.session_lifetime_ms == 1000);
  }
  {
    SaslSession s(c);
    REQUIRE(s.on_handshake(1, "PLAIN").error_code == 0);
    REQUIRE(s.on_authenticate(2, plain("", "alice", "alice-pw")).error_code == 0);
    REQUIRE(s.on_handshake(1, "PLAIN").error_code == 0);
    auto other = s.on_authenticate(2, plain("", "bob", "bob-pw"));
    CHECK(other.error_code == 58);
    CHECK(other.close);
    CHECK_FALSE(s.authenticated());
  }
  {
    SaslSession s(c);
    REQUIRE(s.on_handshake(1, "PLAIN").error_code == 0);
    REQUIRE(s.on_authenticate(2, plain("", "alice", "alice-pw")).error_code == 0);
    CHECK(s.on_handshake(1, "SCRAM-SHA-256").error_code == 33);
  }
}

TEST_CASE("UnsupportedVersionsAreRefused") {
  SaslSession s(config());
  CHECK(s.on_handshake(2, "PLAIN").error_code == kafka_error::kUnsupportedVersion);
  SaslSession t(config());
  REQUIRE(t.on_handshake(1, "PLAIN").error_code == 0);
  CHECK(t.on_authenticate(3, plain("", "alice", "alice-pw")).error_code == 35);
}

TEST_CASE("MechanismListIsValidated") {
  CHECK(validate_sasl_mechanisms({"PLAIN", "SCRAM-SHA-256"}).ok());
  CHECK_FALSE(validate_sasl_mechanisms({}).ok());
  CHECK(validate_sasl_mechanisms({"GSSAPI"}).error().message.find("GSSAPI") != std::string::npos);
  CHECK_FALSE(validate_sasl_mechanisms({"PLAIN", "PLAIN"}).ok());
}
