// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks them (KIP-84).
//
// Message grammar (RFC 5802 section 7), as exchanged inside SaslAuthenticate:
//   client-first  = gs2-header client-first-bare
//   gs2-header    = ("n" / "y") "," [ "a=" saslname ] ","      ("p=" channel binding is refused)
//   client-first-bare = "n=" saslname ",r=" c-nonce ["," extensions]
//   server-first  = "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" iterations
//   client-final  = "c=" base64(gs2-header) ",r=" nonce ["," extensions] ",p=" base64(ClientProof)
//   server-final  = "v=" base64(ServerSignature) / "e=" error-value
// saslname escapes ',' as "=2C" and '=' as "=3D"; any other '=' is malformed.
//
// Keys (H = SHA-256 / SHA-512, HMAC keyed by its first argument):
//   SaltedPassword = PBKDF2-HMAC-H(password, salt, iterations)
//   ClientKey = HMAC(SaltedPassword, "Client Key"),  StoredKey = H(ClientKey)
//   ServerKey = HMAC(SaltedPassword, "Server Key")
//   AuthMessage = client-first-bare "," server-first "," client-final-without-proof
//   ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage)
//   ServerSignature = HMAC(ServerKey, AuthMessage)
// Only {salt, iterations, StoredKey, ServerKey} are stored: a stolen store does not give the password nor let
// anyone log in as the user without a dictionary attack on PBKDF2.
//
// Thread-safety: the exchanges are thread-compatible (one per connection); free functions are thread-safe.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace streamctl::security {

enum class ScramMechanism { kSha256, kSha512 };

// Kafka's iteration bounds (ScramMechanism.minIterations / maxIterations) and its default.
inline constexpr int kScramMinIterations = 4096;
inline constexpr int kScramMaxIterations = 16384;
inline constexpr int kScramDefaultIterations = 4096;
// Upper bound on one SCRAM message (client-first, client-final); longer is malformed.
inline constexpr size_t kScramMaxMessageBytes = 4096;

// "SCRAM-SHA-256" / "SCRAM-SHA-512".
const char* scram_mechanism_name(ScramMechanism mechanism);
// The mechanism for its SASL name (exact, upper case), or std::nullopt.
std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name);
// Kafka's ScramMechanism type codes in AlterUserScramCredentials: 1 = SHA-256, 2 = SHA-512.
int8_t scram_mechanism_type(ScramMechanism mechanism);
std::optional<ScramMechanism> scram_mechanism_from_type(int8_t type);
const EVP_MD* scram_digest(ScramMechanism mechanism);

// What the server stores per user and mechanism. All byte strings are raw (not base64).
struct ScramCredential {
  std::string salt;
  int iterations = 0;
  std::string stored_key;
  std::string server_key;
};

// ---- Primitives (OpenSSL), exposed for tests against the RFC vectors (RFC 5802 uses SHA-1).
std::string scram_hmac(const EVP_MD* md, std::string_view key, std::string_view data);
std::string scram_hash(const EVP_MD* md, std::string_view data);
// PBKDF2-HMAC (RFC 8018) with the digest's output length.
std::string scram_salted_password(const EVP_MD* md, std::string_view password, std::string_view salt,
                                  int iterations);
std::string scram_client_key(const EVP_MD* md, std::string_view salted_password);
std::string scram_server_key(const EVP_MD* md, std::string_view salted_password);
// ClientKey XOR HMAC(StoredKey, auth_message).
std::string scram_client_proof(const EVP_MD* md, std::string_view client_key, std::string_view auth_message);
std::string scram_server_signature(const EVP_MD* md, std::string_view server_key, std::string_view auth_message);

// Standard base64 with padding (RFC 4648 section 4).
std::string base64_encode(std::string_view bytes);
// Strict decoding: length a multiple of 4, alphabet only, '=' only as the final one or two characters.
std::optional<std::string> base64_decode(std::string_view text);

// saslname escaping: ',' -> "=2C", '=' -> "=3D".
std::string saslname_escape(std::string_view name);
// The reverse; std::nullopt when an '=' is not followed by "2C" or "3D".
std::optional<std::string> saslname_unescape(std::string_view name);

// Derives the stored credential for `password` with the given salt. Fails (kInvalidArgument) when the
// iterations are outside [kScramMinIterations, kScramMaxIterations] or the password or salt is empty.
Result<ScramCredential> derive_scram_credential(ScramMechanism mechanism, std::string_view password,
                                                        std::string_view salt, int iterations);
