// `streamctl acl add|list|remove`: Kafka ACLs (security/acl.h) in kafka-acls.sh's vocabulary.
//
// Two backends, the same flags and output:
//   * embedded (no --brokers): <data dir>/__meta/acls.json through security::Authorizer, which takes the
//     writers' lock and replaces the file atomically. Works while `streamctl serve` runs there: the server
//     re-reads the file within a second (or at once on SIGHUP).
//   * remote (--brokers / STREAMCTL_BROKERS / --profile): CreateAcls/DescribeAcls/DeleteAcls through
//     librdkafka's Admin API, like every other remote admin command (cli/remote_topic.cc), so the -X
//     security properties (SASL, TLS) and profiles apply unchanged.
// Exit codes: 0 done (an ACL that exists already is fine), 2 bad flags or an ACL the broker refuses as
// invalid, 3 `remove` matched nothing, 1 anything else (CLUSTER_AUTHORIZATION_FAILED, no authorizer, I/O).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/fs.h"
#include "cli/acl_flags.h"
#include "cli/command.h"
#include "cli/kafka_client.h"
#include "cli/remote_topic.h"
#include "security/acl.h"

namespace streamctl::cli {

namespace {

namespace sec = security;
using Json = nlohmann::ordered_json;

std::string acls_path(const GlobalOptions& global) {
  return join_path(join_path(resolve_data_dir(global), "__meta"), "acls.json");
}

// ---- remote: librdkafka's Admin API (its enums carry Kafka's wire codes, as security/acl.h's do)

Error rd_error(const KafkaClient& client, const rd_kafka_error_t* e, const std::string& what) {
  Error out = client.request_error(rd_kafka_error_code(e), what);
  const char* msg = rd_kafka_error_string(e);
  if (msg != nullptr && msg[0] != '\0' && out.message.find(msg) == std::string::npos) out.message += " (" + std::string(msg) + ")";
  if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_INVALID_REQUEST) out.code = streamctl::ErrorCode::kInvalidArgument;
  return out;
}

sec::AclBinding from_rd(const rd_kafka_AclBinding_t* a) {
  sec::AclBinding b;
  b.pattern.type = sec::ResourceType(rd_kafka_AclBinding_restype(a));
  b.pattern.name = rd_kafka_AclBinding_name(a);
  b.pattern.pattern = sec::PatternType(rd_kafka_AclBinding_resource_pattern_type(a));
  b.entry.principal = rd_kafka_AclBinding_principal(a);
  b.entry.host = rd_kafka_AclBinding_host(a);
  b.entry.operation = sec::AclOperation(rd_kafka_AclBinding_operation(a));
  b.entry.permission = sec::AclPermission(rd_kafka_AclBinding_permission_type(a));
  return b;
}

rd_kafka_AclBindingFilter_t* to_rd_filter(const sec::AclBindingFilter& f, char* errstr, size_t n) {
  return rd_kafka_AclBindingFilter_new(
      rd_kafka_ResourceType_t(f.type), f.name ? f.name->c_str() : nullptr, rd_kafka_ResourcePatternType_t(f.pattern),
      f.principal ? f.principal->c_str() : nullptr, f.host ? f.host->c_str() : nullptr,
      rd_kafka_AclOperation_t(f.operation), rd_kafka_AclPermissionType_t(f.permission), errstr, n);
}

Status remote_create(const KafkaClient& client, const std::vector<sec::AclBinding>& bindings) {
  std::vector<rd_kafka_AclBinding_t*> acls;
  char errstr[512];
  for (const auto& b : bindings) {
    rd_kafka_AclBinding_t* a = rd_kafka_AclBinding_new(
        rd_kafka_ResourceType_t(b.pattern.type), b.pattern.name.c_str(), rd_kafka_ResourcePatternType_t(b.pattern.pattern),
        b.entry.principal.c_str(), b.entry.host.c_str(), rd_kafka_AclOperation_t(b.entry.operation),
        rd_kafka_AclPermissionType_t(b.entry.permission), errstr, sizeof errstr);
    if (a == nullptr) {
      rd_kafka_AclBinding_destroy_array(acls.data(), acls.size());
      return Error::invalid_argument(std::string("librdkafka refuses the ACL: ") + errstr);
    }
    acls.push_back(a);
  }
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_CREATEACLS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) { rd_kafka_CreateAcls(client.handle(), acls.data(), acls.size(), opts, q); },
      "creating ACLs");
  rd_kafka_AclBinding_destroy_array(acls.data(), acls.size());
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_acl_result_t** results = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* e = rd_kafka_acl_result_error(results[i])) {
      return rd_error(client, e, "creating ACL #" + std::to_string(i + 1));
    }
  }
  return ok_status();
}

