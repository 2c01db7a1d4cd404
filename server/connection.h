// Connection: one client TCP connection. It only frames, parses request headers, dispatches, and writes
// responses in request order (STYLE.md rule 19); what a request means is the handlers' business.
//
// Framing: int32 size + that many bytes. A size < 8 (shorter than any request header), negative, or above
// the limit closes the connection with a log line: the limit is initial_max_request_bytes until one request
// header has parsed (an unknown peer cannot make us buffer 100 MiB), max_request_bytes (100 MiB) after.
// Memory grows with the bytes actually received (the buffer doubles as data arrives), never with what a
// frame claims. A malformed header or body closes only this connection.
//
// Pipelining: requests are dispatched as they arrive, in order, on this connection's strand (so two
// Produce requests of one connection are appended in order); responses may complete out of order (a
// long-polling Fetch, a held JoinGroup) but are written strictly in request order (kafka-python checks).
// Produce with acks=0 takes a slot that produces no bytes. Ready responses are written with one gathered
// write, straight from the strand as far as the socket buffer takes them (the rest with async_write); a response with file bytes (Fetch records left in segment files, Reply::splices) ends such a batch
// and its file bytes go with sendfile between its frame's pieces. Backpressure: reading pauses while max_inflight_requests are unanswered or
// max_queued_response_bytes are waiting to be written.
// Idle timeout: closed after idle_timeout_ms with no bytes in or out and nothing in flight.
//
// Lifetime: owned by shared_ptrs held by its own coroutines and pending completions; the broker keeps a
// weak_ptr to drain or close it at shutdown. Thread-safety: all state lives on the strand; drain() and
// close() may be called from any thread (they post to the strand).
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/coding.h"
#include "server/dispatcher.h"
#include "net/handshake.h"
#include "server/sasl_gate.h"

namespace streamctl::server {

struct ConnectionLimits {
  size_t max_request_bytes = 100u << 20;
  size_t initial_max_request_bytes = 2u << 20;
  size_t max_inflight_requests = 256;
  size_t max_queued_response_bytes = 64u << 20;
  int64_t idle_timeout_ms = 600000;  // 0 = never
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using ClosedFn = std::function<void(uint64_t id)>;

  // `socket` must use a strand executor (the connection runs everything on it). dispatcher must outlive
  // the connection; on_closed is called once, on the strand, when the socket is closed.
  Connection(asio::ip::tcp::socket socket, uint64_t id, Dispatcher& dispatcher, ConnectionLimits limits,
             ClosedFn on_closed);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Before start(): the connection came in on a SASL listener; every frame goes through the gate first
  // (server/sasl_gate.h) and requests carry its principal.
  void set_sasl(std::unique_ptr<SaslGate> gate) { sasl_ = std::move(gate); }
  // Before start(): index of the listener it came in on (BrokerServices::listeners; what Metadata advertises).
  void set_listener(int index) { listener_ = index; }

  // Before start(): the connection came in on a TLS listener (SSL, SASL_SSL). start() runs the TLS
  // handshake first (a deadline of handshake_timeout_ms; failures are counted and logged through `audit`);
  // afterwards every byte goes through the TLS stream, and Fetch's file bytes are read and encrypted instead
  // of sent with sendfile. With client certificates (mTLS) and no SASL, the principal is the certificate's.
  void set_tls(std::shared_ptr<asio::ssl::context> context, SecurityAudit& audit, int64_t handshake_timeout_ms);

  void start();
  // Before start(): the connection is one the broker cannot take (over max-connections-per-ip). Its first
  // request is answered with `error` (Kafka's error response for whatever it asked, so the client can
  // tell why) and then it closes; `reason` goes to the log.
  void refuse(kafka::protocol::ErrorCode error, std::string reason);
  // Stops reading requests; closes once every request already read has been answered.
  void drain();
  // Closes now (pending responses are dropped).
  void close(std::string reason);

  uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }

 private:
  struct Slot {
    uint64_t seq = 0;
    bool ready = false;
    Reply reply;
    int16_t api_key = -1;
    int32_t correlation_id = 0;
    int64_t received_us = 0;  // steady clock, for the debug timing line
    int64_t ready_us = 0;
  };

