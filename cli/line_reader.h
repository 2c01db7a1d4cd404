// LineReader: fast splitting of a file descriptor's bytes into delimiter-separated records for `produce`.
//
// Reads in large blocks (growing from 64 KiB to 1 MiB by default, so a one-line input touches little
// memory) and finds delimiters with memchr; a line is returned as a view into the internal buffer, valid
// until the next call to next(). Lines longer than the buffer grow it. The
// last line needs no trailing delimiter. The delimiter itself is never part of a line. A read() interrupted
// by a signal (EINTR) returns kInterrupted so the caller can check its stop flag. The reader does not own
// the descriptor. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <memory>
#include <string>

#include "base/result.h"

namespace streamctl::cli {

class LineReader {
 public:
  enum class Next {
    kLine,         // *line holds the next line
    kEof,          // no more input
    kInterrupted,  // read(2) was interrupted by a signal; call again (after checking the stop flag)
    kError,        // read(2) failed: error() says why
    kNeedRead,     // (only with may_read == false) no complete line is buffered: the next call must read
  };

  // fd is read from its current position; `name` is used in error messages ("-" for stdin).
  LineReader(int fd, std::string name, char delimiter = '\n', size_t block_bytes = size_t(1) << 20);
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line (without its delimiter) in *line. With may_read == false, returns kNeedRead instead of
  // calling read(2) (which may block on a pipe or terminal), so a producer can first append what it holds.
  Next next(std::string_view* line, bool may_read = true);
  // True when input is readable right now without blocking (poll with a zero timeout).
  bool input_ready() const;

  // Bytes consumed from the descriptor so far.
  uint64_t bytes_read() const { return bytes_read_; }
  // Bytes of the lines returned so far (delimiters included): what a progress bar shows, since one read
  // may buffer far more than has been produced (a paced --rate run reads 1 MiB and sends 10 lines a second).
  uint64_t bytes_consumed() const { return bytes_read_ - uint64_t(end_ - begin_); }
  // 1-based number of the line last returned.
  uint64_t line_number() const { return line_number_; }
  const std::string& name() const { return name_; }
  // Why next() returned kError.
  const Error& error() const { return error_; }

 private:
  int fd_;
  std::string name_;
  char delimiter_;
  std::unique_ptr<char[]> buffer_;  // uninitialised: never zero-filled
  size_t capacity_ = 0;
  size_t block_bytes_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  bool read_filled_ = false;  // the last read(2) filled the buffer: input is plentiful
  uint64_t bytes_read_ = 0;
  uint64_t line_number_ = 0;
  Error error_;
};

}  // namespace streamctl::cli