Result<std::vector<sec::AclBinding>> remote_describe(const KafkaClient& client, const sec::AclBindingFilter& f) {
  char errstr[512];
  rd_kafka_AclBindingFilter_t* filter = to_rd_filter(f, errstr, sizeof errstr);
  if (filter == nullptr) return Error::invalid_argument(std::string("librdkafka refuses the filter: ") + errstr);
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_DESCRIBEACLS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) { rd_kafka_DescribeAcls(client.handle(), filter, opts, q); },
      "listing ACLs");
  rd_kafka_AclBinding_destroy(filter);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_AclBinding_t** acls = rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev->get()), &n);
  std::vector<sec::AclBinding> out;
  for (size_t i = 0; i < n; ++i) out.push_back(from_rd(acls[i]));
  return out;
}

Result<std::vector<sec::AclBinding>> remote_remove(const KafkaClient& client, const std::vector<sec::AclBindingFilter>& fs) {
  std::vector<rd_kafka_AclBindingFilter_t*> filters;
  char errstr[512];
  for (const auto& f : fs) {
    rd_kafka_AclBindingFilter_t* filter = to_rd_filter(f, errstr, sizeof errstr);
    if (filter == nullptr) {
      rd_kafka_AclBinding_destroy_array(filters.data(), filters.size());
      return Error::invalid_argument(std::string("librdkafka refuses the filter: ") + errstr);
    }
    filters.push_back(filter);
  }
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_DELETEACLS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_DeleteAcls(client.handle(), filters.data(), filters.size(), opts, q);
      },
      "removing ACLs");
  rd_kafka_AclBinding_destroy_array(filters.data(), filters.size());
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_DeleteAcls_result_response_t** responses =
      rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev->get()), &n);
  std::vector<sec::AclBinding> out;
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* e = rd_kafka_DeleteAcls_result_response_error(responses[i])) {
      return rd_error(client, e, "removing ACLs");
    }
    size_t m = 0;
    const rd_kafka_AclBinding_t** acls = rd_kafka_DeleteAcls_result_response_matching_acls(responses[i], &m);
    for (size_t j = 0; j < m; ++j) out.push_back(from_rd(acls[j]));
  }
  return out;
}

// ---- the two backends behind one interface

struct AclStore {
  std::unique_ptr<KafkaClient> client;           // remote
  std::unique_ptr<sec::Authorizer> authorizer;   // embedded
  bool served = false;                           // embedded, and a server runs on the data dir

  Status create(const std::vector<sec::AclBinding>& b) {
    return client ? remote_create(*client, b) : authorizer->create(b);
  }
  Result<std::vector<sec::AclBinding>> describe(const std::vector<sec::AclBindingFilter>& fs) {
    std::set<sec::AclBinding> all;
    for (const auto& f : fs) {
      if (client) {
        STREAMCTL_ASSIGN_OR_RETURN(auto got, remote_describe(*client, f));
        all.insert(got.begin(), got.end());
      } else {
        auto got = authorizer->describe(f);
        all.insert(got.begin(), got.end());
      }
    }
    return std::vector<sec::AclBinding>(all.begin(), all.end());
  }
  Result<std::vector<sec::AclBinding>> remove(const std::vector<sec::AclBindingFilter>& fs) {
    if (client) return remote_remove(*client, fs);
    std::vector<sec::AclBinding> out;
    for (const auto& f : fs) {
      STREAMCTL_ASSIGN_OR_RETURN(auto got, authorizer->remove(f));
      out.insert(out.end(), got.begin(), got.end());
    }
    return out;
  }
  std::string where() const { return client ? client->settings().brokers : authorizer->path(); }
};

Result<AclStore> open_store(const GlobalOptions& g) {
  AclStore s;
  STREAMCTL_ASSIGN_OR_RETURN(auto backend, select_backend(g));
  if (backend.remote && !backend.routed) {
    STREAMCTL_ASSIGN_OR_RETURN(s.client, admin_client(*backend.remote, g));
    return s;
  }
  // A served data dir: edit the file beside the server (it re-reads it), as `streamctl user` does; the
  // listener may demand SASL that this process has no credentials for, the file's owner needs none.
  s.served = backend.routed;
  STREAMCTL_ASSIGN_OR_RETURN(s.authorizer, sec::Authorizer::open(acls_path(g), {}));
  return s;
}

