// engine_bench: the log engine's throughput and open time, each reported as a ratio against a baseline
// measured in the same run (these machines are shared and noisy: absolute numbers are only context).
//
//   append: N records of 100 bytes appended through Log::append (chunks of --batch records, page cache),
//           vs `cat` of the same bytes (N lines of 100 bytes + newline) into a file.
//   read:   the whole log read back through Log::read_into (one reused ReadResult, as a consumer or fetch loop
//           keeps it) and every record decoded, vs `cat <segment> >/dev/null`.
//   open:   Log::open of a large partition (--open-gb, default 5 GB) vs a small one (50 MB): ratio must stay < 2.
//
// Usage: engine_bench [--records N] [--batch N] [--dir DIR] [--open-gb G] [--skip-open]
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/crc32c.h"
#include "base/fs.h"
#include "engine/log.h"

using namespace streamctl;
using namespace streamctl::engine;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void die(const std::string& what, const Error& e) {
  std::fprintf(stderr, "engine_bench: %s: %s\n", what.c_str(), e.to_string().c_str());
  std::exit(1);
}

// CPU seconds (user + system) used so far by this process (who = RUSAGE_SELF) or by its waited-for children
// (RUSAGE_CHILDREN). On a shared, overloaded machine wall time mostly measures the scheduler; CPU time does not.
double cpu_s(int who) {
  rusage u{};
  getrusage(who, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double run_shell(const std::string& cmd) {
  double t0 = now_s();
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "engine_bench: command failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  return now_s() - t0;
}

std::unique_ptr<Log> open_log(const std::string& dir, int64_t segment_bytes) {
  LogOptions o;
  o.dir = dir;
  o.tp = {"bench", 0};
  o.config.segment_bytes = segment_bytes;
  o.config.max_message_bytes = 64 << 20;
  o.fs = posix_file_system();
  o.clock = system_clock();
  auto log = Log::open(o);
  if (!log.ok()) die("open " + dir, log.error());
  return std::move(log).value();
}

// Appends `bytes` worth of records of `value_size` to a fresh log in dir, then flushes.
void fill_log(const std::string& dir, uint64_t bytes, size_t value_size) {
  auto log = open_log(dir, 1LL << 30);
  std::vector<Record> records(64);
  std::string value(value_size, 'x');
  for (auto& r : records) {
    r.value = value;
    r.timestamp = Timestamp(1700000000000);
  }
  while (log->size_bytes() < bytes) {
    auto r = log->append(records, {});
    if (!r.ok()) die("fill", r.error());
  }
  auto s = log->flush();
  if (!s.ok()) die("flush", s.error());
}

double median_open_s(const std::string& dir, int runs) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    double t0 = now_s();
    auto log = open_log(dir, 1LL << 30);
    t.push_back(now_s() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t n_records = 1000000;
  size_t batch = 1000;
  double open_gb = 5;
  bool skip_open = false;
  std::string base = "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "engine_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--records") n_records = std::stoul(next());
    else if (a == "--batch") batch = std::stoul(next());
    else if (a == "--dir") base = next();
    else if (a == "--open-gb") open_gb = std::stod(next());
    else if (a == "--skip-open") skip_open = true;
    else {
      std::fprintf(stderr, "usage: engine_bench [--records N] [--batch N] [--dir DIR] [--open-gb G] [--skip-open]\n");
      return 2;
    }
  }
  char tmpl[4096];
  std::snprintf(tmpl, sizeof tmpl, "%s/engine-bench.XXXXXX", base.c_str());
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string dir = tmpl;
  std::printf("engine_bench: %zu records of 100 bytes, %zu per append, in %s (crc32c hardware: %s)\n",
              n_records, batch, dir.c_str(), crc32c_hardware() ? "yes" : "no");

  // The same payload for both sides: 100-byte values; cat gets them as lines (100 bytes + '\n').
  std::vector<std::string> values(n_records);
  {
    FILE* f = std::fopen((dir + "/lines.txt").c_str(), "w");
    for (size_t i = 0; i < n_records; ++i) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "%s %010zu", std::string(89, 'a' + char(i % 26)).c_str(), i);
      values[i].assign(buf, 100);
      std::fwrite(values[i].data(), 1, 100, f);
      std::fputc('\n', f);
    }
    std::fclose(f);
  }
  const double payload_mb = double(n_records) * 101 / 1e6;

  // Baseline: cat into a file (page cache), the best case for "bytes from a pipe into a file".
  run_shell("cat " + dir + "/lines.txt > " + dir + "/cat-warmup.txt");
  double cat_write_s = run_shell("cat " + dir + "/lines.txt > " + dir + "/cat-out.txt");

  // Append through the engine.
  std::string log_dir = dir + "/bench-0";
  double append_s, flush_s;
  {
    auto log = open_log(log_dir, 1LL << 30);
    std::vector<Record> chunk(batch);
    double t0 = now_s();
    for (size_t i = 0; i < n_records; i += batch) {
      size_t k = std::min(batch, n_records - i);
      for (size_t j = 0; j < k; ++j) {
        chunk[j].value = values[i + j];
        chunk[j].timestamp = Timestamp(1700000000000 + int64_t(i + j));
      }
      auto r = log->append(std::span<const Record>(chunk.data(), k), {});
      if (!r.ok()) die("append", r.error());
    }
    append_s = now_s() - t0;
    double t1 = now_s();
    auto s = log->flush();
    if (!s.ok()) die("flush", s.error());
    flush_s = now_s() - t1;
  }
  double append_ratio = cat_write_s / append_s;
  std::printf("append: %.0f records/s, %.1f MB/s (payload), cat > file %.1f MB/s -> ratio %.2f (target >= 0.50); "
              "flush %.3f s\n",
              n_records / append_s, payload_mb / append_s, payload_mb / cat_write_s, append_ratio, flush_s);

  // Read back through the engine, decoding every record.
  std::string seg;
  {
    auto log = open_log(log_dir, 1LL << 30);
    seg = log->segments().front().path;
    run_shell("cat " + seg + " > /dev/null");
    const double children0 = cpu_s(RUSAGE_CHILDREN);
    double cat_read_s = run_shell("cat " + seg + " > /dev/null");
    const double cat_read_cpu = cpu_s(RUSAGE_CHILDREN) - children0;  // cat and its shell
    uint64_t seg_bytes = log->size_bytes();
    // Pass 1: whole stored batches, as a Fetch serves them (CRC and framing checked by the iterator).
    double t0 = now_s();
    double cpu0 = cpu_s(RUSAGE_SELF);
    Offset next = log->log_start_offset();
    size_t batches = 0;
    uint64_t read_bytes = 0;
    ReadResult r;  // reused by every read: its buffer is allocated and faulted in once
    while (next < log->log_end_offset()) {
      if (auto s = log->read_into(next, 1 << 20, log->high_watermark(), true, r); !s.ok()) die("read", s.error());
      BatchIterator it(r.records);
      while (it.next()) ++batches;
      if (!it.status().ok()) die("read", it.status().error());
      read_bytes += r.records.size();
      next = r.next_offset;
    }
    double read_s = now_s() - t0;
    double read_cpu = cpu_s(RUSAGE_SELF) - cpu0;
    // Pass 2: the same, decoding every record (what a consumer printing records pays on top).
    t0 = now_s();
    cpu0 = cpu_s(RUSAGE_SELF);
    next = log->log_start_offset();
    size_t seen = 0;
    uint64_t checksum = 0;
    while (next < log->log_end_offset()) {
      if (auto s = log->read_into(next, 1 << 20, log->high_watermark(), true, r); !s.ok()) die("read", s.error());
      BatchIterator it(r.records);
      while (it.next()) {
        auto reader = RecordReader::open(it.batch());
        if (!reader.ok()) die("decode", reader.error());
        RecordView rec;
        for (;;) {
          auto more = reader->next(rec);
          if (!more.ok()) die("decode", more.error());
          if (!*more) break;
          checksum += rec.value->size();
          ++seen;
        }
      }
      next = r.next_offset;
    }
    double decode_s = now_s() - t0;
    double decode_cpu = cpu_s(RUSAGE_SELF) - cpu0;
    if (seen != n_records || checksum != n_records * 100 || read_bytes != seg_bytes) {
      std::fprintf(stderr, "engine_bench: read back %zu records (%llu bytes), expected %zu\n", seen,
                   (unsigned long long)checksum, n_records);
      return 1;
    }
    std::printf("read:   %zu batches, %.1f MB/s of stored bytes, cat segment > /dev/null %.1f MB/s -> ratio %.2f "
                "(target >= 0.50); CPU time %.1f ms vs cat %.1f ms -> cpu ratio %.2f\n",
                batches, seg_bytes / 1e6 / read_s, seg_bytes / 1e6 / cat_read_s, cat_read_s / read_s, read_cpu * 1e3,
                cat_read_cpu * 1e3, read_cpu > 0 ? cat_read_cpu / read_cpu : 0.0);
    std::printf("decode: %.0f records/s, %.1f MB/s (payload) reading and decoding every record -> ratio %.2f of cat; "
                "CPU time %.1f ms -> cpu ratio %.2f\n",
                n_records / decode_s, payload_mb / decode_s, cat_read_s / decode_s, decode_cpu * 1e3,
                decode_cpu > 0 ? cat_read_cpu / decode_cpu : 0.0);
  }

  if (!skip_open) {
    std::string big = dir + "/big-0", small = dir + "/small-0";
    std::printf("open:   filling %.1f GB and 50 MB partitions...\n", open_gb);
    std::fflush(stdout);
    fill_log(big, uint64_t(open_gb * 1e9), 16 << 10);
    fill_log(small, 50000000, 16 << 10);
    double t_big = median_open_s(big, 5), t_small = median_open_s(small, 5);
    std::printf("open:   %.1f GB partition %.2f ms, 50 MB partition %.2f ms -> ratio %.2f (target < 2)\n", open_gb,
                t_big * 1e3, t_small * 1e3, t_big / t_small);
  }
  run_shell("rm -rf " + dir);
  return 0;
}
