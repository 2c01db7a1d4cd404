#include "server/broker.h"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <asio.hpp>
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "engine/group_store.h"
#include "engine/log_manager.h"
#include "engine/advert.h"
#include "server/append_notifier.h"
#include "server/config_file.h"
#include "server/connection.h"
#include "server/dispatcher.h"
#include "server/group_coordinator.h"
#include "server/handlers/handlers.h"
#include "server/http_server.h"
#include "base/logging.h"
#include "server/metrics.h"
#include "server/producer_state.h"
#include "kafka/protocol/api_keys.h"
#include "kafka/protocol/wire.h"
#include "server/request_context.h"
#include "net/tls.h"
#include "server/sasl_gate.h"

namespace streamctl::server {


namespace {

constexpr int64_t kTopicMetadataMaxAgeMs = 1000;  // LogManagerOptions::metadata_max_age_ms (see open())
constexpr int64_t kCoordinatorTickMs = 100;
// Connections over max-connections-per-ip: at most this many wait (this long) to be told why.
constexpr size_t kMaxRefusingConnections = 32;
constexpr int64_t kMemoryTrimCheckMs = 10000;
constexpr size_t kMemoryTrimMinFreeBytes = size_t(32) << 20;
constexpr int64_t kRefusedConnectionTimeoutMs = 5000;
constexpr int64_t kProducerExpiryCheckMs = 3600 * 1000;
constexpr int64_t kProducerIdleExpiryMs = 7 * 24 * 3600 * 1000LL;  // Kafka producer.id.expiration.ms is 1 day;
                                                                    // a week keeps retries of slow producers safe
constexpr int64_t kProducerTailOffsets = 10000;

// Timers on asio: cancel() may come from any thread, so it only sets a flag and posts the real cancel to
// the timer's strand; the callback checks the flag.
class AsioScheduler final : public Scheduler {
 public:
  explicit AsioScheduler(asio::io_context& io) : io_(io) {}

  std::shared_ptr<Timer> schedule(int64_t delay_ms, std::function<void()> fn) override {
    auto t = std::make_shared<AsioTimer>(asio::make_strand(io_));
    t->timer.expires_after(std::chrono::milliseconds(std::max<int64_t>(delay_ms, 0)));
    t->timer.async_wait([t, fn = std::move(fn)](asio::error_code ec) {
      if (ec || t->cancelled.load()) return;
      fn();
    });
    return t;
  }
  void post(std::function<void()> fn) override { asio::post(io_, std::move(fn)); }

 private:
  struct AsioTimer final : Timer, std::enable_shared_from_this<AsioTimer> {
    explicit AsioTimer(asio::strand<asio::io_context::executor_type> strand) : timer(strand) {}
    void cancel() override {
      if (cancelled.exchange(true)) return;
      auto self = shared_from_this();
      asio::post(timer.get_executor(), [self]() { self->timer.cancel(); });
    }
    asio::steady_timer timer;
    std::atomic<bool> cancelled{false};
  };
  asio::io_context& io_;
};

std::string host_for_clients(const asio::ip::address& bound, const std::string& configured_host) {
  if (!bound.is_unspecified()) return bound.to_string();
  // Bound to every interface: hand out this machine's name, as Kafka does without advertised.listeners.
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0]) return name;
  return configured_host;
}

std::string format_host_port(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<std::string> load_or_create_cluster_id(FileSystem& fs, const std::string& data_dir) {
  const std::string path = join_path(join_path(data_dir, "__meta"), "cluster.id");
  auto existing = read_file(fs, path);
  if (existing.ok()) {
    std::string id(as_string_view(*existing));
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (!id.empty()) return id;
  } else if (existing.error().code != streamctl::ErrorCode::kNotFound) {
    return std::move(existing).error();
  }
  kafka::protocol::Uuid uuid;
  std::random_device rd;
  for (auto& b : uuid.bytes) b = uint8_t(rd());
  std::string id = uuid.to_string();
  std::string text = id + "\n";
  STREAMCTL_TRY(write_file_atomically(fs, path, as_byte_span(text)));
  return id;
}

Status write_port_file(const std::string& path, uint16_t port) {
  std::string text = std::to_string(port) + "\n";
  std::string tmp = path + ".tmp";
  auto* fs = posix_file_system();
  {
    STREAMCTL_ASSIGN_OR_RETURN(auto f, fs->open(tmp, OpenMode::kCreateTruncate));
    STREAMCTL_TRY(f->write_at(0, as_byte_span(text)));
    STREAMCTL_TRY(f->close());
  }
  return fs->rename(tmp, path);
}

}  // namespace

