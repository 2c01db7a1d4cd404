// `streamctl log dump|verify PATH...`: offline inspection of partition files, like kafka-dump-log.sh.
//
// PATH is a segment file (<base>.log), an index file (.index / .timeindex), a partition directory, a data
// directory (every partition in it), or a topic name (or "<topic>-<p>") looked up in the data directory.
// Files are read directly and never modified: no recovery runs, so what is shown is what is on disk.
// Output goes to stdout (text, or one JSON object per line with --json); errors to stderr.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/json_record.h"
#include "cli/log_inspect.h"
#include "cli/output_format.h"
#include "engine/file_names.h"

namespace streamctl::cli {


namespace {

using Json = nlohmann::ordered_json;

struct LogCommandOptions {
  std::vector<std::string> paths;
  bool records = false;
  bool skip_indexes = false;
};

enum class TargetKind { kSegment, kOffsetIndex, kTimeIndex };

struct Target {
  TargetKind kind = TargetKind::kSegment;
  std::string path;
  Offset base_offset;                          // from the file name (0 when the name is not a segment name)
  std::optional<TopicPartition> tp;    // from the directory name, when it is a partition directory
  bool first_in_partition = true;              // the first segment of its directory (continuity checks)
};

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string strip_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::optional<TopicPartition> partition_of_dir(const std::string& dir) {
  auto tp = engine::parse_partition_dir_name(base_name(strip_trailing_slashes(dir)));
  if (!tp.ok()) return std::nullopt;
  return tp.value();
}

// The segments of a partition directory, by base offset (staged .cleaned/.swap/.deleted files are skipped).
std::vector<Target> segments_of_dir(const std::string& dir, const std::vector<std::string>& names) {
  std::vector<Target> out;
  auto tp = partition_of_dir(dir);
  for (const auto& name : names) {
    auto parsed = engine::parse_segment_file_name(name);
    if (!parsed || parsed->kind != engine::SegmentFileKind::kLog ||
        parsed->staging != engine::StagingSuffix::kNone) {
      continue;
    }
    Target t;
    t.path = join_path(dir, name);
    t.base_offset = parsed->base_offset;
    t.tp = tp;
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const Target& a, const Target& b) { return a.base_offset < b.base_offset; });
  for (size_t i = 0; i < out.size(); ++i) out[i].first_in_partition = i == 0;
  return out;
}

// Partition directories directly under dir, ordered by topic then partition.
Result<std::vector<std::string>> partition_dirs_under(FileSystem& fs, const std::string& dir,
                                                      const std::string& only_topic) {
  STREAMCTL_ASSIGN_OR_RETURN(auto names, fs.list_dir(dir));
  std::vector<std::pair<TopicPartition, std::string>> found;
  for (const auto& name : names) {
    auto tp = engine::parse_partition_dir_name(name);
    if (!tp.ok()) continue;
    if (!only_topic.empty() && tp->topic != only_topic) continue;
    std::string path = join_path(dir, name);
    if (!fs.list_dir(path).ok()) continue;  // a file that happens to look like a partition name
    found.emplace_back(tp.value(), path);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [tp, path] : found) out.push_back(path);
  return out;
}

Result<std::vector<Target>> targets_of_partition_dirs(FileSystem& fs, const std::vector<std::string>& dirs) {
  std::vector<Target> out;
  for (const auto& dir : dirs) {
    STREAMCTL_ASSIGN_OR_RETURN(auto names, fs.list_dir(dir));
    auto segs = segments_of_dir(dir, names);
    out.insert(out.end(), segs.begin(), segs.end());
  }
  return out;
}

// Resolves one PATH argument (see the top of the file).
Result<std::vector<Target>> resolve_targets(FileSystem& fs, const std::string& data_dir,
                                            const std::string& arg_in) {
  const std::string arg = strip_trailing_slashes(arg_in);
  STREAMCTL_ASSIGN_OR_RETURN(bool exists, fs.exists(arg));
  if (exists) {
    auto names = fs.list_dir(arg);
    if (names.ok()) {
      auto segs = segments_of_dir(arg, names.value());
      if (!segs.empty() || partition_of_dir(arg)) return segs;
      // Not a partition directory: maybe a data directory holding partition directories.
      STREAMCTL_ASSIGN_OR_RETURN(auto dirs, partition_dirs_under(fs, arg, ""));
      if (dirs.empty()) {
        return Error::invalid_argument(arg + " is a directory with no segment files (<20 digits>.log) and no "
                                             "partition directories (<topic>-<partition>)");
      }
      return targets_of_partition_dirs(fs, dirs);
    }
    Target t;
    t.path = arg;
    std::string name = base_name(arg);
    auto parsed = engine::parse_segment_file_name(name);
    if (parsed) {
      t.base_offset = parsed->base_offset;
      t.kind = parsed->kind == engine::SegmentFileKind::kLog           ? TargetKind::kSegment
               : parsed->kind == engine::SegmentFileKind::kOffsetIndex ? TargetKind::kOffsetIndex
                                                                       : TargetKind::kTimeIndex;
    } else {
      auto ends_with = [&](const std::string& suffix) {
        return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      };
      if (ends_with(".timeindex")) {
        t.kind = TargetKind::kTimeIndex;
      } else if (ends_with(".index")) {
        t.kind = TargetKind::kOffsetIndex;
      } else {
        t.kind = TargetKind::kSegment;  // any other file is read as segment bytes
      }
    }
    t.tp = partition_of_dir(parent_path(arg));
    return std::vector<Target>{t};
  }
  // Not a path: a topic, or a "<topic>-<partition>" directory name, in the data directory.
  bool looks_like_name = arg.find('/') == std::string::npos && !arg.empty();
  if (looks_like_name) {
    STREAMCTL_ASSIGN_OR_RETURN(bool data_exists, fs.exists(data_dir));
    if (data_exists) {
      std::string as_partition = join_path(data_dir, arg);
      STREAMCTL_ASSIGN_OR_RETURN(bool partition_exists, fs.exists(as_partition));
      if (partition_exists && partition_of_dir(as_partition)) {
        return targets_of_partition_dirs(fs, {as_partition});
      }
      STREAMCTL_ASSIGN_OR_RETURN(auto dirs, partition_dirs_under(fs, data_dir, arg));
      if (!dirs.empty()) return targets_of_partition_dirs(fs, dirs);
    }
  }
  return Error::not_found("no file, directory or topic named '" + arg + "'" +
                          (looks_like_name ? " (topics are looked up in the data directory " + data_dir + ")"
                                           : std::string()));
}

// ---- output

// Buffers stdout and notices a closed pipe (SIGPIPE is ignored: writes fail with EPIPE).
class Out {
 public:
  ~Out() { (void)flush(); }
  std::string& buf() { return buf_; }
  // False once stdout is gone (e.g. `| head`): the caller stops quietly.
  bool maybe_flush() { return buf_.size() < (64u << 10) || flush(); }
  bool flush() {
    if (broken_) return false;
    if (!buf_.empty()) {
      if (std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size()) broken_ = true;
      buf_.clear();
    }
    if (std::fflush(stdout) != 0) broken_ = true;
    return !broken_;
  }
  bool broken() const { return broken_; }
  void line(const std::string& s) {
    buf_ += s;
    buf_ += '\n';
  }

