// PosixFileSystem: the real FileSystem (pread/pwrite, fdatasync, rename, flock, statvfs).
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"

namespace streamctl {
namespace {

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<size_t> read_at(uint64_t offset, std::span<std::byte> dst) override {
    size_t done = 0;
    while (done < dst.size()) {
      ssize_t n = ::pread(fd_, dst.data() + done, dst.size() - done, off_t(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::from_errno(errno, "read " + path_ + " at position " + std::to_string(offset + done));
      }
      if (n == 0) break;
      done += size_t(n);
    }
    return done;
  }

  Status write_at(uint64_t offset, ByteSpan data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, off_t(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::from_errno(errno, "write " + path_ + " at position " + std::to_string(offset + done));
      }
      done += size_t(n);
    }
    return ok_status();
  }

  Status append(ByteSpan data) override {
    auto sz = size();
    if (!sz.ok()) return std::move(sz).error();
    return write_at(*sz, data);
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return Error::from_errno(errno, "fsync " + path_);
    return ok_status();
  }

  void start_writeback(uint64_t offset, uint64_t length) override {
    (void)::sync_file_range(fd_, off_t(offset), off_t(length), SYNC_FILE_RANGE_WRITE);
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, off_t(size)) != 0) {
      return Error::from_errno(errno, "truncate " + path_ + " to " + std::to_string(size) + " bytes");
    }
    return ok_status();
  }

  Result<uint64_t> size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Error::from_errno(errno, "stat " + path_);
    return uint64_t(st.st_size);
  }

  Status close() override {
    if (fd_ < 0) return ok_status();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Error::from_errno(errno, "close " + path_);
    return ok_status();
  }

  int native_handle() const override { return fd_; }
  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(std::unique_ptr<PosixFile> file) : file_(std::move(file)) {}
  ~PosixFileLock() override {
    // Closing the descriptor releases the flock.
    ::flock(file_->native_handle(), LOCK_UN);
  }
  File& file() override { return *file_; }

 private:
  std::unique_ptr<PosixFile> file_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kRead: flags |= O_RDONLY; break;
      case OpenMode::kReadWrite: flags |= O_RDWR; break;
      case OpenMode::kCreate: flags |= O_RDWR | O_CREAT; break;
      case OpenMode::kCreateTruncate: flags |= O_RDWR | O_CREAT | O_TRUNC; break;
      case OpenMode::kCreateExclusive: flags |= O_RDWR | O_CREAT | O_EXCL; break;
    }
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return Error::from_errno(errno, "open " + path);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
  }

  Result<bool> exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return Error::from_errno(errno, "stat " + path);
  }

  Result<uint64_t> file_size(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Error::from_errno(errno, "stat " + path);
    return uint64_t(st.st_size);
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Error::from_errno(errno, "list directory " + dir);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return Error::from_errno(err, "list directory " + dir);
    return names;
  }

  Status create_dirs(const std::string& dir) override {
    if (dir.empty()) return ok_status();
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return ok_status();
      return Error::invalid_argument(dir + " exists and is not a directory");
    }
    std::string parent = parent_path(dir);
    if (parent != dir && parent != "." && parent != "/") STREAMCTL_TRY(create_dirs(parent));
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error::from_errno(errno, "create directory " + dir);
    }
    return ok_status();
  }

  Status remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Error::from_errno(errno, "remove " + path);
    return ok_status();
  }

  Status remove_dir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return Error::from_errno(errno, "remove directory " + dir);
    return ok_status();
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Error::from_errno(errno, "rename " + from + " to " + to);
    }
    return ok_status();
  }

  Status sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Error::from_errno(errno, "open directory " + dir);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Error::from_errno(err, "fsync directory " + dir);
    return ok_status();
  }

  Result<uint64_t> free_space(const std::string& path) override {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) return Error::from_errno(errno, "statvfs " + path);
    return uint64_t(st.f_bavail) * uint64_t(st.f_frsize);
  }

  Result<std::unique_ptr<FileLock>> lock(const std::string& path, LockMode mode, bool wait) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 && mode == LockMode::kShared && (errno == EACCES || errno == EROFS || errno == EPERM)) {
      // A read-only directory or file (a backup, a read-only mount): flock works on a read-only descriptor,
      // and a shared lock still waits for (and holds off) writers that can write there.
      do {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      } while (fd < 0 && errno == EINTR);
    }
    if (fd < 0) return Error::from_errno(errno, "open lock file " + path);
    auto file = std::make_unique<PosixFile>(fd, path);
    int op = (mode == LockMode::kExclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
    int rc;
    do {
      rc = ::flock(fd, op);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      if (errno == EWOULDBLOCK) return Error::busy(path + " is locked by another process");
      return Error::from_errno(errno, "lock " + path);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(std::move(file)));
  }

  bool is_posix() const override { return true; }
};

}  // namespace

OpenFilesLimit open_files_limit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  auto value = [](rlim_t v) { return v == RLIM_INFINITY ? uint64_t{0} : uint64_t(v); };
  return {value(rl.rlim_cur), value(rl.rlim_max)};
}

OpenFilesLimit raise_open_files_limit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);  // best effort: the limit in force is reported either way
  }
  return open_files_limit();
}

FileSystem* posix_file_system() {
  static PosixFileSystem fs;
  return &fs;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string parent_path(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status write_file_atomically(FileSystem& fs, const std::string& path, ByteSpan contents) {
  std::string tmp = path + ".tmp";
  {
    STREAMCTL_ASSIGN_OR_RETURN(auto file, fs.open(tmp, OpenMode::kCreateTruncate));
    STREAMCTL_TRY(file->write_at(0, contents));
    STREAMCTL_TRY(file->sync());
    STREAMCTL_TRY(file->close());
  }
  STREAMCTL_TRY(fs.rename(tmp, path));
  return fs.sync_dir(parent_path(path));
}

Result<Bytes> read_file(FileSystem& fs, const std::string& path) {
  STREAMCTL_ASSIGN_OR_RETURN(auto file, fs.open(path, OpenMode::kRead));
  STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, file->size());
  Bytes out(size);
  STREAMCTL_ASSIGN_OR_RETURN(size_t n, file->read_at(0, out));
  out.resize(n);
  return out;
}

Status remove_all(FileSystem& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  if (!names.ok()) {
    if (names.error().code == ErrorCode::kNotFound) return ok_status();
    // Not a directory: remove it as a file.
    if (names.error().code == ErrorCode::kInvalidArgument) return fs.remove_file(dir);
    return std::move(names).error();
  }
  for (const auto& name : *names) {
    std::string p = join_path(dir, name);
    auto sub = fs.list_dir(p);
    if (sub.ok()) {
      STREAMCTL_TRY(remove_all(fs, p));
    } else {
      STREAMCTL_TRY(fs.remove_file(p));
    }
  }
  return fs.remove_dir(dir);
}

}  // namespace streamctl
