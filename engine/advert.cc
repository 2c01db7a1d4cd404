#include "engine/advert.h"

#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>

namespace streamctl::engine {


namespace {

std::string iso_time(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The pid written into serve.lock by the holder (0 when unreadable).
int64_t read_lock_pid(FileSystem& fs, const std::string& path) {
  auto bytes = read_file(fs, path);
  if (!bytes.ok()) return 0;
  std::string text(as_string_view(*bytes));
  try {
    return text.empty() ? 0 : std::stoll(text);
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::string serve_lock_path(const std::string& data_dir) {
  return join_path(join_path(data_dir, "__meta"), "serve.lock");
}
std::string serve_advert_path(const std::string& data_dir) {
  return join_path(join_path(data_dir, "__meta"), "serve.json");
}

std::string advert_to_json(const ServerAdvert& a) {
  nlohmann::json j = {{"pid", a.pid},           {"listen", a.listen},     {"advertised", a.advertised},
                      {"http", a.http},         {"node_id", a.node_id},   {"start_ms", a.start_ms},
                      {"start_time", iso_time(a.start_ms)}};
  return j.dump() + "\n";
}

Result<ServerAdvert> advert_from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error::corruption("serve.json is not a JSON object");
  ServerAdvert a;
  try {
    a.pid = j.value("pid", int64_t{0});
    a.listen = j.value("listen", std::string());
    a.advertised = j.value("advertised", std::string());
    a.http = j.value("http", std::string());
    a.node_id = j.value("node_id", int32_t{0});
    a.start_ms = j.value("start_ms", int64_t{0});
  } catch (const nlohmann::json::exception& e) {
    return Error::corruption(std::string("serve.json has a field of the wrong type: ") + e.what());
  }
  return a;
}

std::string served_by_message(const std::string& data_dir, const ServerAdvert& a) {
  std::string where = a.advertised.empty() ? a.listen : a.advertised;
  if (a.starting || where.empty()) {
    return data_dir + " is served by streamctl serve (pid " + std::to_string(a.pid) +
           "), which is still starting; retry with --brokers <its address> once it listens";
  }
  return data_dir + " is served by streamctl serve (pid " + std::to_string(a.pid) + ") on " + where +
         "; use --brokers " + where;
}

Result<std::optional<ServerAdvert>> check_data_dir_owner(const std::string& data_dir) {
  return check_data_dir_owner(*posix_file_system(), data_dir);
}

Result<std::optional<ServerAdvert>> check_data_dir_owner(FileSystem& fs, const std::string& data_dir) {
  const std::string lock_path = serve_lock_path(data_dir);
  auto exists = fs.exists(lock_path);
  if (!exists.ok()) return std::move(exists).error();
  if (!*exists) return std::optional<ServerAdvert>();
  auto lock = fs.lock(lock_path, LockMode::kShared, /*wait=*/false);
  if (lock.ok()) return std::optional<ServerAdvert>();  // nobody serves it; serve.json (if any) is stale
  if (lock.error().code != ErrorCode::kBusy) return std::move(lock).error();

  ServerAdvert advert;
  int64_t lock_pid = read_lock_pid(fs, lock_path);
  auto bytes = read_file(fs, serve_advert_path(data_dir));
  if (bytes.ok()) {
    auto parsed = advert_from_json(std::string(as_string_view(*bytes)));
    if (parsed.ok() && (lock_pid == 0 || parsed->pid == lock_pid)) return std::optional<ServerAdvert>(*parsed);
  }
  // Locked, but the advertisement is missing or belongs to an earlier (dead) server: still starting.
  advert.pid = lock_pid;
  advert.starting = true;
  return std::optional<ServerAdvert>(advert);
}

Result<std::unique_ptr<DataDirOwnership>> DataDirOwnership::acquire(FileSystem& fs,
                                                                    const std::string& data_dir) {
  STREAMCTL_TRY(fs.create_dirs(join_path(data_dir, "__meta")));
  const std::string lock_path = serve_lock_path(data_dir);
  auto lock = fs.lock(lock_path, LockMode::kExclusive, /*wait=*/false);
  if (!lock.ok()) {
    if (lock.error().code == ErrorCode::kBusy) {
      auto owner = check_data_dir_owner(fs, data_dir);
      if (owner.ok() && owner->has_value()) return Error::busy(served_by_message(data_dir, **owner));
      return Error::busy(data_dir + " is already served by another streamctl serve process (" + lock_path +
                         " is locked)");
    }
    return std::move(lock).error();
  }
  File& f = (*lock)->file();
  STREAMCTL_TRY(f.truncate(0));
  std::string pid = std::to_string(static_cast<long long>(::getpid()));
  STREAMCTL_TRY(f.write_at(0, as_byte_span(pid)));
  // A serve.json left by a killed server is stale: remove it so nobody reads an old address.
  auto stale = fs.exists(serve_advert_path(data_dir));
  if (stale.ok() && *stale) (void)fs.remove_file(serve_advert_path(data_dir));
  return std::unique_ptr<DataDirOwnership>(new DataDirOwnership(fs, data_dir, std::move(*lock)));
}

DataDirOwnership::~DataDirOwnership() { release(); }

Status DataDirOwnership::publish(const ServerAdvert& advert) {
  STREAMCTL_CHECK(lock_ != nullptr, "publish after release of %s", data_dir_.c_str());
  std::string json = advert_to_json(advert);
  STREAMCTL_TRY(write_file_atomically(fs_, serve_advert_path(data_dir_), as_byte_span(json)));
  published_ = true;
  return ok_status();
}

void DataDirOwnership::release() {
  if (!lock_) return;
  if (published_) (void)fs_.remove_file(serve_advert_path(data_dir_));
  published_ = false;
  (void)lock_->file().truncate(0);
  lock_.reset();
}

}  // namespace streamctl::engine
