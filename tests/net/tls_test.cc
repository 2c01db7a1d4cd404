// Real TLS handshakes on 127.0.0.1 between an asio server and client in one io_context, with certificates
// made by the openssl CLI into a temporary directory.
#include "net/tls.h"

#include "net/handshake.h"

#include <doctest/doctest.h>
#include <openssl/ssl.h>

#include <asio.hpp>
#include <chrono>
#include <vector>
#include <thread>
#include <future>
#include <atomic>
#include <cstdlib>
#include <fstream>

#include "tests/support/temp_dir.h"

using namespace streamctl::net;
using asio::ip::tcp;
using streamctl::test::TempDir;

namespace {

void sh(const std::string& dir, const std::string& cmd) {
  std::string full = "cd '" + dir + "' && (" + cmd + ") >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(full.c_str()) == 0, full);
}

// ca.pem, server.{pem,key} (SAN 127.0.0.1), client.{pem,key} (CN=client,OU=apps), and a rogue CA with its own
// client certificate, rogue-client.{pem,key}.
struct Pki {
  TempDir dir{"streamctl-tls"};
  Pki() {
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    sh(dir.path(), "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext");
    for (std::string ca : {"ca", "rogue-ca"}) {
      sh(dir.path(), "openssl req -x509 " + key + " -keyout " + ca + ".key -out " + ca + ".pem -subj /CN=" + ca +
                         " -days 2");
    }
    auto leaf = [&](const std::string& name, const std::string& subject, const std::string& ca, const std::string& ext) {
      sh(dir.path(), "openssl req " + key + " -keyout " + name + ".key -out " + name + ".csr -subj " + subject);
      sh(dir.path(), "openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
                         ".key -set_serial 0x" + std::to_string(std::rand() % 100000 + 1) + " -days 2 -out " + name +
                         ".pem" + ext);
    };
    leaf("server", "/CN=localhost", "ca", " -extfile server.ext");
    leaf("server2", "/CN=reloaded", "ca", " -extfile server.ext");
    leaf("client", "/O=Example/OU=apps/CN=client", "ca", "");
    leaf("rogue-client", "/CN=client", "rogue-ca", "");
  }
  std::string operator()(const std::string& name) const { return dir.join(name); }
};

const Pki& pki() {
  static const Pki p;
  return p;
}

struct Outcome {
  asio::error_code server;
  asio::error_code client_handshake;
  asio::error_code client_read;
  std::string principal;
  bool server_done = false;
};

// Server: accept, handshake, on success write "x" and read the peer principal. Client: handshake, read 1 byte.
Outcome handshake(asio::ssl::context& server_ctx, asio::ssl::context& client_ctx, const std::string& verify_host) {
  Outcome out;
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ssl::stream<tcp::socket> server(io, server_ctx), client(io, client_ctx);
  if (!verify_host.empty()) REQUIRE(set_client_server_name(client.native_handle(), verify_host).ok());
  char byte = 0;
  acceptor.async_accept(server.lowest_layer(), [&](asio::error_code ec) {
    REQUIRE_FALSE(ec);
    server.async_handshake(asio::ssl::stream_base::server, [&](asio::error_code hec) {
      out.server = hec;
      out.server_done = true;
      if (hec) {
        server.lowest_layer().close();
        return;
      }
      if (auto p = tls_peer_principal(server.native_handle()); p.ok()) out.principal = p.value();
      asio::async_write(server, asio::buffer("x", 1), [](asio::error_code, size_t) {});
    });
  });
  client.lowest_layer().async_connect(acceptor.local_endpoint(), [&](asio::error_code ec) {
    REQUIRE_FALSE(ec);
    client.async_handshake(asio::ssl::stream_base::client, [&](asio::error_code hec) {
      out.client_handshake = hec;
      if (hec) return;
      asio::async_read(client, asio::buffer(&byte, 1), [&](asio::error_code rec, size_t) { out.client_read = rec; });
    });
  });
  io.run_for(std::chrono::seconds(20));
  CHECK(out.server_done);
  return out;
}

std::shared_ptr<asio::ssl::context> server_ctx(bool mtls) {
  auto ctx = make_server_tls_context({pki()("server.pem"), pki()("server.key"), mtls ? pki()("ca.pem") : ""});
  REQUIRE_MESSAGE(ctx.ok(), ctx.error().to_string());
  return ctx.value();
}

std::shared_ptr<asio::ssl::context> client_ctx(const std::string& ca, const std::string& cert = "") {
  auto ctx = make_client_tls_context({pki()(ca), cert.empty() ? "" : pki()(cert + ".pem"),
                                      cert.empty() ? "" : pki()(cert + ".key"), ""});
  REQUIRE_MESSAGE(ctx.ok(), ctx.error().to_string());
  return ctx.value();
}

}  // namespace