struct Broker::Impl {
  // Declared first so it is destroyed last: sockets, timers and pending handlers die with it.
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  BrokerConfig config;
  Clock* clock = nullptr;
  std::unique_ptr<engine::DataDirOwnership> ownership;
  std::unique_ptr<engine::LogManager> logs;
  std::unique_ptr<GroupCoordinator> coordinator;
  std::unique_ptr<ProducerStateManager> producers;
  AppendNotifier appends;
  Metrics metrics;
  std::unique_ptr<AsioScheduler> scheduler;
  BrokerServices services;
  std::unique_ptr<RequestBudget> request_budget;
  std::unique_ptr<Dispatcher> dispatcher;
  ConnectionLimits limits;

  // One per --listen entry, in order; the first one's port is port() and goes to --port-file.
  struct Listener {
    net::ListenerSpec spec;
    std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
    uint16_t port = 0;
  };
  std::vector<Listener> listeners;
  // SASL listeners: users (<data dir>/__meta/users.json), mechanisms, failure counting and logging.
  std::unique_ptr<ReloadingCredentials> credentials;
  std::unique_ptr<SecurityAudit> security_audit;
  std::unique_ptr<net::ServerTlsContext> tls;  // when a TLS listener exists
  std::unique_ptr<security::Authorizer> authorizer;  // --authorizer
  std::vector<std::string> sasl_mechanisms;
  std::unique_ptr<HttpServer> http;
  asio::strand<asio::io_context::executor_type> control{asio::make_strand(io)};
  asio::steady_timer tick_timer{control};
  std::vector<std::thread> threads;

  std::mutex conns_mu;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> conns;
  uint64_t next_conn_id = 1;
  // max-connections-per-ip: open connections per peer address, the address of each counted connection,
  // and how many refused connections are waiting to be told why (bounded: beyond it they are just closed).
  std::unordered_map<std::string, size_t> conns_per_ip;
  std::unordered_map<uint64_t, std::string> conn_ip;
  size_t refusing = 0;
  size_t per_ip_default = 0;
  std::map<std::string, size_t> per_ip_overrides;

  size_t per_ip_limit(const std::string& ip) const {
    auto it = per_ip_overrides.find(ip);
    return it != per_ip_overrides.end() ? it->second : per_ip_default;
  }

  std::thread maintenance;
  std::mutex maintenance_mu;
  std::condition_variable maintenance_cv;
  bool maintenance_stop = false;

  std::atomic<bool> stop_requested{false};
  bool started = false;    // open() succeeded: threads run and shutdown must be waited for
  std::mutex wait_mu;
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool io_done = false;    // the shutdown sequence on the io threads has finished
  bool finished = false;   // wait() has completed everything
  Status final_status;

  uint16_t port = 0;
  uint16_t http_port = 0;
  std::string advertised;

  Status open();
  asio::awaitable<void> accept_loop(size_t listener);
  asio::awaitable<void> tick_loop();
  asio::awaitable<void> shutdown_sequence();
  void maintenance_loop();
  void on_connection_closed(uint64_t id);
  HttpResponse http_page(const std::string& method, const std::string& path);
};

Broker::Broker() : impl_(std::make_unique<Impl>()) {}

Broker::~Broker() {
  if (!impl_ || !impl_->started) return;
  stop();
  (void)wait();
}

// Produce requests and Fetch responses are buffers of up to tens of MiB, allocated and freed per request.
// glibc would hand such blocks back to the kernel on free (mmap/munmap, heap trimming) and fault them in
// again on the next request: measured as ~20% of a Fetch's CPU in page faults and page clearing. Keep
// them in the heap instead. Process-wide, so only done by the serving process.
namespace {
void keep_large_buffers_in_the_heap() {
  static bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    return true;
  }();
  (void)done;
}

