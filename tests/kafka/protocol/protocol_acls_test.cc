// The ACL admin messages (DescribeAcls 29, CreateAcls 30, DeleteAcls 31) against hand-written bytes of
// Kafka's schemas: classic v1, flexible v2/v3, and v0's missing pattern type.
#include <doctest/doctest.h>

#include "kafka/protocol/generated/messages.h"
#include "kafka/protocol/wire.h"
#include "tests/kafka/protocol/protocol_test_util.h"

namespace streamctl::kafka::protocol {
namespace {

using testing::from_hex;
using testing::to_hex;

template <typename M>
std::string encoded(const M& m, int16_t version) {
  Bytes out;
  auto st = encode_message(m, version, out);
  REQUIRE_MESSAGE(st.ok(), st.error().message);
  return to_hex(out);
}

// std::string temporaries: GCC 12 reports a false -Wrestrict for `str = "literal"` inlined at -O3.
CreateAclsRequest one_creation() {
  CreateAclsRequest r;
  auto& c = r.creations.emplace_back();
  c.resource_type = 2;  // TOPIC
  c.resource_name = std::string("t");
  c.resource_pattern_type = 4;  // PREFIXED
  c.principal = std::string("User:a");
  c.host = std::string("*");
  c.operation = 4;        // WRITE
  c.permission_type = 3;  // ALLOW
  return r;
}

TEST_CASE("CreateAclsRequestV1ClassicAndV2FlexibleBytes") {
  const std::string v1 = "00000001" "02" "000174" "04" "0006557365723a61" "00012a" "04" "03";
  CHECK(encoded(one_creation(), 1) == v1);
  auto back = decode_message<CreateAclsRequest>(from_hex(v1), 1);
  REQUIRE(back.ok());
  CHECK(*back == one_creation());
  // v2: compact array and strings (length + 1), a tag section per creation and one for the message.
  const std::string v2 = "02" "02" "0274" "04" "07557365723a61" "022a" "04" "03" "00" "00";
  CHECK(encoded(one_creation(), 2) == v2);
  auto back2 = decode_message<CreateAclsRequest>(from_hex(v2), 2);
  REQUIRE(back2.ok());
  CHECK(*back2 == one_creation());
}

TEST_CASE("CreateAclsV0HasNoPatternTypeSoItIsLiteral") {
  // v0 bytes: no pattern byte; decodes as LITERAL (3), and a PREFIXED creation cannot be sent at v0.
  auto v0 = decode_message<CreateAclsRequest>(from_hex("00000001" "02" "000174" "0006557365723a61" "00012a" "04" "03"), 0);
  REQUIRE(v0.ok());
  CHECK(v0->creations.at(0).resource_pattern_type == 3);
  Bytes out;
  CHECK_FALSE(encode_message(one_creation(), 0, out).ok());
}

TEST_CASE("DeleteAclsResponseV1WithNullMessagesAndDescribeAclsFilterNulls") {
  DeleteAclsResponse resp;
  auto& fr = resp.filter_results.emplace_back();
  fr.error_message = std::nullopt;
  auto& m = fr.matching_acls.emplace_back();
  m.error_message = std::nullopt;
  m.resource_type = 2;
  m.resource_name = std::string("t");
  m.pattern_type = 4;
  m.principal = std::string("User:a");
  m.host = std::string("*");
  m.operation = 4;
  m.permission_type = 3;
  const std::string v1 = "00000000" "00000001" "0000" "ffff" "00000001" "0000" "ffff" "02" "000174" "04"
                         "0006557365723a61" "00012a" "04" "03";
  CHECK(encoded(resp, 1) == v1);
  auto back = decode_message<DeleteAclsResponse>(from_hex(v1), 1);
  REQUIRE(back.ok());
  CHECK(*back == resp);

  // DescribeAcls v3 (flexible) filter: ANY type, null name, MATCH, null principal and host, ANY op/perm.
  DescribeAclsRequest d;
  d.resource_type_filter = 1;
  d.resource_name_filter = std::nullopt;
  d.pattern_type_filter = 2;
  d.principal_filter = d.host_filter = std::nullopt;
  d.operation = 1;
  d.permission_type = 1;
  const std::string v3 = "01" "00" "02" "00" "00" "01" "01" "00";  // compact null = 0
  CHECK(encoded(d, 3) == v3);
  auto back3 = decode_message<DescribeAclsRequest>(from_hex(v3), 3);
  REQUIRE(back3.ok());
  CHECK(*back3 == d);
}

}  // namespace
}  // namespace streamctl::kafka::protocol