TEST_CASE("TlsHandshakeSucceedsWithoutClientCertificates") {
  auto out = handshake(*server_ctx(false), *client_ctx("ca.pem"), "127.0.0.1");
  CHECK_FALSE(out.server);
  CHECK_FALSE(out.client_handshake);
  CHECK_FALSE(out.client_read);
  CHECK(out.principal.empty());  // no client certificate: principal comes from SASL
}

TEST_CASE("MutualTlsGivesThePrincipalFromTheSubject") {
  auto out = handshake(*server_ctx(true), *client_ctx("ca.pem", "client"), "127.0.0.1");
  CHECK_FALSE(out.server);
  CHECK_FALSE(out.client_read);
  CHECK(out.principal == "User:CN=client,OU=apps,O=Example");
}

TEST_CASE("MutualTlsRejectsAClientWithoutCertificate") {
  auto out = handshake(*server_ctx(true), *client_ctx("ca.pem"), "");
  CHECK(out.server);
  CHECK((out.client_handshake || out.client_read));  // TLS 1.3: the client learns at its first read
}

TEST_CASE("MutualTlsRejectsACertificateFromAnotherCa") {
  auto out = handshake(*server_ctx(true), *client_ctx("ca.pem", "rogue-client"), "");
  CHECK(out.server);
  CHECK((out.client_handshake || out.client_read));
}

TEST_CASE("ClientRejectsAServerItCannotVerify") {
  auto wrong_ca = handshake(*server_ctx(false), *client_ctx("rogue-ca.pem"), "");
  CHECK(wrong_ca.client_handshake);
  CHECK(wrong_ca.server);
  auto wrong_host = handshake(*server_ctx(false), *client_ctx("ca.pem"), "10.9.9.9");
  CHECK(wrong_host.client_handshake);
}

TEST_CASE("PlaintextBytesToATlsPortFailTheHandshakeCleanly") {
  auto ctx = server_ctx(false);
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ssl::stream<tcp::socket> server(io, *ctx);
  tcp::socket client(io);
  asio::error_code server_ec;
  bool done = false;
  acceptor.async_accept(server.lowest_layer(), [&](asio::error_code ec) {
    REQUIRE_FALSE(ec);
    server.async_handshake(asio::ssl::stream_base::server, [&](asio::error_code hec) {
      server_ec = hec;
      done = true;
      server.lowest_layer().close();
    });
  });
  // A Kafka ApiVersions v0 request sent in the clear.
  static const unsigned char request[] = {0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 1, 0, 4, 'k', 'c', 'a', 't'};
  client.async_connect(acceptor.local_endpoint(), [&](asio::error_code ec) {
    REQUIRE_FALSE(ec);
    asio::async_write(client, asio::buffer(request), [](asio::error_code, size_t) {});
  });
  io.run_for(std::chrono::seconds(20));
  REQUIRE(done);
  CHECK(server_ec);
  CHECK(server_ec.category() == asio::error::get_ssl_category());
}

TEST_CASE("ConfigurationErrorsNameTheFile") {
  const std::string missing = pki()("missing.pem");
  auto r = make_server_tls_context({missing, pki()("server.key"), ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(missing) != std::string::npos);
  CHECK(r.error().message.find("No such file") != std::string::npos);
  auto garbage = make_server_tls_context({pki()("server.ext"), pki()("server.key"), ""});
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().message.find("server.ext' is not a PEM certificate chain") != std::string::npos);
  auto mismatch = make_server_tls_context({pki()("server.pem"), pki()("client.key"), ""});
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().message.find("does not match the certificate") != std::string::npos);
  auto bad_ca = make_server_tls_context({pki()("server.pem"), pki()("server.key"), pki()("server.ext")});
  REQUIRE_FALSE(bad_ca.ok());
  CHECK(bad_ca.error().message.find("TLS CA file") != std::string::npos);
  auto half = make_client_tls_context({pki()("ca.pem"), pki()("client.pem"), "", ""});
  CHECK_FALSE(half.ok());
  CHECK(server_ctx(false) != nullptr);
}

