#include "engine/file_names.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace streamctl::engine {

std::string_view segment_file_suffix(SegmentFileKind kind) {
  switch (kind) {
    case SegmentFileKind::kLog: return kLogSuffix;
    case SegmentFileKind::kOffsetIndex: return kOffsetIndexSuffix;
    case SegmentFileKind::kTimeIndex: return kTimeIndexSuffix;
  }
  return kLogSuffix;
}

std::string_view staging_suffix(StagingSuffix staging) {
  switch (staging) {
    case StagingSuffix::kNone: return "";
    case StagingSuffix::kCleaned: return kCleanedSuffix;
    case StagingSuffix::kSwap: return kSwapSuffix;
    case StagingSuffix::kDeleted: return kDeletedSuffix;
  }
  return "";
}

std::string offset_file_stem(Offset base) {
  STREAMCTL_CHECK(base.value >= 0, "negative base offset %lld", static_cast<long long>(base.value));
  std::string digits = std::to_string(base.value);
  return std::string(size_t(kOffsetDigits) - digits.size(), '0') + digits;
}

std::string segment_file_name(Offset base, SegmentFileKind kind, StagingSuffix staging) {
  std::string name = offset_file_stem(base);
  name += segment_file_suffix(kind);
  name += staging_suffix(staging);
  return name;
}

std::optional<SegmentFileName> parse_segment_file_name(std::string_view name) {
  if (name.size() <= size_t(kOffsetDigits) || name[kOffsetDigits] != '.') return std::nullopt;
  std::string_view stem = name.substr(0, kOffsetDigits);
  uint64_t value = 0;
  for (char c : stem) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + uint64_t(c - '0');
    if (value > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
  }
  SegmentFileName parsed;
  parsed.base_offset = Offset(int64_t(value));
  std::string_view rest = name.substr(kOffsetDigits);
  bool matched = false;
  for (SegmentFileKind kind : {SegmentFileKind::kLog, SegmentFileKind::kOffsetIndex, SegmentFileKind::kTimeIndex}) {
    std::string_view suffix = segment_file_suffix(kind);
    if (rest.substr(0, suffix.size()) == suffix) {
      // ".index" is a prefix of neither ".log" nor ".timeindex", so the first match is the only one.
      parsed.kind = kind;
      rest.remove_prefix(suffix.size());
      matched = true;
      break;
    }
  }
  if (!matched) return std::nullopt;
  if (rest.empty()) return parsed;
  for (StagingSuffix s : {StagingSuffix::kCleaned, StagingSuffix::kSwap, StagingSuffix::kDeleted}) {
    if (rest == staging_suffix(s)) {
      parsed.staging = s;
      return parsed;
    }
  }
  return std::nullopt;
}

std::string partition_dir_name(const TopicPartition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

Result<TopicPartition> parse_partition_dir_name(std::string_view name) {
  auto bad = [&](const char* why) {
    std::string message = "'";
    message.append(name);
    message.append("' is not a partition directory name (<topic>-<partition>): ");
    message.append(why);
    return Error::invalid_argument(std::move(message));
  };
  size_t dash = name.rfind('-');
  if (dash == std::string_view::npos) return bad("no '-'");
  if (dash == 0) return bad("the topic is empty");
  std::string_view digits = name.substr(dash + 1);
  if (digits.empty()) return bad("the partition number is missing");
  if (digits.size() > 1 && digits[0] == '0') return bad("the partition number has a leading zero");
  for (char c : digits) {
    if (c < '0' || c > '9') return bad("the partition number is not a non-negative decimal integer");
  }
  int32_t partition = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), partition);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return bad("the partition number does not fit an int32");
  return TopicPartition{std::string(name.substr(0, dash)), partition};
}

}  // namespace streamctl::engine
