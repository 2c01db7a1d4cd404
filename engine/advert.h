// Data-directory ownership by `streamctl serve`, and the advertisement that tells embedded commands where
// the server is. No asio here: the CLI links this to refuse writing beside a running server.
//
// Files, under <data>/__meta/:
//   serve.lock   held with an exclusive flock by the serving process for its whole life (the kernel drops it
//                when the process dies, even on kill -9). Content while held: the owner's pid, as text.
//   serve.json   the advertisement, written atomically (tmp + fsync + rename + dir fsync) once the listener is
//                bound: {"pid","listen","advertised","http","node_id","start_ms","start_time"}. Removed on
//                clean shutdown. A serve.json whose lock is free is stale (the server died) and is ignored.
//
// Who owns what: DataDirOwnership holds the lock (copy forbidden); check_data_dir_owner only probes.
// Thread-safety: DataDirOwnership is thread-compatible; check_data_dir_owner is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/fs.h"
#include "base/result.h"

namespace streamctl::engine {

// Where a running server listens, as advertised in <data>/__meta/serve.json.
struct ServerAdvert {
  int64_t pid = 0;
  std::string listen;      // bound address "host:port" (the real port, also when started with port 0)
  std::string advertised;  // "host:port" handed to clients (Metadata, FindCoordinator): use as --brokers
  std::string http;        // metrics/health "host:port", empty when off
  int32_t node_id = 0;
  int64_t start_ms = 0;    // wall clock when the server took the directory
  bool starting = false;   // lock held but the listener is not advertised yet (listen/advertised empty)
};

// <data>/__meta/serve.lock and <data>/__meta/serve.json.
std::string serve_lock_path(const std::string& data_dir);
std::string serve_advert_path(const std::string& data_dir);

// Is a live `streamctl serve` using data_dir? nullopt when no process holds serve.lock (no server, or a stale
// advertisement left by a killed one). Never creates anything in the directory. Errors only for I/O failures
// other than "missing".
Result<std::optional<ServerAdvert>> check_data_dir_owner(const std::string& data_dir);
Result<std::optional<ServerAdvert>> check_data_dir_owner(FileSystem& fs,
                                                                 const std::string& data_dir);

// The message embedded write commands print (after "streamctl: error: "):
//   "<dir> is served by streamctl serve (pid N) on 127.0.0.1:9092; use --brokers 127.0.0.1:9092"
std::string served_by_message(const std::string& data_dir, const ServerAdvert& advert);

// JSON round trip of the advertisement (exposed for tests).
std::string advert_to_json(const ServerAdvert& advert);
Result<ServerAdvert> advert_from_json(const std::string& text);

// The serving process's claim on a data directory. Destroying it removes serve.json and releases the lock.
class DataDirOwnership {
 public:
  // Takes serve.lock (non-blocking) and writes this process's pid into it. kBusy, with served_by_message's
  // text, when another live server owns the directory. Creates <data>/__meta if missing.
  static Result<std::unique_ptr<DataDirOwnership>> acquire(FileSystem& fs,
                                                                   const std::string& data_dir);
  DataDirOwnership(const DataDirOwnership&) = delete;
  DataDirOwnership& operator=(const DataDirOwnership&) = delete;
  ~DataDirOwnership();

  // Writes serve.json atomically. REQUIRES: the lock is held (it is, for the object's life).
  Status publish(const ServerAdvert& advert);
  // Removes serve.json and releases the lock now (idempotent).
  void release();

 private:
  DataDirOwnership(FileSystem& fs, std::string data_dir, std::unique_ptr<FileLock> lock)
      : fs_(fs), data_dir_(std::move(data_dir)), lock_(std::move(lock)) {}
  FileSystem& fs_;
  std::string data_dir_;
  std::unique_ptr<FileLock> lock_;
  bool published_ = false;
};

}  // namespace streamctl::engine
