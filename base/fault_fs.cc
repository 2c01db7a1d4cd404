#include "base/fault_fs.h"

#include <algorithm>
#include <cerrno>

#include "base/mem_fs.h"

namespace streamctl {


const char* fs_op_name(uint32_t op) {
  switch (op) {
    case FsOp::kOpen: return "open";
    case FsOp::kRead: return "read";
    case FsOp::kWrite: return "write";
    case FsOp::kSync: return "sync";
    case FsOp::kTruncate: return "truncate";
    case FsOp::kClose: return "close";
    case FsOp::kRename: return "rename";
    case FsOp::kRemove: return "remove";
    case FsOp::kCreateDir: return "create directory";
    case FsOp::kSyncDir: return "sync directory";
    case FsOp::kListDir: return "list directory";
    case FsOp::kStat: return "stat";
    case FsOp::kLock: return "lock";
  }
  return "operation";
}

namespace {

bool under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

Status write_whole_file(FileSystem& fs, const std::string& path, ByteSpan contents) {
  STREAMCTL_ASSIGN_OR_RETURN(auto file, fs.open(path, OpenMode::kCreateTruncate));
  STREAMCTL_TRY(file->write_at(0, contents));
  return file->close();
}

}  // namespace

// A File opened through the wrapper: checks for faults and records pre-images of synced bytes it changes.
class FaultFile final : public File {
 public:
  using FileState = FaultInjectionFileSystem::FileState;

  // owned: the base file when this wrapper owns it (null for a FileLock's file, owned by the base lock).
  FaultFile(FaultInjectionFileSystem* fs, std::unique_ptr<File> owned, File* base,
            std::shared_ptr<FileState> state, uint64_t generation)
      : fs_(fs), owned_(std::move(owned)), base_(base), state_(std::move(state)), generation_(generation) {}

  Result<size_t> read_at(uint64_t offset, std::span<std::byte> dst) override {
    STREAMCTL_TRY(fresh());
    STREAMCTL_TRY(fs_->check(FsOp::kRead, path()));
    return base_->read_at(offset, dst);
  }

  Status write_at(uint64_t offset, ByteSpan data) override { return write(offset, data, false); }

  Status append(ByteSpan data) override { return write(0, data, true); }

  Status sync() override {
    STREAMCTL_TRY(fresh());
    STREAMCTL_TRY(fs_->check(FsOp::kSync, path()));
    std::lock_guard<std::mutex> guard(fs_->mu_);
    STREAMCTL_TRY(base_->sync());
    if (state_) {
      STREAMCTL_ASSIGN_OR_RETURN(state_->synced_size, base_->size());
      state_->undo.clear();
    }
    return Status();
  }

  Status truncate(uint64_t size) override {
    STREAMCTL_TRY(fresh());
    STREAMCTL_TRY(fs_->check(FsOp::kTruncate, path()));
    std::lock_guard<std::mutex> guard(fs_->mu_);
    if (state_) {
      STREAMCTL_ASSIGN_OR_RETURN(uint64_t current, base_->size());
      uint64_t limit = std::min(current, state_->synced_size);
      if (size < limit) STREAMCTL_TRY(save_pre_image(size, limit - size));
    }
    return base_->truncate(size);
  }

  Result<uint64_t> size() override {
    STREAMCTL_TRY(fresh());
    STREAMCTL_TRY(fs_->check(FsOp::kStat, path()));
    return base_->size();
  }

  Status close() override {
    Status injected = fs_->check(FsOp::kClose, path());
    Status closed = owned_ ? owned_->close() : Status();
    if (!injected.ok()) return injected;
    return closed;
  }

  const std::string& path() const override { return base_->path(); }

 private:
  Status fresh() const {
    std::lock_guard<std::mutex> guard(fs_->mu_);
    if (generation_ != fs_->generation_) {
      return Error::io_error("stale handle for " + path() + ": it was opened before a simulated crash");
    }
    return Status();
  }

  Status write(uint64_t offset, ByteSpan data, bool at_end) {
    STREAMCTL_TRY(fresh());
    Status injected = fs_->check(FsOp::kWrite, path());
    if (!injected.ok()) {
      bool tear;
      {
        std::lock_guard<std::mutex> guard(fs_->mu_);
        tear = fs_->torn_writes_ && fs_->active_;
      }
      if (tear && data.size() > 1) (void)tracked_write(offset, data.first(data.size() / 2), at_end);
      return injected;
    }
    return tracked_write(offset, data, at_end);
  }

