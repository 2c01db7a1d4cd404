// Private files for security state (users.json, acls.json): created mode 0600 in directories created 0700,
// replaced atomically (write to "<path>.tmp", fsync, rename over <path>, fsync the directory), so a crash
// leaves either the old or the new contents, never a torn file. Every error names the path.
// Thread-safety: stateless functions; callers serialise writers of the same path.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"

namespace streamctl::security {

// Creates `dir` (and missing parents) with mode 0700. An existing directory is left as it is.
Status ensure_private_dir(const std::string& dir);

// Replaces the file at `path` with `contents` atomically and durably; the file has mode 0600.
// The parent directory is created (0700) if missing.
Status write_private_file(const std::string& path, const std::string& contents);

// The contents of `path`, or std::nullopt when it does not exist.
Result<std::optional<std::string>> read_file_if_exists(const std::string& path);

}  // namespace streamctl::security
