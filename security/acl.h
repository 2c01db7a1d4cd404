// ACLs in Kafka's model (KIP-11, KIP-290) and the Authorizer that checks them.
//
// An ACL binding is (resource pattern, access control entry):
//   pattern = {resource type: TOPIC | GROUP | CLUSTER | TRANSACTIONAL_ID, name, LITERAL | PREFIXED}
//   entry   = {principal "User:alice" or "User:*", host "10.0.0.1" or "*", operation, ALLOW | DENY}
// A LITERAL name "*" matches every resource of its type; PREFIXED matches names starting with the name.
//
// authorize(principal, host, operation, resource) decides, in this order (Kafka's AclAuthorizer):
//   1. a super user is allowed everything;
//   2. any matching DENY for the operation (or ALL) denies — DENY wins;
//   3. any matching ALLOW for the operation, ALL, or an operation implying it allows. Implications:
//      DESCRIBE is implied by READ, WRITE, DELETE, ALTER; DESCRIBE_CONFIGS by ALTER_CONFIGS;
//   4. with no ACL at all on the resource (any principal): allow.everyone.if.no.acl.found (default false),
//      otherwise deny. No matching ACL means deny.
// Filters (DescribeAcls / DeleteAcls) use Kafka's ANY / MATCH semantics (AclBindingFilter::matches).
//
// Numeric values of the enums are Kafka's wire codes.
//
// Storage: <data dir>/__meta/acls.json, atomic, mode 0600:
//   {"version": 1, "acls": [{"resource_type": "TOPIC", "name": "orders", "pattern_type": "LITERAL",
//     "principal": "User:alice", "host": "*", "operation": "READ", "permission": "ALLOW"}, ...]}
//
// Several writers (the server's CreateAcls/DeleteAcls and `streamctl acl add|remove` on the data dir while it
// is served) serialise through an exclusive flock on "<path>.lock" and re-read the file under it before
// changing it, so no change is lost. A reader notices a file changed by another process with
// reload_if_changed() (inode, size and mtime differ from what it last loaded or wrote); with
// AuthorizerConfig::reload_check_interval set, authorize() does that itself at most once per interval.
//
// Thread-safety: Authorizer is thread-safe; authorize() takes a shared lock only (plus, once per reload
// interval, one stat(2) and on change the exclusive lock to swap in the new ACLs).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace streamctl::security {

enum class ResourceType : int8_t { kUnknown = 0, kAny = 1, kTopic = 2, kGroup = 3, kCluster = 4, kTransactionalId = 5 };
enum class PatternType : int8_t { kUnknown = 0, kAny = 1, kMatch = 2, kLiteral = 3, kPrefixed = 4 };
enum class AclOperation : int8_t {
  kUnknown = 0, kAny = 1, kAll = 2, kRead = 3, kWrite = 4, kCreate = 5, kDelete = 6, kAlter = 7, kDescribe = 8,
  kClusterAction = 9, kDescribeConfigs = 10, kAlterConfigs = 11, kIdempotentWrite = 12
};
enum class AclPermission : int8_t { kUnknown = 0, kAny = 1, kDeny = 2, kAllow = 3 };

// Kafka's names ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW"); parse is case-insensitive and also
// accepts Kafka's CLI spellings ("Topic", "Prefixed", "DescribeConfigs"), returning kUnknown otherwise.
const char* to_string(ResourceType v);
const char* to_string(PatternType v);
const char* to_string(AclOperation v);
const char* to_string(AclPermission v);
ResourceType parse_resource_type(std::string_view s);
PatternType parse_pattern_type(std::string_view s);
AclOperation parse_acl_operation(std::string_view s);
AclPermission parse_acl_permission(std::string_view s);

inline constexpr const char* kWildcardResource = "*";
inline constexpr const char* kWildcardPrincipal = "User:*";
inline constexpr const char* kWildcardHost = "*";
// The one CLUSTER resource name.
inline constexpr const char* kClusterResourceName = "kafka-cluster";

struct ResourcePattern {
  ResourceType type = ResourceType::kUnknown;
  std::string name;
  PatternType pattern = PatternType::kLiteral;
  auto operator<=>(const ResourcePattern&) const = default;
};