  Status tracked_write(uint64_t offset, ByteSpan data, bool at_end) {
    std::lock_guard<std::mutex> guard(fs_->mu_);
    STREAMCTL_ASSIGN_OR_RETURN(uint64_t current, base_->size());
    if (at_end) offset = current;
    if (state_) {
      uint64_t limit = std::min(current, state_->synced_size);
      if (offset < limit) {
        uint64_t end = std::min<uint64_t>(offset + data.size(), limit);
        STREAMCTL_TRY(save_pre_image(offset, end - offset));
      }
    }
    return base_->write_at(offset, data);
  }

  // REQUIRES: fs_->mu_ held.
  Status save_pre_image(uint64_t offset, uint64_t length) {
    Bytes pre(length);
    STREAMCTL_ASSIGN_OR_RETURN(size_t n, base_->read_at(offset, pre));
    pre.resize(n);
    state_->undo.emplace_back(offset, std::move(pre));
    return Status();
  }

  FaultInjectionFileSystem* fs_;
  std::unique_ptr<File> owned_;
  File* base_;
  std::shared_ptr<FileState> state_;  // null for read-only files
  uint64_t generation_;
};

class FaultLock final : public FileLock {
 public:
  FaultLock(std::unique_ptr<FileLock> base, std::unique_ptr<FaultFile> file)
      : base_(std::move(base)), file_(std::move(file)) {}
  File& file() override { return *file_; }

 private:
  std::unique_ptr<FileLock> base_;
  std::unique_ptr<FaultFile> file_;  // destroyed first: it refers to base_'s file
};

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* base) : base_(base) {}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

// ---- fault control

void FaultInjectionFileSystem::fail_after(uint64_t n, ErrorCode code, uint32_t ops, bool sticky) {
  std::lock_guard<std::mutex> guard(mu_);
  fail_ = Countdown{true, n, ops};
  fail_code_ = code;
  fail_sticky_ = sticky;
  fail_triggered_ = false;
}

void FaultInjectionFileSystem::fail_randomly(uint64_t seed, uint32_t one_in, ErrorCode code, uint32_t ops) {
  std::lock_guard<std::mutex> guard(mu_);
  rng_.seed(seed);
  random_one_in_ = one_in;
  random_ops_ = ops;
  random_code_ = code;
}

void FaultInjectionFileSystem::deactivate_after(uint64_t n, uint32_t ops) {
  std::lock_guard<std::mutex> guard(mu_);
  deactivate_ = Countdown{true, n, ops};
}

void FaultInjectionFileSystem::clear_faults() {
  std::lock_guard<std::mutex> guard(mu_);
  fail_ = Countdown{};
  deactivate_ = Countdown{};
  fail_triggered_ = false;
  no_space_triggered_ = false;
  random_one_in_ = 0;
}

void FaultInjectionFileSystem::set_active(bool active) {
  std::lock_guard<std::mutex> guard(mu_);
  active_ = active;
}

bool FaultInjectionFileSystem::active() const {
  std::lock_guard<std::mutex> guard(mu_);
  return active_;
}

void FaultInjectionFileSystem::set_torn_writes(bool torn) {
  std::lock_guard<std::mutex> guard(mu_);
  torn_writes_ = torn;
}

uint64_t FaultInjectionFileSystem::op_count() const {
  std::lock_guard<std::mutex> guard(mu_);
  return op_count_;
}

uint64_t FaultInjectionFileSystem::injected_count() const {
  std::lock_guard<std::mutex> guard(mu_);
  return injected_;
}

uint64_t FaultInjectionFileSystem::op_count(uint32_t ops) const {
  std::lock_guard<std::mutex> guard(mu_);
  uint64_t n = 0;
  for (uint32_t bit = 0; bit < 13; ++bit) {
    if (ops & (1u << bit)) n += op_counts_[bit];
  }
  return n;
}

void FaultInjectionFileSystem::reset_counters() {
  std::lock_guard<std::mutex> guard(mu_);
  op_count_ = 0;
  for (uint64_t& c : op_counts_) c = 0;
  injected_ = 0;
}

