#include "cli/output_format.h"

#include <doctest/doctest.h>

#include <vector>

using namespace streamctl::cli;

namespace {

std::string render(std::string_view format, const RecordView& r, FormatOptions options = {}) {
  auto f = RecordFormatter::compile(format, options);
  INFO(format, " ", f.ok() ? "" : f.error().message);
  REQUIRE(f.ok());
  std::string out;
  f->append(r, out);
  return out;
}

RecordView sample(const std::vector<HeaderView>& headers) {
  RecordView r;
  r.topic = "orders";
  r.partition = 3;
  r.offset = 42;
  r.timestamp = 1714564800123;
  r.key = std::string_view("user-1");
  r.value = std::string_view("hello world");
  r.headers = headers;
  return r;
}

}  // namespace

TEST_CASE("KcatTokensFormatEveryField") {
  std::vector<HeaderView> headers = {{"trace", std::string_view("abc")}, {"flag", std::nullopt}};
  auto r = sample(headers);
  CHECK(render("Topic %t [%p] at offset %o: key %k: %s\\n", r) ==
        "Topic orders [3] at offset 42: key user-1: hello world\n");
  CHECK(render("%K %S %T", r) == "6 11 1714564800123");
  CHECK(render("%h", r) == "trace=abc,flag");
  CHECK(render("%d", r) == "2024-05-01T12:00:00.123Z");
  CHECK(render("100%% %s", r) == "100% hello world");
}

TEST_CASE("DefaultFormatIsTheValueAndANewline") {
  std::vector<HeaderView> none;
  CHECK(render(kDefaultFormat, sample(none)) == "hello world\n");
}

TEST_CASE("EscapesInTemplates") {
  std::vector<HeaderView> none;
  auto r = sample(none);
  CHECK(render("%k\\t%s\\r\\n", r) == "user-1\thello world\r\n");
  CHECK(render("%s\\0", r) == std::string("hello world\0", 12));
  CHECK(render("\\x41\\\\", r) == "A\\");
}

TEST_CASE("NullKeysAndValuesPrintNullTextAndSizeMinusOne") {
  std::vector<HeaderView> none;
  auto r = sample(none);
  r.key.reset();
  r.value.reset();
  CHECK(render("[%k][%s] %K %S", r) == "[][] -1 -1");
  FormatOptions opts;
  opts.null_text = "NULL";
  CHECK(render("%k %s", r, opts) == "NULL NULL");
  r.key = std::string_view("");
  CHECK(render("%K", r) == "0");
}

TEST_CASE("BadTemplatesNameTheToken") {
  auto f = RecordFormatter::compile("%s %x");
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().message.find("'%x'") != std::string::npos);
  CHECK(f.error().message.find("%t topic") != std::string::npos);
  CHECK_FALSE(RecordFormatter::compile("%").ok());
  CHECK_FALSE(RecordFormatter::compile("\\q").ok());
  CHECK_FALSE(RecordFormatter::compile("\\x4").ok());
}

TEST_CASE("UsesHeadersOnlyWhenTemplateHasPercentH") {
  CHECK_FALSE(RecordFormatter::compile("%s\\n")->uses_headers());
  CHECK(RecordFormatter::compile("%h %s")->uses_headers());
}

TEST_CASE("ColorWrapsMetadataTokensButNotTheValue") {
  std::vector<HeaderView> none;
  FormatOptions opts;
  opts.color = true;
  std::string out = render("%k %s", sample(none), opts);
  CHECK(out == "\x1b[1;33muser-1\x1b[0m hello world");
}

TEST_CASE("IsoTimestampsCoverEpochLeapYearsAndNegatives") {
  auto iso = [](int64_t ms) {
    std::string s;
    append_iso8601_utc(s, ms);
    return s;
  };
  CHECK(iso(0) == "1970-01-01T00:00:00.000Z");
  CHECK(iso(951782400000) == "2000-02-29T00:00:00.000Z");
  CHECK(iso(4102444799999) == "2099-12-31T23:59:59.999Z");
  CHECK(iso(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("AppendIntHandlesExtremes") {
  std::string s;
  append_int(s, 0);
  s += ' ';
  append_int(s, -42);
  s += ' ';
  append_int(s, INT64_MIN);
  CHECK(s == "0 -42 -9223372036854775808");
}
