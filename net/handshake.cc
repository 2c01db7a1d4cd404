#include "net/handshake.h"

#include <algorithm>
#include <memory>

#include "net/tls.h"

namespace streamctl::net {

void async_server_handshake(TlsStream& stream, const asio::any_io_executor& serial, std::chrono::milliseconds timeout,
                            std::function<void(asio::error_code, std::string)> done) {
  struct State {
    explicit State(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool timed_out = false;
    bool finished = false;
  };
  // Both the deadline and the handshake's completion run on `serial`: once the handshake finished (and the
  // stream may be destroyed by its owner), a deadline that fired concurrently sees `finished` and leaves the
  // stream alone.
  auto state = std::make_shared<State>(serial);
  state->timer.expires_after(timeout);
  state->timer.async_wait([state, &stream](asio::error_code ec) {
    if (ec || state->finished) return;
    state->timed_out = true;
    asio::error_code ignored;
    stream.lowest_layer().close(ignored);  // aborts the pending handshake
  });
  stream.async_handshake(asio::ssl::stream_base::server,
                         asio::bind_executor(serial, [state, &stream, done = std::move(done)](asio::error_code ec) {
                           state->finished = true;
                           state->timer.cancel();
                           if (state->timed_out) {
                             done(asio::error::timed_out, {});
                             return;
                           }
                           if (ec) {
                             done(ec, {});
                             return;
                           }
                           auto principal = tls_peer_principal(stream.native_handle());
                           done({}, principal.ok() ? principal.value() : std::string());
                         }));
}

bool LogRateLimiter::allow(std::chrono::steady_clock::time_point now) {
  if (started_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    if (elapsed > 0) tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  }
  started_ = true;
  last_ = now;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  ++suppressed_;
  return false;
}

uint64_t LogRateLimiter::take_suppressed() {
  uint64_t n = suppressed_;
  suppressed_ = 0;
  return n;
}

}  // namespace streamctl::net
