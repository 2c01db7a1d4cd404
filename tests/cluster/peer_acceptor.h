// PeerAcceptor: the smallest inbound side of KafkaPeerTransport for tests (the server's role): listens on
// 127.0.0.1, reads size-prefixed request frames on every connection, hands each to the target transport's
// handle_request and writes the response frames it gets back, in whatever order they come. A request the
// transport refuses closes its connection. close() closes the listener and every connection (a killed node);
// a respond arriving after that is ignored. Its own I/O thread; thread-safe.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/kafka_peer_transport.h"
#include "kafka/protocol/header.h"

namespace streamctl::test {

class PeerAcceptor {
 public:
  // Listens on 127.0.0.1:port (0: an ephemeral port).
  explicit PeerAcceptor(uint16_t port = 0) : state_(std::make_shared<State>()) {
    using asio::ip::tcp;
    tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(at.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    state_->io = &io_;
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~PeerAcceptor() { close(); }

  uint16_t port() const { return port_; }
  // Where requests go (nullptr: connections are closed on their first request).
  void set_target(cluster::KafkaPeerTransport* target) {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->target = target;
  }
  void close() {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (!state_->open) return;
      state_->open = false;
      state_->target = nullptr;
    }
    asio::post(io_, [this] {
      std::error_code ignored;
      acceptor_.close(ignored);
      for (const auto& c : connections_) c->socket.close(ignored);
      connections_.clear();
      work_.reset();
    });
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct State {
    std::mutex mu;
    bool open = true;
    asio::io_context* io = nullptr;
    cluster::KafkaPeerTransport* target = nullptr;
  };
  struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::byte size[4]{};
    Bytes frame;
    std::deque<Bytes> out;
    uint64_t id = 0;
  };

  void accept() {
    auto c = std::make_shared<Connection>(io_);
    acceptor_.async_accept(c->socket, [this, c](std::error_code ec) {
      if (ec) return;
      c->id = ++next_id_;
      connections_.insert(c);
      read(c);
      accept();
    });
  }
  void drop(const std::shared_ptr<Connection>& c) {
    std::error_code ignored;
    c->socket.close(ignored);
    connections_.erase(c);
  }
  void read(std::shared_ptr<Connection> c) {
    asio::async_read(c->socket, asio::buffer(c->size), [this, c](std::error_code ec, size_t) {
      if (ec) return drop(c);
      const int32_t n = int32_t(get_be32(c->size));
      if (n < 8 || n > (64 << 20)) return drop(c);
      c->frame.resize(size_t(n));
      asio::async_read(c->socket, asio::buffer(c->frame), [this, c](std::error_code ec, size_t) {
        if (ec) return drop(c);
        size_t at = 0;
        auto header = kafka::protocol::decode_request_header(c->frame, &at);
        if (!header.ok()) return drop(c);
        std::weak_ptr<Connection> weak = c;
        auto respond = [state = state_, weak](Bytes frame) {
          std::lock_guard<std::mutex> lock(state->mu);
          if (!state->open) return;
          asio::post(*state->io, [weak, frame = std::move(frame)]() mutable {
            auto c = weak.lock();
            if (!c || !c->socket.is_open()) return;
            c->out.push_back(std::move(frame));
            if (c->out.size() == 1) write(c);
          });
        };
        Status st = ok_status();
        {
          std::lock_guard<std::mutex> lock(state_->mu);
          st = state_->target ? state_->target->handle_request(c->id, *header, ByteSpan(c->frame).subspan(at),
                                                               std::move(respond))
                              : Status(Error::invalid_argument("no transport"));
        }
        if (!st.ok()) return drop(c);
        read(c);
      });
    });
  }
  static void write(std::shared_ptr<Connection> c) {
    asio::async_write(c->socket, asio::buffer(c->out.front()), [c](std::error_code ec, size_t) {
      if (ec) {
        std::error_code ignored;
        c->socket.close(ignored);
        return;
      }
      c->out.pop_front();
      if (!c->out.empty()) write(c);
    });
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::ip::tcp::acceptor acceptor_{io_};
  std::shared_ptr<State> state_;
  std::set<std::shared_ptr<Connection>> connections_;
  uint64_t next_id_ = 0;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace streamctl::test