// Same with a fresh 32-byte salt from RAND_bytes.
Result<ScramCredential> new_scram_credential(ScramMechanism mechanism, std::string_view password,
                                                     int iterations = kScramDefaultIterations);
// A printable nonce (base64 of `bytes` random bytes, no ',').
std::string scram_random_nonce(size_t bytes = 24);

// Looks up a user's credential for a mechanism; std::nullopt when the user has none.
using ScramCredentialLookup =
    std::function<std::optional<ScramCredential>(const std::string& user, ScramMechanism mechanism)>;

// A parsed client-first message.
struct ScramClientFirst {
  std::string gs2_header;         // e.g. "n,," (what c= must carry in base64)
  std::string authzid;            // unescaped, empty if absent
  std::string username;           // unescaped
  std::string nonce;
  std::string client_first_bare;  // "n=...,r=..." as received
  bool token_auth = false;        // extension tokenauth=true (delegation tokens; refused by the server)
};
// Parses a client-first message. Errors are kInvalidArgument and name the part that is wrong.
Result<ScramClientFirst> parse_scram_client_first(std::string_view message);

// A parsed client-final message.
struct ScramClientFinal {
  std::string channel_binding;   // base64 text of c=
  std::string nonce;
  std::string proof;             // raw bytes (decoded p=)
  std::string without_proof;     // "c=...,r=...[,ext]" as received
};
Result<ScramClientFinal> parse_scram_client_final(std::string_view message);

// The server side of one exchange. Two steps: client-first -> server-first, client-final -> server-final.
// An unknown user is not revealed: the exchange continues with a fake credential derived from a per-process
// secret and fails at the proof with the same message as a wrong password.
class ScramServer {
 public:
  // `server_nonce` is for tests (RFC vectors); empty means a random one per exchange.
  ScramServer(ScramMechanism mechanism, ScramCredentialLookup lookup, std::string server_nonce = {});

  // Feeds the next client message; returns the server's reply. After an error the exchange is failed and
  // every later call fails. Errors: kInvalidArgument for malformed messages, kPermissionDenied for a wrong
  // proof or unknown user ("Authentication failed: Invalid user credentials", Kafka's text), kNotSupported
  // for channel binding, delegation tokens or an authzid different from the username.
  Result<std::string> step(std::string_view client_message);

  bool complete() const { return state_ == State::kComplete; }
  bool failed() const { return state_ == State::kFailed; }
  // The authenticated username (valid once complete()).
  const std::string& username() const { return username_; }
  // RFC 5802 server-error value for the last failure ("invalid-proof", "invalid-encoding", ...), for
  // clients that want an "e=" server-final; empty when nothing failed.
  const std::string& rfc_error() const { return rfc_error_; }
  ScramMechanism mechanism() const { return mechanism_; }

 private:
  enum class State { kAwaitClientFirst, kAwaitClientFinal, kComplete, kFailed };
  Result<std::string> on_client_first(std::string_view message);
  Result<std::string> on_client_final(std::string_view message);
  Error fail(Error error, const char* rfc_error);

  ScramMechanism mechanism_;
  ScramCredentialLookup lookup_;
  std::string fixed_server_nonce_;
  State state_ = State::kAwaitClientFirst;
  ScramClientFirst first_;
  ScramCredential credential_;
  bool known_user_ = false;
  std::string server_first_;
  std::string nonce_;
  std::string username_;
  std::string rfc_error_;
};

// The client side of one exchange (used by the project's own Kafka client).
class ScramClient {
 public:
  // `client_nonce` is for tests; empty means random. The password is kept only until client_final().
  ScramClient(ScramMechanism mechanism, std::string username, std::string password,
              std::string client_nonce = {});
  ~ScramClient();

  // "n,,n=<user>,r=<nonce>".
  std::string client_first();
  // Checks server-first (nonce prefix, salt, iterations within Kafka's bounds) and returns client-final.
  Result<std::string> client_final(std::string_view server_first);
  // Checks server-final: "v=" must match the expected signature; "e=" is reported as the error.
  Status verify_server_final(std::string_view server_final);

 private:
  ScramMechanism mechanism_;
  std::string username_;
  std::string password_;
  std::string client_nonce_;
  std::string client_first_bare_;
  std::string expected_server_signature_;
  int step_ = 0;
};

}  // namespace streamctl::security