 private:
  std::string buf_;
  bool broken_ = false;
};

const char* bool_text(bool b) { return b ? "true" : "false"; }

// Bytes as readable text on one line: printable bytes as they are, others as C escapes.
void append_escaped(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += char(c);
        }
    }
  }
}

int32_t last_sequence(const RecordBatchHeader& h) {
  if (h.base_sequence < 0) return -1;
  return int32_t((int64_t(h.base_sequence) + h.last_offset_delta) % (int64_t(INT32_MAX) + 1));
}

const char* timestamp_type_name(const RecordBatchHeader& h) {
  return h.timestamp_type() == TimestampType::kLogAppendTime ? "LogAppendTime" : "CreateTime";
}

void text_batch(std::string& out, const BatchReport& b) {
  const auto& h = b.header;
  out += "baseOffset: " + std::to_string(h.base_offset.value) + " lastOffset: " +
         std::to_string(h.last_offset().value) + " count: " + std::to_string(h.record_count) +
         " baseSequence: " + std::to_string(h.base_sequence) + " lastSequence: " + std::to_string(last_sequence(h)) +
         " producerId: " + std::to_string(h.producer_id) + " producerEpoch: " + std::to_string(h.producer_epoch) +
         " partitionLeaderEpoch: " + std::to_string(h.leader_epoch) + " isTransactional: " +
         bool_text(h.is_transactional()) + " isControl: " + bool_text(h.is_control()) +
         " position: " + std::to_string(b.position) + " " + timestamp_type_name(h) + ": " +
         std::to_string(h.max_timestamp.value) + " baseTimestamp: " + std::to_string(h.base_timestamp.value) +
         " size: " + std::to_string(h.size_bytes()) + " magic: " + std::to_string(int(h.magic)) +
         " compresscodec: " + (int(h.compression()) <= 4 ? compression_name(h.compression()) : "unknown") +
         " crc: " + std::to_string(h.crc) + " isvalid: " + bool_text(b.valid) + "\n";
  if (!b.valid) out += "| error: " + b.error + "\n";
  for (const auto& r : b.records) {
    out += "| offset: " + std::to_string(r.offset.value) + " " + timestamp_type_name(h) + ": " +
           std::to_string(r.timestamp.value) + " keySize: " + std::to_string(r.key ? int64_t(r.key->size()) : -1) +
           " valueSize: " + std::to_string(r.value ? int64_t(r.value->size()) : -1) + " sequence: " +
           std::to_string(h.base_sequence < 0 ? -1 : int64_t(h.base_sequence) + (r.offset - h.base_offset)) +
           " headerKeys: [";
    for (size_t i = 0; i < r.headers.size(); ++i) {
      if (i > 0) out += ",";
      append_escaped(out, r.headers[i].key);
    }
    out += "]";
    if (r.key) {
      out += " key: ";
      append_escaped(out, *r.key);
    }
    out += " payload: ";
    if (r.value) {
      append_escaped(out, *r.value);
    } else {
      out += "null";
    }
    out += "\n";
  }
}

