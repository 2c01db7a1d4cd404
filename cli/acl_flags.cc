#include "cli/acl_flags.h"

#include <set>

namespace streamctl::cli {

namespace sec = security;

const char* const kAclOperationNames =
    "Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All";

namespace {

Status check_principal(const std::string& flag, const std::string& p) {
  const size_t colon = p.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == p.size()) {
    return Error::invalid_argument(flag + " '" + p + "': a principal is Type:name, e.g. User:" +
                                   (p.empty() ? std::string("alice") : p) + " (or User:* for everyone)");
  }
  return ok_status();
}

Result<std::vector<sec::AclOperation>> parse_operations(const std::vector<std::string>& names) {
  std::vector<sec::AclOperation> out;
  for (const auto& n : names) {
    const sec::AclOperation op = sec::parse_acl_operation(n);
    if (op == sec::AclOperation::kUnknown || op == sec::AclOperation::kAny) {
      return Error::invalid_argument("--operation '" + n + "' is not a Kafka ACL operation (" + kAclOperationNames + ")");
    }
    out.push_back(op);
  }
  return out;
}

Result<sec::PatternType> parse_pattern(const std::string& text, sec::PatternType fallback, bool filter) {
  if (text.empty()) return fallback;
  const sec::PatternType p = sec::parse_pattern_type(text);
  const bool ok = p == sec::PatternType::kLiteral || p == sec::PatternType::kPrefixed ||
                  (filter && (p == sec::PatternType::kAny || p == sec::PatternType::kMatch));
  if (!ok) {
    return Error::invalid_argument("--resource-pattern-type '" + text + "' must be literal or prefixed" +
                                   (filter ? std::string(" (or any, match)") : std::string()));
  }
  return p;
}

// The resources the flags name: --topic, --group, --cluster.
std::vector<sec::ResourcePattern> named_resources(const AclOptions& o, sec::PatternType pattern) {
  std::vector<sec::ResourcePattern> out;
  for (const auto& t : o.topics) out.push_back({sec::ResourceType::kTopic, t, pattern});
  for (const auto& g : o.groups) out.push_back({sec::ResourceType::kGroup, g, pattern});
  if (o.cluster) out.push_back({sec::ResourceType::kCluster, sec::kClusterResourceName, sec::PatternType::kLiteral});
  return out;
}

// (principal, permission) pairs from --allow-principal / --deny-principal.
Result<std::vector<std::pair<std::string, sec::AclPermission>>> principals(const AclOptions& o) {
  std::vector<std::pair<std::string, sec::AclPermission>> out;
  for (const auto& p : o.allow_principals) {
    STREAMCTL_TRY(check_principal("--allow-principal", p));
    out.emplace_back(p, sec::AclPermission::kAllow);
  }
  for (const auto& p : o.deny_principals) {
    STREAMCTL_TRY(check_principal("--deny-principal", p));
    out.emplace_back(p, sec::AclPermission::kDeny);
  }
  return out;
}

}  // namespace

Result<std::vector<sec::AclBinding>> acl_bindings_to_add(const AclOptions& o) {
  STREAMCTL_ASSIGN_OR_RETURN(auto who, principals(o));
  if (who.empty()) {
    return Error::invalid_argument("name who the ACL is for: --allow-principal User:NAME or --deny-principal User:NAME");
  }
  STREAMCTL_ASSIGN_OR_RETURN(auto ops, parse_operations(o.operations));
  STREAMCTL_ASSIGN_OR_RETURN(auto pattern, parse_pattern(o.pattern_type, sec::PatternType::kLiteral, false));
  const auto resources = named_resources(o, pattern);
  if (resources.empty()) return Error::invalid_argument("name a resource: --topic NAME, --group NAME or --cluster");
  if (ops.empty() && !o.producer && !o.consumer) {
    return Error::invalid_argument("name an operation: --operation Read (repeatable), or --producer / --consumer");
  }
  if (o.consumer && o.groups.empty()) {
    return Error::invalid_argument("--consumer needs --group NAME (consumers READ their group)");
  }
  if ((o.producer || o.consumer) && o.topics.empty()) {
    return Error::invalid_argument(std::string(o.producer ? "--producer" : "--consumer") + " needs --topic NAME");
  }
  const std::string host = o.host.empty() ? sec::kWildcardHost : o.host;
  std::vector<sec::AclBinding> out;
  std::set<sec::AclBinding> seen;  // --producer and --consumer both grant DESCRIBE: list it once
  auto add = [&](const sec::ResourcePattern& r, sec::AclOperation op) {
    for (const auto& [principal, permission] : who) {
      sec::AclBinding b{r, {principal, host, op, permission}};
      if (seen.insert(b).second) out.push_back(std::move(b));
    }
  };
  for (const auto& r : resources) {
    for (auto op : ops) add(r, op);
    if (r.type == sec::ResourceType::kTopic && o.producer) {
      for (auto op : {sec::AclOperation::kWrite, sec::AclOperation::kDescribe, sec::AclOperation::kCreate}) add(r, op);
    }
    if (r.type == sec::ResourceType::kTopic && o.consumer) {
      for (auto op : {sec::AclOperation::kRead, sec::AclOperation::kDescribe}) add(r, op);
    }
    if (r.type == sec::ResourceType::kGroup && o.consumer) add(r, sec::AclOperation::kRead);
  }
  for (const auto& b : out) STREAMCTL_TRY(sec::validate_acl_binding(b));
  return out;
}

Result<std::vector<sec::AclBindingFilter>> acl_filters_for(const AclOptions& o, bool require_resource) {
  STREAMCTL_ASSIGN_OR_RETURN(auto who, principals(o));
  for (const auto& p : o.principals) {
    STREAMCTL_TRY(check_principal("--principal", p));
    who.emplace_back(p, sec::AclPermission::kAny);
  }
  STREAMCTL_ASSIGN_OR_RETURN(auto ops, parse_operations(o.operations));
  if (o.producer || o.consumer) return Error::invalid_argument("--producer / --consumer only go with 'acl add'");
  const sec::PatternType fallback = require_resource ? sec::PatternType::kLiteral : sec::PatternType::kAny;
  STREAMCTL_ASSIGN_OR_RETURN(auto pattern, parse_pattern(o.pattern_type, fallback, true));
  std::vector<sec::AclBindingFilter> resources;
  for (const auto& r : named_resources(o, pattern)) {
    sec::AclBindingFilter f;
    f.type = r.type;
    f.name = r.name;
    f.pattern = r.pattern;
    resources.push_back(f);
  }
  if (resources.empty()) {
    if (require_resource) {
      return Error::invalid_argument("name the resource whose ACLs to remove: --topic NAME, --group NAME or --cluster");
    }
    resources.push_back(sec::AclBindingFilter::any());
    resources.back().pattern = pattern;
  }
  std::vector<sec::AclBindingFilter> out;
  for (const auto& base : resources) {
    std::vector<sec::AclBindingFilter> by_who;
    if (who.empty()) by_who.push_back(base);
    for (const auto& [principal, permission] : who) {
      sec::AclBindingFilter f = base;
      f.principal = principal;
      f.permission = permission;
      by_who.push_back(f);
    }
    for (auto& f : by_who) {
      if (!o.host.empty()) f.host = o.host;
      if (ops.empty()) out.push_back(f);
      for (auto op : ops) {
        f.operation = op;
        out.push_back(f);
      }
    }
  }
  return out;
}

}  // namespace streamctl::cli
