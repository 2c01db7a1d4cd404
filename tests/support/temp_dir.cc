#include "tests/support/temp_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/result.h"

namespace streamctl::test {

TempDir::TempDir(const std::string& prefix) : owner_(::getpid()) {
  const char* base = std::getenv("TMPDIR");
  std::string root = (base != nullptr && *base != '\0') ? base : "/tmp";
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::string pattern = root + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  char* made = ::mkdtemp(buf.data());
  STREAMCTL_CHECK(made != nullptr, "mkdtemp %s failed: %s (set TMPDIR to a writable directory)", pattern.c_str(),
                  std::strerror(errno));
  path_ = made;
}

TempDir::~TempDir() {
  if (keep_ || ::getpid() != owner_) return;
  std::error_code ignored;
  // Tests may leave read-only directories behind (permission tests); make them writable first.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ignored);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ignored)) {
    if (it->is_directory(ignored)) {
      std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ignored);
    }
  }
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                               ignored);
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::join(const std::string& name) const { return path_ + "/" + name; }

}  // namespace streamctl::test
