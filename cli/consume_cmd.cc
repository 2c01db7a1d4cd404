#include "cli/consume_cmd.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>

#include "cli/kafka_client.h"
#include "cli/remote_consume.h"
#include "engine/log.h"

namespace streamctl::cli {


Result<ConsumeOutput> make_consume_output(const ConsumeOptions& o, const GlobalOptions& g) {
  ConsumeOutput out;
  if (!g.json) {
    FormatOptions fo;
    fo.color = color_enabled(STDOUT_FILENO);
    fo.null_text = o.null_text;
    auto f = RecordFormatter::compile(o.format.empty() ? kDefaultFormat : std::string_view(o.format), fo);
    if (!f.ok()) return std::move(f).error();
    out.want_headers = f->uses_headers();
    out.formatter = std::make_unique<RecordFormatter>(std::move(f).value());
  } else if (!o.format.empty()) {
    return Error::invalid_argument("--format and --json are exclusive: JSON lines have a fixed shape");
  }
  if (!o.grep.empty() || !o.key_match.empty()) {
    out.filter = std::make_unique<RecordFilter>();
    auto st = out.filter->compile(o.grep, o.key_match, o.ignore_case, o.invert_match);
    if (!st.ok()) return st.error();
  } else if (o.invert_match || o.ignore_case) {
    return Error::invalid_argument("--ignore-case and --invert-match apply to --grep or --key-match; give one");
  }
  return out;
}

Result<std::vector<std::pair<PartitionId, engine::Log*>>> open_partitions(
    engine::LogManager& lm, const std::string& topic, const std::vector<int32_t>& selected) {
  auto md = lm.describe_topic(topic);
  if (!md.ok()) return std::move(md).error();
  std::vector<int32_t> parts = selected;
  if (parts.empty()) {
    for (int32_t p = 0; p < md->partitions; ++p) parts.push_back(p);
  }
  std::vector<std::pair<PartitionId, engine::Log*>> out;
  for (int32_t p : parts) {
    if (p < 0 || p >= md->partitions) {
      return Error::not_found("partition " + std::to_string(p) + " does not exist: topic '" + topic + "' has " +
                              std::to_string(md->partitions) + (md->partitions == 1 ? " partition" : " partitions") +
                              " (numbered from 0)");
    }
    bool dup = false;
    for (auto& [q, l] : out) dup = dup || q == p;
    if (dup) continue;
    auto log = lm.log(topic, p);
    if (!log.ok()) return std::move(log).error();
    out.emplace_back(p, *log);
  }
  return out;
}

int consume_exit_code(const ConsumeStats& stats) {
  if (stats.records_written > 0 || stats.output_closed) return to_int(ExitCode::kOk);
  return to_int(ExitCode::kNothingConsumed);
}

namespace {

// "consumed N records (X written) from 'T' in S s" on stderr: with -v, or on a terminal when stdout is not.
void print_consume_summary(const GlobalOptions& g, const std::string& topic, const ConsumeStats& stats,
                           uint64_t bytes_written, std::chrono::steady_clock::time_point start) {
  if (!(g.verbose() || (!g.quiet() && is_tty(STDERR_FILENO) && !is_tty(STDOUT_FILENO)))) return;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char buf[200];
  std::snprintf(buf, sizeof buf, "consumed %lld record%s (%s written) from '%s' in %.2f s",
                static_cast<long long>(stats.records_written), stats.records_written == 1 ? "" : "s",
                human_bytes(bytes_written).c_str(), topic.c_str(), secs);
  std::string line = buf;
  if (stats.records_read != stats.records_written) {
    line += "; " + std::to_string(stats.records_read - stats.records_written) + " filtered out";
  }
  info(g, line);
}

}  // namespace

int run_consume(const ConsumeOptions& o, const GlobalOptions& g) {
  if (o.count == 0 || o.count < -1) return report_usage_error("--count must be at least 1");
  const Timestamp now = system_clock()->now();
  auto spec = parse_offset_spec(o.offset, now);
  if (!spec.ok()) return report_error(spec.error());
  auto output = make_consume_output(o, g);
  if (!output.ok()) return report_error(output.error());

  tune_allocator_for_streaming();
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  if (backend->remote) {
    RemoteConsumeRequest req;
    req.topic = o.topic;
    req.partitions = o.partitions;
    req.spec = *spec;
    req.consumer.follow = o.follow;
    req.consumer.max_records = o.count;
    req.consumer.want_headers = output->want_headers;
    req.consumer.filter = output->filter.get();
    FdSink sink(STDOUT_FILENO, output->formatter.get());
    auto start = std::chrono::steady_clock::now();
    auto stats = run_remote_consume(*backend->remote, g, req, sink);
    if (!stats.ok()) {
      if (stats.error().code == ErrorCode::kNotFound && stats.error().message.find("partition") != 0) {
        return report_error(stats.error(), "list topics with: streamctl topic list");
      }
      return report_error(stats.error());
    }
    print_consume_summary(g, o.topic, *stats, sink.bytes_written(), start);
    return consume_exit_code(*stats);
  }
  auto lm = open_data_dir(g, /*create_if_missing=*/false);
  if (!lm.ok()) {
    if (lm.error().code == ErrorCode::kNotFound) {
      return report_error(Error::not_found("topic '" + o.topic + "' does not exist (" + lm.error().message + ")"),
                          "produce to it first: echo hello | streamctl produce " + o.topic);
    }
    return report_error(lm.error());
  }
  auto logs = open_partitions(**lm, o.topic, o.partitions);
  if (!logs.ok()) {
    if (logs.error().code == ErrorCode::kNotFound && logs.error().message.find("partition") != 0) {
      return report_error(logs.error(), "list topics with: streamctl topic list");
    }
    return report_error(logs.error());
  }

  std::vector<ConsumerPartition> parts;
  for (auto& [p, log] : *logs) {
    std::string note;
    auto range = resolve_offset_spec(*spec, bounds_of(*log), &note);
    if (!range.ok()) return report_error(range.error());
    if (!note.empty()) warn(g, "partition " + std::to_string(p) + ": " + note);
    ConsumerPartition cp;
    cp.partition = p;
    cp.log = log;
    cp.next = range->start;
    cp.end = range->end;
    // Exit at the end by default: the end is the high watermark when consumption starts.
    if (!o.follow && !cp.end) cp.end = log->high_watermark();
    parts.push_back(cp);
    debug(g, 1, "partition " + std::to_string(p) + ": from offset " + std::to_string(cp.next.value) +
                    (cp.end ? " to " + std::to_string(cp.end->value) + " (exclusive)" : " (following)"));
  }

  ConsumerOptions co;
  co.follow = o.follow;
  co.max_records = o.count;
  co.want_headers = output->want_headers;
  co.filter = output->filter.get();
  // A log reader wants the topic's records in time order, and -o -N / -n N to mean the topic's last / first
  // N: merge the partitions by timestamp unless --by-partition asks for partition order.
  co.merge_by_time = !o.by_partition;
  if (spec->start.kind == OffsetPosition::Kind::kFromEnd && !spec->is_range) co.tail_records = spec->start.value;
  Consumer consumer(o.topic, std::move(parts), co, &g);
  FdSink sink(STDOUT_FILENO, output->formatter.get());
  auto start = std::chrono::steady_clock::now();
  auto stats = consumer.run(sink);
  if (!stats.ok()) return report_error(stats.error());
  print_consume_summary(g, o.topic, *stats, sink.bytes_written(), start);
  return consume_exit_code(*stats);
}

void register_consume_command(CLI::App& app, CommandContext& ctx) {
  auto opts = std::make_shared<ConsumeOptions>();
  CLI::App* cmd = app.add_subcommand("consume", "read records of a topic to stdout (exit at the end, or follow)");
  cmd->add_option("topic", opts->topic, "topic to read")->required();
  auto* offset = cmd->add_option("-o,--offset", opts->offset,
                                 "where to start (and stop): beginning|end|N|+N|-N|@TIME, ranges A:B "
                                 "(default beginning)")
                     ->type_name("SPEC");
  cmd->add_option("-p,--partition", opts->partitions, "only this partition (repeatable; default all)")
      ->type_name("N")
      ->allow_extra_args(false);
  cmd->add_option("-n,--count", opts->count, "stop after N records")
      ->type_name("N")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            char* end = nullptr;
            long long n = std::strtoll(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || n < 1) return "must be a whole number of records, at least 1 (got '" + v + "')";
            return {};
          },
          "N>=1"));
  cmd->add_flag("-f,--follow", opts->follow, "wait for new records at the end (like tail -f); Ctrl-C stops");
  cmd->add_option("--format", opts->format, "output template, kcat tokens (default '%s\\n'; see below)")
      ->type_name("TEMPLATE");
  cmd->add_option("--grep", opts->grep, "only records whose value matches this extended regex")->type_name("REGEX");
  cmd->add_option("--key-match", opts->key_match, "only records whose whole key matches this extended regex")
      ->type_name("REGEX");
  cmd->add_flag("-i,--ignore-case", opts->ignore_case, "case-insensitive --grep/--key-match");
  cmd->add_flag("--invert-match", opts->invert_match, "only records that do NOT match");
  cmd->add_option("--null-text", opts->null_text, "what %k/%s print for a null key/value (default empty)")
      ->type_name("TEXT");
  cmd->add_flag("--by-partition", opts->by_partition,
                "read partition by partition instead of interleaving the partitions by timestamp");
  cmd->footer(std::string(R"(Offsets (-o):
)") + offset_grammar_help() + R"(
  Without --follow the run ends at the end offset seen at start; with a range, at B.
  Several partitions are merged by record timestamp (ties: lower partition first), so -o -N prints the
  topic's last N records and -n N its first N; --by-partition reads them partition after partition.

Format tokens (--format): %t topic  %p partition  %o offset  %k key  %s value  %K key size  %S value size
  %T timestamp (ms)  %d timestamp as ISO-8601 UTC  %h headers (k=v,...)  %% percent;  \n \t \r \0 \\ \xHH
With the global --json: one JSON object per record, the shape produce --json reads:
  {"topic":"t","partition":0,"offset":5,"timestamp":1714564800123,"key":"k","value":"v","headers":[...]}
  (null keys/values are null; bytes that are not UTF-8 appear as key_b64/value_b64, base64).

Exit: 0 when records were written, 5 when none was (nothing matched / empty range); SIGINT, SIGTERM and
a closed pipe (| head) stop cleanly.

Examples:
  streamctl consume orders -o beginning
  streamctl consume orders -o -10 -f                         # last 10 records, then follow
  streamctl consume orders -o @-1h --format '%d [%p:%o] %k %s\n'
  streamctl consume orders -o 100:200 -p 0                   # offsets 100..199 of partition 0
  streamctl consume app-logs -o @2024-05-01T00:00:00Z:@2024-05-02T00:00:00Z --grep 'ERROR|FATAL'
  streamctl consume orders --json | jq -r .value)");
  cmd->callback([&ctx, opts, offset] {
    opts->offset_given = offset->count() > 0;
    ctx.run = [&ctx, opts]() -> int {
      if (ctx.consume_takeover) {
        if (auto rc = ctx.consume_takeover(*opts, ctx.global)) return *rc;
      }
      return run_consume(*opts, ctx.global);
    };
  });
}

}  // namespace streamctl::cli
