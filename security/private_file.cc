#include "security/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace streamctl::security {


namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status write_all(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno(errno, "write " + path);
    }
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

}  // namespace

Status ensure_private_dir(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return ok_status();
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Error::invalid_argument(dir + " exists and is not a directory");
    return ok_status();
  }
  STREAMCTL_TRY(ensure_private_dir(parent_of(dir)));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::from_errno(errno, "create directory " + dir);
  }
  return ok_status();
}

Status write_private_file(const std::string& path, const std::string& contents) {
  const std::string dir = parent_of(path);
  STREAMCTL_TRY(ensure_private_dir(dir));
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::from_errno(errno, "create " + tmp);
  // A leftover tmp file from an older run may have other permissions: force 0600 before writing secrets.
  Status st = ::fchmod(fd, 0600) == 0 ? write_all(fd, contents, tmp) : Error::from_errno(errno, "chmod " + tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Error::from_errno(errno, "fsync " + tmp);
  if (::close(fd) != 0 && st.ok()) st = Error::from_errno(errno, "close " + tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::from_errno(err, "rename " + tmp + " to " + path);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Error::from_errno(errno, "open directory " + dir);
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  if (rc != 0) return Error::from_errno(err, "fsync directory " + dir);
  return ok_status();
}

Result<std::optional<std::string>> read_file_if_exists(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Error::from_errno(errno, "open " + path);
  }
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Error::from_errno(err, "read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(out));
}

}  // namespace streamctl::security