// The other half of keeping large buffers in the heap: after a spike (large requests, many connections)
// the freed memory would stay resident for good. Every kMemoryTrimCheckMs, when more than
// kMemoryTrimMinFreeBytes of the heap is free, hand it back to the kernel (malloc_trim also releases free
// pages in the middle of the heap). Costs a page fault per page when the next spike comes.
void give_back_free_memory() {
  // Free bytes stay counted in fordblks after a trim (they are free, just not resident): trim again only
  // when that many more bytes have been freed since the last trim.
  static size_t free_after_last_trim = 0;
  struct mallinfo2 info = mallinfo2();
  if (info.fordblks < kMemoryTrimMinFreeBytes || info.fordblks < free_after_last_trim + kMemoryTrimMinFreeBytes / 4) {
    return;
  }
  malloc_trim(0);
  free_after_last_trim = mallinfo2().fordblks;
  log_debug("free heap memory given back").kv("free_bytes", uint64_t(info.fordblks));
}

// Fetch sends records with sendfile(2), which has no MSG_NOSIGNAL: a client that goes away mid-send would
// kill the process with SIGPIPE. Ignored process-wide (as the CLI does anyway), so the send fails with EPIPE
// and only that connection closes.
void ignore_sigpipe() {
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGPIPE, &ign, nullptr);
}
}  // namespace

Result<std::unique_ptr<Broker>> Broker::start(const BrokerConfig& config) {
  STREAMCTL_TRY(validate_broker_config(config));
  keep_large_buffers_in_the_heap();
  ignore_sigpipe();
  LogLevel level;
  if (parse_log_level(config.log_level, &level)) set_log_level(level);
  std::unique_ptr<Broker> broker(new Broker());
  Impl& b = *broker->impl_;
  b.config = config;
  b.clock = config.clock ? config.clock : system_clock();
  auto st = b.open();
  if (!st.ok()) {
    // Nothing is running yet besides what open() started; undo it.
    b.io.stop();
    for (auto& t : b.threads) t.join();
    b.threads.clear();
    b.ownership.reset();
    return std::move(st).error();
  }
  return broker;
}

// Partitions that failed to open at start that are logged one by one.
constexpr size_t kMaxLoggedOpenFailures = 10;

