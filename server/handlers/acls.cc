// DescribeAcls, CreateAcls, DeleteAcls: Kafka's ACL administration over the broker's Authorizer
// (security/acl.h, <data dir>/__meta/acls.json). Without --authorizer every answer is SECURITY_DISABLED, as a
// Kafka broker without an authorizer answers. The cluster permission (DESCRIBE for DescribeAcls, ALTER for
// the others) is checked by the dispatcher before these run. Changes are saved atomically before the answer
// and apply to the next authorization check on every connection.
#include "server/handlers/handlers.h"

#include <map>

#include "base/logging.h"

namespace streamctl::server::handlers {

namespace p = kafka::protocol;
using p::ErrorCode;
using p::to_int16;
namespace sec = security;

namespace {

// A wire code as the enum; out-of-range codes become UNKNOWN (0), which validation refuses.
int8_t known(int8_t v, int8_t highest) { return v >= 0 && v <= highest ? v : int8_t(0); }

constexpr const char* kNoAuthorizer = "no authorizer is configured (start serve with --authorizer)";

sec::AclBindingFilter make_filter(int8_t type, const std::optional<std::string>& name, int8_t pattern,
                                  const std::optional<std::string>& principal, const std::optional<std::string>& host,
                                  int8_t operation, int8_t permission) {
  sec::AclBindingFilter f;
  f.type = sec::ResourceType(known(type, 5));
  f.name = name;
  f.pattern = sec::PatternType(known(pattern, 4));
  f.principal = principal;
  f.host = host;
  f.operation = sec::AclOperation(known(operation, 12));
  f.permission = sec::AclPermission(known(permission, 3));
  return f;
}

// The request's error code for a failed Authorizer call.
ErrorCode error_for(const Error& e) {
  return e.code == streamctl::ErrorCode::kInvalidArgument ? ErrorCode::kInvalidRequest : ErrorCode::kUnknownServerError;
}

sec::AclBinding acl_binding_from(const p::CreateAclsRequest::AclCreation& c) {
  sec::AclBinding b;
  b.pattern.type = sec::ResourceType(known(c.resource_type, 5));
  b.pattern.name = c.resource_name;
  b.pattern.pattern = sec::PatternType(known(c.resource_pattern_type, 4));
  b.entry.principal = c.principal;
  b.entry.host = c.host;
  b.entry.operation = sec::AclOperation(known(c.operation, 12));
  b.entry.permission = sec::AclPermission(known(c.permission_type, 3));
  return b;
}

void log_acl_change(const char* what, const std::string& by, const sec::AclBinding& b) {
  log_info(what).kv("principal", by).kv("acl_principal", b.entry.principal)
      .kv("resource", std::string(sec::to_string(b.pattern.type)) + ":" + b.pattern.name)
      .kv("pattern", sec::to_string(b.pattern.pattern)).kv("operation", sec::to_string(b.entry.operation))
      .kv("permission", sec::to_string(b.entry.permission)).kv("host", b.entry.host);
}

}  // namespace

p::DescribeAclsResponse handle_describe_acls(RequestContext& ctx, const p::DescribeAclsRequest& req) {
  p::DescribeAclsResponse resp;
  sec::Authorizer* authorizer = ctx.services->authorizer;
  if (authorizer == nullptr) {
    resp.error_code = to_int16(ErrorCode::kSecurityDisabled);
    resp.error_message = kNoAuthorizer;
    return resp;
  }
  const sec::AclBindingFilter filter =
      make_filter(req.resource_type_filter, req.resource_name_filter, req.pattern_type_filter, req.principal_filter,
                  req.host_filter, req.operation, req.permission_type);
  if (auto st = sec::validate_acl_filter(filter); !st.ok()) {
    resp.error_code = to_int16(ErrorCode::kInvalidRequest);
    resp.error_message = st.error().message;
    return resp;
  }
  resp.error_message = std::nullopt;
  // One entry per resource pattern, in the Authorizer's (sorted) order.
  std::map<sec::ResourcePattern, size_t> index;
  for (const sec::AclBinding& b : authorizer->describe(filter)) {
    auto [it, added] = index.try_emplace(b.pattern, resp.resources.size());
    if (added) {
      auto& r = resp.resources.emplace_back();
      r.resource_type = int8_t(b.pattern.type);
      r.resource_name = b.pattern.name;
      r.pattern_type = int8_t(b.pattern.pattern);
    }
    auto& acl = resp.resources[it->second].acls.emplace_back();
    acl.principal = b.entry.principal;
    acl.host = b.entry.host;
    acl.operation = int8_t(b.entry.operation);
    acl.permission_type = int8_t(b.entry.permission);
  }
  return resp;
}

p::CreateAclsResponse handle_create_acls(RequestContext& ctx, const p::CreateAclsRequest& req) {
  p::CreateAclsResponse resp;
  sec::Authorizer* authorizer = ctx.services->authorizer;
  std::vector<sec::AclBinding> valid;
  std::vector<size_t> valid_index;
  for (const auto& c : req.creations) {
    auto& r = resp.results.emplace_back();
    r.error_message = std::nullopt;
    if (authorizer == nullptr) {
      r.error_code = to_int16(ErrorCode::kSecurityDisabled);
      r.error_message = kNoAuthorizer;
      continue;
    }
    sec::AclBinding b = acl_binding_from(c);
    if (auto st = sec::validate_acl_binding(b); !st.ok()) {
      r.error_code = to_int16(ErrorCode::kInvalidRequest);
      r.error_message = st.error().message;
      continue;
    }
    valid.push_back(std::move(b));
    valid_index.push_back(resp.results.size() - 1);
  }
  if (valid.empty()) return resp;
  // One atomic save for every valid creation: all of them are stored or none.
  if (auto st = authorizer->create(valid); !st.ok()) {
    log_error("cannot save ACLs").kv("path", authorizer->path()).kv("error", st.error().message);
    for (size_t i : valid_index) {
      resp.results[i].error_code = to_int16(error_for(st.error()));
      resp.results[i].error_message = st.error().message;
    }
    return resp;
  }
  for (const auto& b : valid) log_acl_change("ACL created", ctx.principal, b);
  return resp;
}

p::DeleteAclsResponse handle_delete_acls(RequestContext& ctx, const p::DeleteAclsRequest& req) {
  p::DeleteAclsResponse resp;
  sec::Authorizer* authorizer = ctx.services->authorizer;
  for (const auto& f : req.filters) {
    auto& fr = resp.filter_results.emplace_back();
    fr.error_message = std::nullopt;
    if (authorizer == nullptr) {
      fr.error_code = to_int16(ErrorCode::kSecurityDisabled);
      fr.error_message = kNoAuthorizer;
      continue;
    }
    const sec::AclBindingFilter filter = make_filter(f.resource_type_filter, f.resource_name_filter, f.pattern_type_filter,
                                                     f.principal_filter, f.host_filter, f.operation, f.permission_type);
    auto removed = authorizer->remove(filter);  // validates the filter first
    if (!removed.ok()) {
      fr.error_code = to_int16(error_for(removed.error()));
      fr.error_message = removed.error().message;
      continue;
    }
    for (const sec::AclBinding& b : *removed) {
      auto& m = fr.matching_acls.emplace_back();
      m.error_message = std::nullopt;
      m.resource_type = int8_t(b.pattern.type);
      m.resource_name = b.pattern.name;
      m.pattern_type = int8_t(b.pattern.pattern);
      m.principal = b.entry.principal;
      m.host = b.entry.host;
      m.operation = int8_t(b.entry.operation);
      m.permission_type = int8_t(b.entry.permission);
      log_acl_change("ACL deleted", ctx.principal, b);
    }
  }
  return resp;
}

}  // namespace streamctl::server::handlers