TEST_CASE("ReloadSwapsTheContextAndKeepsTheOldOneOnFailure") {
  TempDir dir;
  auto copy = [&](const std::string& from, const std::string& to) {
    sh(dir.path(), "cp '" + pki()(from) + "' '" + dir.join(to) + "'");
  };
  copy("server.pem", "cert.pem");
  copy("server.key", "key.pem");
  auto holder = ServerTlsContext::create({dir.join("cert.pem"), dir.join("key.pem"), ""});
  REQUIRE(holder.ok());
  auto subject = [](const std::shared_ptr<asio::ssl::context>& ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
    char buf[256];
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
    return std::string(buf);
  };
  auto before = holder.value()->current();
  CHECK(subject(before) == "/CN=localhost");
  copy("server2.pem", "cert.pem");
  copy("server2.key", "key.pem");
  REQUIRE(holder.value()->reload().ok());
  auto after = holder.value()->current();
  CHECK(subject(after) == "/CN=reloaded");
  CHECK(subject(before) == "/CN=localhost");  // connections accepted earlier keep their context
  copy("client.key", "key.pem");              // now mismatched
  auto st = holder.value()->reload();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find(dir.join("key.pem")) != std::string::npos);
  CHECK(holder.value()->current() == after);
  // The reloaded context serves real handshakes.
  auto out = handshake(*after, *client_ctx("ca.pem"), "127.0.0.1");
  CHECK_FALSE(out.client_read);
}

namespace {

struct DeadlineOutcome {
  asio::error_code ec;
  std::string principal;
  bool done = false;
  std::chrono::steady_clock::duration took{};
};

// Accepts one connection and runs async_server_handshake on it with `timeout`; `client` drives the peer.
void accept_with_deadline(asio::io_context& io, tcp::acceptor& acceptor, asio::ssl::context& ctx,
                          std::unique_ptr<TlsStream>& server, std::chrono::milliseconds timeout, DeadlineOutcome& out) {
  server = std::make_unique<TlsStream>(io, ctx);
  auto start = std::chrono::steady_clock::now();
  acceptor.async_accept(server->lowest_layer(), [&, timeout, start](asio::error_code ec) {
    REQUIRE_FALSE(ec);
    async_server_handshake(*server, io.get_executor(), timeout, [&, start](asio::error_code hec, std::string principal) {
      REQUIRE_FALSE(out.done);  // exactly once
      out.done = true;
      out.ec = hec;
      out.principal = std::move(principal);
      out.took = std::chrono::steady_clock::now() - start;
    });
  });
}

}  // namespace

namespace {

// A raw TCP client that connects to a deadline-guarded TLS server, sends `bytes` and then stays silent.
DeadlineOutcome raw_client_against_deadline(asio::ssl::context& ctx, std::chrono::milliseconds timeout,
                                            std::string bytes, bool* server_socket_open = nullptr) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::unique_ptr<TlsStream> server;
  DeadlineOutcome out;
  accept_with_deadline(io, acceptor, ctx, server, timeout, out);
  tcp::socket client(io);
  client.async_connect(acceptor.local_endpoint(), [&](asio::error_code ec) {
    REQUIRE_FALSE(ec);
    if (!bytes.empty()) asio::async_write(client, asio::buffer(bytes), [](asio::error_code, size_t) {});
  });
  io.run_for(std::chrono::seconds(10));
  REQUIRE(out.done);
  if (server_socket_open) *server_socket_open = server->lowest_layer().is_open();
  return out;
}

}  // namespace

