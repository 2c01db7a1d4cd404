// CredentialStore: users and their SCRAM credentials, kept in one JSON file (by convention
// <data dir>/__meta/users.json), never a password.
//
// File format (version 1), written atomically with mode 0600 (security/private_file.h):
//   {"version": 1,
//    "users": {"alice": {"SCRAM-SHA-256": {"salt": "<base64>", "iterations": 4096,
//                                          "stored_key": "<base64>", "server_key": "<base64>"},
//                        "SCRAM-SHA-512": {...}}}}
// A file that does not parse, has another version, a key of the wrong length or iterations outside
// Kafka's bounds is refused at open with an error naming the file and the user.
//
// Thread-safety: thread-safe. lookup() takes a shared lock and can be used as a ScramCredentialLookup while
// another thread changes users; a change is durable when the call returns.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "security/scram.h"

namespace streamctl::security {

// Kafka's limit on SCRAM user names is none beyond being non-empty; we bound them and refuse control
// characters so they print safely in logs.
inline constexpr size_t kMaxUserNameBytes = 256;
Status validate_user_name(const std::string& user);

class CredentialStore {
 public:
  // Opens (loading if present) the store at `path`. A missing file is an empty store; nothing is written
  // until the first change.
  static Result<std::unique_ptr<CredentialStore>> open(std::string path);

  std::optional<ScramCredential> lookup(const std::string& user, ScramMechanism mechanism) const;
  // A lookup function bound to this store (the store must outlive it).
  ScramCredentialLookup lookup_function() const;

  // Sets (adds or replaces) the user's credential for one mechanism and saves.
  Status upsert(const std::string& user, ScramMechanism mechanism, const ScramCredential& credential);
  // Removes one mechanism's credential (kNotFound if absent); the user goes when none is left.
  Status remove(const std::string& user, ScramMechanism mechanism);
  // Removes the user entirely (kNotFound if absent).
  Status remove_user(const std::string& user);

  struct UserInfo {
    std::string name;
    std::vector<std::pair<ScramMechanism, int>> mechanisms;  // mechanism, iterations
  };
  // Every user, sorted by name.
  std::vector<UserInfo> list() const;

  const std::string& path() const { return path_; }

 private:
  explicit CredentialStore(std::string path) : path_(std::move(path)) {}
  using Users = std::map<std::string, std::map<ScramMechanism, ScramCredential>>;
  Status save(const Users& users) const;

  std::string path_;
  mutable std::shared_mutex mu_;
  Users users_;  // GUARDED_BY(mu_)
};

}  // namespace streamctl::security