std::string record_json(const Record& r, const std::optional<TopicPartition>& tp) {
  std::vector<HeaderView> headers;
  headers.reserve(r.headers.size());
  for (const auto& h : r.headers) {
    headers.push_back(HeaderView{h.key, h.value ? std::optional<std::string_view>(*h.value) : std::nullopt});
  }
  RecordView v;
  v.topic = tp ? std::string_view(tp->topic) : std::string_view();
  v.partition = tp ? tp->partition : -1;
  v.offset = r.offset.value;
  v.timestamp = r.timestamp.value;
  if (r.key) v.key = std::string_view(*r.key);
  if (r.value) v.value = std::string_view(*r.value);
  v.headers = headers;
  std::string line;
  append_json_record(v, line);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

Json optional_offset(const std::optional<Offset>& o) {
  return o ? Json(o->value) : Json(nullptr);
}

std::string json_batch(const Target& t, const BatchReport& b) {
  const auto& h = b.header;
  Json j = {
      {"type", "batch"},
      {"file", t.path},
      {"position", b.position},
      {"base_offset", h.base_offset.value},
      {"last_offset", h.last_offset().value},
      {"count", h.record_count},
      {"size", h.size_bytes()},
      {"magic", h.magic},
      {"crc", h.crc},
      {"valid", b.valid},
      {"error", b.valid ? Json(nullptr) : Json(b.error)},
      {"compression", int(h.compression()) <= 4 ? compression_name(h.compression()) : "unknown"},
      {"timestamp_type", timestamp_type_name(h)},
      {"base_timestamp", h.base_timestamp.value},
      {"max_timestamp", h.max_timestamp.value},
      {"leader_epoch", h.leader_epoch},
      {"producer_id", h.producer_id},
      {"producer_epoch", h.producer_epoch},
      {"base_sequence", h.base_sequence},
      {"transactional", h.is_transactional()},
      {"control", h.is_control()},
  };
  std::string out = j.dump();
  if (!b.records.empty()) {
    // Records use the lossless shape of `consume --json` (cli/json_record.h).
    out.pop_back();
    out += ",\"records\":[";
    for (size_t i = 0; i < b.records.size(); ++i) {
      if (i > 0) out += ",";
      out += record_json(b.records[i], t.tp);
    }
    out += "]}";
  }
  return out;
}

Json json_segment_summary(const SegmentSummary& s) {
  return {{"type", "segment"},
          {"file", s.path},
          {"ok", s.clean()},
          {"batches", s.batches},
          {"invalid_batches", s.invalid_batches},
          {"records", s.records},
          {"first_offset", optional_offset(s.first_offset)},
          {"last_offset", optional_offset(s.last_offset)},
          {"max_timestamp", s.max_timestamp.value},
          {"bytes", s.file_bytes},
          {"valid_bytes", s.valid_bytes},
          {"torn_tail", s.truncated_tail},
          {"zero_tail_bytes", s.zero_tail_bytes},
          {"error", s.clean() ? Json(nullptr) : Json(s.first_error)},
          {"error_position", s.first_error_position ? Json(*s.first_error_position)
                                                    : Json(nullptr)}};
}

Json json_index_summary(const IndexReport& r) {
  return {{"type", r.kind == IndexKind::kOffset ? "offset_index" : "time_index"},
          {"file", r.path},
          {"exists", r.exists},
          {"ok", r.clean()},
          {"entries", r.entries.size()},
          {"bytes", r.file_bytes},
          {"error", r.clean() ? Json(nullptr) : Json(r.first_error)}};
}

std::string text_segment_summary(const SegmentSummary& s) {
  std::string out = std::to_string(s.batches) + " batches";
  if (s.invalid_batches > 0) out += " (" + std::to_string(s.invalid_batches) + " invalid)";
  out += ", " + std::to_string(s.records) + " records";
  if (s.first_offset) {
    out += ", offsets " + std::to_string(s.first_offset->value) + ".." + std::to_string(s.last_offset->value);
  }
  out += ", " + std::to_string(s.valid_bytes) + " of " + std::to_string(s.file_bytes) + " bytes valid";
  if (s.zero_tail_bytes > 0) out += " (then " + std::to_string(s.zero_tail_bytes) + " bytes of preallocated zeros)";
  return out;
}

std::string index_file_path(const Target& t, TargetKind kind) {
  const std::string dir = parent_path(t.path);
  return join_path(dir, kind == TargetKind::kOffsetIndex ? engine::offset_index_file_name(t.base_offset)
                                                                 : engine::time_index_file_name(t.base_offset));
}

// ---- dump

int dump_index(const GlobalOptions& g, FileSystem& fs, const Target& t, Out& out) {
  IndexKind kind = t.kind == TargetKind::kOffsetIndex ? IndexKind::kOffset : IndexKind::kTime;
  auto r = read_index(fs, t.path, kind, t.base_offset);
  if (!r.ok()) return report_error(r.error());
  if (!g.json) out.line("Dumping " + t.path);
  for (const auto& e : r->entries) {
    if (g.json) {
      Json j = {{"type", "index_entry"}, {"file", t.path}, {"offset", e.offset.value}};
      if (kind == IndexKind::kOffset) {
        j["position"] = e.position;
      } else {
        j["timestamp"] = e.timestamp.value;
      }
      out.line(j.dump());
    } else if (kind == IndexKind::kOffset) {
      out.line("offset: " + std::to_string(e.offset.value) + " position: " + std::to_string(e.position));
    } else {
      out.line("timestamp: " + std::to_string(e.timestamp.value) + " offset: " + std::to_string(e.offset.value));
    }
    if (!out.maybe_flush()) return to_int(ExitCode::kOk);
  }
  if (g.json) {
    out.line(json_index_summary(*r).dump());
  } else {
    out.line("Summary: " + std::to_string(r->entries.size()) + " entries" +
             (r->clean() ? std::string() : "; inconsistent: " + r->first_error));
  }
  return to_int(ExitCode::kOk);
}

int run_dump(const GlobalOptions& g, const LogCommandOptions& o) {
  FileSystem& fs = *posix_file_system();
  const std::string data_dir = resolve_data_dir(g);
  std::vector<Target> targets;
  for (const auto& p : o.paths) {
    auto t = resolve_targets(fs, data_dir, p);
    if (!t.ok()) return report_error(t.error());
    targets.insert(targets.end(), t->begin(), t->end());
  }
  Out out;
  bool any_invalid = false;
  for (const auto& t : targets) {
    if (stop_requested()) return to_int(ExitCode::kInterrupted);
    if (t.kind != TargetKind::kSegment) {
      int rc = dump_index(g, fs, t, out);
      if (rc != 0) return rc;
      continue;
    }
    if (!g.json) {
      out.line("Dumping " + t.path);
      out.line("Starting offset: " + std::to_string(t.base_offset.value));
    }
    ScanOptions so;
    so.decode_records = o.records;
    auto summary = scan_segment(fs, t.path, so, [&](const BatchReport& b) {
      if (out.broken() || stop_requested()) return;
      if (g.json) {
        out.line(json_batch(t, b));
      } else {
        text_batch(out.buf(), b);
      }
      out.maybe_flush();
    });
    if (out.broken()) return to_int(ExitCode::kOk);
    if (!summary.ok()) return report_error(summary.error());
    if (stop_requested()) return to_int(ExitCode::kInterrupted);
    const SegmentSummary& s = summary.value();
    if (g.json) {
      out.line(json_segment_summary(s).dump());
    } else {
      out.line("Summary: " + text_segment_summary(s));
      if (!s.clean()) out.line("First problem: " + s.first_error);
    }
    any_invalid = any_invalid || !s.clean();
    if (!out.maybe_flush()) return to_int(ExitCode::kOk);
  }
  out.flush();
  if (any_invalid) {
    warn(g, "some batches are invalid or torn (see 'isvalid: false' above); check with: streamctl log verify PATH");
  }
  return to_int(ExitCode::kOk);
}

// ---- verify

int run_verify(const GlobalOptions& g, const LogCommandOptions& o) {
  FileSystem& fs = *posix_file_system();
  const std::string data_dir = resolve_data_dir(g);
  std::vector<Target> targets;
  for (const auto& p : o.paths) {
    auto t = resolve_targets(fs, data_dir, p);
    if (!t.ok()) return report_error(t.error());
    targets.insert(targets.end(), t->begin(), t->end());
  }
  Out out;
  int segments = 0;
  int64_t records = 0;
  int index_problems = 0;
  // One past the previous segment's last offset in the same partition; -1 before the first segment.
  int64_t previous_next = -1;
  auto emit = [&](const Json& j, const std::string& text) {
    out.line(g.json ? j.dump() : text);
    out.maybe_flush();
  };
  auto check_index_file = [&](IndexReport& r, const std::string& label) {
    if (!r.exists) {
      if (!g.json) debug(g, 1, label + " " + r.path + " is missing (the log rebuilds it when opened)");
      return;
    }
    if (!r.clean()) ++index_problems;
    emit(json_index_summary(r), std::string(r.clean() ? "ok    " : "BAD   ") + r.path + ": " +
                                    std::to_string(r.entries.size()) + " entries" +
                                    (r.clean() ? std::string() : "; " + r.first_error));
  };

  for (const auto& t : targets) {
    if (stop_requested()) return to_int(ExitCode::kInterrupted);
    if (t.kind != TargetKind::kSegment) {
      IndexKind kind = t.kind == TargetKind::kOffsetIndex ? IndexKind::kOffset : IndexKind::kTime;
      auto r = read_index(fs, t.path, kind, t.base_offset);
      if (!r.ok()) return report_error(r.error());
      check_index_file(*r, "index");
      continue;
    }
    if (t.first_in_partition) previous_next = -1;
    // Indexes first: the log is appended before its index, so a live producer cannot make them disagree.
    std::optional<IndexReport> oi, ti;
    ScanOptions so;
    so.stop_at_first_error = true;
    so.check_records = true;
    if (!o.skip_indexes && t.tp) {
      auto a = read_index(fs, index_file_path(t, TargetKind::kOffsetIndex), IndexKind::kOffset, t.base_offset);
      if (!a.ok()) return report_error(a.error());
      auto b = read_index(fs, index_file_path(t, TargetKind::kTimeIndex), IndexKind::kTime, t.base_offset);
      if (!b.ok()) return report_error(b.error());
      oi = std::move(a).value();
      ti = std::move(b).value();
      if (oi->exists) so.offset_index = &*oi;
      if (ti->exists) so.time_index = &*ti;
    }
    auto summary = scan_segment(fs, t.path, so, nullptr);
    if (!summary.ok()) return report_error(summary.error());
    const SegmentSummary& s = summary.value();
    ++segments;
    records += s.records;
    std::string problem = s.first_error;
    if (problem.empty() && previous_next >= 0 && t.base_offset.value < previous_next) {
      problem = "segment base offset " + std::to_string(t.base_offset.value) +
                " overlaps the previous segment (which ends at offset " + std::to_string(previous_next - 1) + ")";
    }
    Json j = json_segment_summary(s);
    if (!problem.empty()) {
      j["ok"] = false;
      j["error"] = problem;
    }
    emit(j, std::string(problem.empty() ? "ok    " : "BAD   ") + t.path + ": " +
                (problem.empty() ? text_segment_summary(s) : problem));
    if (!problem.empty()) {
      out.flush();
      // A file that is not a segment at all gets no advice about truncation (problem says what it is).
      if (problem.find(kNotASegmentHint) != std::string::npos) {
        return report_error(Error::corruption(t.path + ": " + problem));
      }
      return report_error(Error::corruption(t.path + ": " + problem),
                          "the log truncates a torn or corrupt tail when it is next opened (losing the records "
                          "from there on); copy the file first if you need to investigate");
    }
    if (s.last_offset) previous_next = s.last_offset->value + 1;
    if (oi) check_index_file(*oi, "offset index");
    if (ti) check_index_file(*ti, "time index");
    if (out.broken()) return to_int(ExitCode::kOk);
  }
  if (!g.json) {
    out.line("verified " + std::to_string(segments) + " segment(s), " + std::to_string(records) + " records: " +
             (index_problems == 0 ? "OK" : std::to_string(index_problems) + " inconsistent index file(s)"));
  }
  out.flush();
  if (index_problems > 0) {
    return report_error(Error::corruption(std::to_string(index_problems) +
                                          " index file(s) disagree with their segments (data is intact)"),
                        "indexes are derived data: the log rebuilds an inconsistent index when it opens it");
  }
  return to_int(ExitCode::kOk);
}

}  // namespace

