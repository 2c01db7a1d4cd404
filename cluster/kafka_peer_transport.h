// KafkaPeerTransport: the PeerTransport between nodes over TCP, speaking Kafka's quorum APIs (raft_wire.h).
//
// Outbound: one connection per peer node (address from KafkaPeerOptions::peers), opened lazily by the first
// send() and reopened in the background after a failure with exponential backoff (while the transport lives).
// send(to, batch) encodes the requests with raft_wire::encode_requests, frames each with a request header
// (client id "streamctl-peer-<node id>", correlation ids unique per transport) and writes them; the responses
// are matched by correlation id (in any order) to the OutstandingRequest, decoded with decode_response and
// delivered to the handler on the host's executor. send() never blocks: it posts to the transport's own I/O
// thread. Messages to a peer that is not connected are dropped, except while its connection is being opened
// (a bounded queue); a broken connection loses its requests in flight (Raft tolerates loss).
//
// Inbound: the server (or a test acceptor) calls handle_request() for every request on a peer connection:
//   - api key Vote (52), BeginQuorumEpoch (53), EndQuorumEpoch (54), FetchSnapshot (59), and Fetch (1) whose
//     ReplicaId >= 0 (a follower's fetch; a consumer's Fetch has ReplicaId -1 and stays with the broker);
//     is_peer_api() tells the quorum keys; a Fetch's replica id must be peeked by the server.
//   - The source node is the N of the client id "streamctl-peer-N" (kInvalidArgument otherwise).
//   - handle_request decodes the request (decode_request) and delivers its GroupMessages to the handler; the
//     host answers them through send(source, batch) with responses carrying the Kafka correlation id. Once
//     every group of the request is answered (or after inbound_timeout_ms with the answers so far; none =
//     no response, as a lost message), the Kafka response is encoded (encode_response) and `respond` is
//     called, on the transport's I/O thread, with the complete response frame (4-byte size prefix, response
//     header, body), ready to write on the connection.
//   - Responses on one peer connection may thus complete out of order (a Vote answered while a Fetch long
//     polls): the peer's client matches them by correlation id, so the server writes each frame when
//     `respond` gives it, without Kafka's per-connection ordering for peer connections.
// Server plug-in (not done yet): the server's connection loop, on a request whose key is_peer_api() (or a
// Fetch with ReplicaId >= 0), hands (connection id, header, body bytes, a callback that queues the frame on
// that connection) to handle_request instead of its own handlers, and ignores a respond after the connection
// closed (the callback must keep what it needs alive, e.g. a weak_ptr to the connection).
//
// Thread-safety: send(), handle_request() and close() from any thread; set_handler() once, before the first
// send() or handle_request(). Destroying (or close()) stops the I/O thread and closes every socket; nothing is
// delivered to the handler after close() returns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "base/coding.h"
#include "base/result.h"
#include "cluster/peer_transport.h"
#include "cluster/raft_wire.h"
#include "kafka/protocol/header.h"

namespace streamctl::cluster {

struct PeerAddress {
  std::string host;
  int port = 0;
};

struct KafkaPeerOptions {
  raft::NodeId node_id = raft::kNoNode;
  std::map<raft::NodeId, PeerAddress> peers;  // the other nodes (this node's own entry is ignored)
  WireOptions wire;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds backoff_min{50};   // first reconnect delay, doubling up to backoff_max
  std::chrono::milliseconds backoff_max{1000};
  std::chrono::milliseconds inbound_timeout{2000};  // answer a partly answered inbound request after this
  std::chrono::milliseconds request_timeout{10000};  // forget an outbound request unanswered this long
  size_t max_queued_while_connecting = 256;         // frames kept while a connection opens
};

// The client id a node's peer connections present, and back (nullopt for any other client id).
std::string peer_client_id(raft::NodeId id);
std::optional<raft::NodeId> parse_peer_client_id(const std::optional<std::string>& client_id);
// True for the quorum API keys handle_request serves without looking at the body (Fetch is not among them).
bool is_peer_api(int16_t api_key);

class KafkaPeerTransport final : public PeerTransport {
 public:
  // The frame to write on the connection a request came from (size prefix, response header, body).
  using Respond = std::function<void(Bytes frame)>;

  // `handler_executor`: where the handler runs (the host's executor).
  KafkaPeerTransport(asio::any_io_executor handler_executor, KafkaPeerOptions options);
  ~KafkaPeerTransport() override;
  KafkaPeerTransport(const KafkaPeerTransport&) = delete;
  KafkaPeerTransport& operator=(const KafkaPeerTransport&) = delete;

  void set_handler(Handler handler) override;
  void send(raft::NodeId to, std::vector<GroupMessage> messages) override;

  // An inbound peer request (see the file comment). `connection` identifies the connection it came on (only
  // used in log lines). Errors (not a peer client id, undecodable request) are returned and nothing is
  // delivered: the caller closes the connection.
  Status handle_request(uint64_t connection, const kafka::protocol::RequestHeader& header, ByteSpan body,
                        Respond respond);

  // Closes every socket and stops the I/O thread; idempotent.
  void close();

  struct Stats {
    int64_t connects = 0;           // outbound connections established
    int64_t requests_sent = 0;      // Kafka requests written
    int64_t responses_received = 0; // Kafka responses matched to a request
    int64_t dropped_messages = 0;   // GroupMessages dropped (peer unreachable, unknown, encode error)
    int64_t inbound_requests = 0;   // handle_request calls delivered
    int64_t inbound_responses = 0;  // respond calls
  };
  Stats stats() const;

 private:
  struct Peer;
  struct Inbound {
    InboundRequest request;
    Respond respond;
    std::vector<GroupMessage> answers;
    std::chrono::steady_clock::time_point deadline;
  };

  void deliver(std::vector<GroupMessage> messages);
  void write_requests(raft::NodeId to, std::vector<OutboundRequest> requests);  // on the I/O thread
  void answer(raft::NodeId to, std::vector<GroupMessage> responses);
  std::optional<Bytes> finish(Inbound& in);  // the response frame with the answers so far; REQUIRES mu_
  void arm_sweep();
  void connect(const std::shared_ptr<Peer>& p);
  void fail(const std::shared_ptr<Peer>& p, uint64_t generation, const std::string& why);
  void write_next(const std::shared_ptr<Peer>& p, uint64_t generation);
  void read_next(const std::shared_ptr<Peer>& p, uint64_t generation);
  void on_response(const std::shared_ptr<Peer>& p);

  asio::any_io_executor handler_executor_;
  KafkaPeerOptions options_;
  asio::io_context io_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::steady_timer sweep_;
  std::thread thread_;
  std::shared_ptr<Handler> handler_;           // shared with posted deliveries
  std::shared_ptr<std::atomic<bool>> open_;    // false once closed: posted deliveries do nothing
  std::map<raft::NodeId, std::shared_ptr<Peer>> peers_;  // I/O thread only
  int32_t next_correlation_ = 1;                          // I/O thread only

  mutable std::mutex mu_;  // guards inbound_ and stats_
  std::map<std::pair<raft::NodeId, int32_t>, Inbound> inbound_;  // (source node, Kafka correlation id)
  Stats stats_;
  bool closed_ = false;
};

}  // namespace streamctl::cluster
