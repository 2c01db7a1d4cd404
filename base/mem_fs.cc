#include "base/mem_fs.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

namespace streamctl {


namespace {

// One inode. Its bytes are guarded by State::mu.
struct Node {
  explicit Node(std::atomic<uint64_t>* used) : used_(used) {}
  ~Node() { used_->fetch_sub(data.size()); }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  Bytes data;
  int shared_holders = 0;  // FileLocks held in shared mode
  bool exclusive_held = false;

 private:
  std::atomic<uint64_t>* used_;
};

bool is_root(const std::string& p) { return p == "/" || p == "." || p.empty(); }

// Parent of a normalized path, "." for a relative single name, "/" for "/x".
std::string parent_of(const std::string& p) { return parent_path(p); }

}  // namespace

struct MemFileSystem::State {
  mutable std::mutex mu;
  std::condition_variable lock_released;
  std::atomic<uint64_t> used{0};  // declared before `files`: Nodes update it when they are destroyed
  uint64_t capacity = 0;
  std::atomic<uint64_t> syncs{0};
  std::map<std::string, std::shared_ptr<Node>> files;
  std::set<std::string> dirs;

  // REQUIRES: mu held.
  bool dir_exists(const std::string& p) const { return is_root(p) || dirs.count(p) > 0; }
  bool file_exists(const std::string& p) const { return files.count(p) > 0; }

  // Checks that the parent of a new entry exists and is a directory. REQUIRES: mu held.
  Status check_parent(const std::string& p, const std::string& what) const {
    std::string parent = parent_of(p);
    if (dir_exists(parent)) return Status();
    if (file_exists(parent)) return Error::from_errno(ENOTDIR, what);
    return Error::from_errno(ENOENT, what);
  }

  bool dir_is_empty(const std::string& d) const {
    std::string prefix = d == "/" ? "/" : d + "/";
    auto f = files.lower_bound(prefix);
    if (f != files.end() && f->first.compare(0, prefix.size(), prefix) == 0) return false;
    auto s = dirs.lower_bound(prefix);
    if (s != dirs.end() && s->compare(0, prefix.size(), prefix) == 0) return false;
    return true;
  }

  // Resizes a node's bytes, honouring the capacity. REQUIRES: mu held.
  Status resize(Node& node, uint64_t size, const std::string& what) {
    uint64_t old = node.data.size();
    if (size > old) {
      uint64_t grow = size - old;
      if (used.load() + grow > capacity) return Error::from_errno(ENOSPC, what);
      used.fetch_add(grow);
    } else {
      used.fetch_sub(old - size);
    }
    node.data.resize(size);
    return Status();
  }
};

namespace {

using State = MemFileSystem::State;

class MemFile final : public File {
 public:
  MemFile(std::shared_ptr<State> state, std::shared_ptr<Node> node, std::string path, bool writable)
      : state_(std::move(state)), node_(std::move(node)), path_(std::move(path)), writable_(writable) {}

  Result<size_t> read_at(uint64_t offset, std::span<std::byte> dst) override {
    std::lock_guard<std::mutex> guard(state_->mu);
    if (closed_) return Error::from_errno(EBADF, "read " + path_);
    const Bytes& data = node_->data;
    if (offset >= data.size()) return size_t{0};
    size_t n = std::min<uint64_t>(dst.size(), data.size() - offset);
    std::copy_n(data.begin() + static_cast<ptrdiff_t>(offset), n, dst.begin());
    return n;
  }

  Status write_at(uint64_t offset, ByteSpan data) override {
    std::lock_guard<std::mutex> guard(state_->mu);
    return write_locked(offset, data);
  }

  Status append(ByteSpan data) override {
    std::lock_guard<std::mutex> guard(state_->mu);
    return write_locked(node_->data.size(), data);
  }