int report_acl_error(const AclStore& store, const Error& e) {
  if (e.code == streamctl::ErrorCode::kPermissionDenied && store.client) {
    return report_error(e, "ACL admin needs ALTER (list: DESCRIBE) on the cluster: use a super user (serve --super-users) "
                           "or grant one with --cluster --operation Alter");
  }
  if (e.message.find("SECURITY_DISABLED") != std::string::npos || e.message.find("ecurity features are disabled") != std::string::npos) {
    return report_error(e, "the server runs without ACLs: start it with serve --authorizer");
  }
  if (e.code == streamctl::ErrorCode::kCorruption) return report_error(e, "fix or remove the file; serve keeps its last good ACLs");
  return report_error(e);
}

void note_served(const GlobalOptions& g, const AclStore& store) {
  if (store.served) {
    info(g, "a server runs on this data dir: it applies the change within a second (SIGHUP applies it at once); "
            "ACLs are enforced only with serve --authorizer");
  }
}

std::string describe_binding(const sec::AclBinding& b) {
  std::string s = std::string(b.entry.permission == sec::AclPermission::kAllow ? "allow " : "deny ") + b.entry.principal +
                  " " + sec::to_string(b.entry.operation) + " on " + sec::to_string(b.pattern.type) + " '" + b.pattern.name + "'";
  if (b.pattern.pattern == sec::PatternType::kPrefixed) s += " (prefixed)";
  if (b.entry.host != sec::kWildcardHost) s += " from " + b.entry.host;
  return s;
}

Json binding_json(const sec::AclBinding& b) {
  return {{"principal", b.entry.principal}, {"permission", sec::to_string(b.entry.permission)},
          {"operation", sec::to_string(b.entry.operation)}, {"resource_type", sec::to_string(b.pattern.type)},
          {"name", b.pattern.name}, {"pattern_type", sec::to_string(b.pattern.pattern)}, {"host", b.entry.host}};
}

int print_bindings(const GlobalOptions& g, const std::vector<sec::AclBinding>& acls) {
  std::string out;
  if (g.json) {
    Json arr = Json::array();
    for (const auto& b : acls) arr.push_back(binding_json(b));
    out = arr.dump() + "\n";
  } else {
    if (acls.empty()) return to_int(ExitCode::kOk);
    std::vector<std::vector<std::string>> rows = {{"PRINCIPAL", "PERMISSION", "OPERATION", "RESOURCE", "NAME", "PATTERN", "HOST"}};
    for (const auto& b : acls) {
      rows.push_back({b.entry.principal, sec::to_string(b.entry.permission), sec::to_string(b.entry.operation),
                      sec::to_string(b.pattern.type), b.pattern.name, sec::to_string(b.pattern.pattern), b.entry.host});
    }
    out = format_table(rows, color_enabled(STDOUT_FILENO));
  }
  auto st = write_stdout(out);
  return st.ok() ? to_int(ExitCode::kOk) : report_error(st.error());
}

int run_add(const GlobalOptions& g, const AclOptions& o) {
  auto bindings = acl_bindings_to_add(o);
  if (!bindings.ok()) return report_usage_error(bindings.error().message, "streamctl acl add --help shows examples");
  auto store = open_store(g);
  if (!store.ok()) return report_error(store.error());
  if (auto st = store->create(*bindings); !st.ok()) return report_acl_error(*store, st.error());
  for (const auto& b : *bindings) info(g, "added ACL: " + describe_binding(b));
  note_served(g, *store);
  return g.json ? print_bindings(g, *bindings) : to_int(ExitCode::kOk);
}

int run_list(const GlobalOptions& g, const AclOptions& o) {
  auto filters = acl_filters_for(o, false);
  if (!filters.ok()) return report_usage_error(filters.error().message);
  auto store = open_store(g);
  if (!store.ok()) return report_error(store.error());
  auto acls = store->describe(*filters);
  if (!acls.ok()) return report_acl_error(*store, acls.error());
  if (acls->empty() && !g.json) info(g, "no ACLs match (in " + store->where() + ")");
  if (acls->empty() && store->client) {
    // librdkafka 2.0 drops DescribeAcls' error code (rd_kafka_DescribeAclsResponse_parse), so a refusal
    // looks like an empty answer.
    warn(g, "an empty answer may also mean this principal lacks DESCRIBE on the cluster or the server runs "
            "without --authorizer (librdkafka does not pass DescribeAcls errors on)");
  }
  return print_bindings(g, *acls);
}

