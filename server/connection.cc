#include "server/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/logging.h"
#include "kafka/protocol/api_keys.h"
#include "kafka/protocol/frame.h"

namespace streamctl::server {

namespace {

constexpr size_t kInitialReadBuffer = 64 * 1024;
constexpr size_t kMinFrameSize = 8;  // api key + version + correlation id (+ client id length, v1+)

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// asio's default completion condition writes at most 64 KiB per sendmsg; let the kernel take more.
size_t kWholeWrite(const asio::error_code& ec, size_t) { return ec ? 0 : size_t(16) << 20; }

int64_t steady_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, uint64_t id, Dispatcher& dispatcher, ConnectionLimits limits,
                       ClosedFn on_closed)
    : strand_(asio::make_strand(socket.get_executor())),
      socket_(std::move(socket)),
      id_(id),
      dispatcher_(dispatcher),
      metrics_(*dispatcher.services().metrics),
      limits_(limits),
      on_closed_(std::move(on_closed)),
      resume_timer_(strand_),
      idle_timer_(strand_) {
  asio::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    peer_host_ = ep.address().to_string();
    peer_ = peer_host_ + ":" + std::to_string(ep.port());
  } else {
    peer_host_ = "unknown";
    peer_ = "unknown";
  }
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // write_pending() writes what the socket takes at once and leaves only the rest to async_write.
  socket_.non_blocking(true, ec);
  last_activity_ms_ = steady_ms();
}

Connection::~Connection() = default;  // admitted bytes were released by close_on_strand

void Connection::set_tls(std::shared_ptr<asio::ssl::context> context, SecurityAudit& audit,
                         int64_t handshake_timeout_ms) {
  tls_context_ = std::move(context);
  tls_ = std::make_unique<net::TlsStream>(std::move(socket_), *tls_context_);
  tls_audit_ = &audit;
  tls_handshake_timeout_ms_ = handshake_timeout_ms;
}

void Connection::start() {
  auto self = shared_from_this();
  if (!tls_) {
    start_reading();
    return;
  }
  asio::dispatch(strand_, [self]() {
    net::async_server_handshake(*self->tls_, self->strand_, std::chrono::milliseconds(self->tls_handshake_timeout_ms_),
                                [self](asio::error_code ec, std::string principal) {
                                  asio::dispatch(self->strand_, [self, ec, principal = std::move(principal)]() mutable {
                                    self->on_tls_handshake(ec, std::move(principal));
                                  });
                                });
  });
}

void Connection::on_tls_handshake(const asio::error_code& ec, std::string principal) {
  if (closed_) return;
  if (ec) {
    tls_audit_->tls_failure(peer_, ec == asio::error::timed_out ? std::string("no handshake within ") +
                                                                     std::to_string(tls_handshake_timeout_ms_) + " ms"
                                                               : ec.message());
    close_on_strand("TLS handshake failed: " + ec.message(), false);
    return;
  }
  tls_principal_ = std::move(principal);
  touch();
  start_reading();
}

void Connection::start_reading() {
  auto self = shared_from_this();
  asio::co_spawn(strand_, [self]() { return self->read_loop(); }, asio::detached);
  if (limits_.idle_timeout_ms > 0) {
    asio::co_spawn(strand_, [self]() { return self->idle_watchdog(); }, asio::detached);
  }
}

void Connection::refuse(kafka::protocol::ErrorCode error, std::string reason) {
  refusal_ = error;
  refusal_reason_ = std::move(reason);
}

void Connection::touch() { last_activity_ms_ = steady_ms(); }

bool Connection::backpressured() const {
  return pipeline_.size() >= limits_.max_inflight_requests || queued_bytes_ >= limits_.max_queued_response_bytes;
}

