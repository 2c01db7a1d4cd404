#include "security/credential_store.h"

#include <openssl/evp.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "security/private_file.h"

namespace streamctl::security {

using nlohmann::json;

Status validate_user_name(const std::string& user) {
  if (user.empty()) return Error::invalid_argument("user name is empty");
  if (user.size() > kMaxUserNameBytes) {
    return Error::invalid_argument("user name is longer than " + std::to_string(kMaxUserNameBytes) + " bytes");
  }
  for (unsigned char c : user) {
    if (c < 0x20 || c == 0x7f) return Error::invalid_argument("user name contains a control character");
  }
  return ok_status();
}

namespace {

Result<ScramCredential> credential_from_json(const json& j, ScramMechanism mech, const std::string& where) {
  if (!j.is_object()) return Error::corruption(where + ": credential is not an object");
  auto field = [&](const char* name) -> Result<std::string> {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return Error::corruption(where + ": '" + name + "' is missing");
    auto bytes = base64_decode(it->get<std::string>());
    if (!bytes || bytes->empty()) return Error::corruption(where + ": '" + name + "' is not base64");
    return std::move(*bytes);
  };
  ScramCredential c;
  STREAMCTL_ASSIGN_OR_RETURN(c.salt, field("salt"));
  STREAMCTL_ASSIGN_OR_RETURN(c.stored_key, field("stored_key"));
  STREAMCTL_ASSIGN_OR_RETURN(c.server_key, field("server_key"));
  auto it = j.find("iterations");
  if (it == j.end() || !it->is_number_integer()) return Error::corruption(where + ": 'iterations' is missing");
  int64_t iterations = it->get<int64_t>();
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations) {
    return Error::corruption(where + ": iterations " + std::to_string(iterations) + " out of range");
  }
  c.iterations = static_cast<int>(iterations);
  size_t key_size = static_cast<size_t>(EVP_MD_get_size(scram_digest(mech)));
  if (c.stored_key.size() != key_size || c.server_key.size() != key_size) {
    return Error::corruption(where + ": key length is not " + std::to_string(key_size) + " bytes");
  }
  return c;
}

}  // namespace

Result<std::unique_ptr<CredentialStore>> CredentialStore::open(std::string path) {
  std::unique_ptr<CredentialStore> store(new CredentialStore(std::move(path)));
  STREAMCTL_ASSIGN_OR_RETURN(auto text, read_file_if_exists(store->path_));
  if (!text) return store;
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  const std::string& p = store->path_;
  if (doc.is_discarded() || !doc.is_object()) return Error::corruption(p + ": not a JSON object");
  if (doc.value("version", 0) != 1) return Error::corruption(p + ": unsupported version (expected 1)");
  auto users = doc.find("users");
  if (users == doc.end() || !users->is_object()) return Error::corruption(p + ": 'users' is missing");
  for (auto& [name, mechs] : users->items()) {
    std::string where = p + ": user '" + name + "'";
    if (auto st = validate_user_name(name); !st.ok()) return Error::corruption(where + ": " + st.error().message);
    if (!mechs.is_object()) return Error::corruption(where + ": not an object");
    for (auto& [mech_name, cred] : mechs.items()) {
      auto mech = parse_scram_mechanism(mech_name);
      if (!mech) return Error::corruption(where + ": unknown mechanism '" + mech_name + "'");
      STREAMCTL_ASSIGN_OR_RETURN(auto c, credential_from_json(cred, *mech, where + " " + mech_name));
      store->users_[name][*mech] = std::move(c);
    }
  }
  return store;
}

std::optional<ScramCredential> CredentialStore::lookup(const std::string& user, ScramMechanism mechanism) const {
  std::shared_lock lock(mu_);
  auto u = users_.find(user);
  if (u == users_.end()) return std::nullopt;
  auto m = u->second.find(mechanism);
  if (m == u->second.end()) return std::nullopt;
  return m->second;
}

ScramCredentialLookup CredentialStore::lookup_function() const {
  return [this](const std::string& user, ScramMechanism mechanism) { return lookup(user, mechanism); };
}

Status CredentialStore::save(const Users& users) const {
  json doc = {{"version", 1}, {"users", json::object()}};
  for (const auto& [name, mechs] : users) {
    json& u = doc["users"][name];
    u = json::object();
    for (const auto& [mech, c] : mechs) {
      u[scram_mechanism_name(mech)] = {{"salt", base64_encode(c.salt)},
                                       {"iterations", c.iterations},
                                       {"stored_key", base64_encode(c.stored_key)},
                                       {"server_key", base64_encode(c.server_key)}};
    }
  }
  return write_private_file(path_, doc.dump(2) + "\n");
}

Status CredentialStore::upsert(const std::string& user, ScramMechanism mechanism, const ScramCredential& credential) {
  STREAMCTL_TRY(validate_user_name(user));
  size_t key_size = static_cast<size_t>(EVP_MD_get_size(scram_digest(mechanism)));
  if (credential.stored_key.size() != key_size || credential.server_key.size() != key_size ||
      credential.salt.empty() || credential.iterations < kScramMinIterations ||
      credential.iterations > kScramMaxIterations) {
    return Error::invalid_argument(std::string("malformed ") + scram_mechanism_name(mechanism) +
                                   " credential for user '" + user + "'");
  }
  std::unique_lock lock(mu_);
  Users next = users_;
  next[user][mechanism] = credential;
  STREAMCTL_TRY(save(next));
  users_ = std::move(next);
  return ok_status();
}

Status CredentialStore::remove(const std::string& user, ScramMechanism mechanism) {
  std::unique_lock lock(mu_);
  auto u = users_.find(user);
  if (u == users_.end() || !u->second.count(mechanism)) {
    return Error::not_found("user '" + user + "' has no " + scram_mechanism_name(mechanism) + " credential");
  }
  Users next = users_;
  next[user].erase(mechanism);
  if (next[user].empty()) next.erase(user);
  STREAMCTL_TRY(save(next));
  users_ = std::move(next);
  return ok_status();
}

Status CredentialStore::remove_user(const std::string& user) {
  std::unique_lock lock(mu_);
  if (!users_.count(user)) return Error::not_found("user '" + user + "' does not exist");
  Users next = users_;
  next.erase(user);
  STREAMCTL_TRY(save(next));
  users_ = std::move(next);
  return ok_status();
}

std::vector<CredentialStore::UserInfo> CredentialStore::list() const {
  std::shared_lock lock(mu_);
  std::vector<UserInfo> out;
  for (const auto& [name, mechs] : users_) {
    UserInfo info{name, {}};
    for (const auto& [mech, c] : mechs) info.mechanisms.emplace_back(mech, c.iterations);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace streamctl::security