struct AccessControlEntry {
  std::string principal;
  std::string host = kWildcardHost;
  AclOperation operation = AclOperation::kUnknown;
  AclPermission permission = AclPermission::kUnknown;
  auto operator<=>(const AccessControlEntry&) const = default;
};

struct AclBinding {
  ResourcePattern pattern;
  AccessControlEntry entry;
  auto operator<=>(const AclBinding&) const = default;
};

// A filter; std::nullopt name/principal/host match anything.
struct AclBindingFilter {
  ResourceType type = ResourceType::kAny;
  std::optional<std::string> name;
  PatternType pattern = PatternType::kAny;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::kAny;
  AclPermission permission = AclPermission::kAny;

  static AclBindingFilter any() { return {}; }
  bool matches(const AclBinding& binding) const;
};

// Checks a binding for CreateAcls: concrete enums (no ANY/MATCH/UNKNOWN), LITERAL or PREFIXED, non-empty
// name, CLUSTER named "kafka-cluster", principal "<Type>:<name>", non-empty host. Error names the field.
Status validate_acl_binding(const AclBinding& binding);
// Checks a filter for DescribeAcls/DeleteAcls: no UNKNOWN values.
Status validate_acl_filter(const AclBindingFilter& filter);

struct AuthorizerConfig {
  std::set<std::string> super_users;          // principals, e.g. "User:admin"
  bool allow_everyone_if_no_acl_found = false;
  // > 0: authorize() checks the file for changes by other processes at most this often (the server: 1 s).
  std::chrono::milliseconds reload_check_interval{0};
};

// The bindings stored in an ACL file (the format above); an empty set when it does not exist. kCorruption
// naming the path and the entry when it does not parse or an entry is invalid.
Result<std::set<AclBinding>> load_acl_file(const std::string& path);

class Authorizer {
 public:
  // Opens (loading if present) the ACL file at `path`; a missing file means no ACLs.
  static Result<std::unique_ptr<Authorizer>> open(std::string path, AuthorizerConfig config);

  bool authorize(const std::string& principal, const std::string& host, AclOperation operation,
                 ResourceType type, const std::string& name) const;

  // Adds bindings (already present ones are kept once) and saves. Each binding is validated first; a bad one
  // fails the whole call with nothing changed (the server calls once per creation to get per-item results).
  Status create(const std::vector<AclBinding>& bindings);
  // Removes every binding matching the filter and saves; returns the removed bindings.
  Result<std::vector<AclBinding>> remove(const AclBindingFilter& filter);
  // Bindings matching the filter, sorted.
  std::vector<AclBinding> describe(const AclBindingFilter& filter) const;

  // Re-reads the file if another process changed it since this object last read or wrote it. Returns
  // whether the ACLs were replaced. A file that no longer parses is an error and the previous ACLs stay.
  Result<bool> reload_if_changed();

  const AuthorizerConfig& config() const { return config_; }
  const std::string& path() const { return path_; }

 private:
  Authorizer(std::string path, AuthorizerConfig config) : path_(std::move(path)), config_(std::move(config)) {}
  Status save(const std::set<AclBinding>& bindings);
  void rebuild_index();
  // REQUIRES: mu_ held exclusively. Reloads when the file's stamp differs from stamp_.
  Result<bool> reload_locked();
  // Takes the writers' flock, catches up with the file, applies `change` to a copy of the bindings and
  // saves it when it differs.
  Status mutate(const std::function<Status(std::set<AclBinding>&)>& change);
  void maybe_reload() const;

  // The entries of one resource pattern.
  using Entries = std::vector<AccessControlEntry>;
  struct TypeIndex {
    std::map<std::string, Entries, std::less<>> literal;   // includes "*"
    std::map<std::string, Entries, std::less<>> prefixed;  // prefix -> entries
  };

  std::string path_;
  AuthorizerConfig config_;
  mutable std::shared_mutex mu_;
  std::set<AclBinding> bindings_;                // GUARDED_BY(mu_)
  std::map<ResourceType, TypeIndex> index_;      // GUARDED_BY(mu_), derived from bindings_
  std::string stamp_;                            // GUARDED_BY(mu_): "ino:size:mtime" last read or written
  mutable std::atomic<int64_t> next_check_ns_{0};  // steady clock; maybe_reload() runs when reached
};

}  // namespace streamctl::security
