// TempDir: a fresh directory on the real file system for one test, removed with everything in it when the
// object is destroyed (RAII). Created with mkdtemp under $TMPDIR (or /tmp) as <prefix>-XXXXXX.
// Only the process that created it removes it, so a forked child that exits normally leaves it alone.
// Failing to create it aborts the test binary (there is nothing sensible to test without it).
// Thread-compatible.
#pragma once

#include <sys/types.h>

#include <string>

namespace streamctl::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "streamctl-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path of the directory (no trailing slash).
  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string join(const std::string& name) const;
  // Keeps the directory after destruction (to inspect a failing test); prints nothing.
  void keep() { keep_ = true; }

 private:
  std::string path_;
  pid_t owner_;
  bool keep_ = false;
};

}  // namespace streamctl::test