Error FaultInjectionFileSystem::injected_error(uint32_t op, const std::string& path, ErrorCode code) const {
  std::string what = std::string("injected fault: ") + fs_op_name(op) + " " + path;
  switch (code) {
    case ErrorCode::kIoError: return Error::from_errno(EIO, what);
    case ErrorCode::kNoSpace: return Error::from_errno(ENOSPC, what);
    case ErrorCode::kPermissionDenied: return Error::from_errno(EACCES, what);
    default: return Error{code, what};
  }
}

Status FaultInjectionFileSystem::check(uint32_t op, const std::string& path) {
  std::lock_guard<std::mutex> guard(mu_);
  ++op_count_;
  for (uint32_t bit = 0; bit < 13; ++bit) {
    if (op & (1u << bit)) ++op_counts_[bit];
  }
  if (active_ && deactivate_.armed && (op & deactivate_.ops)) {
    if (deactivate_.remaining == 0) {
      deactivate_.armed = false;
      active_ = false;
    } else {
      --deactivate_.remaining;
    }
  }
  if (!active_) {
    ++injected_;
    return Error::io_error(std::string("injected fault: ") + fs_op_name(op) + " " + path +
                           ": file system inactive (simulated power loss)");
  }
  if (fail_.armed && (op & fail_.ops)) {
    if (fail_triggered_ || fail_.remaining == 0) {
      fail_triggered_ = fail_sticky_;
      if (!fail_sticky_) fail_.armed = false;
      if (fail_code_ == ErrorCode::kNoSpace) no_space_triggered_ = true;
      ++injected_;
      return injected_error(op, path, fail_code_);
    }
    --fail_.remaining;
  }
  if (random_one_in_ != 0 && (op & random_ops_) && rng_() % random_one_in_ == 0) {
    if (random_code_ == ErrorCode::kNoSpace) no_space_triggered_ = true;
    ++injected_;
    return injected_error(op, path, random_code_);
  }
  return Status();
}

// ---- tracking helpers (REQUIRES: mu_ held)

std::shared_ptr<FaultInjectionFileSystem::FileState> FaultInjectionFileSystem::state_for(const std::string& key,
                                                                                         uint64_t current_size) {
  auto it = files_.find(key);
  if (it != files_.end()) return it->second;
  auto state = std::make_shared<FileState>();
  state->synced_size = current_size;  // untracked files count as synced
  files_.emplace(key, state);
  return state;
}

Result<Bytes> FaultInjectionFileSystem::durable_contents(const std::string& key) {
  STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, read_file(*base_, key));
  auto it = files_.find(key);
  if (it == files_.end()) return bytes;
  const FileState& state = *it->second;
  bytes.resize(state.synced_size);
  for (auto u = state.undo.rbegin(); u != state.undo.rend(); ++u) {
    uint64_t end = std::min<uint64_t>(u->first + u->second.size(), bytes.size());
    if (u->first >= end) continue;
    std::copy_n(u->second.begin(), end - u->first, bytes.begin() + static_cast<ptrdiff_t>(u->first));
  }
  return bytes;
}

void FaultInjectionFileSystem::move_states(const std::string& from, const std::string& to) {
  std::vector<std::pair<std::string, std::shared_ptr<FileState>>> moved;
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first == from || under(it->first, from)) {
      moved.emplace_back(to + it->first.substr(from.size()), it->second);
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [key, state] : moved) files_[key] = std::move(state);
}

void FaultInjectionFileSystem::erase_states(const std::string& path) {
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first == path || under(it->first, path)) {
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---- FileSystem

Result<std::unique_ptr<File>> FaultInjectionFileSystem::open(const std::string& path, OpenMode mode) {
  STREAMCTL_TRY(check(FsOp::kOpen, path));
  std::string key = normalize_path(path);
  std::lock_guard<std::mutex> guard(mu_);
  STREAMCTL_ASSIGN_OR_RETURN(bool existed, base_->exists(path));
  if (existed && mode == OpenMode::kCreateTruncate) {
    // The truncation to 0 is an unsynced change like any other: keep the synced bytes it destroys.
    auto old = base_->file_size(path);
    if (old.ok()) {
      auto state = state_for(key, *old);
      uint64_t limit = std::min(*old, state->synced_size);
      if (limit > 0) {
        STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, read_file(*base_, path));
        bytes.resize(std::min<uint64_t>(limit, bytes.size()));
        state->undo.emplace_back(0, std::move(bytes));
      }
    }
  }
  STREAMCTL_ASSIGN_OR_RETURN(auto file, base_->open(path, mode));
  std::shared_ptr<FileState> state;
  if (mode != OpenMode::kRead) {
    if (!existed) {
      pending_.push_back(PendingOp{PendingOp::kCreateFile, key, "", parent_path(key)});
      state = std::make_shared<FileState>();
      files_[key] = state;
    } else {
      STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, file->size());
      state = state_for(key, size);
    }
  }
  File* raw = file.get();
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, std::move(file), raw, std::move(state), generation_));
}

