#include "cli/json_record.h"

#include <doctest/doctest.h>

#include <vector>

using namespace streamctl::cli;
using streamctl::Timestamp;

namespace {

const Timestamp kNow(1714564800000);

std::string to_json(const RecordView& r) {
  std::string out;
  append_json_record(r, out);
  return out;
}

JsonRecord parse_ok(std::string_view line) {
  auto r = parse_json_record(line, kNow);
  INFO(line, " -> ", r.ok() ? "" : r.error().message);
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string parse_error(std::string_view line) {
  auto r = parse_json_record(line, kNow);
  INFO(line);
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}

}  // namespace

TEST_CASE("JsonShapeIsDocumentedOneLinePerRecord") {
  std::vector<HeaderView> headers = {{"trace", std::string_view("abc")}, {"flag", std::nullopt}};
  RecordView r;
  r.topic = "orders";
  r.partition = 1;
  r.offset = 5;
  r.timestamp = 1714564800123;
  r.key = std::string_view("k");
  r.value = std::string_view("v \"q\"\n");
  r.headers = headers;
  CHECK(to_json(r) ==
        "{\"topic\":\"orders\",\"partition\":1,\"offset\":5,\"timestamp\":1714564800123,"
        "\"key\":\"k\",\"value\":\"v \\\"q\\\"\\n\",\"headers\":[{\"key\":\"trace\",\"value\":\"abc\"},"
        "{\"key\":\"flag\",\"value\":null}]}\n");
}

TEST_CASE("JsonDistinguishesNullFromEmpty") {
  RecordView r;
  r.topic = "t";
  r.key = std::nullopt;
  r.value = std::string_view("");
  std::string line = to_json(r);
  CHECK(line.find("\"key\":null") != std::string::npos);
  CHECK(line.find("\"value\":\"\"") != std::string::npos);
  auto back = parse_ok(line);
  CHECK_FALSE(back.record.key.has_value());
  REQUIRE(back.record.value.has_value());
  CHECK(back.record.value->empty());
}

TEST_CASE("NonUtf8BytesAreBase64AndRoundTrip") {
  std::string binary("\xff\x00\xfe\x80 ok", 7);
  std::string key("\xc3\x28", 2);  // invalid 2-byte sequence
  std::vector<HeaderView> headers = {{"bin", std::string_view(binary)}};
  RecordView r;
  r.topic = "t";
  r.key = std::string_view(key);
  r.value = std::string_view(binary);
  r.headers = headers;
  std::string line = to_json(r);
  CHECK(line.find("\"value_b64\":\"/wD+gCBvaw==\"") != std::string::npos);
  CHECK(line.find("\"key_b64\":\"wyg=\"") != std::string::npos);
  CHECK(line.find("\"value\":") == std::string::npos);
  auto back = parse_ok(line);
  CHECK(*back.record.key == key);
  CHECK(*back.record.value == binary);
  REQUIRE(back.record.headers.size() == 1);
  CHECK(*back.record.headers[0].value == binary);
}

TEST_CASE("Utf8AndControlCharactersRoundTripExactly") {
  std::string text = std::string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 tab\t nul") + std::string(1, '\0') +
                     "\x01\x1f\\/";
  RecordView r;
  r.topic = "t";
  r.value = std::string_view(text);
  std::string line = to_json(r);
  CHECK(line.find("\\u0000") != std::string::npos);
  CHECK(line.find("\\u0001") != std::string::npos);
  CHECK(line.find("value_b64") == std::string::npos);
  auto back = parse_ok(line);
  CHECK(*back.record.value == text);
}

TEST_CASE("Utf8ValidationRejectsOverlongsSurrogatesAndOutOfRange") {
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("\xc3\xa9"));
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));           // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));             // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));         // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));         // surrogate U+D800
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));     // > U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));             // truncated
  CHECK_FALSE(is_valid_utf8("\x80"));                 // lone continuation
}

TEST_CASE("Base64EncodesAndDecodesAllLengths") {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    std::string out;
    append_base64(out, plain[i]);
    CHECK(out == coded[i]);
    CHECK(*decode_base64(coded[i]) == plain[i]);
  }
  CHECK(*decode_base64("Zm8") == "fo");  // padding optional
  CHECK_FALSE(decode_base64("Zm9v!").ok());
  CHECK_FALSE(decode_base64("Z").ok());
}

