// LogManager: topics on disk and their cached partition Logs. See log_manager.h for the contract.
//
// Topic metadata file <data>/__meta/topics/<topic>.json, written by hand (the engine links no JSON library)
// and read back by the small parser below, which accepts any JSON but only looks at these keys:
//   {
//     "version": 1,                      format version; a larger one is kNotSupported
//     "name": "orders",                  must equal the file name's stem
//     "topic_id": "AAAAAAAAAAAAAAAAAAAAAA",
//     "partitions": 3,
//     "created_ms": 1700000000000,
//     "configs": {"retention.ms": "3600000"}   overrides only, string values
//   }
// Partition directory marker <data>/<topic>-<p>/partition.metadata (Kafka's PartitionMetadataFile):
//   version: 0
//   topic_id: AAAAAAAAAAAAAAAAAAAAAA
#include "engine/log_manager.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <random>
#include <string_view>

#include "engine/file_names.h"
#include "engine/group_store.h"

namespace streamctl::engine {
namespace {

constexpr size_t kMaxTopicNameLength = 249;
constexpr int kMetadataVersion = 1;
constexpr const char* kPartitionMetadataFile = "partition.metadata";
constexpr const char* kMetadataSuffix = ".json";

// ---- errors

Error with_context(const std::string& what, Error e) {
  e.message = what + ": " + e.message;
  return e;
}

// Adds the fix for the two errors a user can act on.
Error with_hint(Error e, const std::string& data_dir) {
  if (e.code == ErrorCode::kNoSpace) {
    e.message += " (free space on the disk holding " + data_dir + ")";
  } else if (e.code == ErrorCode::kPermissionDenied) {
    e.message += " (check the permissions of " + data_dir + ", or use another --data-dir)";
  }
  return e;
}

Error topic_not_found(const std::string& name) { return Error::not_found("topic '" + name + "' does not exist"); }

// ---- small helpers over FileSystem

Result<bool> is_dir(FileSystem& fs, const std::string& path) {
  auto names = fs.list_dir(path);
  if (names.ok()) return true;
  if (names.error().code == ErrorCode::kNotFound || names.error().code == ErrorCode::kInvalidArgument) {
    return false;
  }
  return std::move(names).error();
}

// create_dirs, then fsync the parent of every directory it created, so the new entries survive a crash.
Status create_dirs_durably(FileSystem& fs, const std::string& dir) {
  std::vector<std::string> missing;
  for (std::string p = dir; p != "/" && p != "."; p = parent_path(p)) {
    STREAMCTL_ASSIGN_OR_RETURN(bool exists, fs.exists(p));
    if (exists) break;
    missing.push_back(p);
  }
  if (missing.empty()) return Status();
  STREAMCTL_TRY(fs.create_dirs(dir));
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) STREAMCTL_TRY(fs.sync_dir(parent_path(*it)));
  return Status();
}

// Kafka's Topic.hasCollision: names equal once '.' is read as '_'.
bool collides(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] == '.' ? '_' : a[i];
    char y = b[i] == '.' ? '_' : b[i];
    if (x != y) return false;
  }
  return true;
}

bool is_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// "orders-12" -> {"orders", 12} through engine/file_names.h; false unless the topic part is a valid name.
bool parse_partition_dir(const std::string& name, std::string* topic, PartitionId* partition) {
  auto tp = parse_partition_dir_name(name);
  if (!tp.ok() || !LogManager::validate_topic_name(tp->topic).ok()) return false;
  *topic = tp->topic;
  *partition = tp->partition;
  return true;
}

// ---- JSON, just enough for the metadata file

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::string encode_metadata(const TopicMetadata& md) {
  std::string out = "{\n  \"version\": " + std::to_string(kMetadataVersion) + ",\n  \"name\": ";
  json_string(out, md.name);
  out += ",\n  \"topic_id\": ";
  json_string(out, md.topic_id);
  out += ",\n  \"partitions\": " + std::to_string(md.partitions);
  out += ",\n  \"created_ms\": " + std::to_string(md.created_ms);
  out += ",\n  \"configs\": {";
  bool first = true;
  for (const auto& [k, v] : md.overrides) {
    out += first ? "\n    " : ",\n    ";
    first = false;
    json_string(out, k);
    out += ": ";
    json_string(out, v);
  }
  out += first ? "}\n}\n" : "\n  }\n}\n";
  return out;
}