void Connection::wake_reader() {
  if (reader_waiting_ && !backpressured()) resume_timer_.cancel();
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  for (;;) {
    if (!process_frames()) co_return;
    if (closed_ || reading_stopped_) co_return;
    if (backpressured()) {
      // Wait until the writer has caught up, then handle frames already buffered before reading more.
      reader_waiting_ = true;
      resume_timer_.expires_at(asio::steady_timer::time_point::max());
      asio::error_code wait_ec;
      co_await resume_timer_.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
      reader_waiting_ = false;
      continue;
    }
    if (read_pos_ == read_end_) {
      read_pos_ = read_end_ = 0;
      asio::error_code ec;
      // (TLS: decrypted bytes may wait inside the stream while the socket has none: always read.)
      if (!tls_ && (rbuf_.empty() || socket_.available(ec) == 0)) {
        // Nothing buffered and nothing to read yet: wait for bytes without holding a buffer, so an idle
        // connection costs no read memory (and one that read a large request gives it back).
        ScratchBytes().swap(rbuf_);
        co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
        if (closed_) co_return;
        if (ec == asio::error::operation_aborted) {
          reading_stopped_ = true;
          if (pipeline_.empty() && !writing_) close_on_strand("shutdown", false);
          co_return;
        }
        // Other errors show up in the read below.
      }
      if (rbuf_.size() < kInitialReadBuffer) rbuf_.resize(kInitialReadBuffer);
    }
    // Make room: move unconsumed bytes to the front, then grow if a known frame needs more space.
    if (read_pos_ > 0) {
      std::memmove(rbuf_.data(), rbuf_.data() + read_pos_, read_end_ - read_pos_);
      read_end_ -= read_pos_;
      read_pos_ = 0;
    }
    if (read_end_ == rbuf_.size()) {
      // Full: the pending frame is larger than the buffer. It is read on only once the broker's request
      // budget admits its size; then the buffer grows by doubling, never past what the frame (already
      // checked against the limit) needs.
      size_t need = rbuf_.size() * 2;
      if (read_end_ >= 4) {
        const size_t frame = 4 + size_t(get_be32(rbuf_.data()));
        RequestBudget* budget = dispatcher_.services().request_budget;
        if (budget && admitted_ < frame) {
          std::weak_ptr<Connection> weak = weak_from_this();
          const bool admitted = budget->acquire_or_wait(frame - admitted_, [weak]() {
            if (auto c = weak.lock()) {
              asio::post(c->strand_, [c]() {
                if (c->budget_waiting_) c->resume_timer_.cancel();
              });
            }
          });
          if (!admitted) {
            metrics_.request_budget_waits.fetch_add(1, std::memory_order_relaxed);
            budget_waiting_ = true;
            resume_timer_.expires_at(asio::steady_timer::time_point::max());
            asio::error_code wait_ec;
            co_await resume_timer_.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
            budget_waiting_ = false;
            if (closed_) co_return;
            continue;
          }
          admitted_ = frame;
        }
        need = std::min(need, frame);
      }
      rbuf_.resize(std::max(need, read_end_ + 1));
    }
    asio::error_code ec;
    auto into = asio::buffer(rbuf_.data() + read_end_, rbuf_.size() - read_end_);
    // (No co_await inside ?: : GCC miscompiles it.)
    size_t n = 0;
    if (tls_) {
      n = co_await tls_->async_read_some(into, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      n = co_await socket_.async_read_some(into, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (closed_) co_return;
    if (ec) {
      if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
          ec == asio::ssl::error::stream_truncated) {
        // The client is gone (or shut its side): answer what was read, then close.
        reading_stopped_ = true;
        release_admitted();
        if (pipeline_.empty() && !writing_) {
          close_on_strand(ec == asio::error::operation_aborted ? "shutdown" : "client closed the connection", false);
        }
      } else {
        close_on_strand("read error: " + ec.message(), true);
      }
      co_return;
    }
    read_end_ += n;
    metrics_.bytes_in.fetch_add(n, std::memory_order_relaxed);
    touch();
  }
}

void Connection::release_admitted() {
  if (admitted_ == 0) return;
  if (RequestBudget* budget = dispatcher_.services().request_budget) budget->release(admitted_);
  admitted_ = 0;
}

bool Connection::process_frames() {
  // Responses produced while the frames of one read are handled go out together, after the loop.
  in_frames_ = true;
  const bool open = process_frames_deferred();
  in_frames_ = false;
  if (open) write_pending();
  return open && !closed_;
}

bool Connection::process_frames_deferred() {
  while (!closed_ && !reading_stopped_ && !backpressured()) {
    size_t avail = read_end_ - read_pos_;
    if (avail < 4) return true;
    const int32_t size = int32_t(get_be32(rbuf_.data() + read_pos_));
    const size_t limit = known_client_ ? limits_.max_request_bytes : limits_.initial_max_request_bytes;
    if (size < int32_t(kMinFrameSize) || size_t(size) > limit) {
      metrics_.connections_closed_malformed.fetch_add(1, std::memory_order_relaxed);
      std::string why = size < 0 ? "negative frame size " + std::to_string(size)
                        : size < int32_t(kMinFrameSize)
                            ? "frame of " + std::to_string(size) + " bytes is shorter than a request header"
                            : "frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                                  std::to_string(limit) + (known_client_ ? "" : " for a first request");
      close_on_strand(why, true);
      return false;
    }
    if (avail < 4 + size_t(size)) return true;
    ByteSpan frame(rbuf_.data() + read_pos_ + 4, size_t(size));
    read_pos_ += 4 + size_t(size);
    const bool open = handle_frame(frame);
    // The admitted frame is always the one at the front of the buffer: it has been handled (its request
    // decoded into its own structures), so its bytes go back to the budget.
    release_admitted();
    if (!open) return false;
  }
  return !closed_;
}

bool Connection::answer_locally(SaslGate::Outcome out, int16_t api_key, int32_t correlation_id) {
  if (out.verdict == SaslGate::Outcome::Verdict::kClose) {
    close_on_strand(out.reason, true);
    return false;
  }
  Slot slot;
  slot.seq = next_seq_++;
  slot.api_key = api_key;
  slot.correlation_id = correlation_id;
  slot.ready = true;
  if (out.reply.action == Reply::Action::kSend) queued_bytes_ += out.reply.wire_size();
  slot.reply = std::move(out.reply);
  pipeline_.push_back(std::move(slot));
  if (out.close_after) {
    // The answer goes out, then write_pending() closes once the pipeline is empty.
    reading_stopped_ = true;
    log_info("closing connection after SASL failure").kv("conn", id_).kv("peer", peer_).kv("reason", out.reason);
  }
  return !closed_;
}

bool Connection::handle_frame(ByteSpan frame) {
  if (sasl_ && sasl_->expects_raw_token()) return answer_locally(sasl_->on_raw_token(frame), -1, 0);
  auto decoded = kafka::protocol::decode_request_frame(frame);
  if (!decoded.ok()) {
    metrics_.connections_closed_malformed.fetch_add(1, std::memory_order_relaxed);
    close_on_strand("malformed request header: " + decoded.error().message, true);
    return false;
  }
  if (kafka::protocol::find_api(decoded->header.api_key)) known_client_ = true;
  if (sasl_) {
    auto out = sasl_->on_request(decoded->header, decoded->body);
    if (out.verdict != SaslGate::Outcome::Verdict::kDispatch) {
      return answer_locally(std::move(out), decoded->header.api_key, decoded->header.correlation_id);
    }
  }
  const uint64_t seq = next_seq_++;
  Slot slot;
  slot.seq = seq;
  slot.api_key = decoded->header.api_key;
  slot.correlation_id = decoded->header.correlation_id;
  if (log_enabled(LogLevel::kDebug)) slot.received_us = steady_us();
  pipeline_.push_back(std::move(slot));
  RequestContext ctx;
  ctx.header = std::move(decoded->header);
  ctx.client_host = peer_host_;
  ctx.connection_id = id_;
  ctx.listener = listener_;
  if (sasl_) {
    ctx.principal = sasl_->principal();
  } else if (!tls_principal_.empty()) {
    ctx.principal = tls_principal_;
  }
  ctx.refuse_with = refusal_;
  if (refusal_) {
    // One answer, then close: stop reading; write_pending() closes once the pipeline is empty.
    reading_stopped_ = true;
    log_info("refused connection answered").kv("conn", id_).kv("peer", peer_).kv("reason", refusal_reason_)
        .kv("api_key", ctx.header.api_key);
  }
  auto self = shared_from_this();
  dispatcher_.dispatch(std::move(ctx), decoded->body, [self, seq](Reply reply) {
    // Runs inline when the handler answered synchronously (we are on the strand), else is posted.
    asio::dispatch(self->strand_, [self, seq, reply = std::move(reply)]() mutable {
      self->on_reply(seq, std::move(reply));
    });
  });
  return !closed_;
}

void Connection::on_reply(uint64_t seq, Reply reply) {
  if (closed_) return;
  if (pipeline_.empty() || seq < pipeline_.front().seq) return;
  size_t idx = size_t(seq - pipeline_.front().seq);
  if (idx >= pipeline_.size()) return;
  Slot& slot = pipeline_[idx];
  slot.ready = true;
  if (slot.received_us) slot.ready_us = steady_us();
  if (reply.action == Reply::Action::kSend) queued_bytes_ += reply.wire_size();
  slot.reply = std::move(reply);
  write_pending();
}

void Connection::write_pending() {
  if (writing_ || closed_ || in_frames_) return;
  const bool timing = log_enabled(LogLevel::kDebug);
  for (;;) {
    writing_frames_.clear();
    writing_slots_.clear();
    writing_splices_.clear();
    writing_bytes_ = 0;
    while (!pipeline_.empty() && pipeline_.front().ready) {
      Slot& s = pipeline_.front();
      if (s.reply.action == Reply::Action::kNoResponse) {
        pipeline_.pop_front();
        continue;
      }
      if (s.reply.action == Reply::Action::kClose) {
        if (!writing_frames_.empty()) break;  // write what precedes it first
        std::string reason = s.reply.reason;
        close_on_strand(reason, true);
        return;
      }
      writing_bytes_ += s.reply.wire_size();
      // A frame with file bytes ends the batch: write_with_files() sends it after the frames before it.
      const bool spliced = !s.reply.splices.empty();
      writing_splices_ = std::move(s.reply.splices);
      writing_frames_.push_back(std::move(s.reply.frame));
      if (timing && s.received_us) writing_slots_.push_back(std::move(s));
      pipeline_.pop_front();
      if (spliced || writing_frames_.size() >= 64) break;
    }
    if (writing_frames_.empty()) {
      wake_reader();
      if (reading_stopped_ && pipeline_.empty()) close_on_strand("drained", false);
      return;
    }
    writing_ = true;
    auto self = shared_from_this();
    if (!writing_splices_.empty()) {
      asio::co_spawn(strand_, [self]() { return self->write_with_files(); }, asio::detached);
      wake_reader();
      return;
    }
    std::vector<asio::const_buffer> buffers;
    for (const auto& f : writing_frames_) buffers.emplace_back(asio::buffer(f));
    if (tls_) {
      // Encrypted: the stream does the writing (no synchronous attempt on the raw socket).
      asio::async_write(*tls_, buffers, kWholeWrite,
                        asio::bind_executor(strand_, [self](asio::error_code ec, size_t) { self->on_written(ec); }));
      wake_reader();
      return;
    }
    // Write what the socket takes now (it is non-blocking): the usual response fits its buffer, and going
    // through async_write would hold the next response back until the write's completion has made a trip
    // through the io_context (another thread's wake-up, when this one is busy).
    asio::error_code ec;
    size_t n = socket_.write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      n = 0;
    }
    if (ec || n == writing_bytes_) {
      if (!finish_write(ec)) return;
      continue;
    }
    // The rest when the socket has room.
    std::vector<asio::const_buffer> rest;
    for (const auto& b : buffers) {
      if (n >= b.size()) {
        n -= b.size();
        continue;
      }
      rest.push_back(b + n);
      n = 0;
    }
    asio::async_write(socket_, rest, kWholeWrite,
                      asio::bind_executor(strand_, [self](asio::error_code ec, size_t) { self->on_written(ec); }));
    wake_reader();
    return;
  }
}

asio::awaitable<void> Connection::write_with_files() {
  auto self = shared_from_this();
  const int fd = tcp().native_handle();
  // Cork: the frame's pieces and file bytes leave in full segments, flushed when uncorked.
  int on = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
  asio::error_code ec;
  const Bytes& last = writing_frames_.back();
  size_t from = 0;  // bytes of `last` written
  std::vector<asio::const_buffer> buffers;
  for (size_t i = 0; i + 1 < writing_frames_.size(); ++i) buffers.emplace_back(asio::buffer(writing_frames_[i]));
  for (const FileSplice& splice : writing_splices_) {
    if (splice.at > from) buffers.emplace_back(asio::buffer(last.data() + from, splice.at - from));
    from = splice.at;
    if (!buffers.empty()) {
      if (tls_) {
        co_await asio::async_write(*tls_, buffers, kWholeWrite, asio::redirect_error(asio::use_awaitable, ec));
      } else {
        co_await asio::async_write(socket_, buffers, kWholeWrite, asio::redirect_error(asio::use_awaitable, ec));
      }
      buffers.clear();
      if (ec || closed_) break;
    }
    if (tls_) {
      ec = co_await send_file_tls(splice.slice);
    } else {
      ec = co_await send_file(splice.slice);
    }
    if (ec || closed_) break;
  }
  if (!ec && !closed_ && from < last.size()) {
    buffers.emplace_back(asio::buffer(last.data() + from, last.size() - from));
    if (tls_) {
      co_await asio::async_write(*tls_, buffers, kWholeWrite, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(socket_, buffers, kWholeWrite, asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  if (!closed_) {
    int off = 0;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
  }
  on_written(ec);
}

asio::awaitable<asio::error_code> Connection::send_file(const FileSlice& slice) {
  asio::error_code ec;
  if (!socket_.native_non_blocking()) socket_.native_non_blocking(true, ec);
  if (ec) co_return ec;
  off_t offset = off_t(slice.position);
  uint64_t left = slice.length;
  while (left > 0) {
    // Re-read after every wait: a closed socket's descriptor number may belong to another file by now.
    if (closed_) co_return asio::error::operation_aborted;
    const ssize_t n = ::sendfile(socket_.native_handle(), slice.file->native_handle(), &offset,
                                 size_t(std::min<uint64_t>(left, uint64_t(1) << 30)));
    if (n > 0) {
      left -= uint64_t(n);
      metrics_.fetch_sendfile_bytes.fetch_add(uint64_t(n), std::memory_order_relaxed);
      continue;
    }
    if (n == 0) {
      // The file ends early: truncated in place after the read. The frame cannot be completed.
      co_return asio::error::make_error_code(asio::error::misc_errors::eof);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) co_return asio::error_code(errno, asio::error::get_system_category());
    co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
  }
  co_return asio::error_code{};
}

asio::awaitable<asio::error_code> Connection::send_file_tls(const FileSlice& slice) {
  // TLS encrypts in user space: read the slice in chunks and write each through the stream.
  constexpr size_t kChunk = size_t(1) << 20;
  std::vector<std::byte> chunk(size_t(std::min<uint64_t>(slice.length, kChunk)));
  uint64_t offset = slice.position;
  uint64_t left = slice.length;
  asio::error_code ec;
  while (left > 0) {
    if (closed_) co_return asio::error::operation_aborted;
    const size_t want = size_t(std::min<uint64_t>(left, chunk.size()));
    const ssize_t n = ::pread(slice.file->native_handle(), chunk.data(), want, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) co_return asio::error_code(errno, asio::error::get_system_category());
    if (n == 0) co_return asio::error::make_error_code(asio::error::misc_errors::eof);  // truncated in place
    co_await asio::async_write(*tls_, asio::buffer(chunk.data(), size_t(n)), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    offset += uint64_t(n);
    left -= uint64_t(n);
  }
  co_return asio::error_code{};
}

void Connection::on_written(const asio::error_code& ec) {
  if (finish_write(ec)) write_pending();
}

bool Connection::finish_write(const asio::error_code& ec) {
  writing_ = false;
  queued_bytes_ -= std::min(queued_bytes_, writing_bytes_);
  const size_t written = writing_bytes_;
  writing_frames_.clear();
  writing_splices_.clear();
  writing_bytes_ = 0;
  if (closed_) return false;
  if (ec) {
    close_on_strand(ec == asio::error::eof ? std::string("write error: a segment file ended early (truncated while being sent)")
                                           : "write error: " + ec.message(),
                    ec == asio::error::eof);
    return false;
  }
  metrics_.bytes_out.fetch_add(written, std::memory_order_relaxed);
  if (!writing_slots_.empty()) {
    const int64_t now = steady_us();
    for (const auto& slot : writing_slots_) {
      log_debug("request").kv("conn", id_).kv("api", kafka::protocol::api_name(slot.api_key))
          .kv("correlation_id", slot.correlation_id)
          .kv("handle_us", slot.ready_us - slot.received_us)
          .kv("total_us", now - slot.received_us);
    }
    writing_slots_.clear();
  }
  touch();
  return true;
}

asio::awaitable<void> Connection::idle_watchdog() {
  auto self = shared_from_this();
  const int64_t check_ms = std::clamp<int64_t>(limits_.idle_timeout_ms / 4, 10, 1000);
  while (!closed_) {
    idle_timer_.expires_after(std::chrono::milliseconds(check_ms));
    asio::error_code ec;
    co_await idle_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) co_return;
    if (pipeline_.empty() && !writing_ && steady_ms() - last_activity_ms_ >= limits_.idle_timeout_ms) {
      metrics_.connections_closed_idle.fetch_add(1, std::memory_order_relaxed);
      close_on_strand("idle for " + std::to_string(limits_.idle_timeout_ms) + " ms", false);
      co_return;
    }
  }
}

void Connection::drain() {
  auto self = shared_from_this();
  asio::post(strand_, [self]() {
    if (self->closed_) return;
    self->reading_stopped_ = true;
    asio::error_code ec;
    // Stop the pending read; responses still go out.
    self->tcp().shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
    self->resume_timer_.cancel();
    if (self->pipeline_.empty() && !self->writing_) self->close_on_strand("shutdown", false);
  });
}

void Connection::close(std::string reason) {
  auto self = shared_from_this();
  asio::post(strand_, [self, reason = std::move(reason)]() { self->close_on_strand(reason, false); });
}

void Connection::close_on_strand(const std::string& reason, bool error) {
  if (closed_) return;
  closed_ = true;
  if (error) {
    log_warn("closing connection").kv("conn", id_).kv("peer", peer_).kv("reason", reason);
  } else {
    log_debug("connection closed").kv("conn", id_).kv("peer", peer_).kv("reason", reason);
  }
  asio::error_code ec;
  tcp().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  tcp().close(ec);
  resume_timer_.cancel();
  idle_timer_.cancel();
  pipeline_.clear();
  release_admitted();
  if (on_closed_) {
    ClosedFn fn = std::move(on_closed_);
    on_closed_ = nullptr;
    fn(id_);
  }
}

}  // namespace streamctl::server