  Status sync() override {
    std::lock_guard<std::mutex> guard(state_->mu);
    if (closed_) return Error::from_errno(EBADF, "fsync " + path_);
    state_->syncs.fetch_add(1);
    return Status();
  }

  Status truncate(uint64_t size) override {
    std::lock_guard<std::mutex> guard(state_->mu);
    std::string what = "truncate " + path_ + " to " + std::to_string(size) + " bytes";
    if (closed_ || !writable_) return Error::from_errno(closed_ ? EBADF : EINVAL, what);
    return state_->resize(*node_, size, what);
  }

  Result<uint64_t> size() override {
    std::lock_guard<std::mutex> guard(state_->mu);
    if (closed_) return Error::from_errno(EBADF, "stat " + path_);
    return uint64_t(node_->data.size());
  }

  Status close() override {
    std::lock_guard<std::mutex> guard(state_->mu);
    closed_ = true;
    return Status();
  }

  const std::string& path() const override { return path_; }

 private:
  // REQUIRES: state_->mu held.
  Status write_locked(uint64_t offset, ByteSpan data) {
    std::string what = "write " + path_ + " at position " + std::to_string(offset);
    if (closed_ || !writable_) return Error::from_errno(EBADF, what);
    uint64_t end = offset + data.size();
    if (end > node_->data.size()) {
      auto s = state_->resize(*node_, end, what);
      if (!s.ok()) return s;
    }
    std::copy(data.begin(), data.end(), node_->data.begin() + static_cast<ptrdiff_t>(offset));
    return Status();
  }

  std::shared_ptr<State> state_;
  std::shared_ptr<Node> node_;
  std::string path_;
  bool writable_;
  bool closed_ = false;
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(std::shared_ptr<State> state, std::shared_ptr<Node> node, std::string path, LockMode mode)
      : state_(state), node_(node), mode_(mode), file_(state, node, std::move(path), true) {}

  ~MemFileLock() override {
    {
      std::lock_guard<std::mutex> guard(state_->mu);
      if (mode_ == LockMode::kExclusive) {
        node_->exclusive_held = false;
      } else {
        --node_->shared_holders;
      }
    }
    state_->lock_released.notify_all();
  }

  File& file() override { return file_; }

 private:
  std::shared_ptr<State> state_;
  std::shared_ptr<Node> node_;
  LockMode mode_;
  MemFile file_;
};

}  // namespace

std::string normalize_path(const std::string& path) {
  if (path.empty()) return ".";
  bool absolute = path.front() == '/';
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (!out.empty() || absolute) out += '/';
    out += part;
  }
  if (out.empty()) return absolute ? "/" : ".";
  return out;
}

MemFileSystem::MemFileSystem(uint64_t capacity_bytes) : state_(std::make_shared<State>()) {
  state_->capacity = capacity_bytes;
}

MemFileSystem::~MemFileSystem() = default;

Result<std::unique_ptr<File>> MemFileSystem::open(const std::string& raw, OpenMode mode) {
  std::string path = normalize_path(raw);
  std::string what = "open " + raw;
  std::lock_guard<std::mutex> guard(state_->mu);
  if (state_->dir_exists(path)) return Error::from_errno(EISDIR, what);
  auto it = state_->files.find(path);
  std::shared_ptr<Node> node;
  if (it != state_->files.end()) {
    if (mode == OpenMode::kCreateExclusive) return Error::from_errno(EEXIST, what);
    node = it->second;
    if (mode == OpenMode::kCreateTruncate) (void)state_->resize(*node, 0, what);
  } else {
    if (mode == OpenMode::kRead || mode == OpenMode::kReadWrite) return Error::from_errno(ENOENT, what);
    auto parent = state_->check_parent(path, what);
    if (!parent.ok()) return std::move(parent).error();
    node = std::make_shared<Node>(&state_->used);
    state_->files.emplace(path, node);
  }
  bool writable = mode != OpenMode::kRead;
  return std::unique_ptr<File>(std::make_unique<MemFile>(state_, std::move(node), raw, writable));
}

