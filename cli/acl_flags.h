// The flags of `streamctl acl` (kafka-acls.sh's vocabulary) turned into ACL bindings and filters
// (security/acl.h); cli/acl_cmd.cc runs them against a backend. Pure functions; errors are kInvalidArgument
// naming the flag and the fix.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "security/acl.h"

namespace streamctl::cli {

struct AclOptions {
  std::vector<std::string> allow_principals;
  std::vector<std::string> deny_principals;
  std::vector<std::string> principals;  // list: --principal filter
  std::vector<std::string> operations;
  std::vector<std::string> topics;
  std::vector<std::string> groups;
  bool cluster = false;
  std::string pattern_type;  // empty: LITERAL for add/remove, ANY for list
  std::string host;          // empty: "*" for add, any for remove/list
  bool producer = false;
  bool consumer = false;
};

// Kafka's operation names as the CLI spells them, for messages and help.
extern const char* const kAclOperationNames;

// The bindings `acl add` creates: every principal x every resource x every operation, plus the
// --producer / --consumer sets (kafka-acls.sh: producer = WRITE, DESCRIBE, CREATE on the topics; consumer =
// READ, DESCRIBE on the topics and READ on the groups). Each is valid (security::validate_acl_binding).
Result<std::vector<security::AclBinding>> acl_bindings_to_add(const AclOptions& o);

// The filters of `acl remove` (require_resource: a --topic/--group/--cluster is needed; pattern default
// LITERAL) and `acl list` (pattern default ANY): unset flags match anything.
Result<std::vector<security::AclBindingFilter>> acl_filters_for(const AclOptions& o, bool require_resource);

}  // namespace streamctl::cli
