#include "security/scram.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace streamctl::security {


namespace {

constexpr const char* kInvalidCredentials = "Authentication failed: Invalid user credentials";

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // RAND_bytes fails only when the CSPRNG cannot be seeded: nothing secure can be done without it.
    std::fprintf(stderr, "streamctl: OpenSSL RAND_bytes failed; refusing to continue without randomness\n");
    std::abort();
  }
  return out;
}

// A printable SCRAM nonce character: %x21-2B / %x2D-7E.
bool valid_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

// Splits "k=v,k=v" into attributes. Empty parts are malformed.
struct Attribute {
  char key;
  std::string_view value;
};

std::optional<std::vector<Attribute>> split_attributes(std::string_view text) {
  std::vector<Attribute> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view part = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (part.size() < 2 || part[1] != '=') return std::nullopt;
    out.push_back({part[0], part.substr(2)});
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) {
      out.push_back(text.substr(pos));
      return out;
    }
    out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A per-process secret for fake credentials of unknown users (same flow and cost as a real user).
const std::string& fake_credential_secret() {
  static const std::string secret = random_bytes(32);
  return secret;
}

}  // namespace

const char* scram_mechanism_name(ScramMechanism mechanism) {
  return mechanism == ScramMechanism::kSha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512";
}

std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name) {
  if (name == "SCRAM-SHA-256") return ScramMechanism::kSha256;
  if (name == "SCRAM-SHA-512") return ScramMechanism::kSha512;
  return std::nullopt;
}

int8_t scram_mechanism_type(ScramMechanism mechanism) { return mechanism == ScramMechanism::kSha256 ? 1 : 2; }

std::optional<ScramMechanism> scram_mechanism_from_type(int8_t type) {
  if (type == 1) return ScramMechanism::kSha256;
  if (type == 2) return ScramMechanism::kSha512;
  return std::nullopt;
}

const EVP_MD* scram_digest(ScramMechanism mechanism) {
  return mechanism == ScramMechanism::kSha256 ? EVP_sha256() : EVP_sha512();
}