Status Broker::Impl::open() {
  auto& fs = *posix_file_system();
  log_info("starting").kv("data_dir", config.data_dir).kv("listen", config.listen).kv("node_id", config.node_id)
      .kv("threads", config.threads);
  STREAMCTL_ASSIGN_OR_RETURN(ownership, engine::DataDirOwnership::acquire(fs, config.data_dir));

  engine::LogManagerOptions lo;
  lo.data_dir = config.data_dir;
  lo.fs = &fs;
  lo.clock = clock;
  lo.create_if_missing = true;
  // The server owns the directory (embedded writers are refused) and every topic change goes through this
  // LogManager, which updates its cache as it makes it: re-reading a topic's metadata file on every Produce
  // and Fetch (open, stat, read, close, JSON parse) bought nothing. Once a second still picks up a file
  // changed by hand.
  lo.metadata_max_age_ms = kTopicMetadataMaxAgeMs;
  STREAMCTL_ASSIGN_OR_RETURN(logs, engine::LogManager::open(lo));
  STREAMCTL_ASSIGN_OR_RETURN(std::string cluster_id, load_or_create_cluster_id(fs, config.data_dir));

  // Open (and recover) every partition now, so damage from a crash is reported at start. A server that
  // cannot open them all does not start: listening with some partitions missing would answer their clients
  // UNKNOWN_TOPIC_OR_PARTITION (and Metadata without the topic) as if they did not exist.
  {
    STREAMCTL_ASSIGN_OR_RETURN(std::vector<std::string> topics, logs->list_topics());
    size_t partitions = 0;
    size_t failed = 0;
    std::optional<Error> first_error;
    for (const auto& t : topics) {
      auto md = logs->describe_topic(t);
      if (!md.ok()) {
        log_error("cannot read topic metadata").kv("topic", t).kv("error", md.error().to_string());
        if (!first_error) first_error = Error{md.error().code, "topic " + t + ": " + md.error().message};
        ++failed;
        continue;
      }
      for (int32_t p = 0; p < md->partitions; ++p) {
        auto log = logs->log(t, p);
        if (!log.ok()) {
          // The first few are enough to see the cause (the error below counts them all).
          if (failed < kMaxLoggedOpenFailures) {
            log_error("cannot open partition").kv("topic", t).kv("partition", p).kv("error", log.error().to_string());
          }
          if (!first_error) first_error = Error{log.error().code, "partition " + t + "-" + std::to_string(p) + ": " + log.error().message};
          ++failed;
          continue;
        }
        ++partitions;
        const auto& rep = (*log)->recovery_report();
        if (rep.dropped_bytes > 0 || rep.rebuilt_indexes > 0) {
          log_warn("partition recovered").kv("topic", t).kv("partition", p).kv("dropped_bytes", rep.dropped_bytes)
              .kv("rebuilt_indexes", rep.rebuilt_indexes).kv("detail", rep.detail);
        }
      }
    }
    if (first_error) {
      OpenFilesLimit limit = open_files_limit();
      // "Too many open files" is the usual cause with many partitions: say what the limit is.
      std::string hint = "; open-files limit " + (limit.soft ? std::to_string(limit.soft) : "unlimited") +
                         " (hard " + (limit.hard ? std::to_string(limit.hard) : "unlimited") +
                         "; raise it with ulimit -n or LimitNOFILE=)";
      return Error{first_error->code, "cannot open " + std::to_string(failed) + " of " +
                                          std::to_string(partitions + failed) + " partitions, not starting (first: " +
                                          first_error->message + ")" + hint};
    }
    log_info("logs loaded").kv("topics", topics.size()).kv("partitions", partitions);
  }

  GroupCoordinatorConfig gc;
  gc.min_session_timeout_ms = config.group_min_session_timeout_ms;
  gc.max_session_timeout_ms = config.group_max_session_timeout_ms;
  gc.initial_rebalance_delay_ms = config.group_initial_rebalance_delay_ms;
  coordinator = std::make_unique<GroupCoordinator>(logs->groups(), *clock, gc);
  engine::LogManager* lm = logs.get();
  producers = std::make_unique<ProducerStateManager>(
      fs, join_path(config.data_dir, "__meta"),
      [lm](const TopicPartition& tp) { return handlers::read_tail_headers(*lm, tp, kProducerTailOffsets); });
  scheduler = std::make_unique<AsioScheduler>(io);
  metrics.start_ms.store(clock->now().value);

  services.config = &config;
  services.logs = logs.get();
  services.groups = coordinator.get();
  services.producers = producers.get();
  services.appends = &appends;
  services.metrics = &metrics;
  services.scheduler = scheduler.get();
  services.clock = clock;
  services.node_id = config.node_id;
  services.cluster_id = cluster_id;
  request_budget = std::make_unique<RequestBudget>(config.queued_max_request_bytes);
  services.request_budget = request_budget.get();
  dispatcher = std::make_unique<Dispatcher>(services);

  limits.max_request_bytes = config.max_request_bytes;
  limits.initial_max_request_bytes = config.initial_max_request_bytes;
  limits.max_inflight_requests = config.max_inflight_requests;
  limits.max_queued_response_bytes = config.max_queued_response_bytes;
  limits.idle_timeout_ms = config.idle_timeout_ms;
  per_ip_default = config.max_connections_per_ip > 0 ? config.max_connections_per_ip
                                                     : std::max<size_t>(1, config.max_connections * 3 / 4);
  STREAMCTL_ASSIGN_OR_RETURN(per_ip_overrides, parse_connection_overrides(config.max_connections_per_ip_overrides));

  // The Kafka listeners.
  STREAMCTL_ASSIGN_OR_RETURN(auto specs, broker_listeners(config));
  STREAMCTL_ASSIGN_OR_RETURN(auto adverts, broker_advertised(config, specs));
  asio::ip::tcp::resolver resolver(io);
  asio::error_code ec;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    const std::string what = spec.to_string();
    auto endpoints = resolver.resolve(spec.host, std::to_string(spec.port),
                                      asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service, ec);
    if (ec || endpoints.empty()) {
      return Error::invalid_argument("--listen " + what + ": cannot resolve '" + spec.host +
                                     "': " + (ec ? ec.message() : "no address"));
    }
    asio::ip::tcp::endpoint endpoint = endpoints.begin()->endpoint();
    Listener l;
    l.spec = spec;
    l.acceptor = std::make_unique<asio::ip::tcp::acceptor>(io);
    l.acceptor->open(endpoint.protocol(), ec);
    if (!ec) l.acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) l.acceptor->bind(endpoint, ec);
    if (!ec) l.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error{ec == asio::error::address_in_use ? streamctl::ErrorCode::kBusy : streamctl::ErrorCode::kIoError,
                   "cannot listen on " + what + ": " + ec.message()};
    }
    auto local = l.acceptor->local_endpoint();
    l.port = local.port();
    BrokerServices::AdvertisedListener a;
    a.name = spec.name;
    if (adverts[i].to_string() == spec.to_string()) {
      // Not advertised explicitly (resolve_advertised copied the listener): its real address.
      a.host = host_for_clients(local.address(), spec.host);
      a.port = l.port;
    } else {
      a.host = adverts[i].host;
      a.port = adverts[i].port;
    }
    services.listeners.push_back(std::move(a));
    listeners.push_back(std::move(l));
  }
  port = listeners.front().port;
  services.advertised_host = services.listeners.front().host;
  services.advertised_port = services.listeners.front().port;
  advertised = format_host_port(services.advertised_host, uint16_t(services.advertised_port));
  const bool any_sasl = std::any_of(listeners.begin(), listeners.end(),
                                    [](const Listener& l) { return net::uses_sasl(l.spec.protocol); });
  const bool any_tls = std::any_of(listeners.begin(), listeners.end(),
                                   [](const Listener& l) { return net::uses_tls(l.spec.protocol); });
  if (any_sasl || any_tls) security_audit = std::make_unique<SecurityAudit>(metrics);
  if (any_tls) {
    auto created = net::ServerTlsContext::create({config.tls_cert, config.tls_key, config.tls_ca});
    if (!created.ok()) return Error::invalid_argument("TLS: " + created.error().message);
    tls = std::move(*created);
  }
  if (config.authorizer) {
    security::AuthorizerConfig ac;
    for (const auto& u : split_mechanisms(config.super_users)) ac.super_users.insert(u);
    ac.allow_everyone_if_no_acl_found = config.allow_everyone_if_no_acl_found;
    ac.reload_check_interval = std::chrono::seconds(1);  // `streamctl acl add` on the data dir while serving
    STREAMCTL_ASSIGN_OR_RETURN(authorizer, security::Authorizer::open(
                                               join_path(join_path(config.data_dir, "__meta"), "acls.json"), ac));
    services.authorizer = authorizer.get();
  }
  if (any_sasl) {
    STREAMCTL_ASSIGN_OR_RETURN(credentials,
                               ReloadingCredentials::open(join_path(join_path(config.data_dir, "__meta"), "users.json")));
    sasl_mechanisms = split_mechanisms(config.sasl_mechanisms);
    if (credentials->user_count() == 0) {
      log_warn("no SASL users yet: every authentication will fail").kv("add_one", "streamctl user create NAME");
    }
  }

  if (!config.http.empty()) {
    STREAMCTL_ASSIGN_OR_RETURN(auto http_hp, parse_host_port(config.http, "--http"));
    auto http_eps = resolver.resolve(http_hp.first, std::to_string(http_hp.second),
                                     asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service, ec);
    if (ec || http_eps.empty()) {
      return Error::invalid_argument("--http " + config.http + ": cannot resolve '" + http_hp.first + "'");
    }
    http = std::make_unique<HttpServer>(io, [this](const std::string& m, const std::string& p) {
      return http_page(m, p);
    });
    ec = http->listen(http_eps.begin()->endpoint());
    if (ec) return Error::io_error("cannot listen on --http " + config.http + ": " + ec.message());
    http_port = http->port();
  }

  engine::ServerAdvert advert;
  advert.pid = ::getpid();
  {
    std::string all;
    for (const auto& l : listeners) {
      if (!all.empty()) all += ",";
      const std::string hp = format_host_port(l.acceptor->local_endpoint().address().to_string(), l.port);
      // The first PLAINTEXT listener keeps the bare form other tools read (host:port).
      all += (&l == &listeners.front() && l.spec.protocol == net::SecurityProtocol::kPlaintext) ? hp : l.spec.name + "://" + hp;
    }
    advert.listen = all;
  }
  // The CLI routes embedded commands on this data dir through `advertised` with a plain client: prefer the
  // first PLAINTEXT listener when the first one needs TLS or SASL.
  advert.advertised = advertised;
  for (size_t i = 0; i < listeners.size(); ++i) {
    if (listeners[i].spec.protocol == net::SecurityProtocol::kPlaintext) {
      advert.advertised = format_host_port(services.listeners[i].host, uint16_t(services.listeners[i].port));
      break;
    }
  }
  if (http) {
    auto http_hp = parse_host_port(config.http, "--http");
    advert.http = format_host_port(http_hp->first, http_port);
  }
  advert.node_id = config.node_id;
  advert.start_ms = clock->now().value;
  STREAMCTL_TRY(ownership->publish(advert));
  if (!config.port_file.empty()) STREAMCTL_TRY(write_port_file(config.port_file, port));

  // Run.
  work.emplace(asio::make_work_guard(io));
  for (size_t i = 0; i < listeners.size(); ++i) asio::co_spawn(io, accept_loop(i), asio::detached);
  asio::co_spawn(control, tick_loop(), asio::detached);
  for (int i = 0; i < config.threads; ++i) {
    threads.emplace_back([this]() {
      for (;;) {
        try {
          io.run();
          return;
        } catch (const std::exception& e) {
          // Handlers do not throw by design; if one does, keep serving the others.
          log_error("unexpected exception on an io thread").kv("error", e.what());
        }
      }
    });
  }
  maintenance = std::thread([this]() { maintenance_loop(); });
  started = true;
  log_info("listening").kv("addr", advert.listen).kv("port", port).kv("advertised", advertised)
      .kv("node_id", config.node_id).kv("cluster_id", cluster_id).kv("http", advert.http)
      .kv("pid", int64_t(advert.pid));
  return ok_status();
}

