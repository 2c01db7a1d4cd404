// TLS for listeners and clients: asio::ssl::context built from PEM files, TLS 1.2 minimum.
//
// Server: --tls-cert (certificate chain, leaf first), --tls-key (its private key), --tls-ca (optional). With a
// CA, client certificates are required and verified against it (mTLS); the client's principal is then
// "User:" + its subject in RFC 2253 form (tls_peer_principal). Without a CA, clients are not asked for one.
// Client: the CA to verify the server with (ssl.ca.location), optionally its own certificate and key
// (ssl.certificate.location / ssl.key.location) for mTLS; the server name is checked against the certificate
// (SAN DNS or IP) when verify_host is given.
//
// Reload (SIGHUP): ServerTlsContext::reload() builds a new context from the same files; on success new
// connections use it, existing ones keep the context they were accepted with (shared_ptr); on failure the
// old context stays in use and the error is returned for the log.
//
// Every error names the file and what is wrong with it (missing, unreadable, not PEM, key not matching).
// Thread-safety: ServerTlsContext is thread-safe (current() and reload() from any thread).
#pragma once

// asio is configured by the build (ASIO_STANDALONE ASIO_NO_DEPRECATED ASIO_DISABLE_STD_ALIGNED_ALLOC).
#include <asio/ssl.hpp>

#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"

namespace streamctl::net {

struct TlsServerFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // empty: no client certificates requested
};

struct TlsClientFiles {
  std::string ca_file;    // empty: the system's default trust store
  std::string cert_file;  // both or neither of cert_file / key_file
  std::string key_file;
  std::string verify_host;  // empty: no host name check (certificate chain still verified)
};

Result<std::shared_ptr<asio::ssl::context>> make_server_tls_context(const TlsServerFiles& files);
Result<std::shared_ptr<asio::ssl::context>> make_client_tls_context(const TlsClientFiles& files);

// Sets up `ssl` (a client connection) to check the server certificate's host name or IP against `host`,
// and to send it as SNI. Call before the handshake.
Status set_client_server_name(SSL* ssl, const std::string& host);

// "User:<subject>" of the verified peer certificate; kNotFound when the peer sent none.
Result<std::string> tls_peer_principal(SSL* ssl);

// The server's current context and its reload.
class ServerTlsContext {
 public:
  static Result<std::unique_ptr<ServerTlsContext>> create(TlsServerFiles files);
  std::shared_ptr<asio::ssl::context> current() const;
  // Rebuilds from the files; the old context stays on failure.
  Status reload();
  const TlsServerFiles& files() const { return files_; }

 private:
  explicit ServerTlsContext(TlsServerFiles files) : files_(std::move(files)) {}
  TlsServerFiles files_;
  mutable std::mutex mu_;
  std::shared_ptr<asio::ssl::context> current_;  // GUARDED_BY(mu_)
};

}  // namespace streamctl::net