int run_remove(const GlobalOptions& g, const AclOptions& o) {
  auto filters = acl_filters_for(o, true);
  if (!filters.ok()) return report_usage_error(filters.error().message, "streamctl acl list shows the ACLs");
  auto store = open_store(g);
  if (!store.ok()) return report_error(store.error());
  auto removed = store->remove(*filters);
  if (!removed.ok()) return report_acl_error(*store, removed.error());
  if (removed->empty()) {
    return report_error(Error::not_found("no ACL matches (in " + store->where() + ")"),
                        "streamctl acl list shows the ACLs; --resource-pattern-type prefixed for prefixed ones");
  }
  for (const auto& b : *removed) info(g, "removed ACL: " + describe_binding(b));
  note_served(g, *store);
  return g.json ? print_bindings(g, *removed) : to_int(ExitCode::kOk);
}

void add_selection_flags(CLI::App* c, AclOptions& o) {
  c->add_option("--topic", o.topics, "a topic (repeatable)")->type_name("NAME");
  c->add_option("--group", o.groups, "a consumer group (repeatable)")->type_name("NAME");
  c->add_flag("--cluster", o.cluster, "the cluster resource (admin operations)");
  c->add_option("--operation", o.operations, std::string("operation (repeatable): ") + kAclOperationNames)->type_name("OP");
  c->add_option("--resource-pattern-type", o.pattern_type, "literal or prefixed (list/remove also: any, match)")
      ->type_name("TYPE");
  c->add_option("--host", o.host, "client host (IP address) the ACL applies to (add: default *)")->type_name("HOST");
}

}  // namespace

void register_acl_command(CLI::App& app, CommandContext& ctx) {
  auto opts = std::make_shared<AclOptions>();
  CLI::App* cmd = app.add_subcommand("acl", "Kafka ACLs enforced by serve --authorizer (add, list, remove)");
  cmd->require_subcommand(1);
  cmd->footer(R"(Without --brokers the ACLs live in <data dir>/__meta/acls.json (0600); a server running there re-reads
the file within a second (SIGHUP: at once). With --brokers the cluster's CreateAcls/DescribeAcls/DeleteAcls
are used (needs ALTER on the cluster; DESCRIBE to list). No matching ACL means denied; DENY wins.

Examples:
  streamctl acl add --allow-principal User:alice --operation Read --operation Describe --topic orders
  streamctl acl add --allow-principal User:alice --producer --topic orders --resource-pattern-type prefixed
  streamctl acl add --allow-principal User:bob --consumer --topic orders --group billing
  streamctl --brokers h:9092 -X security.protocol=SASL_PLAINTEXT -X sasl.mechanism=SCRAM-SHA-256 \
      -X sasl.username=admin -X sasl.password="$PW" acl list --topic orders
  streamctl acl remove --topic orders --allow-principal User:alice --operation Read
Exit codes: 0 ok, 2 bad flags or an invalid ACL, 3 remove matched nothing, 1 other errors.)");

  CLI::App* add = cmd->add_subcommand("add", "add ACLs: principals x resources x operations");
  add->add_option("--allow-principal", opts->allow_principals, "principal to allow, e.g. User:alice (repeatable)")
      ->type_name("PRINCIPAL");
  add->add_option("--deny-principal", opts->deny_principals, "principal to deny (repeatable)")->type_name("PRINCIPAL");
  add_selection_flags(add, *opts);
  add->add_flag("--producer", opts->producer, "WRITE, DESCRIBE and CREATE on the --topic resources");
  add->add_flag("--consumer", opts->consumer, "READ and DESCRIBE on the --topic resources, READ on the --group ones");
  add->callback([opts, &ctx]() { ctx.run = [opts, &ctx]() { return run_add(ctx.global, *opts); }; });

  CLI::App* list = cmd->add_subcommand("list", "list ACLs (all, or those matching the flags); --json for JSON");
  list->add_option("--principal", opts->principals, "only this principal's ACLs (repeatable)")->type_name("PRINCIPAL");
  add_selection_flags(list, *opts);
  list->callback([opts, &ctx]() { ctx.run = [opts, &ctx]() { return run_list(ctx.global, *opts); }; });

  CLI::App* remove = cmd->add_subcommand("remove", "remove the ACLs of a resource that match the flags");
  remove->add_option("--allow-principal", opts->allow_principals, "only this principal's ALLOW ACLs (repeatable)")
      ->type_name("PRINCIPAL");
  remove->add_option("--deny-principal", opts->deny_principals, "only this principal's DENY ACLs (repeatable)")
      ->type_name("PRINCIPAL");
  remove->add_option("--principal", opts->principals, "only this principal's ACLs (repeatable)")->type_name("PRINCIPAL");
  add_selection_flags(remove, *opts);
  remove->callback([opts, &ctx]() { ctx.run = [opts, &ctx]() { return run_remove(ctx.global, *opts); }; });
}

}  // namespace streamctl::cli
