#include "security/acl.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/logging.h"
#include "security/private_file.h"

namespace streamctl::security {

using nlohmann::json;

namespace {

// Upper-case with '_' removed, so "DescribeConfigs", "describe_configs" and "DESCRIBE_CONFIGS" compare equal.
std::string fold(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '_') out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

template <typename E, size_t N>
E parse_enum(std::string_view s, const std::pair<E, const char*> (&table)[N]) {
  std::string f = fold(s);
  for (const auto& [v, name] : table) {
    if (fold(name) == f) return v;
  }
  return E{};
}

template <typename E, size_t N>
const char* enum_name(E v, const std::pair<E, const char*> (&table)[N]) {
  for (const auto& [e, name] : table) {
    if (e == v) return name;
  }
  return "UNKNOWN";
}

constexpr std::pair<ResourceType, const char*> kResourceTypes[] = {
    {ResourceType::kUnknown, "UNKNOWN"}, {ResourceType::kAny, "ANY"},         {ResourceType::kTopic, "TOPIC"},
    {ResourceType::kGroup, "GROUP"},     {ResourceType::kCluster, "CLUSTER"}, {ResourceType::kTransactionalId, "TRANSACTIONAL_ID"}};
constexpr std::pair<PatternType, const char*> kPatternTypes[] = {
    {PatternType::kUnknown, "UNKNOWN"}, {PatternType::kAny, "ANY"},           {PatternType::kMatch, "MATCH"},
    {PatternType::kLiteral, "LITERAL"}, {PatternType::kPrefixed, "PREFIXED"}};
constexpr std::pair<AclOperation, const char*> kOperations[] = {
    {AclOperation::kUnknown, "UNKNOWN"},
    {AclOperation::kAny, "ANY"},
    {AclOperation::kAll, "ALL"},
    {AclOperation::kRead, "READ"},
    {AclOperation::kWrite, "WRITE"},
    {AclOperation::kCreate, "CREATE"},
    {AclOperation::kDelete, "DELETE"},
    {AclOperation::kAlter, "ALTER"},
    {AclOperation::kDescribe, "DESCRIBE"},
    {AclOperation::kClusterAction, "CLUSTER_ACTION"},
    {AclOperation::kDescribeConfigs, "DESCRIBE_CONFIGS"},
    {AclOperation::kAlterConfigs, "ALTER_CONFIGS"},
    {AclOperation::kIdempotentWrite, "IDEMPOTENT_WRITE"}};
constexpr std::pair<AclPermission, const char*> kPermissions[] = {
    {AclPermission::kUnknown, "UNKNOWN"}, {AclPermission::kAny, "ANY"}, {AclPermission::kDeny, "DENY"},
    {AclPermission::kAllow, "ALLOW"}};

bool is_concrete(ResourceType t) { return t != ResourceType::kUnknown && t != ResourceType::kAny; }
bool is_concrete(AclOperation o) { return o != AclOperation::kUnknown && o != AclOperation::kAny; }
bool is_concrete(AclPermission p) { return p != AclPermission::kUnknown && p != AclPermission::kAny; }

// Does an entry's principal/host apply to this request?
bool entry_applies(const AccessControlEntry& e, const std::string& principal, const std::string& host) {
  return (e.principal == principal || e.principal == kWildcardPrincipal) &&
         (e.host == host || e.host == kWildcardHost);
}

// Operations whose ALLOW grants `op` (ALL is handled separately).
bool allow_implies(AclOperation granted, AclOperation op) {
  if (granted == op) return true;
  if (op == AclOperation::kDescribe) {
    return granted == AclOperation::kRead || granted == AclOperation::kWrite || granted == AclOperation::kDelete ||
           granted == AclOperation::kAlter;
  }
  if (op == AclOperation::kDescribeConfigs) return granted == AclOperation::kAlterConfigs;
  return false;
}

}  // namespace

const char* to_string(ResourceType v) { return enum_name(v, kResourceTypes); }
const char* to_string(PatternType v) { return enum_name(v, kPatternTypes); }
const char* to_string(AclOperation v) { return enum_name(v, kOperations); }
const char* to_string(AclPermission v) { return enum_name(v, kPermissions); }
ResourceType parse_resource_type(std::string_view s) { return parse_enum(s, kResourceTypes); }
PatternType parse_pattern_type(std::string_view s) { return parse_enum(s, kPatternTypes); }
AclOperation parse_acl_operation(std::string_view s) { return parse_enum(s, kOperations); }
AclPermission parse_acl_permission(std::string_view s) { return parse_enum(s, kPermissions); }

bool AclBindingFilter::matches(const AclBinding& b) const {
  // Resource pattern part (Kafka's ResourcePatternFilter.matches).
  if (type != ResourceType::kAny && type != b.pattern.type) return false;
  if (pattern != PatternType::kAny && pattern != PatternType::kMatch && pattern != b.pattern.pattern) return false;
  if (name) {
    if (pattern == PatternType::kAny || pattern == b.pattern.pattern) {
      if (*name != b.pattern.name) return false;
    } else if (b.pattern.pattern == PatternType::kLiteral) {  // MATCH against a literal
      if (*name != b.pattern.name && b.pattern.name != kWildcardResource) return false;
    } else if (b.pattern.pattern == PatternType::kPrefixed) {  // MATCH against a prefix
      if (name->compare(0, b.pattern.name.size(), b.pattern.name) != 0) return false;
    } else {
      return false;
    }
  }
  // Entry part (AccessControlEntryFilter.matches).
  if (principal && *principal != b.entry.principal) return false;
  if (host && *host != b.entry.host) return false;
  if (operation != AclOperation::kAny && operation != b.entry.operation) return false;
  if (permission != AclPermission::kAny && permission != b.entry.permission) return false;
  return true;
}

Status validate_acl_binding(const AclBinding& b) {
  if (!is_concrete(b.pattern.type)) return Error::invalid_argument("ACL resource type must be concrete, not ANY/UNKNOWN");
  if (b.pattern.pattern != PatternType::kLiteral && b.pattern.pattern != PatternType::kPrefixed) {
    return Error::invalid_argument("ACL pattern type must be LITERAL or PREFIXED");
  }
  if (b.pattern.name.empty()) return Error::invalid_argument("ACL resource name is empty");
  if (b.pattern.type == ResourceType::kCluster &&
      (b.pattern.name != kClusterResourceName || b.pattern.pattern != PatternType::kLiteral)) {
    return Error::invalid_argument(std::string("a CLUSTER ACL must name the literal resource '") +
                                   kClusterResourceName + "'");
  }
  if (b.pattern.pattern == PatternType::kPrefixed && b.pattern.name == kWildcardResource) {
    return Error::invalid_argument("a PREFIXED ACL cannot use the wildcard name '*' (use LITERAL '*')");
  }
  size_t colon = b.entry.principal.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == b.entry.principal.size()) {
    return Error::invalid_argument("ACL principal '" + b.entry.principal + "' is not of the form <Type>:<name>");
  }
  if (b.entry.host.empty()) return Error::invalid_argument("ACL host is empty (use '*' for any host)");
  if (!is_concrete(b.entry.operation)) return Error::invalid_argument("ACL operation must be concrete, not ANY/UNKNOWN");
  if (!is_concrete(b.entry.permission)) return Error::invalid_argument("ACL permission must be ALLOW or DENY");
  return ok_status();
}

