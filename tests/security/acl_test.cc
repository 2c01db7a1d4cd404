// Cases mirror Kafka's AclAuthorizerTest (host-based ACLs, deny precedence, allow-all, super users, wildcard
// resources, no ACL found and its override, management APIs, reload) plus the PREFIXED and filter semantics.
#include "security/acl.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "security/private_file.h"
#include "tests/support/temp_dir.h"

using namespace streamctl::security;
using streamctl::test::TempDir;

namespace {

AclBinding topic_acl(std::string name, std::string principal, std::string host, AclOperation op, AclPermission perm,
                     PatternType pattern = PatternType::kLiteral) {
  return {{ResourceType::kTopic, std::move(name), pattern}, {std::move(principal), std::move(host), op, perm}};
}

std::unique_ptr<Authorizer> open_authorizer(const TempDir& dir, AuthorizerConfig config = {}) {
  auto a = Authorizer::open(dir.join("__meta/acls.json"), std::move(config));
  REQUIRE(a.ok());
  return std::move(a).value();
}

constexpr auto kAllow = AclPermission::kAllow;
constexpr auto kDeny = AclPermission::kDeny;

}  // namespace

TEST_CASE("HostAddressBasedAclsAndDescribeImplication") {
  TempDir dir;
  auto a = open_authorizer(dir);
  const std::string u1 = "User:alice", u2 = "User:bob", u3 = "User:carol";
  const std::string h1 = "192.168.1.1", h2 = "192.168.1.2";
  REQUIRE(a->create({topic_acl("t", u1, h1, AclOperation::kRead, kAllow), topic_acl("t", u1, h2, AclOperation::kRead, kAllow),
                     topic_acl("t", u1, h1, AclOperation::kRead, kDeny), topic_acl("t", u1, h1, AclOperation::kWrite, kAllow),
                     topic_acl("t", u1, "*", AclOperation::kDescribe, kAllow), topic_acl("t", u2, "*", AclOperation::kRead, kAllow),
                     topic_acl("t", u3, "*", AclOperation::kWrite, kAllow)})
              .ok());
  auto can = [&](const std::string& p, const std::string& h, AclOperation op) {
    return a->authorize(p, h, op, ResourceType::kTopic, "t");
  };
  CHECK(can(u1, h2, AclOperation::kRead));
  CHECK_FALSE(can(u1, h1, AclOperation::kRead));  // deny on host1
  CHECK(can(u1, h1, AclOperation::kWrite));
  CHECK_FALSE(can(u1, h2, AclOperation::kWrite));
  CHECK(can(u1, h1, AclOperation::kDescribe));  // a READ deny does not deny DESCRIBE
  CHECK(can(u1, h2, AclOperation::kDescribe));
  CHECK_FALSE(can(u1, h1, AclOperation::kAlter));
  CHECK(can(u2, h1, AclOperation::kDescribe));  // READ implies DESCRIBE
  CHECK(can(u3, h1, AclOperation::kDescribe));  // WRITE implies DESCRIBE
  CHECK_FALSE(can(u2, h1, AclOperation::kWrite));
}

TEST_CASE("ImplicationRulesFollowKafka") {
  TempDir dir;
  auto a = open_authorizer(dir);
  for (auto op : {AclOperation::kDelete, AclOperation::kAlter, AclOperation::kAlterConfigs, AclOperation::kCreate}) {
    REQUIRE(a->create({topic_acl(to_string(op), "User:u", "*", op, kAllow)}).ok());
  }
  auto can = [&](const char* topic, AclOperation op) { return a->authorize("User:u", "h", op, ResourceType::kTopic, topic); };
  CHECK(can("DELETE", AclOperation::kDescribe));
  CHECK(can("ALTER", AclOperation::kDescribe));
  CHECK(can("ALTER_CONFIGS", AclOperation::kDescribeConfigs));
  CHECK_FALSE(can("ALTER_CONFIGS", AclOperation::kDescribe));
  CHECK_FALSE(can("CREATE", AclOperation::kDescribe));  // CREATE implies nothing
  CHECK_FALSE(can("DELETE", AclOperation::kRead));
}