Result<bool> FaultInjectionFileSystem::exists(const std::string& path) {
  STREAMCTL_TRY(check(FsOp::kStat, path));
  return base_->exists(path);
}

Result<uint64_t> FaultInjectionFileSystem::file_size(const std::string& path) {
  STREAMCTL_TRY(check(FsOp::kStat, path));
  return base_->file_size(path);
}

Result<std::vector<std::string>> FaultInjectionFileSystem::list_dir(const std::string& dir) {
  STREAMCTL_TRY(check(FsOp::kListDir, dir));
  return base_->list_dir(dir);
}

Status FaultInjectionFileSystem::create_dirs(const std::string& dir) {
  STREAMCTL_TRY(check(FsOp::kCreateDir, dir));
  std::string key = normalize_path(dir);
  std::lock_guard<std::mutex> guard(mu_);
  std::vector<std::string> missing;  // deepest first
  for (std::string p = key; p != "/" && p != "."; p = parent_path(p)) {
    STREAMCTL_ASSIGN_OR_RETURN(bool there, base_->exists(p));
    if (there) break;
    missing.push_back(p);
  }
  STREAMCTL_TRY(base_->create_dirs(dir));
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    pending_.push_back(PendingOp{PendingOp::kCreateDir, *it, "", parent_path(*it)});
  }
  return Status();
}

Status FaultInjectionFileSystem::remove_file(const std::string& path) {
  STREAMCTL_TRY(check(FsOp::kRemove, path));
  std::string key = normalize_path(path);
  std::lock_guard<std::mutex> guard(mu_);
  auto contents = durable_contents(key);
  STREAMCTL_TRY(base_->remove_file(path));
  PendingOp op{PendingOp::kRemoveFile, key, "", parent_path(key)};
  op.had_previous = contents.ok();
  if (contents.ok()) op.previous_contents = std::move(contents).value();
  pending_.push_back(std::move(op));
  erase_states(key);
  return Status();
}

Status FaultInjectionFileSystem::remove_dir(const std::string& dir) {
  STREAMCTL_TRY(check(FsOp::kRemove, dir));
  std::string key = normalize_path(dir);
  std::lock_guard<std::mutex> guard(mu_);
  STREAMCTL_TRY(base_->remove_dir(dir));
  pending_.push_back(PendingOp{PendingOp::kRemoveDir, key, "", parent_path(key)});
  return Status();
}

Status FaultInjectionFileSystem::rename(const std::string& from, const std::string& to) {
  STREAMCTL_TRY(check(FsOp::kRename, from));
  std::string kfrom = normalize_path(from);
  std::string kto = normalize_path(to);
  std::lock_guard<std::mutex> guard(mu_);
  PendingOp op{PendingOp::kRename, kfrom, kto, parent_path(kto)};
  STREAMCTL_ASSIGN_OR_RETURN(bool to_exists, base_->exists(to));
  if (to_exists && kfrom != kto) {
    op.had_previous = true;
    op.previous_is_dir = base_->list_dir(to).ok();
    if (!op.previous_is_dir) {
      auto contents = durable_contents(kto);
      if (contents.ok()) op.previous_contents = std::move(contents).value();
    }
  }
  STREAMCTL_TRY(base_->rename(from, to));
  if (kfrom == kto) return Status();
  erase_states(kto);
  move_states(kfrom, kto);
  pending_.push_back(std::move(op));
  return Status();
}

Status FaultInjectionFileSystem::sync_dir(const std::string& dir) {
  STREAMCTL_TRY(check(FsOp::kSyncDir, dir));
  std::string key = normalize_path(dir);
  std::lock_guard<std::mutex> guard(mu_);
  STREAMCTL_TRY(base_->sync_dir(dir));
  std::erase_if(pending_, [&](const PendingOp& op) { return op.durable_dir == key; });
  return Status();
}

