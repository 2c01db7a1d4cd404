// `streamctl acl` flags -> ACL bindings and filters (kafka-acls.sh's semantics).
#include "cli/acl_flags.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace streamctl::cli {
namespace {

namespace sec = security;

bool has(const std::vector<sec::AclBinding>& v, sec::ResourceType type, const std::string& name, sec::AclOperation op,
         sec::AclPermission perm = sec::AclPermission::kAllow) {
  return std::any_of(v.begin(), v.end(), [&](const sec::AclBinding& b) {
    return b.pattern.type == type && b.pattern.name == name && b.entry.operation == op && b.entry.permission == perm;
  });
}

TEST_CASE("AddIsPrincipalsTimesResourcesTimesOperations") {
  AclOptions o;
  o.allow_principals = {"User:alice"};
  o.deny_principals = {"User:mallory"};
  o.operations = {"Read", "describe"};
  o.topics = {"a", "b"};
  o.pattern_type = "prefixed";
  auto b = acl_bindings_to_add(o);
  REQUIRE(b.ok());
  CHECK(b->size() == 2 * 2 * 2);
  CHECK(has(*b, sec::ResourceType::kTopic, "b", sec::AclOperation::kDescribe, sec::AclPermission::kDeny));
  for (const auto& x : *b) {
    CHECK(x.pattern.pattern == sec::PatternType::kPrefixed);
    CHECK(x.entry.host == "*");
  }
}

TEST_CASE("ProducerAndConsumerExpandLikeKafkaAcls") {
  AclOptions o;
  o.allow_principals = {"User:app"};
  o.topics = {"orders"};
  o.groups = {"billing"};
  o.producer = true;
  o.consumer = true;
  auto b = acl_bindings_to_add(o);
  REQUIRE(b.ok());
  for (auto op : {sec::AclOperation::kWrite, sec::AclOperation::kDescribe, sec::AclOperation::kCreate, sec::AclOperation::kRead}) {
    CHECK(has(*b, sec::ResourceType::kTopic, "orders", op));
  }
  CHECK(has(*b, sec::ResourceType::kGroup, "billing", sec::AclOperation::kRead));
  CHECK(b->size() == 5);  // DESCRIBE on the topic once, though both --producer and --consumer grant it
}

TEST_CASE("AddRefusesMissingOrBadPiecesNamingTheFlag") {
  AclOptions o;
  o.topics = {"t"};
  o.operations = {"Read"};
  auto none = acl_bindings_to_add(o);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("--allow-principal") != std::string::npos);
  o.allow_principals = {"alice"};
  auto bare = acl_bindings_to_add(o);
  REQUIRE_FALSE(bare.ok());
  CHECK(bare.error().message.find("User:alice") != std::string::npos);
  o.allow_principals = {"User:alice"};
  o.operations = {"Any"};
  CHECK_FALSE(acl_bindings_to_add(o).ok());
  o.operations = {"Read"};
  o.pattern_type = "match";  // a filter value, not for a binding
  CHECK_FALSE(acl_bindings_to_add(o).ok());
  o.pattern_type.clear();
  o.topics.clear();
  o.consumer = true;
  o.groups = {"g"};
  auto consumer = acl_bindings_to_add(o);
  REQUIRE_FALSE(consumer.ok());
  CHECK(consumer.error().message.find("--topic") != std::string::npos);
}

TEST_CASE("ListAndRemoveFilters") {
  AclOptions o;
  auto all = acl_filters_for(o, false);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK(all->front().type == sec::ResourceType::kAny);
  CHECK(all->front().pattern == sec::PatternType::kAny);
  CHECK_FALSE(acl_filters_for(o, true).ok());  // remove needs a resource
  o.topics = {"t"};
  o.allow_principals = {"User:alice"};
  o.operations = {"Read", "Write"};
  auto rm = acl_filters_for(o, true);
  REQUIRE(rm.ok());
  REQUIRE(rm->size() == 2);
  CHECK(rm->at(0).pattern == sec::PatternType::kLiteral);
  CHECK(rm->at(0).permission == sec::AclPermission::kAllow);
  CHECK(*rm->at(0).principal == "User:alice");
  CHECK_FALSE(rm->at(0).host.has_value());
  const sec::AclBinding read{{sec::ResourceType::kTopic, "t", sec::PatternType::kLiteral},
                             {"User:alice", "*", sec::AclOperation::kRead, sec::AclPermission::kAllow}};
  CHECK(rm->at(0).matches(read));
  CHECK_FALSE(rm->at(1).matches(read));
}

}  // namespace
}  // namespace streamctl::cli
