#include "cluster/kafka_peer_transport.h"

#include <algorithm>
#include <deque>
#include <random>
#include <set>
#include <utility>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "base/logging.h"
#include "kafka/client/connection.h"

namespace streamctl::cluster {

namespace proto = kafka::protocol;
using asio::ip::tcp;

namespace {
constexpr std::string_view kClientIdPrefix = "streamctl-peer-";
}

std::string peer_client_id(raft::NodeId id) { return std::string(kClientIdPrefix) + std::to_string(id); }

std::optional<raft::NodeId> parse_peer_client_id(const std::optional<std::string>& client_id) {
  if (!client_id || client_id->size() <= kClientIdPrefix.size() || !client_id->starts_with(kClientIdPrefix))
    return std::nullopt;
  int64_t id = 0;
  for (char c : std::string_view(*client_id).substr(kClientIdPrefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
    if (id > INT32_MAX) return std::nullopt;
  }
  return raft::NodeId(id);
}

bool is_peer_api(int16_t api_key) {
  switch (api_key) {
    case 52:  // Vote
    case 53:  // BeginQuorumEpoch
    case 54:  // EndQuorumEpoch
    case 59:  // FetchSnapshot
      return true;
    default:
      return false;
  }
}

struct KafkaPeerTransport::Peer {
  enum class State { kIdle, kConnecting, kConnected, kBackoff };
  struct Sent {
    OutstandingRequest outstanding;
    std::chrono::steady_clock::time_point at;
  };
  Peer(asio::io_context& io, raft::NodeId node, PeerAddress address, std::chrono::milliseconds backoff)
      : id(node), addr(std::move(address)), socket(io), resolver(io), timer(io), backoff(backoff) {}

  raft::NodeId id;
  PeerAddress addr;
  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer timer;  // connect timeout, then reconnect backoff
  State state = State::kIdle;
  uint64_t generation = 0;   // bumped per connection attempt: callbacks of an older one are ignored
  std::chrono::milliseconds backoff;
  std::deque<Bytes> queue;   // frames to write (front: being written)
  bool writing = false;
  std::map<int32_t, Sent> outstanding;  // by Kafka correlation id
  std::byte size_prefix[4]{};
  Bytes frame;
};

KafkaPeerTransport::KafkaPeerTransport(asio::any_io_executor handler_executor, KafkaPeerOptions options)
    : handler_executor_(std::move(handler_executor)),
      options_(std::move(options)),
      work_(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor())),
      sweep_(io_),
      handler_(std::make_shared<Handler>()),
      open_(std::make_shared<std::atomic<bool>>(true)) {
  // A random first correlation id: a restarted node does not reuse the ids its previous incarnation had in
  // flight (the receiver keys pending requests by source node and correlation id).
  next_correlation_ = int32_t(std::random_device{}() & 0x3fffffff) + 1;
  for (const auto& [id, address] : options_.peers)
    if (id != options_.node_id) peers_[id] = std::make_shared<Peer>(io_, id, address, options_.backoff_min);
  asio::post(io_, [this] { arm_sweep(); });
  thread_ = std::thread([this] { io_.run(); });
}

KafkaPeerTransport::~KafkaPeerTransport() { close(); }

void KafkaPeerTransport::set_handler(Handler handler) { *handler_ = std::move(handler); }

KafkaPeerTransport::Stats KafkaPeerTransport::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void KafkaPeerTransport::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    inbound_.clear();
  }
  open_->store(false);
  asio::post(io_, [this] {
    std::error_code ignored;
    sweep_.cancel();
    for (auto& [id, p] : peers_) {
      p->generation++;
      p->resolver.cancel();
      p->timer.cancel();
      p->socket.close(ignored);
    }
    work_.reset();
  });
  if (thread_.joinable()) thread_.join();
  peers_.clear();
}

