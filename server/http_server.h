// HttpServer: a minimal HTTP/1.1 endpoint for operations (--http): GET /metrics (Prometheus text) and
// GET /health. One request per connection ("Connection: close"); the request head is limited to 8 KiB and
// 5 s, anything else gets 400/404/405. Not a general web server: no keep-alive, no bodies.
// Lifetime: owned by the Broker; stop() closes the acceptor. Thread-safety: runs on the broker's io
// threads; the page callback must be thread-safe.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <string>

namespace streamctl::server {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const std::string& method, const std::string& path)>;

  HttpServer(asio::io_context& io, Handler handler);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Error message names the address.
  asio::error_code listen(const asio::ip::tcp::endpoint& endpoint);
  uint16_t port() const;
  void stop();

 private:
  asio::awaitable<void> accept_loop();
  static asio::awaitable<void> serve(asio::ip::tcp::socket socket, Handler handler);

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
};

}  // namespace streamctl::server
