#include "cli/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

namespace streamctl::cli {

namespace {
constexpr size_t kInitialBytes = size_t(64) << 10;
}

LineReader::LineReader(int fd, std::string name, char delimiter, size_t block_bytes)
    : fd_(fd), name_(std::move(name)), delimiter_(delimiter), block_bytes_(block_bytes < 16 ? 16 : block_bytes) {
  capacity_ = std::min(block_bytes_, kInitialBytes);
  buffer_.reset(new char[capacity_]);
}

bool LineReader::input_ready() const {
  struct pollfd p = {fd_, POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  return n > 0;
}

LineReader::Next LineReader::next(std::string_view* line, bool may_read) {
  for (;;) {
    if (begin_ < end_) {
      const char* start = buffer_.get() + begin_;
      const void* hit = std::memchr(start, delimiter_, end_ - begin_);
      if (hit != nullptr) {
        size_t len = size_t(static_cast<const char*>(hit) - start);
        *line = std::string_view(start, len);
        begin_ += len + 1;
        ++line_number_;
        return Next::kLine;
      }
      if (eof_) {
        *line = std::string_view(start, end_ - begin_);
        begin_ = end_;
        ++line_number_;
        return Next::kLine;
      }
    }
    if (eof_) return Next::kEof;
    if (!may_read) return Next::kNeedRead;
    // Make room: move the partial line to the front, grow when it fills the whole buffer.
    if (begin_ > 0) {
      size_t left = end_ - begin_;
      if (left > 0) std::memmove(buffer_.get(), buffer_.get() + begin_, left);
      begin_ = 0;
      end_ = left;
    }
    // Grow when a line fills the buffer, or (up to the block size) when reads keep filling it.
    if (end_ == capacity_ || (read_filled_ && capacity_ < block_bytes_)) {
      size_t grown = capacity_ * 2;
      std::unique_ptr<char[]> bigger(new char[grown]);
      std::memcpy(bigger.get(), buffer_.get(), end_);
      buffer_ = std::move(bigger);
      capacity_ = grown;
    }
    ssize_t n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);
    if (n < 0) {
      if (errno == EINTR) return Next::kInterrupted;
      error_ = Error::from_errno(errno, "cannot read " + (name_ == "-" ? std::string("stdin") : name_));
      return Next::kError;
    }
    if (n == 0) {
      eof_ = true;
      continue;
    }
    read_filled_ = end_ + size_t(n) == capacity_;
    end_ += size_t(n);
    bytes_read_ += uint64_t(n);
  }
}

}  // namespace streamctl::cli