void KafkaPeerTransport::deliver(std::vector<GroupMessage> messages) {
  if (messages.empty()) return;
  asio::post(handler_executor_, [handler = handler_, open = open_, messages = std::move(messages)]() mutable {
    for (GroupMessage& m : messages) {
      if (!open->load()) return;
      (*handler)(std::move(m));
    }
  });
}

void KafkaPeerTransport::send(raft::NodeId to, std::vector<GroupMessage> messages) {
  std::vector<GroupMessage> requests, responses;
  for (GroupMessage& m : messages) (is_request(m.message.body) ? requests : responses).push_back(std::move(m));
  std::vector<OutboundRequest> encoded;
  if (!requests.empty()) {
    auto r = encode_requests(to, requests, options_.wire);
    if (r.ok()) {
      encoded = std::move(r).value();
    } else {
      log_warn("peer transport: cannot encode requests").kv("to", to).kv("error", r.error().to_string());
      std::lock_guard<std::mutex> lock(mu_);
      stats_.dropped_messages += int64_t(requests.size());
    }
  }
  if (!open_->load()) return;
  asio::post(io_, [this, to, encoded = std::move(encoded), responses = std::move(responses)]() mutable {
    if (!open_->load()) return;  // closed meanwhile: open no connection
    if (!encoded.empty()) write_requests(to, std::move(encoded));
    if (!responses.empty()) answer(to, std::move(responses));
  });
}

// ---- outbound connections (I/O thread) ----

void KafkaPeerTransport::write_requests(raft::NodeId to, std::vector<OutboundRequest> requests) {
  auto drop = [&](size_t from) {
    int64_t n = 0;
    for (size_t i = from; i < requests.size(); ++i) n += int64_t(requests[i].outstanding.groups.size());
    std::lock_guard<std::mutex> lock(mu_);
    stats_.dropped_messages += n;
  };
  auto found = peers_.find(to);
  if (found == peers_.end()) return drop(0);
  const std::shared_ptr<Peer>& p = found->second;
  if (p->state == Peer::State::kBackoff) return drop(0);
  if (p->state == Peer::State::kIdle) connect(p);
  const auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < requests.size(); ++i) {
    if (p->state == Peer::State::kConnecting && p->queue.size() >= options_.max_queued_while_connecting)
      return drop(i);
    OutboundRequest& r = requests[i];
    const int32_t correlation = next_correlation_;
    next_correlation_ = next_correlation_ == INT32_MAX ? 1 : next_correlation_ + 1;
    Bytes frame(4);
    proto::RequestHeader h;
    h.api_key = r.request.api_key;
    h.api_version = r.request.api_version;
    h.correlation_id = correlation;
    h.client_id = peer_client_id(options_.node_id);
    if (auto st = proto::encode_request_header(h, frame); !st.ok()) return drop(i);
    frame.insert(frame.end(), r.request.body.begin(), r.request.body.end());
    put_be32(frame.data(), uint32_t(frame.size() - 4));
    p->outstanding[correlation] = Peer::Sent{std::move(r.outstanding), now};
    p->queue.push_back(std::move(frame));
  }
  if (p->state == Peer::State::kConnected) write_next(p, p->generation);
}

void KafkaPeerTransport::connect(const std::shared_ptr<Peer>& p) {
  p->state = Peer::State::kConnecting;
  const uint64_t gen = ++p->generation;
  p->timer.expires_after(options_.connect_timeout);
  p->timer.async_wait([this, p, gen](std::error_code ec) {
    if (!ec && p->generation == gen && p->state == Peer::State::kConnecting) fail(p, gen, "connect timeout");
  });
  p->resolver.async_resolve(
      p->addr.host, std::to_string(p->addr.port), [this, p, gen](std::error_code ec, tcp::resolver::results_type results) {
        if (p->generation != gen) return;
        if (ec) return fail(p, gen, ec.message());
        asio::async_connect(p->socket, results, [this, p, gen](std::error_code ec, const tcp::endpoint&) {
          if (p->generation != gen) return;
          if (ec) return fail(p, gen, ec.message());
          p->timer.cancel();
          std::error_code ignored;
          p->socket.set_option(tcp::no_delay(true), ignored);
          p->state = Peer::State::kConnected;
          p->backoff = options_.backoff_min;
          {
            std::lock_guard<std::mutex> lock(mu_);
            stats_.connects++;
          }
          read_next(p, gen);
          write_next(p, gen);
        });
      });
}