asio::awaitable<void> Broker::Impl::accept_loop(size_t index) {
  asio::ip::tcp::acceptor& acceptor = *listeners[index].acceptor;
  const net::SecurityProtocol protocol = listeners[index].spec.protocol;
  for (;;) {
    asio::error_code ec;
    asio::ip::tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || stop_requested.load() || !acceptor.is_open()) co_return;
      log_warn("accept failed").kv("error", ec.message());
      // E.g. out of file descriptors: back off instead of spinning.
      asio::steady_timer pause(io, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> g(conns_mu);
      if (conns.size() >= config.max_connections) {
        metrics.connections_rejected.fetch_add(1, std::memory_order_relaxed);
        asio::error_code ignored;
        auto ep = socket.remote_endpoint(ignored);
        log_warn("connection refused: too many connections").kv("max_connections", config.max_connections)
            .kv("peer", ignored ? std::string("unknown") : ep.address().to_string());
        socket.close(ignored);
        continue;
      }
      asio::error_code ep_ec;
      auto ep = socket.remote_endpoint(ep_ec);
      const std::string ip = ep_ec ? std::string("unknown") : ep.address().to_string();
      const size_t ip_limit = per_ip_limit(ip);
      const bool over_ip_limit = conns_per_ip[ip] >= ip_limit;
      if (over_ip_limit) {
        metrics.connections_rejected_per_ip.fetch_add(1, std::memory_order_relaxed);
        log_warn("connection refused: too many connections from one address").kv("peer", ip)
            .kv("connections", conns_per_ip[ip]).kv("max_connections_per_ip", ip_limit);
        if (conns_per_ip[ip] == 0) conns_per_ip.erase(ip);
        if (refusing >= kMaxRefusingConnections) {
          asio::error_code ignored;
          socket.close(ignored);
          continue;
        }
      }
      uint64_t id = next_conn_id++;
      ConnectionLimits conn_limits = limits;
      if (over_ip_limit) {
        // Told why with the answer to its first request, which must come soon and be small.
        conn_limits.idle_timeout_ms = kRefusedConnectionTimeoutMs;
        conn_limits.initial_max_request_bytes = std::min<size_t>(limits.initial_max_request_bytes, 64 << 10);
      }
      conn = std::make_shared<Connection>(std::move(socket), id, *dispatcher, conn_limits,
                                          [this](uint64_t cid) { on_connection_closed(cid); });
      conn->set_listener(int(index));
      if (net::uses_tls(protocol)) conn->set_tls(tls->current(), *security_audit, config.tls_handshake_timeout_ms);
      if (net::uses_sasl(protocol)) {
        security::SaslConfig sc;
        sc.mechanisms = sasl_mechanisms;
        sc.lookup = credentials->lookup_function();
        conn->set_sasl(std::make_unique<SaslGate>(std::move(sc), *security_audit, conn->peer()));
      }
      if (over_ip_limit) {
        conn->refuse(kafka::protocol::ErrorCode::kPolicyViolation,
                     "more than " + std::to_string(ip_limit) + " connections from " + ip +
                         " (max-connections-per-ip; raise it or set max-connections-per-ip-overrides)");
        ++refusing;
      } else {
        ++conns_per_ip[ip];
      }
      conn_ip[id] = over_ip_limit ? std::string() : ip;
      conns[id] = conn;
    }
    metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    metrics.connections_active.fetch_add(1, std::memory_order_relaxed);
    log_debug("connection accepted").kv("conn", conn->id()).kv("peer", conn->peer());
    conn->start();
  }
}