TEST_CASE("DenyTakesPrecedence") {
  TempDir dir;
  auto a = open_authorizer(dir);
  REQUIRE(a->create({topic_acl("t", "User:*", "*", AclOperation::kAll, kAllow),
                     topic_acl("t", "User:alice", "192.168.2.1", AclOperation::kAll, kDeny)})
              .ok());
  CHECK_FALSE(a->authorize("User:alice", "192.168.2.1", AclOperation::kRead, ResourceType::kTopic, "t"));
  CHECK(a->authorize("User:alice", "192.168.2.2", AclOperation::kRead, ResourceType::kTopic, "t"));
}

TEST_CASE("AllowAllAccessAndSuperUsers") {
  TempDir dir;
  auto a = open_authorizer(dir, {{"User:superuser1", "User:superuser2"}, false});
  REQUIRE(a->create({topic_acl("t", "User:*", "*", AclOperation::kAll, kDeny)}).ok());
  CHECK(a->authorize("User:superuser1", "192.0.4.4", AclOperation::kRead, ResourceType::kTopic, "t"));
  CHECK(a->authorize("User:superuser2", "192.0.4.4", AclOperation::kWrite, ResourceType::kTopic, "t"));
  CHECK_FALSE(a->authorize("User:random", "192.0.4.4", AclOperation::kRead, ResourceType::kTopic, "t"));
  TempDir dir2;
  auto b = open_authorizer(dir2);
  REQUIRE(b->create({topic_acl("t", "User:*", "*", AclOperation::kAll, kAllow)}).ok());
  CHECK(b->authorize("User:random", "192.0.4.4", AclOperation::kRead, ResourceType::kTopic, "t"));
}

TEST_CASE("WildcardResourceAcls") {
  TempDir dir;
  auto a = open_authorizer(dir);
  const std::string u = "User:alice", h = "192.168.3.1";
  CHECK_FALSE(a->authorize(u, h, AclOperation::kRead, ResourceType::kTopic, "t"));  // fail closed
  REQUIRE(a->create({topic_acl("*", u, h, AclOperation::kRead, kAllow)}).ok());
  CHECK(a->authorize(u, h, AclOperation::kRead, ResourceType::kTopic, "t"));
  REQUIRE(a->create({topic_acl("t", u, h, AclOperation::kWrite, kAllow)}).ok());
  CHECK(a->authorize(u, h, AclOperation::kWrite, ResourceType::kTopic, "t"));
  REQUIRE(a->create({topic_acl("*", u, h, AclOperation::kWrite, kDeny)}).ok());
  CHECK_FALSE(a->authorize(u, h, AclOperation::kWrite, ResourceType::kTopic, "t"));
  CHECK_FALSE(a->authorize(u, h, AclOperation::kRead, ResourceType::kGroup, "t"));  // other resource type
}

TEST_CASE("NoAclFoundDeniesUnlessOverridden") {
  TempDir dir;
  auto a = open_authorizer(dir);
  CHECK_FALSE(a->authorize("User:x", "h", AclOperation::kRead, ResourceType::kTopic, "t"));
  auto b = open_authorizer(dir, {{}, true});
  CHECK(b->authorize("User:x", "h", AclOperation::kRead, ResourceType::kTopic, "t"));
  // The override applies only when the resource has no ACL at all, for anyone.
  REQUIRE(b->create({topic_acl("t", "User:other", "*", AclOperation::kRead, kAllow)}).ok());
  CHECK_FALSE(b->authorize("User:x", "h", AclOperation::kRead, ResourceType::kTopic, "t"));
  CHECK(b->authorize("User:x", "h", AclOperation::kRead, ResourceType::kTopic, "u"));
}

TEST_CASE("PrefixedAclsMatchNamesStartingWithThePrefix") {
  TempDir dir;
  auto a = open_authorizer(dir);
  REQUIRE(a->create({topic_acl("orders-", "User:alice", "*", AclOperation::kRead, kAllow, PatternType::kPrefixed),
                     topic_acl("o", "User:alice", "*", AclOperation::kWrite, kAllow, PatternType::kPrefixed),
                     topic_acl("orders-secret", "User:alice", "*", AclOperation::kRead, kDeny, PatternType::kPrefixed)})
              .ok());
  auto can = [&](const char* topic, AclOperation op) {
    return a->authorize("User:alice", "h", op, ResourceType::kTopic, topic);
  };
  CHECK(can("orders-eu", AclOperation::kRead));
  CHECK_FALSE(can("orders", AclOperation::kRead));  // shorter than the prefix
  CHECK(can("o", AclOperation::kWrite));            // single-character prefix matches itself
  CHECK(can("orders", AclOperation::kWrite));
  CHECK_FALSE(can("orders-secret-1", AclOperation::kRead));
  CHECK_FALSE(can("payments", AclOperation::kWrite));
}