void KafkaPeerTransport::fail(const std::shared_ptr<Peer>& p, uint64_t gen, const std::string& why) {
  if (p->generation != gen || !open_->load()) return;
  std::error_code ignored;
  p->socket.close(ignored);
  p->resolver.cancel();
  int64_t lost = 0;
  for (const auto& [c, s] : p->outstanding) lost += int64_t(s.outstanding.groups.size());
  p->outstanding.clear();
  p->queue.clear();
  p->writing = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.dropped_messages += lost;
  }
  log_debug("peer connection failed").kv("peer", p->id).kv("error", why);
  p->state = Peer::State::kBackoff;
  const uint64_t next = ++p->generation;
  p->timer.expires_after(p->backoff);
  p->backoff = std::min(p->backoff * 2, options_.backoff_max);
  p->timer.async_wait([this, p, next](std::error_code ec) {
    if (ec || p->generation != next || p->state != Peer::State::kBackoff || !open_->load()) return;
    connect(p);  // in the background: Raft's next messages find the connection open
  });
}

void KafkaPeerTransport::write_next(const std::shared_ptr<Peer>& p, uint64_t gen) {
  if (p->generation != gen || p->writing || p->queue.empty() || p->state != Peer::State::kConnected) return;
  p->writing = true;
  asio::async_write(p->socket, asio::buffer(p->queue.front()), [this, p, gen](std::error_code ec, size_t) {
    if (p->generation != gen) return;
    p->writing = false;
    if (ec) return fail(p, gen, ec.message());
    p->queue.pop_front();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.requests_sent++;
    }
    write_next(p, gen);
  });
}

void KafkaPeerTransport::read_next(const std::shared_ptr<Peer>& p, uint64_t gen) {
  asio::async_read(p->socket, asio::buffer(p->size_prefix), [this, p, gen](std::error_code ec, size_t) {
    if (p->generation != gen) return;
    if (ec) return fail(p, gen, ec.message());
    const int32_t size = int32_t(get_be32(p->size_prefix));
    if (size < 4 || size > kafka::client::kMaxResponseBytes)
      return fail(p, gen, "response frame of " + std::to_string(size) + " bytes");
    p->frame.resize(size_t(size));
    asio::async_read(p->socket, asio::buffer(p->frame), [this, p, gen](std::error_code ec, size_t) {
      if (p->generation != gen) return;
      if (ec) return fail(p, gen, ec.message());
      on_response(p);
      read_next(p, gen);
    });
  });
}

void KafkaPeerTransport::on_response(const std::shared_ptr<Peer>& p) {
  const int32_t correlation = int32_t(get_be32(p->frame.data()));
  auto it = p->outstanding.find(correlation);
  if (it == p->outstanding.end()) return;  // given up on (request_timeout): Raft already counted it lost
  OutstandingRequest out = std::move(it->second.outstanding);
  p->outstanding.erase(it);
  size_t at = 0;
  auto header =
      proto::decode_response_header(p->frame, proto::response_header_version(out.api_key, out.api_version), &at);
  auto messages = header.ok() ? decode_response(out, options_.node_id, ByteSpan(p->frame).subspan(at))
                              : Result<std::vector<GroupMessage>>(std::move(header).error());
  if (!messages.ok()) {
    log_warn("peer response dropped").kv("peer", p->id).kv("error", messages.error().to_string());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.responses_received++;
  }
  deliver(std::move(messages).value());
}

// ---- inbound requests ----