void Broker::Impl::on_connection_closed(uint64_t id) {
  std::lock_guard<std::mutex> g(conns_mu);
  if (conns.erase(id)) metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
  auto it = conn_ip.find(id);
  if (it == conn_ip.end()) return;
  if (it->second.empty()) {
    --refusing;
  } else if (auto c = conns_per_ip.find(it->second); c != conns_per_ip.end() && --c->second == 0) {
    conns_per_ip.erase(c);
  }
  conn_ip.erase(it);
}

asio::awaitable<void> Broker::Impl::tick_loop() {
  while (!stop_requested.load()) {
    tick_timer.expires_after(std::chrono::milliseconds(kCoordinatorTickMs));
    asio::error_code ec;
    co_await tick_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stop_requested.load()) co_return;
    coordinator->tick();
  }
}

void Broker::Impl::maintenance_loop() {
  using Clock = std::chrono::steady_clock;
  auto now = Clock::now();
  const bool flush_on = config.flush_interval_ms > 0;
  const bool retention_on = config.retention_check_interval_ms > 0;
  auto next_flush = now + std::chrono::milliseconds(flush_on ? config.flush_interval_ms : 0);
  auto next_retention = now + std::chrono::milliseconds(retention_on ? config.retention_check_interval_ms : 0);
  auto next_expiry = now + std::chrono::milliseconds(kProducerExpiryCheckMs);
  auto next_trim = now + std::chrono::milliseconds(kMemoryTrimCheckMs);
  for (;;) {
    auto next = std::min(next_expiry, next_trim);
    if (flush_on) next = std::min(next, next_flush);
    if (retention_on) next = std::min(next, next_retention);
    {
      std::unique_lock<std::mutex> lk(maintenance_mu);
      if (maintenance_cv.wait_until(lk, next, [this]() { return maintenance_stop; })) return;
    }
    now = Clock::now();
    if (flush_on && now >= next_flush) {
      auto st = logs->flush_all();
      if (!st.ok()) log_error("background flush failed").kv("error", st.error().to_string());
      next_flush = now + std::chrono::milliseconds(config.flush_interval_ms);
    }
    if (retention_on && now >= next_retention) {
      auto t0 = Clock::now();
      auto st = logs->run_retention();
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
      if (!st.ok()) {
        log_error("retention failed").kv("error", st.error().to_string());
      } else {
        log_debug("retention pass").kv("duration_ms", int64_t(ms));
      }
      next_retention = Clock::now() + std::chrono::milliseconds(config.retention_check_interval_ms);
    }
    if (now >= next_trim) {
      give_back_free_memory();
      next_trim = now + std::chrono::milliseconds(kMemoryTrimCheckMs);
    }
    if (now >= next_expiry) {
      size_t n = producers->expire(clock->monotonic_ms(), kProducerIdleExpiryMs);
      if (n) log_info("idle producer state expired").kv("entries", n);
      next_expiry = now + std::chrono::milliseconds(kProducerExpiryCheckMs);
    }
  }
}