TEST_CASE("ReadOnlyOnTopicAMayNeitherWriteANorReadB") {
  TempDir dir;
  auto a = open_authorizer(dir);
  REQUIRE(a->create({topic_acl("a", "User:reader", "*", AclOperation::kRead, kAllow)}).ok());
  CHECK(a->authorize("User:reader", "10.0.0.1", AclOperation::kRead, ResourceType::kTopic, "a"));
  CHECK(a->authorize("User:reader", "10.0.0.1", AclOperation::kDescribe, ResourceType::kTopic, "a"));
  CHECK_FALSE(a->authorize("User:reader", "10.0.0.1", AclOperation::kWrite, ResourceType::kTopic, "a"));
  CHECK_FALSE(a->authorize("User:reader", "10.0.0.1", AclOperation::kRead, ResourceType::kTopic, "b"));
  CHECK_FALSE(a->authorize("User:reader", "10.0.0.1", AclOperation::kDescribe, ResourceType::kTopic, "b"));
}

TEST_CASE("AclManagementCreateDescribeDeleteAndReload") {
  TempDir dir;
  const std::string u1 = "User:alice", u2 = "User:bob";
  auto acl1 = topic_acl("t", u1, "host1", AclOperation::kRead, kAllow);
  auto acl2 = topic_acl("t", u1, "host1", AclOperation::kWrite, kAllow);
  auto acl3 = topic_acl("t", u2, "host2", AclOperation::kRead, kAllow);
  auto acl4 = topic_acl("t", u2, "*", AclOperation::kRead, kAllow);
  AclBinding group_acl{{ResourceType::kGroup, "g", PatternType::kLiteral}, {u2, "*", AclOperation::kRead, kAllow}};
  {
    auto a = open_authorizer(dir);
    REQUIRE(a->create({acl1, acl2, acl3}).ok());
    REQUIRE(a->create({acl4, acl1, group_acl}).ok());  // additive; duplicates kept once
    AclBindingFilter by_u1;
    by_u1.principal = u1;
    CHECK(a->describe(by_u1) == std::vector<AclBinding>{acl1, acl2});
    CHECK(a->describe(AclBindingFilter::any()).size() == 5);
    AclBindingFilter topics;
    topics.type = ResourceType::kTopic;
    CHECK(a->describe(topics).size() == 4);
  }
  struct stat st {};
  REQUIRE(::stat(dir.join("__meta/acls.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto a = open_authorizer(dir);  // reload from the file
  CHECK(a->describe(AclBindingFilter::any()).size() == 5);
  CHECK(a->authorize(u2, "anywhere", AclOperation::kRead, ResourceType::kGroup, "g"));
  AclBindingFilter remove_reads;
  remove_reads.type = ResourceType::kTopic;
  remove_reads.operation = AclOperation::kRead;
  remove_reads.principal = u2;
  auto removed = a->remove(remove_reads);
  REQUIRE(removed.ok());
  CHECK(removed->size() == 2);
  CHECK_FALSE(a->authorize(u2, "host2", AclOperation::kRead, ResourceType::kTopic, "t"));
  CHECK(open_authorizer(dir)->describe(AclBindingFilter::any()).size() == 3);
  CHECK(a->remove(AclBindingFilter::any())->size() == 3);
  CHECK(a->describe(AclBindingFilter::any()).empty());
}

TEST_CASE("FilterMatchSemanticsFollowKafka") {
  auto literal = topic_acl("orders", "User:a", "*", AclOperation::kRead, kAllow);
  auto wildcard = topic_acl("*", "User:a", "*", AclOperation::kRead, kAllow);
  auto prefixed = topic_acl("ord", "User:a", "*", AclOperation::kRead, kAllow, PatternType::kPrefixed);
  auto other = topic_acl("payments", "User:a", "*", AclOperation::kRead, kAllow);
  AclBindingFilter f;
  f.name = "orders";
  f.pattern = PatternType::kMatch;  // every ACL that applies to topic "orders"
  CHECK(f.matches(literal));
  CHECK(f.matches(wildcard));
  CHECK(f.matches(prefixed));
  CHECK_FALSE(f.matches(other));
  f.pattern = PatternType::kAny;  // exact name, any pattern type
  CHECK(f.matches(literal));
  CHECK_FALSE(f.matches(wildcard));
  CHECK_FALSE(f.matches(prefixed));
  f.pattern = PatternType::kPrefixed;
  f.name = "ord";
  CHECK(f.matches(prefixed));
  CHECK_FALSE(f.matches(literal));
  f.name.reset();
  f.pattern = PatternType::kLiteral;
  CHECK(f.matches(literal));
  CHECK(f.matches(wildcard));
  CHECK_FALSE(f.matches(prefixed));
  AclBindingFilter g;
  g.host.emplace("10.0.0.1");  // host filters compare exactly ("*" is not expanded)
  CHECK_FALSE(g.matches(literal));
  g.host.emplace("*");
  g.permission = kDeny;
  CHECK_FALSE(g.matches(literal));
}

TEST_CASE("InvalidBindingsAndFiltersAreRefused") {
  TempDir dir;
  auto a = open_authorizer(dir);
  CHECK_FALSE(a->create({topic_acl("t", "alice", "*", AclOperation::kRead, kAllow)}).ok());  // no type
  CHECK_FALSE(a->create({topic_acl("", "User:a", "*", AclOperation::kRead, kAllow)}).ok());
  CHECK_FALSE(a->create({topic_acl("t", "User:a", "", AclOperation::kRead, kAllow)}).ok());
  CHECK_FALSE(a->create({topic_acl("t", "User:a", "*", AclOperation::kAny, kAllow)}).ok());
  CHECK_FALSE(a->create({topic_acl("t", "User:a", "*", AclOperation::kRead, AclPermission::kAny)}).ok());
  CHECK_FALSE(a->create({topic_acl("t", "User:a", "*", AclOperation::kRead, kAllow, PatternType::kMatch)}).ok());
  CHECK_FALSE(a->create({topic_acl("*", "User:a", "*", AclOperation::kRead, kAllow, PatternType::kPrefixed)}).ok());
  AclBinding cluster{{ResourceType::kCluster, "other", PatternType::kLiteral}, {"User:a", "*", AclOperation::kAlter, kAllow}};
  CHECK(a->create({cluster}).error().message.find("kafka-cluster") != std::string::npos);
  cluster.pattern.name = kClusterResourceName;
  CHECK(a->create({cluster}).ok());
  // A bad binding in a batch changes nothing.
  CHECK_FALSE(a->create({topic_acl("x", "User:a", "*", AclOperation::kRead, kAllow), topic_acl("", "User:a", "*", AclOperation::kRead, kAllow)}).ok());
  CHECK(a->describe(AclBindingFilter::any()).size() == 1);
  AclBindingFilter bad;
  bad.operation = AclOperation::kUnknown;
  CHECK_FALSE(a->remove(bad).ok());
}

TEST_CASE("CorruptAclFileIsRefusedNamingTheEntry") {
  TempDir dir;
  const std::string path = dir.join("__meta/acls.json");
  REQUIRE(write_private_file(path, R"({"version":1,"acls":[{"resource_type":"TOPIC","name":"t","pattern_type":"LITERAL",
    "principal":"User:a","host":"*","operation":"FLY","permission":"ALLOW"}]})").ok());
  auto a = Authorizer::open(path, {});
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().message.find("acls[0]") != std::string::npos);
  REQUIRE(write_private_file(path, "[]").ok());
  CHECK_FALSE(Authorizer::open(path, {}).ok());
}

