#include "cli/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace streamctl::cli {

LineReader::LineReader(int fd, std::string name, char delimiter, size_t block_bytes)
    : fd_(fd), name_(std::move(name)), delimiter_(delimiter), buffer_(block_bytes < 16 ? 16 : block_bytes) {}

bool LineReader::input_ready() const {
  struct pollfd p = {fd_, POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  return n > 0;
}

LineReader::Next LineReader::next(std::string_view* line, bool may_read) {
  for (;;) {
    if (begin_ < end_) {
      const char* start = buffer_.data() + begin_;
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
      if (left > 0) std::memmove(buffer_.data(), buffer_.data() + begin_, left);
      begin_ = 0;
      end_ = left;
    }
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n < 0) {
      if (errno == EINTR) return Next::kInterrupted;
      error_ = engine::Error::from_errno(errno, "cannot read " + (name_ == "-" ? std::string("stdin") : name_));
      return Next::kError;
    }
    if (n == 0) {
      eof_ = true;
      continue;
    }
    end_ += size_t(n);
    bytes_read_ += uint64_t(n);
  }
}

}  // namespace streamctl::cli