// A JSON value reduced to what the metadata file needs.
struct JsonValue {
  enum Kind { kNull, kBool, kNumber, kString, kObject, kArray } kind = kNull;
  std::string text;                          // string contents, or a number's literal
  std::map<std::string, JsonValue> members;  // object members
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view in) : in_(in) {}

  // Parses one value that spans the whole input (whitespace aside).
  bool parse_document(JsonValue* out) {
    if (!value(out, 0)) return false;
    skip_ws();
    if (pos_ != in_.size()) return fail("unexpected text after the JSON value");
    return true;
  }
  const std::string& error() const { return error_; }
  size_t position() const { return pos_; }

 private:
  bool fail(const std::string& why) {
    if (error_.empty()) error_ = why + " at byte " + std::to_string(pos_);
    return false;
  }
  void skip_ws() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\r' || in_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }
  bool value(JsonValue* out, int depth) {
    if (depth > 32) return fail("nesting too deep");
    skip_ws();
    if (pos_ >= in_.size()) return fail("unexpected end of input");
    char c = in_[pos_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      out->kind = JsonValue::kString;
      return string(&out->text);
    }
    if (c == 't' || c == 'f') {
      out->kind = JsonValue::kBool;
      out->text = c == 't' ? "true" : "false";
      return literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') {
      out->kind = JsonValue::kNull;
      return literal("null");
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      ++pos_;
      while (pos_ < in_.size() && (std::isdigit(static_cast<unsigned char>(in_[pos_])) || in_[pos_] == '.' ||
                                   in_[pos_] == 'e' || in_[pos_] == 'E' || in_[pos_] == '+' || in_[pos_] == '-')) {
        ++pos_;
      }
      out->kind = JsonValue::kNumber;
      out->text = std::string(in_.substr(start, pos_ - start));
      return true;
    }
    return fail(std::string("unexpected character '") + c + "'");
  }
  bool object(JsonValue* out, int depth) {
    out->kind = JsonValue::kObject;
    ++pos_;  // '{'
    skip_ws();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      std::string key;
      if (pos_ >= in_.size() || in_[pos_] != '"') return fail("expected a member name");
      if (!string(&key)) return false;
      skip_ws();
      if (pos_ >= in_.size() || in_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      JsonValue v;
      if (!value(&v, depth + 1)) return false;
      out->members[key] = std::move(v);
      skip_ws();
      if (pos_ < in_.size() && in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < in_.size() && in_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }
  bool array(JsonValue* out, int depth) {
    out->kind = JsonValue::kArray;
    ++pos_;  // '['
    skip_ws();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      JsonValue ignored;
      if (!value(&ignored, depth + 1)) return false;
      skip_ws();
      if (pos_ < in_.size() && in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < in_.size() && in_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }
  bool hex4(uint32_t* out) {
    if (pos_ + 4 > in_.size()) return fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = in_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= uint32_t(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= uint32_t(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= uint32_t(c - 'A' + 10);
      } else {
        return fail("bad \\u escape");
      }
    }
    *out = v;
    return true;
  }
  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xc0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += char(0xe0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    } else {
      out += char(0xf0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3f));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    }
  }
  bool string(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < in_.size()) {
      char c = in_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (pos_ >= in_.size()) break;
      char e = in_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(&cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00 && in_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            uint32_t low = 0;
            if (!hex4(&low)) return false;
            if (low < 0xdc00 || low >= 0xe000) return fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          utf8(*out, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
    return fail("unterminated string");
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

bool json_int(const JsonValue& v, int64_t* out) {
  if (v.kind != JsonValue::kNumber) return false;
  auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), *out);
  return ec == std::errc() && end == v.text.data() + v.text.size();
}

Result<TopicMetadata> decode_metadata(std::string_view text, const std::string& path, const std::string& name) {
  auto corrupt = [&](const std::string& why) {
    return Error::corruption("topic metadata file " + path + " is corrupt: " + why +
                             "; restore it from a backup, or remove it and the topic's partition directories");
  };
  JsonValue doc;
  JsonParser parser(text);
  if (!parser.parse_document(&doc)) return corrupt(parser.error());
  if (doc.kind != JsonValue::kObject) return corrupt("not a JSON object");
  auto member = [&](const char* key) -> const JsonValue* {
    auto it = doc.members.find(key);
    return it == doc.members.end() ? nullptr : &it->second;
  };
  int64_t version = 0;
  const JsonValue* v = member("version");
  if (v == nullptr || !json_int(*v, &version)) return corrupt("no integer \"version\"");
  if (version > kMetadataVersion) {
    return Error::not_supported("topic metadata file " + path + " has format version " + std::to_string(version) +
                                "; this streamctl reads version " + std::to_string(kMetadataVersion) +
                                " (written by a newer streamctl? upgrade it)");
  }
  TopicMetadata md;
  v = member("name");
  if (v == nullptr || v->kind != JsonValue::kString) return corrupt("no string \"name\"");
  md.name = v->text;
  if (md.name != name) return corrupt("it describes topic '" + md.name + "'");
  v = member("topic_id");
  if (v == nullptr || v->kind != JsonValue::kString || v->text.empty()) return corrupt("no string \"topic_id\"");
  md.topic_id = v->text;
  int64_t n = 0;
  v = member("partitions");
  if (v == nullptr || !json_int(*v, &n) || n < 1 || n > LogManager::kMaxPartitions) {
    return corrupt("\"partitions\" is not an integer from 1 to " + std::to_string(LogManager::kMaxPartitions));
  }
  md.partitions = static_cast<int32_t>(n);
  v = member("created_ms");
  if (v != nullptr && !json_int(*v, &md.created_ms)) return corrupt("\"created_ms\" is not an integer");
  v = member("configs");
  if (v != nullptr) {
    if (v->kind != JsonValue::kObject) return corrupt("\"configs\" is not an object");
    for (const auto& [k, val] : v->members) {
      if (val.kind != JsonValue::kString) return corrupt("config '" + k + "' is not a string");
      md.overrides[k] = val.text;
    }
  }
  return md;
}

// The topic id recorded in a partition directory; empty when there is no (readable) partition.metadata.
std::string read_partition_topic_id(FileSystem& fs, const std::string& dir) {
  auto bytes = read_file(fs, join_path(dir, kPartitionMetadataFile));
  if (!bytes.ok()) return "";
  std::string_view text = as_string_view(*bytes);
  constexpr std::string_view kKey = "topic_id:";
  size_t at = text.find(kKey);
  if (at == std::string_view::npos) return "";
  std::string_view rest = text.substr(at + kKey.size());
  size_t end = rest.find('\n');
  rest = rest.substr(0, end);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
  return std::string(rest);
}

}  // namespace

// ---- Impl

struct LogManager::Impl {
  LogManagerOptions options;
  FileSystem* fs = nullptr;
  Clock* clock = nullptr;
  std::string data_dir;
  std::string topics_dir;   // <data>/__meta/topics
  std::string topics_lock;  // <data>/__meta/topics.lock
  std::unique_ptr<GroupStore> groups;

  std::mutex mu;  // guards the caches below
  struct CachedTopic {
    TopicMetadata md;
    int64_t read_at_ms = 0;
  };
  std::map<std::string, CachedTopic> topics;
  struct OpenLog {
    std::string topic_id;
    std::unique_ptr<Log> log;
  };
  std::map<TopicPartition, OpenLog> logs;
  // Closed Logs of deleted or re-created topics, kept so pointers handed out stay valid.
  std::vector<std::unique_ptr<Log>> retired;

  std::string metadata_path(const std::string& topic) const {
    return join_path(topics_dir, topic + kMetadataSuffix);
  }
  std::string partition_dir(const std::string& topic, PartitionId p) const {
    return join_path(data_dir, partition_dir_name(TopicPartition{topic, p}));
  }

  Result<std::unique_ptr<FileLock>> lock_topics() {
    STREAMCTL_TRY(create_dirs_durably(*fs, topics_dir));
    return fs->lock(topics_lock, LockMode::kExclusive, true);
  }

  // The topic's metadata on disk; kNotFound when there is none.
  Result<TopicMetadata> read_metadata(const std::string& topic) {
    std::string path = metadata_path(topic);
    auto bytes = read_file(*fs, path);
    if (!bytes.ok()) {
      if (bytes.error().code == ErrorCode::kNotFound) return topic_not_found(topic);
      return std::move(bytes).error();
    }
    return decode_metadata(as_string_view(*bytes), path, topic);
  }

  Status write_metadata(const TopicMetadata& md) {
    std::string text = encode_metadata(md);
    std::string path = metadata_path(md.name);
    Status s = write_file_atomically(*fs, path, as_byte_span(text));
    if (!s.ok()) (void)fs->remove_file(path + ".tmp");
    return s;
  }

  // Makes <topic>-<p> an empty partition directory owned by topic_id. A leftover directory that a
  // partition.metadata proves is ours (another topic id: an interrupted delete or create) is replaced; an
  // empty one (an interrupted create) is reused; anything else is not ours to touch.
  Status prepare_partition_dir(const std::string& topic, PartitionId p, const std::string& topic_id) {
    std::string dir = partition_dir(topic, p);
    STREAMCTL_ASSIGN_OR_RETURN(bool exists, fs->exists(dir));
    if (exists) {
      std::string owner = read_partition_topic_id(*fs, dir);
      if (!owner.empty() && owner != topic_id) {
        STREAMCTL_TRY(remove_all(*fs, dir));
      } else if (owner.empty()) {
        STREAMCTL_ASSIGN_OR_RETURN(bool dir_ok, is_dir(*fs, dir));
        if (!dir_ok) {
          return Error::already_exists(dir + " exists and is not a directory; move it away and retry");
        }
        STREAMCTL_ASSIGN_OR_RETURN(auto names, fs->list_dir(dir));
        bool empty = std::all_of(names.begin(), names.end(), [](const std::string& n) {
          return n == std::string(kPartitionMetadataFile) + ".tmp";
        });
        if (!empty) {
          return Error::already_exists("directory " + dir +
                                       " already exists but belongs to no streamctl topic "
                                       "(it has no partition.metadata); move it away or delete it, then retry");
        }
      }
    }
    STREAMCTL_TRY(fs->create_dirs(dir));
    std::string marker_path = join_path(dir, kPartitionMetadataFile);
    std::string marker = "version: 0\ntopic_id: " + topic_id + "\n";
    Status s = write_file_atomically(*fs, marker_path, as_byte_span(marker));
    if (!s.ok() && !exists) {  // undo what this call created (remove_dir only removes an empty directory)
      (void)fs->remove_file(marker_path + ".tmp");
      (void)fs->remove_dir(dir);
    }
    return s;
  }

  // Best-effort undo of prepare_partition_dir: removes dir only when its partition.metadata names topic_id
  // (a directory that failed before its marker was written is left for the next attempt to reuse).
  void remove_if_owned(const std::string& dir, const std::string& topic_id) {
    if (read_partition_topic_id(*fs, dir) == topic_id) (void)remove_all(*fs, dir);
  }

  // Closes and retires the cached Logs of a topic. REQUIRES: mu held.
  void retire_logs_locked(const std::string& topic) {
    for (auto it = logs.begin(); it != logs.end();) {
      if (it->first.topic == topic) {
        (void)it->second.log->close();
        retired.push_back(std::move(it->second.log));
        it = logs.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Applies a config to the cached Logs of a topic incarnation. REQUIRES: mu held.
  void update_logs_locked(const std::string& topic, const std::string& topic_id, const LogConfig& config) {
    for (auto& [tp, open] : logs) {
      if (tp.topic == topic && open.topic_id == topic_id) open.log->update_config(config);
    }
  }

  // Records freshly read metadata; retires Logs of an older incarnation and pushes changed configs to open
  // Logs. REQUIRES: mu held.
  void remember_locked(const TopicMetadata& md) {
    auto it = topics.find(md.name);
    if (it != topics.end()) {
      if (it->second.md.topic_id != md.topic_id) {
        retire_logs_locked(md.name);
      } else if (it->second.md.overrides != md.overrides) {
        auto config = LogConfig::from_overrides(md.overrides);
        if (config.ok()) update_logs_locked(md.name, md.topic_id, *config);
      }
    }
    topics[md.name] = CachedTopic{md, clock->monotonic_ms()};
  }

  void forget_locked(const std::string& topic) {
    topics.erase(topic);
    retire_logs_locked(topic);
  }

  // Metadata for log(): the cache when young enough, else the disk. REQUIRES: mu held.
  Result<TopicMetadata> current_metadata_locked(const std::string& topic) {
    auto it = topics.find(topic);
    if (it != topics.end() && options.metadata_max_age_ms > 0 &&
        clock->monotonic_ms() - it->second.read_at_ms <= options.metadata_max_age_ms) {
      return it->second.md;
    }
    auto md = read_metadata(topic);
    if (!md.ok()) {
      if (md.error().code == ErrorCode::kNotFound) forget_locked(topic);
      return md;
    }
    remember_locked(*md);
    return md;
  }

  // Removes partition directories that partition.metadata proves belong to no live topic partition.
  Status sweep_orphans() {
    auto find = [&](std::vector<std::string>* out) -> Status {
      out->clear();
      STREAMCTL_ASSIGN_OR_RETURN(auto names, fs->list_dir(data_dir));
      std::map<std::string, std::optional<TopicMetadata>> known;
      for (const auto& name : names) {
        std::string topic;
        PartitionId p = 0;
        if (!parse_partition_dir(name, &topic, &p)) continue;
        std::string dir = join_path(data_dir, name);
        std::string owner = read_partition_topic_id(*fs, dir);
        if (owner.empty()) continue;  // not provably ours: never deleted
        if (!known.count(topic)) {
          auto md = read_metadata(topic);
          if (md.ok()) {
            known[topic] = *md;
          } else if (md.error().code == ErrorCode::kNotFound) {
            known[topic] = std::nullopt;
          } else {
            return std::move(md).error();
          }
        }
        const auto& md = known[topic];
        if (!md || md->topic_id != owner || p >= md->partitions) out->push_back(dir);
      }
      return Status();
    };
    std::vector<std::string> orphans;
    STREAMCTL_TRY(find(&orphans));
    if (orphans.empty()) return Status();
    // Re-check under the topics lock: a create or add_partitions in another process prepares directories
    // before it commits their metadata, while holding this lock.
    STREAMCTL_ASSIGN_OR_RETURN(auto lock, lock_topics());
    STREAMCTL_TRY(find(&orphans));
    for (const auto& dir : orphans) STREAMCTL_TRY(remove_all(*fs, dir));
    if (!orphans.empty()) STREAMCTL_TRY(fs->sync_dir(data_dir));
    return Status();
  }
};

// ---- LogManager

Result<std::unique_ptr<LogManager>> LogManager::open(const LogManagerOptions& options) {
  if (options.data_dir.empty()) {
    return Error::invalid_argument("no data directory given (pass --data-dir or set STREAMCTL_DATA_DIR)");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->fs = options.fs != nullptr ? options.fs : posix_file_system();
  impl->clock = options.clock != nullptr ? options.clock : system_clock();
  impl->data_dir = options.data_dir;
  while (impl->data_dir.size() > 1 && impl->data_dir.back() == '/') impl->data_dir.pop_back();
  impl->topics_dir = join_path(impl->data_dir, "__meta/topics");
  impl->topics_lock = join_path(impl->data_dir, "__meta/topics.lock");

  FileSystem& fs = *impl->fs;
  const std::string& dir = impl->data_dir;
  auto exists = fs.exists(dir);
  if (!exists.ok())
    return with_hint(with_context("cannot open data directory " + dir, std::move(exists).error()), dir);
  if (!*exists) {
    if (!options.create_if_missing) return Error::not_found("data directory " + dir + " does not exist");
    auto created = create_dirs_durably(fs, dir);
    if (!created.ok()) {
      return with_hint(with_context("cannot create data directory " + dir, std::move(created).error()), dir);
    }
  }
  auto dir_ok = is_dir(fs, dir);
  if (!dir_ok.ok())
    return with_hint(with_context("cannot open data directory " + dir, std::move(dir_ok).error()), dir);
  if (!*dir_ok) return Error::invalid_argument("data directory " + dir + " exists but is not a directory");

  impl->groups = std::make_unique<GroupStore>(impl->fs, impl->clock, join_path(dir, "__meta/groups"));
  std::unique_ptr<LogManager> manager(new LogManager());
  manager->impl_ = std::move(impl);
  return manager;
}

LogManager::~LogManager() {
  if (!impl_) return;
  for (auto& [tp, open] : impl_->logs) (void)open.log->close();
}

Status LogManager::validate_topic_name(const std::string& name) {
  if (name.empty()) return Error::invalid_argument("topic name must not be empty");
  if (name == "." || name == "..") {
    return Error::invalid_argument("topic name '" + name + "' is not allowed ('.' and '..' are reserved)");
  }
  if (name.size() > kMaxTopicNameLength) {
    return Error::invalid_argument("topic name '" + name.substr(0, 32) + "...' is " + std::to_string(name.size()) +
                                   " characters long; the limit is " + std::to_string(kMaxTopicNameLength));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!is_topic_char(name[i])) {
      unsigned char c = static_cast<unsigned char>(name[i]);
      std::string shown;
      if (c >= 0x20 && c < 0x7f) {
        shown = std::string("'") + name[i] + "'";
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", c);
        shown = buf;
      }
      return Error::invalid_argument("topic name '" + name + "' contains " + shown + " at position " +
                                     std::to_string(i + 1) +
                                     "; only ASCII letters, digits, '.', '_' and '-' are allowed");
    }
  }
  return Status();
}

std::string LogManager::new_topic_id() {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  static std::mutex mu;
  static std::random_device device;
  while (true) {
    uint8_t b[16];
    {
      std::lock_guard<std::mutex> guard(mu);
      for (int i = 0; i < 16; i += 4) {
        uint32_t r = device();
        for (int k = 0; k < 4; ++k) b[i + k] = uint8_t(r >> (8 * k));
      }
    }
    b[6] = uint8_t((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = uint8_t((b[8] & 0x3f) | 0x80);  // IETF variant
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (uint8_t byte : b) {
      acc = (acc << 8) | byte;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        out += kAlphabet[(acc >> bits) & 0x3f];
      }
    }
    if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
    if (out.front() != '-') return out;  // 22 characters
  }
}

Result<TopicMetadata> LogManager::create_topic(const std::string& name, int32_t partitions,
                                               const std::map<std::string, std::string>& overrides) {
  STREAMCTL_TRY(validate_topic_name(name));
  // Kafka's internal topics: a client that writes "__consumer_offsets" here means Kafka's, which this
  // data directory keeps elsewhere (__meta/groups); creating it would only shadow that.
  for (const char* internal : {"__consumer_offsets", "__transaction_state", "__cluster_metadata"}) {
    if (name == internal) {
      return Error::invalid_argument("'" + name + "' is the name of an internal Kafka topic and cannot be created; "
                                     "choose another name");
    }
  }
  if (partitions < 1 || partitions > kMaxPartitions) {
    return Error::invalid_argument("cannot create topic '" + name + "' with " + std::to_string(partitions) +
                                   " partitions: the count must be from 1 to " + std::to_string(kMaxPartitions));
  }
  STREAMCTL_TRY(LogConfig::from_overrides(overrides));
  Impl& m = *impl_;
  const std::string what = "cannot create topic '" + name + "'";
  auto fail = [&](Error e) { return with_hint(with_context(what, std::move(e)), m.data_dir); };

  auto lock = m.lock_topics();
  if (!lock.ok()) return fail(std::move(lock).error());
  auto existing = m.read_metadata(name);
  if (existing.ok()) {
    return Error::already_exists("topic '" + name + "' already exists (" + std::to_string(existing->partitions) +
                                 " partitions, id " + existing->topic_id + ")");
  }
  if (existing.error().code != ErrorCode::kNotFound) return fail(std::move(existing).error());
  auto names = list_topics();
  if (!names.ok()) return fail(std::move(names).error());
  for (const auto& other : *names) {
    if (other != name && collides(other, name)) {
      return Error::invalid_argument("topic '" + name + "' collides with existing topic '" + other +
                                     "': names that differ only in '.' versus '_' clash in Kafka's metric "
                                     "names; choose another name");
    }
  }

  TopicMetadata md;
  md.name = name;
  md.topic_id = new_topic_id();
  md.partitions = partitions;
  md.overrides = overrides;
  md.created_ms = m.clock->now().value;
  auto cleanup = [&](PartitionId upto) {
    for (PartitionId p = 0; p < upto; ++p) m.remove_if_owned(m.partition_dir(name, p), md.topic_id);
  };
  for (PartitionId p = 0; p < partitions; ++p) {
    Status s = m.prepare_partition_dir(name, p, md.topic_id);
    if (!s.ok()) {
      cleanup(p + 1);
      return fail(std::move(s).error());
    }
  }
  Status s = m.fs->sync_dir(m.data_dir);
  if (s.ok()) s = m.write_metadata(md);  // the commit point
  if (!s.ok()) {
    cleanup(partitions);
    return fail(std::move(s).error());
  }
  std::lock_guard<std::mutex> guard(m.mu);
  m.remember_locked(md);
  return md;
}

Status LogManager::delete_topic(const std::string& name) {
  STREAMCTL_TRY(validate_topic_name(name));
  Impl& m = *impl_;
  const std::string what = "cannot delete topic '" + name + "'";
  auto fail = [&](Error e) { return with_hint(with_context(what, std::move(e)), m.data_dir); };
  TopicMetadata md;
  {
    auto lock = m.lock_topics();
    if (!lock.ok()) return fail(std::move(lock).error());
    auto current = m.read_metadata(name);
    if (!current.ok()) {
      if (current.error().code == ErrorCode::kNotFound) return std::move(current).error();
      return fail(std::move(current).error());
    }
    md = *current;
    // The commit point: once the metadata is durably gone, the topic is gone.
    Status s = m.fs->remove_file(m.metadata_path(name));
    if (s.ok()) s = m.fs->sync_dir(m.topics_dir);
    if (!s.ok()) return fail(std::move(s).error());
    {
      std::lock_guard<std::mutex> guard(m.mu);
      m.forget_locked(name);
    }
    // Every <name>-<p> directory is this topic's now, including leftovers of interrupted add_partitions.
    auto entries = m.fs->list_dir(m.data_dir);
    if (!entries.ok()) return fail(std::move(entries).error());
    for (const auto& entry : *entries) {
      std::string topic;
      PartitionId p = 0;
      if (!parse_partition_dir(entry, &topic, &p) || topic != name) continue;
      s = remove_all(*m.fs, join_path(m.data_dir, entry));
      if (!s.ok()) return fail(std::move(s).error());
    }
    s = m.fs->sync_dir(m.data_dir);
    if (!s.ok()) return fail(std::move(s).error());
  }
  // Committed offsets of the topic go too (best effort: a damaged group file must not block the delete).
  auto groups = m.groups->list_groups();
  if (groups.ok()) {
    for (const auto& group : *groups) {
      auto offsets = m.groups->fetch(group);
      if (!offsets.ok()) continue;
      std::vector<TopicPartition> gone;
      for (const auto& [tp, co] : *offsets) {
        if (tp.topic == name) gone.push_back(tp);
      }
      if (!gone.empty()) (void)m.groups->delete_offsets(group, gone);
    }
  }
  return Status();
}

Result<std::vector<std::string>> LogManager::list_topics() {
  Impl& m = *impl_;
  std::vector<std::string> topics;
  STREAMCTL_ASSIGN_OR_RETURN(bool there, m.fs->exists(m.topics_dir));
  if (!there) return topics;
  STREAMCTL_ASSIGN_OR_RETURN(auto names, m.fs->list_dir(m.topics_dir));
  const std::string suffix = kMetadataSuffix;
  for (const auto& n : names) {
    if (n.size() <= suffix.size() || n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::string topic = n.substr(0, n.size() - suffix.size());
    if (validate_topic_name(topic).ok()) topics.push_back(std::move(topic));
  }
  std::sort(topics.begin(), topics.end());
  return topics;
}

Result<TopicMetadata> LogManager::describe_topic(const std::string& name) {
  STREAMCTL_TRY(validate_topic_name(name));
  Impl& m = *impl_;
  auto md = m.read_metadata(name);
  std::lock_guard<std::mutex> guard(m.mu);
  if (md.ok()) {
    m.remember_locked(*md);
  } else if (md.error().code == ErrorCode::kNotFound) {
    m.forget_locked(name);
  }
  return md;
}

Status LogManager::add_partitions(const std::string& name, int32_t total_partitions) {
  STREAMCTL_TRY(validate_topic_name(name));
  Impl& m = *impl_;
  const std::string what = "cannot add partitions to topic '" + name + "'";
  auto fail = [&](Error e) { return with_hint(with_context(what, std::move(e)), m.data_dir); };
  auto lock = m.lock_topics();
  if (!lock.ok()) return fail(std::move(lock).error());
  auto current = m.read_metadata(name);
  if (!current.ok()) {
    if (current.error().code == ErrorCode::kNotFound) return std::move(current).error();
    return fail(std::move(current).error());
  }
  TopicMetadata md = *current;
  if (total_partitions <= md.partitions) {
    return Error::invalid_argument("topic '" + name + "' already has " + std::to_string(md.partitions) +
                                   " partitions; the count can only grow (asked for " +
                                   std::to_string(total_partitions) + ")");
  }
  if (total_partitions > kMaxPartitions) {
    return Error::invalid_argument(what + ": the count must be at most " + std::to_string(kMaxPartitions));
  }
  for (PartitionId p = md.partitions; p < total_partitions; ++p) {
    Status s = m.prepare_partition_dir(name, p, md.topic_id);
    if (!s.ok()) {
      for (PartitionId q = md.partitions; q <= p; ++q) m.remove_if_owned(m.partition_dir(name, q), md.topic_id);
      return fail(std::move(s).error());
    }
  }
  Status s = m.fs->sync_dir(m.data_dir);
  md.partitions = total_partitions;
  if (s.ok()) s = m.write_metadata(md);
  if (!s.ok()) return fail(std::move(s).error());
  std::lock_guard<std::mutex> guard(m.mu);
  m.remember_locked(md);
  return Status();
}

Status LogManager::alter_configs(const std::string& name, const std::map<std::string, std::string>& set,
                                 const std::vector<std::string>& remove) {
  STREAMCTL_TRY(validate_topic_name(name));
  for (const auto& key : remove) {
    if (find_topic_config(key) == nullptr) return validate_topic_config(key, "");  // the unknown-config error
    if (set.count(key)) {
      return Error::invalid_argument("config '" + key + "' is both set and removed; do one or the other");
    }
  }
  Impl& m = *impl_;
  const std::string what = "cannot alter configs of topic '" + name + "'";
  auto fail = [&](Error e) { return with_hint(with_context(what, std::move(e)), m.data_dir); };
  auto lock = m.lock_topics();
  if (!lock.ok()) return fail(std::move(lock).error());
  auto current = m.read_metadata(name);
  if (!current.ok()) {
    if (current.error().code == ErrorCode::kNotFound) return std::move(current).error();
    return fail(std::move(current).error());
  }
  TopicMetadata md = *current;
  for (const auto& [k, v] : set) md.overrides[k] = v;
  for (const auto& k : remove) md.overrides.erase(k);
  STREAMCTL_ASSIGN_OR_RETURN(LogConfig config, LogConfig::from_overrides(md.overrides));
  if (md.overrides != current->overrides) {
    Status s = m.write_metadata(md);
    if (!s.ok()) return fail(std::move(s).error());
  }
  std::lock_guard<std::mutex> guard(m.mu);
  m.remember_locked(md);
  m.update_logs_locked(name, md.topic_id, config);
  return Status();
}

Result<LogConfig> LogManager::topic_config(const std::string& name) {
  STREAMCTL_ASSIGN_OR_RETURN(TopicMetadata md, describe_topic(name));
  auto config = LogConfig::from_overrides(md.overrides);
  if (!config.ok()) {
    return with_context("topic '" + name + "' has an unusable stored config (" + impl_->metadata_path(name) + ")",
                        std::move(config).error());
  }
  return config;
}

Result<Log*> LogManager::log(const std::string& topic, PartitionId partition) {
  STREAMCTL_TRY(validate_topic_name(topic));
  Impl& m = *impl_;
  std::lock_guard<std::mutex> guard(m.mu);
  STREAMCTL_ASSIGN_OR_RETURN(TopicMetadata md, m.current_metadata_locked(topic));
  if (partition < 0 || partition >= md.partitions) {
    return Error::not_found(
        "partition " + std::to_string(partition) + " of topic '" + topic + "' does not exist (the topic has " +
        std::to_string(md.partitions) +
        (md.partitions == 1 ? " partition: 0)" : " partitions: 0.." + std::to_string(md.partitions - 1) + ")"));
  }
  TopicPartition tp{topic, partition};
  auto it = m.logs.find(tp);
  if (it != m.logs.end()) {
    if (it->second.topic_id == md.topic_id) return it->second.log.get();
    m.retire_logs_locked(topic);
  }
  auto config = LogConfig::from_overrides(md.overrides);
  if (!config.ok()) {
    return with_context("topic '" + topic + "' has an unusable stored config (" + m.metadata_path(topic) + ")",
                        std::move(config).error());
  }
  LogOptions options;
  options.dir = m.partition_dir(topic, partition);
  options.tp = tp;
  options.config = *config;
  options.fs = m.fs;
  options.clock = m.clock;
  auto opened = Log::open(options);
  if (!opened.ok()) {
    return with_hint(with_context("cannot open partition " + tp.to_string(), std::move(opened).error()),
                     m.data_dir);
  }
  Log* raw = opened->get();
  m.logs[tp] = Impl::OpenLog{md.topic_id, std::move(opened).value()};
  return raw;
}

GroupStore& LogManager::groups() { return *impl_->groups; }

Status LogManager::run_retention() {
  Impl& m = *impl_;
  Status first;
  int failures = 0;
  auto note = [&](Status s) {
    if (s.ok()) return;
    if (failures++ == 0) first = std::move(s);
  };
  auto topics = list_topics();
  if (!topics.ok()) return std::move(topics).error();
  for (const auto& topic : *topics) {
    auto md = describe_topic(topic);
    if (!md.ok()) {
      if (md.error().code != ErrorCode::kNotFound) note(std::move(md).error());  // deleted meanwhile: fine
      continue;
    }
    auto config = LogConfig::from_overrides(md->overrides);
    if (!config.ok()) {
      note(with_context("retention of topic '" + topic + "'", std::move(config).error()));
      continue;
    }
    for (PartitionId p = 0; p < md->partitions; ++p) {
      const std::string what = "retention of " + topic + "-" + std::to_string(p);
      auto log = this->log(topic, p);
      if (!log.ok()) {
        if (log.error().code != ErrorCode::kNotFound) note(with_context(what, std::move(log).error()));
        continue;
      }
      if (config->deletes()) {
        auto removed = (*log)->apply_retention();
        if (!removed.ok()) note(with_context(what, std::move(removed).error()));
      }
      if (config->compacts()) {
        auto reclaimed = (*log)->compact();
        if (!reclaimed.ok())
          note(with_context("compaction of " + topic + "-" + std::to_string(p), std::move(reclaimed).error()));
      }
    }
  }
  Status swept = m.sweep_orphans();
  if (!swept.ok()) note(with_context("removing leftover partition directories", std::move(swept).error()));
  if (failures > 1) {
    Error e = std::move(first).error();
    e.message += " (and " + std::to_string(failures - 1) + " more failures)";
    return e;
  }
  return first;
}

Status LogManager::flush_all() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> guard(m.mu);
  Status first;
  for (auto& [tp, open] : m.logs) {
    Status s = open.log->flush();
    if (!s.ok() && first.ok()) first = with_context("flush " + tp.to_string(), std::move(s).error());
  }
  return first;
}

const std::string& LogManager::data_dir() const { return impl_->data_dir; }

std::string LogManager::partition_dir(const std::string& topic, PartitionId partition) const {
  return impl_->partition_dir(topic, partition);
}

FileSystem& LogManager::fs() const { return *impl_->fs; }

Clock& LogManager::clock() const { return *impl_->clock; }

}  // namespace streamctl::engine