TEST_CASE("EnumNamesParseKafkaAndCliSpellings") {
  CHECK(parse_acl_operation("DescribeConfigs") == AclOperation::kDescribeConfigs);
  CHECK(parse_acl_operation("describe_configs") == AclOperation::kDescribeConfigs);
  CHECK(parse_acl_operation("IdempotentWrite") == AclOperation::kIdempotentWrite);
  CHECK(parse_acl_operation("nope") == AclOperation::kUnknown);
  CHECK(parse_resource_type("TransactionalId") == ResourceType::kTransactionalId);
  CHECK(parse_pattern_type("prefixed") == PatternType::kPrefixed);
  CHECK(parse_acl_permission("Deny") == AclPermission::kDeny);
  CHECK(std::string(to_string(AclOperation::kClusterAction)) == "CLUSTER_ACTION");
  CHECK(static_cast<int>(AclOperation::kIdempotentWrite) == 12);
  CHECK(static_cast<int>(ResourceType::kTransactionalId) == 5);
  CHECK(static_cast<int>(PatternType::kPrefixed) == 4);
  CHECK(static_cast<int>(AclPermission::kAllow) == 3);
}

TEST_CASE("TwoWritersOnOneFileLoseNoChangeAndAReaderSeesThemOnReload") {
  // The server's Authorizer and `streamctl acl add` on the same data dir.
  TempDir dir("acl-writers");
  auto server = open_authorizer(dir);
  auto cli = open_authorizer(dir);
  REQUIRE(server->create({topic_acl("a", "User:alice", "*", AclOperation::kRead, kAllow)}).ok());
  // The second writer catches up with the file under the lock before it writes: both ACLs stay.
  REQUIRE(cli->create({topic_acl("b", "User:bob", "*", AclOperation::kWrite, kAllow)}).ok());
  CHECK(cli->describe(AclBindingFilter::any()).size() == 2);
  CHECK(load_acl_file(dir.join("__meta/acls.json")).value().size() == 2);
  // The server has not looked yet; reload_if_changed picks the CLI's change up once, then nothing.
  CHECK_FALSE(server->authorize("User:bob", "h", AclOperation::kWrite, ResourceType::kTopic, "b"));
  auto reloaded = server->reload_if_changed();
  REQUIRE(reloaded.ok());
  CHECK(*reloaded);
  CHECK(server->authorize("User:bob", "h", AclOperation::kWrite, ResourceType::kTopic, "b"));
  CHECK_FALSE(server->reload_if_changed().value());
  // A removal by the CLI takes bob's right away on the server's next reload.
  auto removed = cli->remove({ResourceType::kTopic, "b", PatternType::kLiteral, std::nullopt, std::nullopt,
                              AclOperation::kAny, AclPermission::kAny});
  REQUIRE(removed.ok());
  CHECK(removed->size() == 1);
  CHECK(server->reload_if_changed().value());
  CHECK_FALSE(server->authorize("User:bob", "h", AclOperation::kWrite, ResourceType::kTopic, "b"));
  CHECK(server->authorize("User:alice", "h", AclOperation::kRead, ResourceType::kTopic, "a"));
}