Status validate_acl_filter(const AclBindingFilter& f) {
  if (f.type == ResourceType::kUnknown) return Error::invalid_argument("ACL filter resource type is UNKNOWN");
  if (f.pattern == PatternType::kUnknown) return Error::invalid_argument("ACL filter pattern type is UNKNOWN");
  if (f.operation == AclOperation::kUnknown) return Error::invalid_argument("ACL filter operation is UNKNOWN");
  if (f.permission == AclPermission::kUnknown) return Error::invalid_argument("ACL filter permission is UNKNOWN");
  return ok_status();
}

Result<std::set<AclBinding>> load_acl_file(const std::string& p) {
  std::set<AclBinding> out;
  STREAMCTL_ASSIGN_OR_RETURN(auto text, read_file_if_exists(p));
  if (!text) return out;
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Error::corruption(p + ": not a JSON object");
  if (doc.value("version", 0) != 1) return Error::corruption(p + ": unsupported version (expected 1)");
  auto acls = doc.find("acls");
  if (acls == doc.end() || !acls->is_array()) return Error::corruption(p + ": 'acls' is missing");
  size_t i = 0;
  for (const json& j : *acls) {
    std::string where = p + ": acls[" + std::to_string(i++) + "]";
    auto str = [&](const char* k) { return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
    AclBinding b;
    b.pattern.type = parse_resource_type(str("resource_type"));
    b.pattern.name = str("name");
    b.pattern.pattern = parse_pattern_type(str("pattern_type"));
    b.entry.principal = str("principal");
    b.entry.host = str("host");
    b.entry.operation = parse_acl_operation(str("operation"));
    b.entry.permission = parse_acl_permission(str("permission"));
    if (auto st = validate_acl_binding(b); !st.ok()) return Error::corruption(where + ": " + st.error().message);
    out.insert(std::move(b));
  }
  return out;
}

namespace {

// "ino:size:mtime" of a file, "" when it does not exist.
std::string file_stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

}  // namespace

Result<std::unique_ptr<Authorizer>> Authorizer::open(std::string path, AuthorizerConfig config) {
  std::unique_ptr<Authorizer> a(new Authorizer(std::move(path), std::move(config)));
  std::unique_lock lock(a->mu_);
  a->stamp_ = file_stamp(a->path_);
  STREAMCTL_ASSIGN_OR_RETURN(a->bindings_, load_acl_file(a->path_));
  a->rebuild_index();
  lock.unlock();
  return a;
}

Result<bool> Authorizer::reload_locked() {
  std::string now = file_stamp(path_);
  if (now == stamp_) return false;
  STREAMCTL_ASSIGN_OR_RETURN(auto loaded, load_acl_file(path_));
  stamp_ = std::move(now);
  if (loaded == bindings_) return false;
  bindings_ = std::move(loaded);
  rebuild_index();
  return true;
}

Result<bool> Authorizer::reload_if_changed() {
  {
    std::shared_lock lock(mu_);
    if (file_stamp(path_) == stamp_) return false;
  }
  std::unique_lock lock(mu_);
  return reload_locked();
}

void Authorizer::maybe_reload() const {
  if (config_.reload_check_interval.count() <= 0) return;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t due = next_check_ns_.load(std::memory_order_relaxed);
  if (now < due) return;
  const int64_t next = now + std::chrono::duration_cast<std::chrono::nanoseconds>(config_.reload_check_interval).count();
  if (!next_check_ns_.compare_exchange_strong(due, next, std::memory_order_relaxed)) return;  // another thread checks
  // Logically const: the in-memory ACLs are a cache of the file.
  auto reloaded = const_cast<Authorizer*>(this)->reload_if_changed();
  if (!reloaded.ok()) {
    log_warn("cannot reload ACLs; keeping the previous ones").kv("error", reloaded.error().message);
  } else if (*reloaded) {
    std::shared_lock lock(mu_);
    log_info("ACLs reloaded").kv("path", path_).kv("acls", int64_t(bindings_.size()));
  }
}

void Authorizer::rebuild_index() {
  index_.clear();
  for (const AclBinding& b : bindings_) {
    TypeIndex& t = index_[b.pattern.type];
    auto& map = b.pattern.pattern == PatternType::kPrefixed ? t.prefixed : t.literal;
    map[b.pattern.name].push_back(b.entry);
  }
}

bool Authorizer::authorize(const std::string& principal, const std::string& host, AclOperation operation,
                           ResourceType type, const std::string& name) const {
  if (config_.super_users.count(principal)) return true;
  maybe_reload();
  std::shared_lock lock(mu_);
  // Collect the entries of every pattern matching the resource: literal name, literal "*", prefixes.
  std::vector<const Entries*> matching;
  if (auto t = index_.find(type); t != index_.end()) {
    if (auto it = t->second.literal.find(name); it != t->second.literal.end()) matching.push_back(&it->second);
    if (name != kWildcardResource) {
      if (auto it = t->second.literal.find(kWildcardResource); it != t->second.literal.end()) {
        matching.push_back(&it->second);
      }
    }
    std::string_view n(name);
    for (size_t len = 1; len <= n.size() && !t->second.prefixed.empty(); ++len) {
      if (auto it = t->second.prefixed.find(n.substr(0, len)); it != t->second.prefixed.end()) {
        matching.push_back(&it->second);
      }
    }
  }
  if (matching.empty()) return config_.allow_everyone_if_no_acl_found;
  bool allowed = false;
  for (const Entries* entries : matching) {
    for (const AccessControlEntry& e : *entries) {
      if (!entry_applies(e, principal, host)) continue;
      if (e.permission == AclPermission::kDeny) {
        if (e.operation == operation || e.operation == AclOperation::kAll) return false;  // DENY wins
      } else if (e.operation == AclOperation::kAll || allow_implies(e.operation, operation)) {
        allowed = true;
      }
    }
  }
  return allowed;
}

Status Authorizer::save(const std::set<AclBinding>& bindings) {
  json acls = json::array();
  for (const AclBinding& b : bindings) {
    acls.push_back({{"resource_type", to_string(b.pattern.type)},
                    {"name", b.pattern.name},
                    {"pattern_type", to_string(b.pattern.pattern)},
                    {"principal", b.entry.principal},
                    {"host", b.entry.host},
                    {"operation", to_string(b.entry.operation)},
                    {"permission", to_string(b.entry.permission)}});
  }
  json doc = {{"version", 1}, {"acls", std::move(acls)}};
  STREAMCTL_TRY(write_private_file(path_, doc.dump(2) + "\n"));
  stamp_ = file_stamp(path_);
  return ok_status();
}

Status Authorizer::mutate(const std::function<Status(std::set<AclBinding>&)>& change) {
  std::unique_lock lock(mu_);
  STREAMCTL_TRY(ensure_private_dir(parent_dir(path_)));
  const std::string lock_path = path_ + ".lock";
  if (int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) ::close(fd);  // 0600, not 0644
  STREAMCTL_ASSIGN_OR_RETURN(auto file_lock, posix_file_system()->lock(lock_path, LockMode::kExclusive, true));
  STREAMCTL_TRY(reload_locked());
  std::set<AclBinding> next = bindings_;
  STREAMCTL_TRY(change(next));
  if (next == bindings_) return ok_status();
  STREAMCTL_TRY(save(next));
  bindings_ = std::move(next);
  rebuild_index();
  return ok_status();
}

Status Authorizer::create(const std::vector<AclBinding>& bindings) {
  for (const AclBinding& b : bindings) STREAMCTL_TRY(validate_acl_binding(b));
  return mutate([&](std::set<AclBinding>& next) {
    next.insert(bindings.begin(), bindings.end());
    return ok_status();
  });
}

Result<std::vector<AclBinding>> Authorizer::remove(const AclBindingFilter& filter) {
  STREAMCTL_TRY(validate_acl_filter(filter));
  std::vector<AclBinding> removed;
  STREAMCTL_TRY(mutate([&](std::set<AclBinding>& next) {
    for (auto it = next.begin(); it != next.end();) {
      if (filter.matches(*it)) {
        removed.push_back(*it);
        it = next.erase(it);
      } else {
        ++it;
      }
    }
    return ok_status();
  }));
  return removed;
}

std::vector<AclBinding> Authorizer::describe(const AclBindingFilter& filter) const {
  std::shared_lock lock(mu_);
  std::vector<AclBinding> out;
  for (const AclBinding& b : bindings_) {
    if (filter.matches(b)) out.push_back(b);
  }
  return out;
}

}  // namespace streamctl::security
