#include "base/result.h"

#include <cerrno>
#include <cstring>

namespace streamctl {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kAlreadyExists: return "already exists";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kIoError: return "I/O error";
    case ErrorCode::kNoSpace: return "no space left";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kOffsetOutOfRange: return "offset out of range";
    case ErrorCode::kRecordTooLarge: return "record too large";
    case ErrorCode::kNotSupported: return "not supported";
    case ErrorCode::kBusy: return "busy";
    case ErrorCode::kTimeout: return "timed out";
    case ErrorCode::kUnavailable: return "unavailable";
  }
  return "unknown error";
}

Error Error::from_errno(int err, const std::string& what) {
  ErrorCode code = ErrorCode::kIoError;
  switch (err) {
    case ENOENT: code = ErrorCode::kNotFound; break;
    case EEXIST: code = ErrorCode::kAlreadyExists; break;
    case ENOSPC:
    case EDQUOT: code = ErrorCode::kNoSpace; break;
    case EACCES:
    case EPERM:
    case EROFS: code = ErrorCode::kPermissionDenied; break;
    case EWOULDBLOCK: code = ErrorCode::kBusy; break;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case EISDIR: code = ErrorCode::kInvalidArgument; break;
    default: break;
  }
  return Error{code, what + ": " + std::strerror(err)};
}

}  // namespace streamctl