std::string scram_hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string scram_hash(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string scram_salted_password(const EVP_MD* md, std::string_view password, std::string_view salt,
                                  int iterations) {
  std::string out(static_cast<size_t>(EVP_MD_get_size(md)), '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                    md, static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string scram_client_key(const EVP_MD* md, std::string_view salted_password) {
  return scram_hmac(md, salted_password, "Client Key");
}

std::string scram_server_key(const EVP_MD* md, std::string_view salted_password) {
  return scram_hmac(md, salted_password, "Server Key");
}

std::string scram_client_proof(const EVP_MD* md, std::string_view client_key, std::string_view auth_message) {
  std::string signature = scram_hmac(md, scram_hash(md, client_key), auth_message);
  std::string proof(client_key);
  for (size_t i = 0; i < proof.size() && i < signature.size(); ++i) proof[i] ^= signature[i];
  return proof;
}

std::string scram_server_signature(const EVP_MD* md, std::string_view server_key, std::string_view auth_message) {
  return scram_hmac(md, server_key, auth_message);
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool alpha = is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=') {
      if (i + 2 < text.size()) return std::nullopt;  // '=' only in the last two places
      ++pad;
    } else if (!alpha || pad > 0) {
      return std::nullopt;
    }
  }
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string saslname_escape(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> saslname_unescape(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == ',') return std::nullopt;
    if (name[i] != '=') {
      out += name[i];
      continue;
    }
    std::string_view code = name.substr(i + 1, 2);
    if (code == "2C") {
      out += ',';
    } else if (code == "3D") {
      out += '=';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

Result<ScramCredential> derive_scram_credential(ScramMechanism mechanism, std::string_view password,
                                                std::string_view salt, int iterations) {
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations) {
    return Error::invalid_argument("SCRAM iterations " + std::to_string(iterations) + " outside [" +
                                   std::to_string(kScramMinIterations) + ", " +
                                   std::to_string(kScramMaxIterations) + "]");
  }
  if (password.empty()) return Error::invalid_argument("SCRAM password is empty");
  if (salt.empty()) return Error::invalid_argument("SCRAM salt is empty");
  const EVP_MD* md = scram_digest(mechanism);
  std::string salted = scram_salted_password(md, password, salt, iterations);
  ScramCredential c;
  c.salt = std::string(salt);
  c.iterations = iterations;
  c.stored_key = scram_hash(md, scram_client_key(md, salted));
  c.server_key = scram_server_key(md, salted);
  OPENSSL_cleanse(salted.data(), salted.size());
  return c;
}

Result<ScramCredential> new_scram_credential(ScramMechanism mechanism, std::string_view password, int iterations) {
  return derive_scram_credential(mechanism, password, random_bytes(32), iterations);
}

std::string scram_random_nonce(size_t bytes) { return base64_encode(random_bytes(bytes)); }

Result<ScramClientFirst> parse_scram_client_first(std::string_view message) {
  if (message.size() > kScramMaxMessageBytes) {
    return Error::invalid_argument("SCRAM client-first message of " + std::to_string(message.size()) +
                                   " bytes exceeds " + std::to_string(kScramMaxMessageBytes));
  }
  ScramClientFirst out;
  // gs2-header: cbind-flag "," [authzid] ","
  if (message.empty()) return Error::invalid_argument("SCRAM client-first message is empty");
  char flag = message[0];
  if (flag == 'p') return Error::not_supported("SCRAM channel binding (p=) is not supported");
  if ((flag != 'n' && flag != 'y') || message.size() < 2 || message[1] != ',') {
    return Error::invalid_argument("SCRAM client-first message: gs2 header must start with \"n,\" or \"y,\"");
  }
  size_t second = message.find(',', 2);
  if (second == std::string_view::npos) {
    return Error::invalid_argument("SCRAM client-first message: gs2 header has no second ','");
  }
  std::string_view authzid = message.substr(2, second - 2);
  if (!authzid.empty()) {
    if (authzid.substr(0, 2) != "a=") {
      return Error::invalid_argument("SCRAM client-first message: authzid must be \"a=<saslname>\"");
    }
    auto unescaped = saslname_unescape(authzid.substr(2));
    if (!unescaped || unescaped->empty()) {
      return Error::invalid_argument("SCRAM client-first message: authzid is not a valid saslname");
    }
    out.authzid = *unescaped;
  }
  out.gs2_header = std::string(message.substr(0, second + 1));
  std::string_view bare = message.substr(second + 1);
  out.client_first_bare = std::string(bare);
  if (bare.substr(0, 2) == "m=") return Error::not_supported("SCRAM mandatory extension (m=) is not supported");
  std::vector<std::string_view> parts = split_commas(bare);
  if (parts.size() < 2 || parts[0].substr(0, 2) != "n=" || parts[1].substr(0, 2) != "r=") {
    return Error::invalid_argument("SCRAM client-first message: expected \"n=<user>,r=<nonce>\"");
  }
  auto user = saslname_unescape(parts[0].substr(2));
  if (!user || user->empty()) {
    return Error::invalid_argument("SCRAM client-first message: username is not a valid saslname");
  }
  out.username = *user;
  if (!valid_nonce(parts[1].substr(2))) {
    return Error::invalid_argument("SCRAM client-first message: nonce is empty or not printable");
  }
  out.nonce = std::string(parts[1].substr(2));
  // Extensions (Kafka's ScramExtensions): key=value with an alphabetic key.
  for (size_t i = 2; i < parts.size(); ++i) {
    std::string_view ext = parts[i];
    size_t eq = ext.find('=');
    bool ok = eq != 0 && eq != std::string_view::npos;
    for (size_t k = 0; ok && k < eq; ++k) ok = is_alpha(ext[k]);
    if (!ok) return Error::invalid_argument("SCRAM client-first message: malformed extension");
    if (ext.substr(0, eq) == "tokenauth" && ext.substr(eq + 1) == "true") out.token_auth = true;
  }
  return out;
}

Result<ScramClientFinal> parse_scram_client_final(std::string_view message) {
  if (message.size() > kScramMaxMessageBytes) {
    return Error::invalid_argument("SCRAM client-final message of " + std::to_string(message.size()) +
                                   " bytes exceeds " + std::to_string(kScramMaxMessageBytes));
  }
  size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) {
    return Error::invalid_argument("SCRAM client-final message: no proof (\",p=\")");
  }
  ScramClientFinal out;
  out.without_proof = std::string(message.substr(0, proof_at));
  auto proof = base64_decode(message.substr(proof_at + 3));
  if (!proof || proof->empty()) {
    return Error::invalid_argument("SCRAM client-final message: proof is not valid base64");
  }
  out.proof = std::move(*proof);
  std::vector<std::string_view> parts = split_commas(out.without_proof);
  if (parts.size() < 2 || parts[0].substr(0, 2) != "c=" || parts[1].substr(0, 2) != "r=") {
    return Error::invalid_argument("SCRAM client-final message: expected \"c=<binding>,r=<nonce>,...,p=<proof>\"");
  }
  if (!base64_decode(parts[0].substr(2))) {
    return Error::invalid_argument("SCRAM client-final message: channel binding is not valid base64");
  }
  out.channel_binding = std::string(parts[0].substr(2));
  if (!valid_nonce(parts[1].substr(2))) {
    return Error::invalid_argument("SCRAM client-final message: nonce is empty or not printable");
  }
  out.nonce = std::string(parts[1].substr(2));
  return out;
}

// ---- ScramServer

ScramServer::ScramServer(ScramMechanism mechanism, ScramCredentialLookup lookup, std::string server_nonce)
    : mechanism_(mechanism), lookup_(std::move(lookup)), fixed_server_nonce_(std::move(server_nonce)) {}

Error ScramServer::fail(Error error, const char* rfc_error) {
  state_ = State::kFailed;
  rfc_error_ = rfc_error;
  return error;
}

Result<std::string> ScramServer::step(std::string_view client_message) {
  switch (state_) {
    case State::kAwaitClientFirst:
      return on_client_first(client_message);
    case State::kAwaitClientFinal:
      return on_client_final(client_message);
    case State::kComplete:
      return fail(Error::invalid_argument("SCRAM exchange is already complete"), "other-error");
    case State::kFailed:
      break;
  }
  return Error::invalid_argument("SCRAM exchange has failed");
}

Result<std::string> ScramServer::on_client_first(std::string_view message) {
  auto parsed = parse_scram_client_first(message);
  if (!parsed.ok()) {
    bool unsupported = parsed.error().code == ErrorCode::kNotSupported;
    bool binding = parsed.error().message.find("channel binding") != std::string::npos;
    return fail(std::move(parsed).error(), binding ? "channel-binding-not-supported"
                                           : unsupported ? "extensions-not-supported"
                                                         : "invalid-encoding");
  }
  first_ = std::move(parsed).value();
  if (first_.token_auth) {
    return fail(Error::not_supported("SCRAM delegation-token authentication (tokenauth) is not supported"),
                "extensions-not-supported");
  }
  if (!first_.authzid.empty() && first_.authzid != first_.username) {
    // Kafka's ScramSaslServer refuses impersonation the same way.
    return fail(Error::not_supported("Authentication failed: Client requested an authorization id that is "
                                     "different from username"),
                "invalid-username-encoding");
  }
  std::optional<ScramCredential> credential;
  if (lookup_) credential = lookup_(first_.username, mechanism_);
  known_user_ = credential.has_value();
  if (known_user_) {
    credential_ = std::move(*credential);
  } else {
    const EVP_MD* md = scram_digest(mechanism_);
    credential_.salt = scram_hmac(md, fake_credential_secret(), "salt:" + first_.username).substr(0, 32);
    credential_.iterations = kScramDefaultIterations;
    credential_.stored_key = scram_hmac(md, fake_credential_secret(), "stored:" + first_.username);
    credential_.server_key = scram_hmac(md, fake_credential_secret(), "server:" + first_.username);
  }
  nonce_ = first_.nonce + (fixed_server_nonce_.empty() ? scram_random_nonce() : fixed_server_nonce_);
  server_first_ = "r=" + nonce_ + ",s=" + base64_encode(credential_.salt) + ",i=" +
                  std::to_string(credential_.iterations);
  state_ = State::kAwaitClientFinal;
  return server_first_;
}

Result<std::string> ScramServer::on_client_final(std::string_view message) {
  auto parsed = parse_scram_client_final(message);
  if (!parsed.ok()) return fail(std::move(parsed).error(), "invalid-encoding");
  const ScramClientFinal& fin = parsed.value();
  if (fin.channel_binding != base64_encode(first_.gs2_header)) {
    return fail(Error::invalid_argument("SCRAM client-final message: channel binding does not match the gs2 "
                                        "header of client-first"),
                "channel-bindings-dont-match");
  }
  // Kafka's rule (ScramSaslServer: the final nonce must end with the server-first nonce), not RFC 5802's
  // equality: librdkafka (through 2.x) sends its client nonce again in front of the server-first nonce.
  const bool nonce_ok = fin.nonce.size() >= nonce_.size() &&
                        fin.nonce.compare(fin.nonce.size() - nonce_.size(), nonce_.size(), nonce_) == 0;
  if (!nonce_ok) {
    return fail(Error::invalid_argument("SCRAM client-final message: nonce does not match server-first"),
                "other-error");
  }
  const EVP_MD* md = scram_digest(mechanism_);
  std::string auth_message = first_.client_first_bare + "," + server_first_ + "," + fin.without_proof;
  std::string signature = scram_hmac(md, credential_.stored_key, auth_message);
  bool ok = fin.proof.size() == signature.size() && known_user_;
  if (fin.proof.size() == signature.size()) {
    std::string client_key = fin.proof;
    for (size_t i = 0; i < client_key.size(); ++i) client_key[i] ^= signature[i];
    std::string computed = scram_hash(md, client_key);
    OPENSSL_cleanse(client_key.data(), client_key.size());
    ok = CRYPTO_memcmp(computed.data(), credential_.stored_key.data(), computed.size()) == 0 &&
         computed.size() == credential_.stored_key.size() && known_user_;
  }
  if (!ok) return fail(Error{ErrorCode::kPermissionDenied, kInvalidCredentials}, "invalid-proof");
  username_ = first_.username;
  state_ = State::kComplete;
  return "v=" + base64_encode(scram_server_signature(md, credential_.server_key, auth_message));
}

// ---- ScramClient

ScramClient::ScramClient(ScramMechanism mechanism, std::string username, std::string password,
                         std::string client_nonce)
    : mechanism_(mechanism),
      username_(std::move(username)),
      password_(std::move(password)),
      client_nonce_(client_nonce.empty() ? scram_random_nonce() : std::move(client_nonce)) {}

ScramClient::~ScramClient() { OPENSSL_cleanse(password_.data(), password_.size()); }

std::string ScramClient::client_first() {
  client_first_bare_ = "n=" + saslname_escape(username_) + ",r=" + client_nonce_;
  step_ = 1;
  return "n,," + client_first_bare_;
}

Result<std::string> ScramClient::client_final(std::string_view server_first) {
  if (step_ != 1) return Error::invalid_argument("SCRAM client: client_final() before client_first()");
  step_ = 2;
  if (server_first.substr(0, 2) == "e=") {
    return Error{ErrorCode::kPermissionDenied,
                 "SCRAM server refused the client-first message: " + std::string(server_first.substr(2))};
  }
  auto attrs = split_attributes(server_first);
  if (!attrs || attrs->size() < 3 || (*attrs)[0].key != 'r' || (*attrs)[1].key != 's' || (*attrs)[2].key != 'i') {
    return Error::invalid_argument("SCRAM server-first message: expected \"r=<nonce>,s=<salt>,i=<iterations>\"");
  }
  std::string_view nonce = (*attrs)[0].value;
  if (!valid_nonce(nonce) || nonce.size() <= client_nonce_.size() ||
      nonce.substr(0, client_nonce_.size()) != client_nonce_) {
    return Error::invalid_argument("SCRAM server-first message: nonce does not extend the client nonce");
  }
  auto salt = base64_decode((*attrs)[1].value);
  if (!salt || salt->empty()) return Error::invalid_argument("SCRAM server-first message: salt is not valid base64");
  int iterations = 0;
  std::string_view it = (*attrs)[2].value;
  auto [ptr, ec] = std::from_chars(it.data(), it.data() + it.size(), iterations);
  if (ec != std::errc() || ptr != it.data() + it.size()) {
    return Error::invalid_argument("SCRAM server-first message: iterations is not a number");
  }
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations) {
    return Error::invalid_argument("SCRAM server-first message: iterations " + std::to_string(iterations) +
                                   " outside [" + std::to_string(kScramMinIterations) + ", " +
                                   std::to_string(kScramMaxIterations) + "]");
  }
  const EVP_MD* md = scram_digest(mechanism_);
  std::string salted = scram_salted_password(md, password_, *salt, iterations);
  OPENSSL_cleanse(password_.data(), password_.size());
  password_.clear();
  std::string without_proof = "c=" + base64_encode("n,,") + ",r=" + std::string(nonce);
  std::string auth_message = client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  std::string client_key = scram_client_key(md, salted);
  std::string proof = scram_client_proof(md, client_key, auth_message);
  expected_server_signature_ = scram_server_signature(md, scram_server_key(md, salted), auth_message);
  OPENSSL_cleanse(salted.data(), salted.size());
  OPENSSL_cleanse(client_key.data(), client_key.size());
  return without_proof + ",p=" + base64_encode(proof);
}

Status ScramClient::verify_server_final(std::string_view server_final) {
  if (step_ != 2 || expected_server_signature_.empty()) {
    return Error::invalid_argument("SCRAM client: verify_server_final() before client_final()");
  }
  step_ = 3;
  if (server_final.substr(0, 2) == "e=") {
    return Error{ErrorCode::kPermissionDenied,
                 "SCRAM authentication failed: " + std::string(server_final.substr(2))};
  }
  if (server_final.substr(0, 2) != "v=") {
    return Error::invalid_argument("SCRAM server-final message: expected \"v=<signature>\" or \"e=<error>\"");
  }
  auto signature = base64_decode(server_final.substr(2));
  if (!signature || signature->size() != expected_server_signature_.size() ||
      CRYPTO_memcmp(signature->data(), expected_server_signature_.data(), signature->size()) != 0) {
    return Error{ErrorCode::kPermissionDenied,
                 "SCRAM server signature does not match: the server does not know this user's credentials"};
  }
  return ok_status();
}

}  // namespace streamctl::security
