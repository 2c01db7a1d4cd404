#include "security/scram.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>

using namespace streamctl::security;
using streamctl::ErrorCode;

namespace {

// RFC 7677 section 3 (SCRAM-SHA-256), user "user", password "pencil".
constexpr const char* k7677ClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr const char* k7677ServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* k7677ServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* k7677ClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* k7677ServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramCredential rfc7677_credential() {
  auto c = derive_scram_credential(ScramMechanism::kSha256, "pencil", *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  REQUIRE(c.ok());
  return c.value();
}

ScramCredentialLookup single_user(std::string user, ScramMechanism mech, ScramCredential c) {
  return [=](const std::string& u, ScramMechanism m) -> std::optional<ScramCredential> {
    if (u == user && m == mech) return c;
    return std::nullopt;
  };
}

// Runs a full client<->server exchange; returns the server's error or the client's verification result.
streamctl::Status round_trip(ScramMechanism mech, const ScramCredentialLookup& lookup, const std::string& user,
                                     const std::string& password) {
  ScramServer server(mech, lookup);
  ScramClient client(mech, user, password);
  auto first = server.step(client.client_first());
  if (!first.ok()) return first.error();
  auto fin = client.client_final(first.value());
  if (!fin.ok()) return fin.error();
  auto server_final = server.step(fin.value());
  if (!server_final.ok()) return server_final.error();
  return client.verify_server_final(server_final.value());
}

}  // namespace

TEST_CASE("Rfc5802Sha1VectorMatchesThePrimitives") {
  const EVP_MD* md = EVP_sha1();
  std::string salted = scram_salted_password(md, "pencil", *base64_decode("QSXCR+Q6sek8bf92"), 4096);
  std::string auth =
      "n=user,r=fyko+d2lbbFgONRv9qkxdawL,"
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,"
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
  CHECK(base64_encode(scram_client_proof(md, scram_client_key(md, salted), auth)) == "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  CHECK(base64_encode(scram_server_signature(md, scram_server_key(md, salted), auth)) ==
        "rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

TEST_CASE("Rfc7677ServerProducesThePublishedMessages") {
  ScramServer server(ScramMechanism::kSha256, single_user("user", ScramMechanism::kSha256, rfc7677_credential()),
                     k7677ServerNonce);
  auto first = server.step(k7677ClientFirst);
  REQUIRE(first.ok());
  CHECK(first.value() == k7677ServerFirst);
  auto fin = server.step(k7677ClientFinal);
  REQUIRE(fin.ok());
  CHECK(fin.value() == k7677ServerFinal);
  CHECK(server.complete());
  CHECK(server.username() == "user");
}

TEST_CASE("Rfc7677ClientProducesThePublishedMessages") {
  ScramClient client(ScramMechanism::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  CHECK(client.client_first() == k7677ClientFirst);
  auto fin = client.client_final(k7677ServerFirst);
  REQUIRE(fin.ok());
  CHECK(fin.value() == k7677ClientFinal);
  CHECK(client.verify_server_final(k7677ServerFinal).ok());
}

TEST_CASE("ClientRejectsAForgedServerSignature") {
  ScramClient client(ScramMechanism::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  client.client_first();
  REQUIRE(client.client_final(k7677ServerFirst).ok());
  auto st = client.verify_server_final("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  CHECK(st.error().code == ErrorCode::kPermissionDenied);
}

TEST_CASE("ClientReportsServerErrorAttribute") {
  ScramClient client(ScramMechanism::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  client.client_first();
  REQUIRE(client.client_final(k7677ServerFirst).ok());
  auto st = client.verify_server_final("e=invalid-proof");
  CHECK(st.error().message.find("invalid-proof") != std::string::npos);
}

TEST_CASE("ClientRejectsServerFirstWithBadNonceOrIterations") {
  for (const char* bad : {"r=otherNonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                          "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000",
                          "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999",
                          "r=rOprNGfwEbeRWgbNEkqOabc,s=***,i=4096", "r=rOprNGfwEbeRWgbNEkqOabc,s=W22Z,i=4x",
                          "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "garbage"}) {
    CAPTURE(bad);
    ScramClient client(ScramMechanism::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    client.client_first();
    CHECK_FALSE(client.client_final(bad).ok());
  }
}

TEST_CASE("RoundTripSucceedsForBothMechanismsAndFailsOnWrongPassword") {
  for (ScramMechanism mech : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
    CAPTURE(scram_mechanism_name(mech));
    auto c = new_scram_credential(mech, "s3cret, with = signs", 4096);
    REQUIRE(c.ok());
    auto lookup = single_user("al,i=ce", mech, c.value());
    CHECK(round_trip(mech, lookup, "al,i=ce", "s3cret, with = signs").ok());
    auto wrong = round_trip(mech, lookup, "al,i=ce", "wrong");
    CHECK(wrong.error().code == ErrorCode::kPermissionDenied);
    CHECK(wrong.error().message == "Authentication failed: Invalid user credentials");
  }
}

TEST_CASE("UnknownUserFailsLikeAWrongPasswordAndGetsAStableSalt") {
  ScramCredentialLookup none = [](const std::string&, ScramMechanism) { return std::optional<ScramCredential>(); };
  auto st = round_trip(ScramMechanism::kSha256, none, "nobody", "pw");
  CHECK(st.error().code == ErrorCode::kPermissionDenied);
  CHECK(st.error().message == "Authentication failed: Invalid user credentials");
  ScramServer a(ScramMechanism::kSha256, none, "x"), b(ScramMechanism::kSha256, none, "x");
  CHECK(a.step("n,,n=nobody,r=abc").value() == b.step("n,,n=nobody,r=abc").value());
}

TEST_CASE("CredentialKeepsOnlySaltIterationsAndKeys") {
  auto c = new_scram_credential(ScramMechanism::kSha512, "pw", 8192);
  REQUIRE(c.ok());
  CHECK(c->salt.size() == 32);
  CHECK(c->iterations == 8192);
  CHECK(c->stored_key.size() == 64);
  CHECK(c->server_key.size() == 64);
  auto again = new_scram_credential(ScramMechanism::kSha512, "pw", 8192);
  CHECK(again->salt != c->salt);  // random salt per credential
  CHECK_FALSE(new_scram_credential(ScramMechanism::kSha256, "pw", 4095).ok());
  CHECK_FALSE(new_scram_credential(ScramMechanism::kSha256, "pw", 16385).ok());
  CHECK_FALSE(new_scram_credential(ScramMechanism::kSha256, "", 4096).ok());
}

TEST_CASE("SaslnameEscapingRoundTripsAndRejectsBadEscapes") {
  CHECK(saslname_escape("a,b=c") == "a=2Cb=3Dc");
  CHECK(saslname_unescape("a=2Cb=3Dc").value() == "a,b=c");
  CHECK_FALSE(saslname_unescape("a=2").has_value());
  CHECK_FALSE(saslname_unescape("a=41").has_value());
  CHECK_FALSE(saslname_unescape("a,b").has_value());
}

TEST_CASE("Base64DecodingIsStrict") {
  CHECK(base64_decode("").value().empty());
  CHECK(base64_decode("YQ==").value() == "a");
  CHECK(base64_decode("YWI=").value() == "ab");
  CHECK(base64_decode("YWJj").value() == "abc");
  CHECK_FALSE(base64_decode("YQ=").has_value());
  CHECK_FALSE(base64_decode("Y===").has_value());
  CHECK_FALSE(base64_decode("Y=Q=").has_value());
  CHECK_FALSE(base64_decode("YW J").has_value());
  CHECK(base64_encode(std::string("\0\xff", 2)) == "AP8=");
}

TEST_CASE("ClientFirstParsesGs2HeaderAuthzidAndExtensions") {
  auto m = parse_scram_client_first("y,a=bo=2Cb,n=bo=2Cb,r=nonce,tokenauth=true,x=1");
  REQUIRE(m.ok());
  CHECK(m->gs2_header == "y,a=bo=2Cb,");
  CHECK(m->authzid == "bo,b");
  CHECK(m->username == "bo,b");
  CHECK(m->nonce == "nonce");
  CHECK(m->token_auth);
  CHECK(m->client_first_bare == "n=bo=2Cb,r=nonce,tokenauth=true,x=1");
}

TEST_CASE("EveryMalformedClientFirstIsRejectedWithAReason") {
  std::map<std::string, ErrorCode> cases = {
      {"", ErrorCode::kInvalidArgument},
      {"x,,n=u,r=n", ErrorCode::kInvalidArgument},
      {"n", ErrorCode::kInvalidArgument},
      {"n,n=u,r=n", ErrorCode::kInvalidArgument},
      {"p=tls-unique,,n=u,r=n", ErrorCode::kNotSupported},
      {"n,b=x,n=u,r=n", ErrorCode::kInvalidArgument},
      {"n,a=,n=u,r=n", ErrorCode::kInvalidArgument},
      {"n,,m=ext,n=u,r=n", ErrorCode::kNotSupported},
      {"n,,n=u", ErrorCode::kInvalidArgument},
      {"n,,r=n,n=u", ErrorCode::kInvalidArgument},
      {"n,,n=,r=n", ErrorCode::kInvalidArgument},
      {"n,,n=a=ZZ,r=n", ErrorCode::kInvalidArgument},
      {"n,,n=u,r=", ErrorCode::kInvalidArgument},
      {"n,,n=u,r=a b", ErrorCode::kInvalidArgument},
      {"n,,n=u,r=n,=x", ErrorCode::kInvalidArgument},
      {"n,,n=u,r=n,1=x", ErrorCode::kInvalidArgument},
      {"n,,n=u,r=n,noequals", ErrorCode::kInvalidArgument},
      {"n,,n=u,r=" + std::string(5000, 'a'), ErrorCode::kInvalidArgument},
  };
  for (const auto& [msg, code] : cases) {
    CAPTURE(msg);
    auto r = parse_scram_client_first(msg);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == code);
    CHECK_FALSE(r.error().message.empty());
  }
}

TEST_CASE("EveryMalformedClientFinalIsRejected") {
  for (std::string msg : {"", "c=biws,r=n", "c=biws,r=n,p=", "c=biws,r=n,p=***", "r=n,c=biws,p=AAAA",
                          "c=b!ws,r=n,p=AAAA", "c=biws,r=,p=AAAA", "c=biws,p=AAAA"}) {
    CAPTURE(msg);
    CHECK_FALSE(parse_scram_client_final(msg).ok());
  }
  CHECK_FALSE(parse_scram_client_final("c=biws,r=n,p=" + std::string(5000, 'A')).ok());
  auto ok = parse_scram_client_final("c=biws,r=n,x=ext,p=AAAA");
  REQUIRE(ok.ok());
  CHECK(ok->without_proof == "c=biws,r=n,x=ext");
}

TEST_CASE("ServerFailsOnBindingNonceProofAndStateErrors") {
  auto lookup = single_user("user", ScramMechanism::kSha256, rfc7677_credential());
  auto fresh = [&] {
    auto s = std::make_unique<ScramServer>(ScramMechanism::kSha256, lookup, k7677ServerNonce);
    REQUIRE(s->step(k7677ClientFirst).ok());
    return s;
  };
  {  // channel binding not matching "n,,"
    auto s = fresh();
    std::string msg = k7677ClientFinal;
    msg.replace(2, 4, "eSws");
    CHECK_FALSE(s->step(msg).ok());
    CHECK(s->rfc_error() == "channel-bindings-dont-match");
    CHECK(s->failed());
  }
  {  // nonce differs from server-first
    auto s = fresh();
    std::string msg = k7677ClientFinal;
    msg.replace(msg.find("k0"), 2, "k1");
    CHECK_FALSE(s->step(msg).ok());
  }
  {  // proof of the wrong length, and a flipped proof bit
    auto s = fresh();
    CHECK(s->step("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA").error().code ==
          ErrorCode::kPermissionDenied);
    auto t = fresh();
    std::string msg = k7677ClientFinal;
    msg[msg.size() - 3] = msg[msg.size() - 3] == 'V' ? 'W' : 'V';
    CHECK(t->step(msg).error().code == ErrorCode::kPermissionDenied);
    CHECK(t->rfc_error() == "invalid-proof");
  }
  {  // a step after completion and after failure
    auto s = fresh();
    REQUIRE(s->step(k7677ClientFinal).ok());
    CHECK_FALSE(s->step(k7677ClientFinal).ok());
    CHECK_FALSE(s->step(k7677ClientFirst).ok());
  }
  {  // impersonation and delegation tokens
    ScramServer s(ScramMechanism::kSha256, lookup);
    CHECK(s.step("n,a=admin,n=user,r=abc").error().code == ErrorCode::kNotSupported);
    ScramServer t(ScramMechanism::kSha256, lookup);
    CHECK(t.step("n,,n=user,r=abc,tokenauth=true").error().code == ErrorCode::kNotSupported);
  }
  {  // authzid equal to the user is fine, and c= must then carry that header
    ScramServer s(ScramMechanism::kSha256, lookup, "SRV");
    auto first = s.step("n,a=user,n=user,r=abc");
    REQUIRE(first.ok());
    ScramClient client(ScramMechanism::kSha256, "user", "pencil", "abc");
    client.client_first();
    auto fin = client.client_final(first.value());
    REQUIRE(fin.ok());
    CHECK(s.step(fin.value()).error().code == ErrorCode::kInvalidArgument);  // client sent c=biws ("n,,")
  }
}

TEST_CASE("MechanismNamesAndTypesAreKafkas") {
  CHECK(parse_scram_mechanism("SCRAM-SHA-256") == ScramMechanism::kSha256);
  CHECK(parse_scram_mechanism("SCRAM-SHA-512") == ScramMechanism::kSha512);
  CHECK_FALSE(parse_scram_mechanism("scram-sha-256").has_value());
  CHECK(scram_mechanism_type(ScramMechanism::kSha256) == 1);
  CHECK(scram_mechanism_type(ScramMechanism::kSha512) == 2);
  CHECK(scram_mechanism_from_type(2) == ScramMechanism::kSha512);
  CHECK_FALSE(scram_mechanism_from_type(0).has_value());
}

TEST_CASE("ServerAcceptsLibrdkafkaDoubledClientNonce") {
  // librdkafka's client-final carries r=<client nonce><server-first nonce> (the client nonce twice); Kafka's
  // ScramSaslServer accepts a final nonce that ends with the server-first nonce, and so do we. The proof is
  // over the message as sent.
  auto lookup = single_user("user", ScramMechanism::kSha256, rfc7677_credential());
  const EVP_MD* md = scram_digest(ScramMechanism::kSha256);
  const std::string salted = scram_salted_password(md, "pencil", *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  const std::string client_key = scram_client_key(md, salted);
  const std::string without_proof =
      "c=biws,r=rOprNGfwEbeRWgbNEkqOrOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string auth =
      std::string("n=user,r=rOprNGfwEbeRWgbNEkqO") + "," + k7677ServerFirst + "," + without_proof;
  const std::string final_msg = without_proof + ",p=" + base64_encode(scram_client_proof(md, client_key, auth));
  ScramServer ok_server(ScramMechanism::kSha256, lookup, k7677ServerNonce);
  REQUIRE(ok_server.step(k7677ClientFirst).ok());
  auto fin = ok_server.step(final_msg);
  REQUIRE(fin.ok());
  CHECK(ok_server.complete());
  // A final nonce that only starts with the server-first nonce is still refused.
  ScramServer bad_server(ScramMechanism::kSha256, lookup, k7677ServerNonce);
  REQUIRE(bad_server.step(k7677ClientFirst).ok());
  CHECK_FALSE(bad_server.step("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0xx,p=AAAA").ok());
}