TEST_CASE("HandshakeThatNeverStartsOrStallsEndsInTimedOut") {
  auto ctx = server_ctx(true);
  // Nothing at all, then half a TLS record header.
  for (std::string sent : {std::string(), std::string("\x16\x03\x01\x02\x00", 5)}) {
    CAPTURE(sent.size());
    bool open = true;
    auto out = raw_client_against_deadline(*ctx, std::chrono::milliseconds(200), sent, &open);
    CHECK(out.ec == asio::error::timed_out);
    CHECK(out.took >= std::chrono::milliseconds(200));
    CHECK_FALSE(open);
  }
}

TEST_CASE("HandshakeWithDeadlineGivesPrincipalAndStalledPeersDoNotDelayOthers") {
  auto ctx = server_ctx(true);
  auto cctx = client_ctx("ca.pem", "client");
  asio::io_context io;
  tcp::acceptor stalled_acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::acceptor good_acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::unique_ptr<TlsStream> stalled_server, good_server;
  DeadlineOutcome stalled, good;
  accept_with_deadline(io, stalled_acceptor, *ctx, stalled_server, std::chrono::milliseconds(1500), stalled);
  accept_with_deadline(io, good_acceptor, *ctx, good_server, std::chrono::milliseconds(1500), good);
  tcp::socket idle(io);
  idle.async_connect(stalled_acceptor.local_endpoint(), [](asio::error_code ec) { REQUIRE_FALSE(ec); });
  TlsStream client(io, *cctx);
  client.lowest_layer().async_connect(good_acceptor.local_endpoint(), [&](asio::error_code ec) {
    REQUIRE_FALSE(ec);
    client.async_handshake(asio::ssl::stream_base::client, [](asio::error_code) {});
  });
  io.run_for(std::chrono::seconds(10));
  REQUIRE(good.done);
  CHECK_FALSE(good.ec);
  CHECK(good.principal == "User:CN=client,OU=apps,O=Example");
  CHECK(good.took < std::chrono::milliseconds(1500));
  REQUIRE(stalled.done);
  CHECK(stalled.ec == asio::error::timed_out);
}

// The deadline and the handshake's completion race on a multi-threaded io_context; the owner destroys the
// stream as soon as `done` ran (as a connection that fails its handshake does). A deadline that fires on
// another thread must not touch the destroyed stream (ASan: heap-use-after-free, seen in CI on SIGHUP).
TEST_CASE("HandshakeDeadlineRacingCompletionOnManyThreadsNeverTouchesADestroyedStream") {
  auto ctx = server_ctx(false);
  auto cctx = client_ctx("ca.pem", "");
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back([&io] { io.run(); });
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::atomic<int> finished{0};
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    // Deadlines around the handshake's own duration, so both orders happen.
    auto timeout = std::chrono::milliseconds(round % 6);
    std::promise<void> accepted;
    auto server = std::make_shared<std::unique_ptr<TlsStream>>(std::make_unique<TlsStream>(io, *ctx));
    auto strand = asio::make_strand(io);
    acceptor.async_accept((*server)->lowest_layer(), [&, server, strand, timeout](asio::error_code ec) {
      REQUIRE_FALSE(ec);
      asio::dispatch(strand, [&, server, strand, timeout] {
        async_server_handshake(**server, strand, timeout, [&, server](asio::error_code, std::string) {
          server->reset();  // the owner goes away at once
          ++finished;
        });
      });
      accepted.set_value();
    });
    TlsStream client(io, *cctx);
    asio::error_code ec;
    client.lowest_layer().connect(acceptor.local_endpoint(), ec);
    REQUIRE_FALSE(ec);
    accepted.get_future().wait();
    client.handshake(asio::ssl::stream_base::client, ec);  // may fail: the server may have timed out
  }
  for (int i = 0; i < 500 && finished.load() < kRounds; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  guard.reset();
  io.stop();
  for (auto& t : threads) t.join();
  CHECK(finished.load() == kRounds);
}

TEST_CASE("HandshakeWithDeadlineReportsPlaintextAsATlsError") {
  auto out = raw_client_against_deadline(*server_ctx(false), std::chrono::milliseconds(5000), "GET / HTTP/1.0\r\n\r\n");
  CHECK(out.ec);
  CHECK(out.ec != asio::error::timed_out);
  CHECK(out.took < std::chrono::milliseconds(5000));
}