  asio::awaitable<void> read_loop();
  void start_reading();
  void on_tls_handshake(const asio::error_code& ec, std::string principal);
  // The TCP socket (under the TLS stream when there is one).
  asio::ip::tcp::socket& tcp() { return tls_ ? tls_->next_layer() : socket_; }
  // write_with_files() for TLS: file bytes are read (pread) and written through the stream.
  asio::awaitable<asio::error_code> send_file_tls(const FileSlice& slice);
  asio::awaitable<void> idle_watchdog();
  // Parses complete frames in the read buffer; returns false if the connection was closed. Responses
  // ready meanwhile are written once, after the last frame.
  bool process_frames();
  bool process_frames_deferred();
  bool handle_frame(ByteSpan frame);
  // A SaslGate outcome that is not "dispatch": queue its answer or close. Returns false if closed.
  bool answer_locally(SaslGate::Outcome out, int16_t api_key, int32_t correlation_id);
  void on_reply(uint64_t seq, Reply reply);
  void write_pending();
  // Writes the batch whose last frame has splices: frames and frame pieces with async_write, file bytes with
  // sendfile, in order, under TCP_CORK.
  asio::awaitable<void> write_with_files();
  // sendfile of the whole slice, waiting for the socket when it is full. asio::error::eof when the file ends
  // early (it was truncated in place after the read: the frame can no longer be completed).
  asio::awaitable<asio::error_code> send_file(const FileSlice& slice);
  // Completion of a write batch: finish_write(), then the next batch.
  void on_written(const asio::error_code& ec);
  // Accounting and the debug timing line of a finished write batch; on error closes. False when closed.
  bool finish_write(const asio::error_code& ec);
  void close_on_strand(const std::string& reason, bool error);
  bool backpressured() const;
  void wake_reader();
  void release_admitted();
  void touch();

  asio::strand<asio::any_io_executor> strand_;
  asio::ip::tcp::socket socket_;
  uint64_t id_;
  Dispatcher& dispatcher_;
  Metrics& metrics_;
  ConnectionLimits limits_;
  ClosedFn on_closed_;
  std::string peer_;       // "ip:port"
  std::string peer_host_;  // ip

  // Read buffer: bytes [read_pos_, read_end_) are received but not yet consumed. Allocated only while bytes
  // are coming in: an idle connection holds none (it waits for readability without a buffer).
  ScratchBytes rbuf_;
  // Bytes of the frame at the front of rbuf_ admitted by the broker's RequestBudget (0 = none): a frame
  // larger than the initial buffer is read only once admitted, and released when it has been handled.
  size_t admitted_ = 0;
  bool budget_waiting_ = false;  // the reader waits on resume_timer_ for the budget
  size_t read_pos_ = 0;
  size_t read_end_ = 0;

  std::deque<Slot> pipeline_;  // requests read and not yet answered on the wire, in order
  uint64_t next_seq_ = 0;
  std::vector<Bytes> writing_frames_;  // frames of the write in progress
  std::vector<FileSplice> writing_splices_;    // the last frame's file bytes (write_with_files)
  size_t writing_bytes_ = 0;                   // wire bytes of the write in progress, splices included
  std::vector<Slot> writing_slots_;            // their slots (frames moved out), for the debug timing line
  bool writing_ = false;
  size_t queued_bytes_ = 0;  // response bytes ready or being written

  asio::steady_timer resume_timer_;  // the reader waits on it while backpressured
  asio::steady_timer idle_timer_;
  bool reader_waiting_ = false;
  bool in_frames_ = false;  // process_frames() is running: write_pending() waits for it to finish
  bool known_client_ = false;  // a request header has parsed: the full size limit applies
  bool reading_stopped_ = false;
  bool closed_ = false;
  std::optional<kafka::protocol::ErrorCode> refusal_;  // refuse(): answer one request with it, then close
  std::string refusal_reason_;
  int64_t last_activity_ms_ = 0;
  std::unique_ptr<SaslGate> sasl_;  // null: not a SASL listener
  std::shared_ptr<asio::ssl::context> tls_context_;  // kept alive for tls_ (SIGHUP swaps the broker's)
  std::unique_ptr<net::TlsStream> tls_;              // null: not a TLS listener (socket_ is used)
  SecurityAudit* tls_audit_ = nullptr;
  int64_t tls_handshake_timeout_ms_ = 10000;
  std::string tls_principal_;  // "User:<subject>" of a verified client certificate
  int listener_ = 0;
};

}  // namespace streamctl::server