void register_log_command(CLI::App& app, CommandContext& ctx) {
  CLI::App* log = app.add_subcommand("log", "inspect partition files offline: dump and verify segments (like kafka-dump-log.sh)");
  log->require_subcommand(1);
  log->footer(
      "PATH is a segment (.log), an index (.index/.timeindex), a partition directory, a data directory,\n"
      "or a topic (or TOPIC-PARTITION) in the data directory. Files are only read, never repaired.\n\n"
      "Examples:\n"
      "  streamctl log dump app-logs-0\n"
      "  streamctl log verify app-logs\n"
      "  streamctl log dump --records ~/.local/share/streamctl/app-logs-0/00000000000000000000.log");

  auto opts = std::make_shared<LogCommandOptions>();

  CLI::App* dump = log->add_subcommand(
      "dump", "print every batch of segment files: offsets, count, size, position, timestamps, compression, CRC "
              "status, leader epoch, producer id (and the records with --records)");
  dump->add_option("PATH", opts->paths, "Segment/index file, partition or data directory, or topic")
      ->required();
  dump->add_flag("-r,--records", opts->records, "Also print each record (offset, timestamp, key, value, headers)");
  dump->footer(
      "Output: one line per batch in kafka-dump-log's words (baseOffset, lastOffset, count, position,\n"
      "CreateTime, size, compresscodec, crc, isvalid, ...), then a summary per file. With --json, one\n"
      "object per batch ({\"type\":\"batch\",...}, records in consume --json's shape) and per file\n"
      "({\"type\":\"segment\",...}). A batch with a bad CRC is shown (isvalid: false) and skipped; a broken\n"
      "length stops the file. Exit status 0 unless a file cannot be read.\n\n"
      "Examples:\n"
      "  streamctl log dump app-logs-0                      # every segment of partition 0\n"
      "  streamctl log dump --records app-logs-0 | less\n"
      "  streamctl --json log dump app-logs | jq 'select(.type==\"batch\") | .size'\n"
      "  streamctl log dump /data/app-logs-0/00000000000000000000.index");
  dump->callback([&ctx, opts] { ctx.run = [&ctx, opts] { return run_dump(ctx.global, *opts); }; });

  CLI::App* verify = log->add_subcommand(
      "verify", "check segment files batch by batch (length, magic, CRC, offsets, records decode) and their indexes; exit 1 at "
                "the first bad batch, naming the file and byte position");
  verify->add_option("PATH", opts->paths, "Segment/index file, partition or data directory, or topic")
      ->required();
  verify->add_flag("--skip-indexes", opts->skip_indexes, "Do not check .index/.timeindex files");
  verify->footer(
      "Prints one line per file (ok/BAD). Stops at the first bad batch or torn tail: exit status 1 and\n"
      "'streamctl: error: FILE: at byte position N: ...'. Inconsistent indexes (derived data, rebuilt by\n"
      "the log) are reported, checking goes on, and the exit status is 1. Missing path/topic: 3.\n\n"
      "Examples:\n"
      "  streamctl log verify app-logs                      # every partition of a topic\n"
      "  streamctl log verify ~/.local/share/streamctl      # the whole data directory\n"
      "  streamctl --json log verify app-logs-0 | jq 'select(.ok|not)'");
  verify->callback([&ctx, opts] { ctx.run = [&ctx, opts] { return run_verify(ctx.global, *opts); }; });
}

}  // namespace streamctl::cli