TEST_CASE("AReloadOfABrokenFileKeepsThePreviousAclsAndWritersRefuseToOverwriteIt") {
  TempDir dir("acl-broken");
  auto a = open_authorizer(dir);
  REQUIRE(a->create({topic_acl("a", "User:alice", "*", AclOperation::kRead, kAllow)}).ok());
  REQUIRE(write_private_file(dir.join("__meta/acls.json"), "{not json").ok());
  auto reloaded = a->reload_if_changed();
  CHECK_FALSE(reloaded.ok());
  CHECK(a->authorize("User:alice", "h", AclOperation::kRead, ResourceType::kTopic, "a"));
  auto created = a->create({topic_acl("b", "User:bob", "*", AclOperation::kRead, kAllow)});
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().message.find("acls.json") != std::string::npos);
}

TEST_CASE("AuthorizeReloadsByItselfWhenAnIntervalIsSet") {
  TempDir dir("acl-interval");
  AuthorizerConfig config;
  config.reload_check_interval = std::chrono::milliseconds(1);
  auto server = open_authorizer(dir, config);
  auto cli = open_authorizer(dir);
  CHECK_FALSE(server->authorize("User:alice", "h", AclOperation::kRead, ResourceType::kTopic, "a"));
  REQUIRE(cli->create({topic_acl("a", "User:alice", "*", AclOperation::kRead, kAllow)}).ok());
  // Polls until the interval has passed (no fixed sleep: the first call after 1 ms reloads).
  bool allowed = false;
  for (int i = 0; i < 100000 && !allowed; ++i) {
    allowed = server->authorize("User:alice", "h", AclOperation::kRead, ResourceType::kTopic, "a");
  }
  CHECK(allowed);
}