Result<bool> MemFileSystem::exists(const std::string& raw) {
  std::string path = normalize_path(raw);
  std::lock_guard<std::mutex> guard(state_->mu);
  return state_->dir_exists(path) || state_->file_exists(path);
}

Result<uint64_t> MemFileSystem::file_size(const std::string& raw) {
  std::string path = normalize_path(raw);
  std::lock_guard<std::mutex> guard(state_->mu);
  auto it = state_->files.find(path);
  if (it != state_->files.end()) return uint64_t(it->second->data.size());
  if (state_->dir_exists(path)) return uint64_t{0};
  return Error::from_errno(ENOENT, "stat " + raw);
}

Result<std::vector<std::string>> MemFileSystem::list_dir(const std::string& raw) {
  std::string dir = normalize_path(raw);
  std::string what = "list directory " + raw;
  std::lock_guard<std::mutex> guard(state_->mu);
  if (state_->file_exists(dir)) return Error::from_errno(ENOTDIR, what);
  if (!state_->dir_exists(dir)) return Error::from_errno(ENOENT, what);
  std::vector<std::string> names;
  auto take = [&](const std::string& p) {
    if (p != dir && parent_of(p) == dir) names.push_back(p.substr(p.find_last_of('/') + 1));
  };
  for (const auto& [p, node] : state_->files) take(p);
  for (const auto& p : state_->dirs) take(p);
  return names;
}

Status MemFileSystem::create_dirs(const std::string& raw) {
  std::string dir = normalize_path(raw);
  std::lock_guard<std::mutex> guard(state_->mu);
  // Every prefix of dir, shortest first.
  std::vector<std::string> chain;
  for (std::string p = dir; !is_root(p); p = parent_of(p)) chain.push_back(p);
  std::reverse(chain.begin(), chain.end());
  for (const auto& p : chain) {
    if (state_->file_exists(p)) return Error::invalid_argument(p + " exists and is not a directory");
    state_->dirs.insert(p);
  }
  return Status();
}

Status MemFileSystem::remove_file(const std::string& raw) {
  std::string path = normalize_path(raw);
  std::string what = "remove " + raw;
  std::lock_guard<std::mutex> guard(state_->mu);
  if (state_->dir_exists(path)) return Error::from_errno(EISDIR, what);
  if (state_->files.erase(path) == 0) return Error::from_errno(ENOENT, what);
  return Status();
}

Status MemFileSystem::remove_dir(const std::string& raw) {
  std::string dir = normalize_path(raw);
  std::string what = "remove directory " + raw;
  std::lock_guard<std::mutex> guard(state_->mu);
  if (state_->file_exists(dir)) return Error::from_errno(ENOTDIR, what);
  if (is_root(dir)) return Error::from_errno(EBUSY, what);
  if (!state_->dir_exists(dir)) return Error::from_errno(ENOENT, what);
  if (!state_->dir_is_empty(dir)) return Error::from_errno(ENOTEMPTY, what);
  state_->dirs.erase(dir);
  return Status();
}