TEST_CASE("ProduceJsonStoresNonStringJsonAsTextOnlyWhenAsked") {
  JsonInputOptions text;
  text.json_text = true;
  auto a = parse_json_record(R"({"value":{"user":1,"tags":["x"]}})", kNow, text);
  REQUIRE(a.ok());
  CHECK(*a->record.value == R"({"user":1,"tags":["x"]})");
  auto b = parse_json_record(R"({"key":42,"value":true,"headers":{"n":7}})", kNow, text);
  REQUIRE(b.ok());
  CHECK(*b->record.key == "42");
  CHECK(*b->record.value == "true");
  CHECK(*b->record.headers[0].value == "7");
  CHECK(parse_error(R"({"value":1})").find("field \"value\": is a JSON number, not a string") != std::string::npos);
  CHECK(parse_error(R"({"key":{"a":1},"value":"v"})").find("field \"key\": is a JSON object") != std::string::npos);
  CHECK(parse_error(R"({"value":"v","headers":{"n":[1]}})").find("headers.n") != std::string::npos);
  CHECK(parse_error(R"({"value":"v","headers":[{"key":"h","value":false}]})").find("--json-text") != std::string::npos);
}

TEST_CASE("ProduceJsonRequiresAValueAndTakesExplicitNullAsTombstone") {
  CHECK(parse_error(R"({"key":"k"})").find("field \"value\": missing") != std::string::npos);
  CHECK(parse_error(R"({})").find("\"value\":null") != std::string::npos);
  CHECK_FALSE(parse_ok(R"({"key":"k","value":null})").record.value.has_value());
  CHECK_FALSE(parse_ok(R"({"key":"k","value_b64":null})").record.value.has_value());
}

TEST_CASE("ProduceJsonAcceptsConveniences") {
  auto a = parse_ok(R"({"value":"{\"user\":1}"})");
  CHECK(*a.record.value == R"({"user":1})");
  CHECK_FALSE(a.record.key.has_value());
  auto b = parse_ok(R"({"key":"42","value":"v","headers":{"z":"1","a":null}})");
  CHECK(*b.record.key == "42");
  REQUIRE(b.record.headers.size() == 2);
  CHECK(b.record.headers[0].key == "z");  // order kept
  CHECK_FALSE(b.record.headers[1].value.has_value());
  auto c = parse_ok(R"({"value":"v","timestamp":"2024-05-01T12:00:00Z","partition":2})");
  CHECK(c.record.timestamp.value == 1714564800000);
  CHECK(*c.partition == 2);
  auto d = parse_ok(R"({"value":"v","timestamp":"-1h"})");
  CHECK(d.record.timestamp.value == kNow.value - 3'600'000);
  auto e = parse_ok(R"({"topic":"other","offset":7,"value":"v"})");
  CHECK(*e.record.value == "v");
  CHECK_FALSE(e.partition.has_value());
  CHECK(e.record.timestamp.value == -1);
}

TEST_CASE("ProduceJsonRejectsUnknownFieldsAndBadValues") {
  CHECK(parse_error(R"({"payload":"x"})").find("\"payload\"") != std::string::npos);
  CHECK(parse_error(R"({"value":"x","partition":-1})").find("partition") != std::string::npos);
  CHECK(parse_error(R"({"value":"x","partition":"1"})").find("partition") != std::string::npos);
  CHECK(parse_error(R"({"value":"x","value_b64":"eA=="})").find("both") != std::string::npos);
  CHECK(parse_error(R"({"value_b64":"!!"})").find("value_b64") != std::string::npos);
  CHECK(parse_error(R"({"value":"x",)").find("invalid JSON") != std::string::npos);
  CHECK(parse_error(R"(["x"])").find("object") != std::string::npos);
  CHECK(parse_error(R"({"value":"v","headers":[{"value":"x"}]})").find("key") != std::string::npos);
  CHECK(parse_error(R"({"value":"v","timestamp":"yesterday"})").find("timestamp") != std::string::npos);
}
