#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>

#include "security/principal.h"

namespace streamctl::net {


namespace {

// The queued OpenSSL errors as one line (and clears the queue).
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status check_readable(const std::string& what, const std::string& path) {
  if (path.empty()) return Error::invalid_argument(what + " is not given");
  if (::access(path.c_str(), R_OK) != 0) {
    return Error::from_errno(errno, what + " '" + path + "'");
  }
  return ok_status();
}

void set_common_options(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
}

Status load_cert_and_key(SSL_CTX* ctx, const std::string& cert, const std::string& key) {
  STREAMCTL_TRY(check_readable("TLS certificate file", cert));
  STREAMCTL_TRY(check_readable("TLS key file", key));
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return Error::invalid_argument("TLS certificate file '" + cert + "' is not a PEM certificate chain: " +
                                   openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL checks the key against the loaded certificate here already.
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return Error::invalid_argument("TLS key file '" + key + "' does not match the certificate in '" + cert +
                                     "': " + openssl_errors());
    }
    return Error::invalid_argument("TLS key file '" + key + "' is not an unencrypted PEM private key: " +
                                   openssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Error::invalid_argument("TLS key file '" + key + "' does not match the certificate in '" + cert +
                                   "': " + openssl_errors());
  }
  return ok_status();
}

Status load_ca(SSL_CTX* ctx, const std::string& ca) {
  STREAMCTL_TRY(check_readable("TLS CA file", ca));
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
    return Error::invalid_argument("TLS CA file '" + ca + "' holds no PEM certificate: " + openssl_errors());
  }
  return ok_status();
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> make_server_tls_context(const TlsServerFiles& files) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  set_common_options(native);
  STREAMCTL_TRY(load_cert_and_key(native, files.cert_file, files.key_file));
  if (!files.ca_file.empty()) {
    STREAMCTL_TRY(load_ca(native, files.ca_file));
    // The CA names sent in the CertificateRequest, so clients pick the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca_file.c_str());
    if (names == nullptr) {
      return Error::invalid_argument("TLS CA file '" + files.ca_file + "' holds no usable CA name: " +
                                     openssl_errors());
    }
    SSL_CTX_set_client_CA_list(native, names);
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

Result<std::shared_ptr<asio::ssl::context>> make_client_tls_context(const TlsClientFiles& files) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  set_common_options(native);
  if (files.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(native) != 1) {
      return Error::invalid_argument("cannot load the system's default CA certificates: " + openssl_errors());
    }
  } else {
    STREAMCTL_TRY(load_ca(native, files.ca_file));
  }
  if (files.cert_file.empty() != files.key_file.empty()) {
    return Error::invalid_argument("a TLS client certificate needs both a certificate file and a key file");
  }
  if (!files.cert_file.empty()) STREAMCTL_TRY(load_cert_and_key(native, files.cert_file, files.key_file));
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  return ctx;
}

Status set_client_server_name(SSL* ssl, const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  bool is_ip = inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (ok != 1) return Error::invalid_argument("cannot verify TLS server name '" + host + "': " + openssl_errors());
  if (!is_ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return Error::invalid_argument("cannot set TLS SNI '" + host + "': " + openssl_errors());
  }
  return ok_status();
}

Result<std::string> tls_peer_principal(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return Error::not_found("the TLS peer sent no certificate");
  auto principal = security::principal_from_certificate(cert);
  X509_free(cert);
  return principal;
}

Result<std::unique_ptr<ServerTlsContext>> ServerTlsContext::create(TlsServerFiles files) {
  std::unique_ptr<ServerTlsContext> out(new ServerTlsContext(std::move(files)));
  STREAMCTL_TRY(out->reload());
  return out;
}

std::shared_ptr<asio::ssl::context> ServerTlsContext::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

Status ServerTlsContext::reload() {
  STREAMCTL_ASSIGN_OR_RETURN(auto ctx, make_server_tls_context(files_));
  std::lock_guard lock(mu_);
  current_ = std::move(ctx);
  return ok_status();
}

}  // namespace streamctl::net
