#include "cli/line_reader.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

using namespace streamctl::cli;

namespace {

// Writes `data` into a pipe from a thread and returns every line the reader yields.
std::vector<std::string> read_all(const std::string& data, char delimiter = '\n', size_t block = 1 << 20) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::thread writer([&] {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fds[1], data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += size_t(n);
    }
    ::close(fds[1]);
  });
  LineReader reader(fds[0], "-", delimiter, block);
  std::vector<std::string> lines;
  std::string_view line;
  for (;;) {
    auto r = reader.next(&line);
    if (r == LineReader::Next::kLine) {
      lines.emplace_back(line);
      continue;
    }
    REQUIRE(r == LineReader::Next::kEof);
    break;
  }
  writer.join();
  ::close(fds[0]);
  CHECK(reader.bytes_read() == data.size());
  return lines;
}

}  // namespace

TEST_CASE("LinesSplitOnNewlineWithOrWithoutTrailingNewline") {
  CHECK(read_all("a\nbb\n\nccc\n") == std::vector<std::string>{"a", "bb", "", "ccc"});
  CHECK(read_all("a\nlast") == std::vector<std::string>{"a", "last"});
  CHECK(read_all("").empty());
  CHECK(read_all("\n") == std::vector<std::string>{""});
}

TEST_CASE("CarriageReturnsAndNulBytesAreKept") {
  std::string data("x\r\ny\0z\n", 7);
  auto lines = read_all(data);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "x\r");
  CHECK(lines[1] == std::string("y\0z", 3));
}

TEST_CASE("LinesLongerThanTheBlockGrowTheBuffer") {
  std::string big(100000, 'x');
  auto lines = read_all("short\n" + big + "\nend\n", '\n', 64);
  REQUIRE(lines.size() == 3);
  CHECK(lines[1] == big);
  CHECK(lines[2] == "end");
}

TEST_CASE("CustomDelimiter") {
  CHECK(read_all(std::string("a\0b\0", 4), '\0') == std::vector<std::string>{"a", "b"});
}

TEST_CASE("ManyLinesAcrossBlockBoundaries") {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "line-" + std::to_string(i) + "\n";
  auto lines = read_all(data, '\n', 100);
  REQUIRE(lines.size() == 10000);
  CHECK(lines[0] == "line-0");
  CHECK(lines[9999] == "line-9999");
}

TEST_CASE("NeedReadIsReportedInsteadOfBlocking") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  REQUIRE(::write(fds[1], "one\ntw", 6) == 6);
  LineReader reader(fds[0], "-");
  std::string_view line;
  CHECK(reader.next(&line, false) == LineReader::Next::kNeedRead);
  CHECK(reader.input_ready());
  CHECK(reader.next(&line) == LineReader::Next::kLine);
  CHECK(line == "one");
  CHECK(reader.next(&line, false) == LineReader::Next::kNeedRead);  // "tw" is incomplete
  CHECK_FALSE(reader.input_ready());
  REQUIRE(::write(fds[1], "o\n", 2) == 2);
  ::close(fds[1]);
  CHECK(reader.next(&line) == LineReader::Next::kLine);
  CHECK(line == "two");
  CHECK(reader.next(&line) == LineReader::Next::kEof);
  ::close(fds[0]);
}

TEST_CASE("BytesConsumedCountsReturnedLinesNotWhatWasBuffered") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::string data = "aa\nbbb\nlast";
  REQUIRE(::write(fds[1], data.data(), data.size()) == ssize_t(data.size()));
  ::close(fds[1]);
  LineReader reader(fds[0], "-", '\n');
  std::string_view line;
  CHECK(reader.bytes_consumed() == 0);
  REQUIRE(reader.next(&line) == LineReader::Next::kLine);
  CHECK(reader.bytes_read() == data.size());  // one read buffered everything
  CHECK(reader.bytes_consumed() == 3);        // "aa\n"
  REQUIRE(reader.next(&line) == LineReader::Next::kLine);
  CHECK(reader.bytes_consumed() == 7);
  REQUIRE(reader.next(&line) == LineReader::Next::kLine);
  CHECK(line == "last");
  CHECK(reader.bytes_consumed() == data.size());
  CHECK(reader.next(&line) == LineReader::Next::kEof);
  CHECK(reader.bytes_consumed() == data.size());
  ::close(fds[0]);
}