Status MemFileSystem::rename(const std::string& raw_from, const std::string& raw_to) {
  std::string from = normalize_path(raw_from);
  std::string to = normalize_path(raw_to);
  std::string what = "rename " + raw_from + " to " + raw_to;
  std::lock_guard<std::mutex> guard(state_->mu);
  bool from_file = state_->file_exists(from);
  bool from_dir = !from_file && !is_root(from) && state_->dir_exists(from);
  if (!from_file && !from_dir) return Error::from_errno(ENOENT, what);
  auto parent = state_->check_parent(to, what);
  if (!parent.ok()) return parent;
  if (from == to) return Status();
  if (from_file) {
    if (state_->dir_exists(to)) return Error::from_errno(EISDIR, what);
    auto node = state_->files[from];
    state_->files.erase(from);
    state_->files[to] = std::move(node);
    return Status();
  }
  // A directory: `to` must not be a file, must be missing or empty, and must not lie inside `from`.
  if (state_->file_exists(to)) return Error::from_errno(ENOTDIR, what);
  if (to.compare(0, from.size() + 1, from + "/") == 0) return Error::from_errno(EINVAL, what);
  if (state_->dir_exists(to) && !state_->dir_is_empty(to)) return Error::from_errno(ENOTEMPTY, what);
  std::string prefix = from + "/";
  std::map<std::string, std::shared_ptr<Node>> moved_files;
  for (auto it = state_->files.lower_bound(prefix);
       it != state_->files.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    moved_files.emplace(to + it->first.substr(from.size()), it->second);
    it = state_->files.erase(it);
  }
  std::vector<std::string> moved_dirs;
  for (auto it = state_->dirs.lower_bound(prefix);
       it != state_->dirs.end() && it->compare(0, prefix.size(), prefix) == 0;) {
    moved_dirs.push_back(to + it->substr(from.size()));
    it = state_->dirs.erase(it);
  }
  state_->dirs.erase(from);
  state_->dirs.insert(to);
  for (auto& [p, node] : moved_files) state_->files[p] = std::move(node);
  for (auto& p : moved_dirs) state_->dirs.insert(p);
  return Status();
}

Status MemFileSystem::sync_dir(const std::string& raw) {
  std::string dir = normalize_path(raw);
  std::lock_guard<std::mutex> guard(state_->mu);
  if (state_->file_exists(dir)) return Error::from_errno(ENOTDIR, "open directory " + raw);
  if (!state_->dir_exists(dir)) return Error::from_errno(ENOENT, "open directory " + raw);
  state_->syncs.fetch_add(1);
  return Status();
}

Result<uint64_t> MemFileSystem::free_space(const std::string& raw) {
  std::string path = normalize_path(raw);
  std::lock_guard<std::mutex> guard(state_->mu);
  if (!state_->dir_exists(path) && !state_->file_exists(path)) {
    return Error::from_errno(ENOENT, "statvfs " + raw);
  }
  uint64_t used = state_->used.load();
  return state_->capacity > used ? state_->capacity - used : 0;
}

Result<std::unique_ptr<FileLock>> MemFileSystem::lock(const std::string& raw, LockMode mode, bool wait) {
  std::string path = normalize_path(raw);
  std::string what = "open lock file " + raw;
  std::unique_lock<std::mutex> guard(state_->mu);
  if (state_->dir_exists(path)) return Error::from_errno(EISDIR, what);
  std::shared_ptr<Node> node;
  auto it = state_->files.find(path);
  if (it != state_->files.end()) {
    node = it->second;
  } else {
    auto parent = state_->check_parent(path, what);
    if (!parent.ok()) return std::move(parent).error();
    node = std::make_shared<Node>(&state_->used);
    state_->files.emplace(path, node);
  }
  auto available = [&] {
    return mode == LockMode::kExclusive ? !node->exclusive_held && node->shared_holders == 0
                                        : !node->exclusive_held;
  };
  if (!available()) {
    if (!wait) return Error::busy(raw + " is locked by another process");
    state_->lock_released.wait(guard, available);
  }
  if (mode == LockMode::kExclusive) {
    node->exclusive_held = true;
  } else {
    ++node->shared_holders;
  }
  return std::unique_ptr<FileLock>(std::make_unique<MemFileLock>(state_, std::move(node), raw, mode));
}

void MemFileSystem::set_capacity(uint64_t capacity_bytes) {
  std::lock_guard<std::mutex> guard(state_->mu);
  state_->capacity = capacity_bytes;
}

uint64_t MemFileSystem::used_bytes() const { return state_->used.load(); }

uint64_t MemFileSystem::sync_count() const { return state_->syncs.load(); }

}  // namespace streamctl