Status KafkaPeerTransport::handle_request(uint64_t connection, const proto::RequestHeader& header, ByteSpan body,
                                          Respond respond) {
  auto source = parse_peer_client_id(header.client_id);
  if (!source)
    return Error::invalid_argument("peer request on connection " + std::to_string(connection) +
                                   " with client id '" + header.client_id.value_or("") + "', expected " +
                                   std::string(kClientIdPrefix) + "<node id>");
  KafkaMessage message{header.api_key, header.api_version, Bytes(body.begin(), body.end())};
  auto request = decode_request(*source, options_.node_id, header.correlation_id, message);
  if (!request.ok()) return std::move(request).error();
  std::vector<GroupMessage> messages = request->requests;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return ok_status();
    stats_.inbound_requests++;
    Inbound& in = inbound_[{*source, header.correlation_id}];
    in = Inbound{std::move(request).value(), std::move(respond), {},
                 std::chrono::steady_clock::now() + options_.inbound_timeout};
  }
  deliver(std::move(messages));
  return ok_status();
}

void KafkaPeerTransport::answer(raft::NodeId to, std::vector<GroupMessage> responses) {
  std::vector<std::pair<Respond, Bytes>> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<int32_t> touched;
    for (GroupMessage& m : responses) {
      auto it = inbound_.find({to, m.message.correlation_id});
      if (it == inbound_.end()) {
        stats_.dropped_messages++;  // answered too late (inbound_timeout) or never asked
        continue;
      }
      touched.insert(m.message.correlation_id);
      it->second.answers.push_back(std::move(m));
    }
    for (int32_t c : touched) {
      auto it = inbound_.find({to, c});
      Inbound& in = it->second;
      const bool all = std::all_of(in.request.requests.begin(), in.request.requests.end(), [&](const GroupMessage& r) {
        return std::any_of(in.answers.begin(), in.answers.end(), [&](const GroupMessage& a) { return a.group == r.group; });
      });
      if (!all) continue;
      if (auto frame = finish(in)) ready.emplace_back(std::move(in.respond), std::move(*frame));
      inbound_.erase(it);
    }
  }
  for (auto& [respond, frame] : ready) respond(std::move(frame));
}

std::optional<Bytes> KafkaPeerTransport::finish(Inbound& in) {
  auto response = encode_response(in.request, in.answers);
  if (!response.ok()) {
    log_warn("peer response not encodable").kv("peer", in.request.source).kv("error", response.error().to_string());
    return std::nullopt;
  }
  Bytes frame(4);
  proto::ResponseHeader h;
  h.correlation_id = in.request.correlation_id;
  proto::encode_response_header(h, proto::response_header_version(response->api_key, response->api_version), frame);
  frame.insert(frame.end(), response->body.begin(), response->body.end());
  put_be32(frame.data(), uint32_t(frame.size() - 4));
  stats_.inbound_responses++;
  return frame;
}

void KafkaPeerTransport::arm_sweep() {
  sweep_.expires_after(std::chrono::milliseconds(100));
  sweep_.async_wait([this](std::error_code ec) {
    if (ec || !open_->load()) return;
    const auto now = std::chrono::steady_clock::now();
    // Inbound requests not fully answered in time: answer with what there is (or not at all).
    std::vector<std::pair<Respond, Bytes>> ready;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = inbound_.begin(); it != inbound_.end();) {
        if (it->second.deadline > now) {
          ++it;
          continue;
        }
        if (!it->second.answers.empty())
          if (auto frame = finish(it->second)) ready.emplace_back(std::move(it->second.respond), std::move(*frame));
        it = inbound_.erase(it);
      }
    }
    for (auto& [respond, frame] : ready) respond(std::move(frame));
    // Outbound requests never answered (the peer answers only what its host answered): forget them.
    for (auto& [id, p] : peers_) {
      std::erase_if(p->outstanding, [&](const auto& e) { return now - e.second.at > options_.request_timeout; });
    }
    arm_sweep();
  });
}

}  // namespace streamctl::cluster
