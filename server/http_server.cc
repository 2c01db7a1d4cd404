#include "server/http_server.h"

#include <chrono>
#include <memory>

#include "base/logging.h"

namespace streamctl::server {

namespace {

constexpr size_t kMaxHead = 8192;

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Handler handler)
    : io_(io), acceptor_(io), handler_(std::move(handler)) {}

asio::error_code HttpServer::listen(const asio::ip::tcp::endpoint& endpoint) {
  asio::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return ec;
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return ec;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return {};
}

uint16_t HttpServer::port() const {
  asio::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::stop() {
  asio::post(io_, [this]() {
    asio::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> HttpServer::accept_loop() {
  for (;;) {
    asio::error_code ec;
    asio::ip::tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      log_warn("http accept failed").kv("error", ec.message());
      continue;
    }
    // A strand: the deadline timer and the coroutine never run at the same time.
    asio::co_spawn(asio::make_strand(io_), serve(std::move(socket), handler_), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serve(asio::ip::tcp::socket socket, Handler handler) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer deadline(executor);
  deadline.expires_after(std::chrono::seconds(5));
  deadline.async_wait([&socket](asio::error_code ec) {
    if (!ec) {
      asio::error_code ignored;
      socket.close(ignored);
    }
  });
  std::string head;
  asio::error_code ec;
  co_await asio::async_read_until(socket, asio::dynamic_buffer(head, kMaxHead), "\r\n\r\n",
                                  asio::redirect_error(asio::use_awaitable, ec));
  HttpResponse resp;
  std::string method, path;
  if (ec) {
    if (head.size() < kMaxHead) {
      deadline.cancel();
      co_return;  // client went away or timed out
    }
    resp.status = 400;
    resp.body = "request head too large\n";
  } else {
    size_t sp1 = head.find(' ');
    size_t sp2 = sp1 == std::string::npos ? std::string::npos : head.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
      resp.status = 400;
      resp.body = "bad request line\n";
    } else {
      method = head.substr(0, sp1);
      path = head.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t q = path.find('?');
      if (q != std::string::npos) path.resize(q);
      resp = handler(method, path);
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + reason_phrase(resp.status) +
                    "\r\nContent-Type: " + resp.content_type + "\r\nContent-Length: " +
                    std::to_string(method == "HEAD" ? 0 : resp.body.size()) + "\r\nConnection: close\r\n\r\n";
  if (method != "HEAD") out += resp.body;
  co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
  asio::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace streamctl::server