HttpResponse Broker::Impl::http_page(const std::string& method, const std::string& path) {
  HttpResponse r;
  if (method != "GET" && method != "HEAD") {
    r.status = 405;
    r.body = "only GET\n";
    return r;
  }
  if (path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = render_prometheus(metrics, logs.get(), coordinator.get(),
                               [](int16_t key) -> const char* {
                                 return kafka::protocol::find_api(key) ? kafka::protocol::api_name(key) : nullptr;
                               },
                               clock->now().value);
    return r;
  }
  if (path == "/health" || path == "/") {
    if (services.stopping.load()) {
      r.status = 503;
      r.body = "stopping\n";
    } else {
      r.body = "ok\n";
    }
    return r;
  }
  r.status = 404;
  r.body = "not found; try /metrics or /health\n";
  return r;
}

asio::awaitable<void> Broker::Impl::shutdown_sequence() {
  log_info("shutting down").kv("connections", int64_t(metrics.connections_active.load()));
  services.stopping.store(true);
  asio::error_code ec;
  for (auto& l : listeners) l.acceptor->close(ec);
  if (http) http->stop();
  tick_timer.cancel();
  coordinator->shutdown();  // held JoinGroup/SyncGroup answered
  appends.notify_all();     // long-polling fetches answer with what they have

  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> g(conns_mu);
    for (auto& [id, w] : conns) {
      if (auto c = w.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->drain();
  live.clear();

  asio::steady_timer timer(control);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.shutdown_timeout_ms);
  for (;;) {
    {
      std::lock_guard<std::mutex> g(conns_mu);
      if (conns.empty()) break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::vector<std::shared_ptr<Connection>> left;
      {
        std::lock_guard<std::mutex> g(conns_mu);
        for (auto& [id, w] : conns) {
          if (auto c = w.lock()) left.push_back(std::move(c));
        }
        log_warn("closing connections still busy at the shutdown deadline").kv("connections", left.size());
      }
      for (auto& c : left) c->close("shutdown deadline");
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  {
    std::lock_guard<std::mutex> g(done_mu);
    io_done = true;
  }
  done_cv.notify_all();
}

void Broker::stop() {
  Impl& b = *impl_;
  if (b.stop_requested.exchange(true)) return;
  asio::co_spawn(b.control, b.shutdown_sequence(), asio::detached);
}

Status Broker::wait() {
  Impl& b = *impl_;
  std::lock_guard<std::mutex> serial(b.wait_mu);  // one caller finishes the shutdown, others see its result
  {
    std::unique_lock<std::mutex> lk(b.done_mu);
    if (b.finished) return b.final_status;
    b.done_cv.wait(lk, [&]() { return b.io_done; });
  }
  b.work.reset();
  b.io.stop();
  for (auto& t : b.threads) t.join();
  b.threads.clear();
  {
    std::lock_guard<std::mutex> lk(b.maintenance_mu);
    b.maintenance_stop = true;
  }
  b.maintenance_cv.notify_all();
  if (b.maintenance.joinable()) b.maintenance.join();
  Status st = b.logs->flush_all();
  if (!st.ok()) log_error("final flush failed").kv("error", st.error().to_string());
  b.ownership->release();
  log_info("stopped").kv("flushed", st.ok());
  std::lock_guard<std::mutex> lk(b.done_mu);
  b.final_status = st;
  b.finished = true;
  return b.final_status;
}

bool Broker::stopped() const {
  std::lock_guard<std::mutex> lk(impl_->done_mu);
  return impl_->finished;
}

Status Broker::reload_acls() {
  if (!impl_->authorizer) return ok_status();
  auto reloaded = impl_->authorizer->reload_if_changed();
  if (!reloaded.ok()) {
    log_warn("cannot reload ACLs; keeping the previous ones").kv("error", reloaded.error().message);
    return reloaded.error();
  }
  if (*reloaded) log_info("ACLs reloaded").kv("path", impl_->authorizer->path());
  return ok_status();
}

Status Broker::reload_tls() {
  if (!impl_->tls) return ok_status();
  auto st = impl_->tls->reload();
  if (st.ok()) {
    log_info("TLS certificates reloaded").kv("cert", impl_->config.tls_cert);
  } else {
    log_warn("TLS reload failed; the previous certificates stay in use").kv("error", st.error().message);
  }
  return st;
}

uint16_t Broker::port() const { return impl_->port; }
uint16_t Broker::http_port() const { return impl_->http_port; }
std::string Broker::advertised_address() const { return impl_->advertised; }

}  // namespace streamctl::server
