// Error values for the whole project: Error{code, message}, Result<T> and Status.
//
// The engine never throws across its API and never aborts on bad data: every recoverable failure is
// returned as an Error whose message names the thing (file, topic, offset) and, where useful, the fix.
// Broken internal invariants (programming errors) go through STREAMCTL_CHECK, which logs and aborts.
// Result<T> is a small std::expected-shaped type (C++20 has none). Thread-safety: plain values.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace streamctl {

enum class ErrorCode {
  kOk = 0,
  kNotFound,          // topic, partition, group or file does not exist
  kAlreadyExists,     // topic (or file) exists already
  kInvalidArgument,   // bad name, bad config value, malformed input from the caller
  kCorruption,        // bytes on disk or on the wire fail a length or CRC check
  kIoError,           // the OS said EIO or similar
  kNoSpace,           // ENOSPC / EDQUOT
  kPermissionDenied,  // EACCES / EPERM / EROFS
  kOffsetOutOfRange,  // offset below log start or above log end
  kRecordTooLarge,    // a batch bigger than max.message.bytes
  kNotSupported,      // valid but not handled (e.g. an unknown compression codec)
  kBusy,              // a lock is held by another process / owner
  kTimeout,
  kUnavailable,       // e.g. not the leader, server stopping
};

// The stable lower-case name of a code, e.g. "not found" (used in messages and JSON output).
const char* error_code_name(ErrorCode code);

struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::kOk;
  std::string message;

  static Error not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error already_exists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Error invalid_argument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Error corruption(std::string m) { return {ErrorCode::kCorruption, std::move(m)}; }
  static Error io_error(std::string m) { return {ErrorCode::kIoError, std::move(m)}; }
  static Error no_space(std::string m) { return {ErrorCode::kNoSpace, std::move(m)}; }
  static Error offset_out_of_range(std::string m) { return {ErrorCode::kOffsetOutOfRange, std::move(m)}; }
  static Error record_too_large(std::string m) { return {ErrorCode::kRecordTooLarge, std::move(m)}; }
  static Error not_supported(std::string m) { return {ErrorCode::kNotSupported, std::move(m)}; }
  static Error busy(std::string m) { return {ErrorCode::kBusy, std::move(m)}; }
  // Builds an error from an errno value: ENOSPC -> kNoSpace, EACCES -> kPermissionDenied, ...
  // The message is "<what>: <strerror>".
  static Error from_errno(int err, const std::string& what);

  // "not found: topic 'x' does not exist"
  std::string to_string() const { return std::string(error_code_name(code)) + ": " + message; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return error_.code == ErrorCode::kOk; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace streamctl

#define STREAMCTL_CONCAT_INNER(a, b) a##b
#define STREAMCTL_CONCAT(a, b) STREAMCTL_CONCAT_INNER(a, b)

// STREAMCTL_TRY(expr): evaluate a Status/Result, return its error from the enclosing function if any.
#define STREAMCTL_TRY(expr)                                        \
  do {                                                             \
    auto&& streamctl_try_r_ = (expr);                              \
    if (!streamctl_try_r_.ok()) return std::move(streamctl_try_r_).error(); \
  } while (0)

// STREAMCTL_ASSIGN_OR_RETURN(lhs, expr): `lhs = value of expr` or return its error.
#define STREAMCTL_ASSIGN_OR_RETURN(lhs, expr) \
  STREAMCTL_ASSIGN_OR_RETURN_IMPL(STREAMCTL_CONCAT(streamctl_r_, __LINE__), lhs, expr)
#define STREAMCTL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).error();         \
  lhs = std::move(tmp).value()

// STREAMCTL_CHECK(cond, fmt, ...): an invariant that must hold; logs and aborts when it does not.
#define STREAMCTL_CHECK(cond, ...)                                                   \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "streamctl: invariant failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                             \
      std::fputc('\n', stderr);                                                      \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)