Result<uint64_t> FaultInjectionFileSystem::free_space(const std::string& path) {
  STREAMCTL_TRY(check(FsOp::kStat, path));
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (no_space_triggered_) return uint64_t{0};
  }
  return base_->free_space(path);
}

Result<std::unique_ptr<FileLock>> FaultInjectionFileSystem::lock(const std::string& path, LockMode mode,
                                                                 bool wait) {
  STREAMCTL_TRY(check(FsOp::kLock, path));
  std::string key = normalize_path(path);
  bool existed;
  {
    std::lock_guard<std::mutex> guard(mu_);
    STREAMCTL_ASSIGN_OR_RETURN(existed, base_->exists(path));
  }
  // Waiting for the lock must not hold mu_: the holder may need the wrapper to release it.
  STREAMCTL_ASSIGN_OR_RETURN(auto base_lock, base_->lock(path, mode, wait));
  std::lock_guard<std::mutex> guard(mu_);
  std::shared_ptr<FileState> state;
  if (!existed) {
    pending_.push_back(PendingOp{PendingOp::kCreateFile, key, "", parent_path(key)});
    state = std::make_shared<FileState>();
    files_[key] = state;
  } else {
    STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, base_lock->file().size());
    state = state_for(key, size);
  }
  auto file = std::make_unique<FaultFile>(this, nullptr, &base_lock->file(), std::move(state), generation_);
  return std::unique_ptr<FileLock>(std::make_unique<FaultLock>(std::move(base_lock), std::move(file)));
}

// ---- crash

void FaultInjectionFileSystem::mark_all_durable() {
  std::lock_guard<std::mutex> guard(mu_);
  files_.clear();
  pending_.clear();
}

Status FaultInjectionFileSystem::crash() {
  std::lock_guard<std::mutex> guard(mu_);
  ++generation_;
  Status result;
  auto note = [&](Status s) {
    if (!s.ok() && s.error().code != ErrorCode::kNotFound && result.ok()) result = std::move(s);
  };
  auto present = [&](const std::string& p) {
    auto r = base_->exists(p);
    return r.ok() && *r;
  };

  // 1. Undo directory changes that no sync_dir made durable, newest first.
  for (auto op = pending_.rbegin(); op != pending_.rend(); ++op) {
    switch (op->kind) {
      case PendingOp::kCreateFile:
        if (present(op->path)) note(base_->remove_file(op->path));
        erase_states(op->path);
        break;
      case PendingOp::kCreateDir:
        if (present(op->path)) note(remove_all(*base_, op->path));
        erase_states(op->path);
        break;
      case PendingOp::kRemoveFile:
        if (op->had_previous) note(write_whole_file(*base_, op->path, op->previous_contents));
        erase_states(op->path);
        break;
      case PendingOp::kRemoveDir: note(base_->create_dirs(op->path)); break;
      case PendingOp::kRename:
        if (present(op->to)) {
          note(base_->rename(op->to, op->path));
          move_states(op->to, op->path);
        }
        if (op->had_previous) {
          if (op->previous_is_dir) {
            note(base_->create_dirs(op->to));
          } else {
            note(write_whole_file(*base_, op->to, op->previous_contents));
          }
        }
        break;
    }
  }
  pending_.clear();

  // 2. Drop unsynced data: back to the synced size, then restore overwritten synced bytes, oldest last.
  for (const auto& [key, state] : files_) {
    if (!present(key) || base_->list_dir(key).ok()) continue;
    auto file = base_->open(key, OpenMode::kReadWrite);
    if (!file.ok()) {
      note(std::move(file).error());
      continue;
    }
    note((*file)->truncate(state->synced_size));
    for (auto u = state->undo.rbegin(); u != state->undo.rend(); ++u) {
      note((*file)->write_at(u->first, u->second));
    }
    note((*file)->close());
  }
  files_.clear();

  // 3. Reboot: active, no faults armed.
  active_ = true;
  fail_ = Countdown{};
  deactivate_ = Countdown{};
  fail_triggered_ = false;
  no_space_triggered_ = false;
  random_one_in_ = 0;
  return result;
}

}  // namespace streamctl
