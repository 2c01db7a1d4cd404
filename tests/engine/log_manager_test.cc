#include "engine/log_manager.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "engine/group_store.h"
#include "base/fault_fs.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace streamctl::engine;
using streamctl::FaultInjectionFileSystem;
using streamctl::FsOp;
using streamctl::test::ManualClock;
using streamctl::MemFileSystem;
using streamctl::test::TempDir;

namespace {

const std::string kData = "/data";

std::unique_ptr<LogManager> open_ok(FileSystem* fs, Clock* clock, const std::string& dir = kData) {
  LogManagerOptions options;
  options.data_dir = dir;
  options.fs = fs;
  options.clock = clock;
  auto m = LogManager::open(options);
  REQUIRE_MESSAGE(m.ok(), m.error().to_string());
  return std::move(m).value();
}

TopicMetadata create_ok(LogManager& m, const std::string& name, int32_t partitions,
                        const std::map<std::string, std::string>& overrides = {}) {
  auto md = m.create_topic(name, partitions, overrides);
  REQUIRE_MESSAGE(md.ok(), md.error().to_string());
  return *md;
}

std::vector<std::string> topics_ok(LogManager& m) {
  auto t = m.list_topics();
  REQUIRE_MESSAGE(t.ok(), t.error().to_string());
  return *t;
}

Log* log_ok(LogManager& m, const std::string& topic, PartitionId p) {
  auto l = m.log(topic, p);
  REQUIRE_MESSAGE(l.ok(), l.error().to_string());
  return *l;
}

std::string error_of(const Status& s) {
  REQUIRE_FALSE(s.ok());
  return s.error().message;
}

bool exists(FileSystem& fs, const std::string& path) {
  auto e = fs.exists(path);
  REQUIRE(e.ok());
  return *e;
}

// Data directories that look like partitions of `topic`.
std::set<std::string> partition_dirs(FileSystem& fs, const std::string& topic) {
  std::set<std::string> out;
  auto names = fs.list_dir(kData);
  if (!names.ok()) return out;
  for (const auto& n : *names) {
    if (n.rfind(topic + "-", 0) == 0 && n.find_first_not_of("0123456789", topic.size() + 1) == std::string::npos) {
      out.insert(n);
    }
  }
  return out;
}

// A data directory on an in-memory file system behind a fault injector.
struct Fixture {
  Fixture() : fault(&mem), manager(open_ok(&fault, &clock)) {}
  MemFileSystem mem;
  FaultInjectionFileSystem fault;
  ManualClock clock;
  std::unique_ptr<LogManager> manager;
};

}  // namespace

TEST_CASE("TopicNamesFollowKafkasRules") {
  auto rejected = [](const std::string& name) {
    Status s = LogManager::validate_topic_name(name);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kInvalidArgument);
    return s.error().message;
  };
  CHECK(rejected("") == "topic name must not be empty");
  CHECK(rejected(".") == "topic name '.' is not allowed ('.' and '..' are reserved)");
  CHECK(rejected("..") == "topic name '..' is not allowed ('.' and '..' are reserved)");
  CHECK(rejected(std::string(250, 'a')).find("is 250 characters long; the limit is 249") != std::string::npos);
  CHECK(LogManager::validate_topic_name(std::string(249, 'a')).ok());
  CHECK(rejected("my topic") ==
        "topic name 'my topic' contains ' ' at position 3; only ASCII letters, digits, '.', '_' and '-' are "
        "allowed");
  CHECK(rejected("a/b").find("contains '/' at position 2") != std::string::npos);
  CHECK(rejected("caf\xc3\xa9").find("contains 0xc3 at position 4") != std::string::npos);
  CHECK(rejected("a:b").find("':'") != std::string::npos);
  CHECK(LogManager::validate_topic_name("Orders.v1_eu-west-2").ok());
  CHECK(LogManager::validate_topic_name("...").ok());  // Kafka allows it; only "." and ".." are reserved
}

TEST_CASE("InvalidTopicNamesAreRejectedByEveryOperation") {
  Fixture f;
  CHECK(f.manager->create_topic("a b", 1, {}).error().code == ErrorCode::kInvalidArgument);
  CHECK(f.manager->describe_topic("../etc").error().code == ErrorCode::kInvalidArgument);
  CHECK(f.manager->delete_topic("..").error().code == ErrorCode::kInvalidArgument);
  CHECK(f.manager->log("x/y", 0).error().code == ErrorCode::kInvalidArgument);
  CHECK(topics_ok(*f.manager).empty());
}

TEST_CASE("TopicIdsLookLikeKafkas") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string id = LogManager::new_topic_id();
    CHECK(id.size() == 22);
    CHECK(id.front() != '-');
    CHECK(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    CHECK(seen.insert(id).second);
  }
}

TEST_CASE("ATopicCanBeCreatedListedDescribedAndDeleted") {
  Fixture f;
  TopicMetadata md = create_ok(*f.manager, "orders", 3, {{"retention.ms", "3600000"}});
  CHECK(md.name == "orders");
  CHECK(md.partitions == 3);
  CHECK(md.topic_id.size() == 22);
  CHECK(md.created_ms == f.clock.now().value);
  CHECK(md.overrides == std::map<std::string, std::string>{{"retention.ms", "3600000"}});
  CHECK(topics_ok(*f.manager) == std::vector<std::string>{"orders"});

  auto described = f.manager->describe_topic("orders");
  REQUIRE(described.ok());
  CHECK(described->topic_id == md.topic_id);
  CHECK(described->partitions == 3);
  CHECK(described->overrides == md.overrides);
  CHECK(f.manager->topic_config("orders")->retention_ms == 3600000);

  CHECK(partition_dirs(f.mem, "orders") == std::set<std::string>{"orders-0", "orders-1", "orders-2"});
  auto marker = read_file(f.mem, kData + "/orders-1/partition.metadata");
  REQUIRE(marker.ok());
  CHECK(as_string_view(*marker) == "version: 0\ntopic_id: " + md.topic_id + "\n");
  auto meta = read_file(f.mem, kData + "/__meta/topics/orders.json");
  REQUIRE(meta.ok());
  CHECK(as_string_view(*meta).find("\"retention.ms\": \"3600000\"") != std::string::npos);

  REQUIRE(f.manager->delete_topic("orders").ok());
  CHECK(topics_ok(*f.manager).empty());
  CHECK(partition_dirs(f.mem, "orders").empty());
  auto gone = f.manager->describe_topic("orders");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == ErrorCode::kNotFound);
  CHECK(gone.error().message == "topic 'orders' does not exist");
  CHECK(f.manager->delete_topic("orders").error().code == ErrorCode::kNotFound);
}

TEST_CASE("CreatingAnExistingTopicFailsWithAlreadyExists") {
  Fixture f;
  TopicMetadata md = create_ok(*f.manager, "t", 2);
  auto again = f.manager->create_topic("t", 5, {});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kAlreadyExists);
  CHECK(again.error().message == "topic 't' already exists (2 partitions, id " + md.topic_id + ")");
  CHECK(f.manager->describe_topic("t")->topic_id == md.topic_id);
}

TEST_CASE("TopicsThatDifferOnlyInDotVersusUnderscoreCollide") {
  Fixture f;
  create_ok(*f.manager, "metrics.cpu", 1);
  auto clash = f.manager->create_topic("metrics_cpu", 1, {});
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.error().code == ErrorCode::kInvalidArgument);
  CHECK(clash.error().message.find("topic 'metrics_cpu' collides with existing topic 'metrics.cpu'") == 0);
  CHECK(topics_ok(*f.manager) == std::vector<std::string>{"metrics.cpu"});
  create_ok(*f.manager, "metrics-cpu", 1);  // '-' is not part of the rule
}

TEST_CASE("PartitionCountsOutsideOneToTheLimitAreRejected") {
  Fixture f;
  for (int32_t n : {0, -1, LogManager::kMaxPartitions + 1}) {
    auto r = f.manager->create_topic("t", n, {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    CHECK(r.error().message.find("the count must be from 1 to 100000") != std::string::npos);
  }
  CHECK(topics_ok(*f.manager).empty());
}

TEST_CASE("InvalidOrUnknownConfigsAreRejectedBeforeAnythingIsWritten") {
  Fixture f;
  auto bad = f.manager->create_topic("t", 1, {{"retention.ms", "abc"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message ==
        "invalid value 'abc' for config 'retention.ms': expected an integer number of milliseconds (-1 for "
        "unlimited)");
  auto unknown = f.manager->create_topic("t", 1, {{"retention.msx", "1"}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message == "unknown topic config 'retention.msx' (did you mean 'retention.ms'?)");
  CHECK(f.manager->create_topic("t", 1, {{"segment.bytes", "13"}}).error().code == ErrorCode::kInvalidArgument);
  CHECK(topics_ok(*f.manager).empty());
  CHECK(partition_dirs(f.mem, "t").empty());
}

TEST_CASE("PartitionsCanBeAddedButNeverRemoved") {
  Fixture f;
  TopicMetadata md = create_ok(*f.manager, "t", 2);
  REQUIRE(f.manager->add_partitions("t", 5).ok());
  auto after = f.manager->describe_topic("t");
  REQUIRE(after.ok());
  CHECK(after->partitions == 5);
  CHECK(after->topic_id == md.topic_id);
  CHECK(partition_dirs(f.mem, "t").size() == 5);
  CHECK(log_ok(*f.manager, "t", 4) != nullptr);
  CHECK(error_of(f.manager->add_partitions("t", 3)) ==
        "topic 't' already has 5 partitions; the count can only grow (asked for 3)");
  CHECK(f.manager->add_partitions("t", 5).error().code == ErrorCode::kInvalidArgument);
  CHECK(f.manager->add_partitions("missing", 5).error().code == ErrorCode::kNotFound);
}

TEST_CASE("ConfigsCanBeSetAndRemovedAndOpenLogsFollow") {
  Fixture f;
  create_ok(*f.manager, "t", 1, {{"retention.ms", "1000"}, {"segment.bytes", "4096"}});
  Log* log = log_ok(*f.manager, "t", 0);
  CHECK(log->config().retention_ms == 1000);
  REQUIRE(
      f.manager->alter_configs("t", {{"retention.ms", "5000"}, {"cleanup.policy", "compact"}}, {"segment.bytes"})
          .ok());
  auto md = f.manager->describe_topic("t");
  REQUIRE(md.ok());
  CHECK(md->overrides ==
        std::map<std::string, std::string>{{"cleanup.policy", "compact"}, {"retention.ms", "5000"}});
  CHECK(log->config().retention_ms == 5000);
  CHECK(log->config().segment_bytes == LogConfig().segment_bytes);
  CHECK(log->config().cleanup_policy == CleanupPolicy::kCompact);
  CHECK(f.manager->topic_config("t")->retention_ms == 5000);
  // Removing what is not overridden is a no-op.
  CHECK(f.manager->alter_configs("t", {}, {"flush.ms"}).ok());

  SUBCASE("AnInvalidValueChangesNothing") {
    CHECK(error_of(f.manager->alter_configs("t", {{"retention.ms", "soon"}}, {})) ==
          "invalid value 'soon' for config 'retention.ms': expected an integer number of milliseconds (-1 for "
          "unlimited)");
  }
  SUBCASE("AnUnknownNameToSetChangesNothing") {
    CHECK(error_of(f.manager->alter_configs("t", {{"retention.msx", "1"}}, {})) ==
          "unknown topic config 'retention.msx' (did you mean 'retention.ms'?)");
  }
  SUBCASE("AnUnknownNameToRemoveChangesNothing") {
    CHECK(error_of(f.manager->alter_configs("t", {}, {"retention.msx"})) ==
          "unknown topic config 'retention.msx' (did you mean 'retention.ms'?)");
  }
  SUBCASE("SettingAndRemovingTheSameNameIsRejected") {
    CHECK(error_of(f.manager->alter_configs("t", {{"retention.ms", "1"}}, {"retention.ms"}))
              .find("both set and removed") != std::string::npos);
  }
  CHECK(f.manager->describe_topic("t")->overrides.at("retention.ms") == "5000");
  CHECK(log->config().retention_ms == 5000);
  CHECK(f.manager->alter_configs("missing", {{"retention.ms", "1"}}, {}).error().code == ErrorCode::kNotFound);
}

TEST_CASE("TopicsPersistAcrossReopen") {
  MemFileSystem mem;
  ManualClock clock;
  TopicMetadata md;
  {
    auto m = open_ok(&mem, &clock);
    md = create_ok(*m, "orders", 4, {{"cleanup.policy", "compact,delete"}, {"max.message.bytes", "2048"}});
    create_ok(*m, "audit", 1);
  }
  auto m = open_ok(&mem, &clock);
  CHECK(topics_ok(*m) == std::vector<std::string>{"audit", "orders"});
  auto again = m->describe_topic("orders");
  REQUIRE(again.ok());
  CHECK(again->topic_id == md.topic_id);
  CHECK(again->partitions == 4);
  CHECK(again->overrides == md.overrides);
  CHECK(again->created_ms == md.created_ms);
  CHECK(m->topic_config("orders")->cleanup_policy == CleanupPolicy::kCompactDelete);
}

TEST_CASE("TwoManagersOnOneDirectorySeeEachOthersChanges") {
  MemFileSystem mem;
  ManualClock clock;
  auto a = open_ok(&mem, &clock);
  auto b = open_ok(&mem, &clock);
  create_ok(*a, "shared", 2);
  CHECK(topics_ok(*b) == std::vector<std::string>{"shared"});
  Log* from_b = log_ok(*b, "shared", 1);
  CHECK(log_ok(*b, "shared", 1) == from_b);  // cached

  REQUIRE(a->alter_configs("shared", {{"retention.ms", "777"}}, {}).ok());
  CHECK(b->topic_config("shared")->retention_ms == 777);
  CHECK(log_ok(*b, "shared", 1)->config().retention_ms == 777);  // picked up on the next log() call

  REQUIRE(a->add_partitions("shared", 3).ok());
  CHECK(log_ok(*b, "shared", 2) != nullptr);

  REQUIRE(a->delete_topic("shared").ok());
  CHECK(b->describe_topic("shared").error().code == ErrorCode::kNotFound);
  CHECK(b->log("shared", 1).error().code == ErrorCode::kNotFound);

  // Re-created by the other manager: a fresh Log, not the old incarnation's.
  TopicMetadata again = create_ok(*a, "shared", 2);
  Log* fresh = log_ok(*b, "shared", 1);
  CHECK(fresh != from_b);
  CHECK(b->describe_topic("shared")->topic_id == again.topic_id);
}

TEST_CASE("LogReturnsTheCachedLogAndNamesMissingPartitions") {
  Fixture f;
  create_ok(*f.manager, "t", 3);
  Log* l = log_ok(*f.manager, "t", 2);
  CHECK(log_ok(*f.manager, "t", 2) == l);
  CHECK(l->dir() == kData + "/t-2");
  CHECK(f.manager->partition_dir("t", 2) == kData + "/t-2");
  auto missing = f.manager->log("t", 3);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message == "partition 3 of topic 't' does not exist (the topic has 3 partitions: 0..2)");
  CHECK(f.manager->log("t", -1).error().code == ErrorCode::kNotFound);
  CHECK(f.manager->log("nope", 0).error().message == "topic 'nope' does not exist");
  CHECK(f.manager->flush_all().ok());
}

TEST_CASE("ConcurrentCreatesFromForkedProcessesLetExactlyOneSucceed") {
  TempDir tmp;
  constexpr int kProcesses = 4;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      LogManagerOptions options;
      options.data_dir = tmp.path();
      auto m = LogManager::open(options);
      if (!m.ok()) ::_exit(1);
      auto r = (*m)->create_topic("race", 3, {{"retention.ms", std::to_string(1000 + i)}});
      if (r.ok()) ::_exit(0);
      ::_exit(r.error().code == ErrorCode::kAlreadyExists ? 3 : 2);
    }
    children.push_back(pid);
  }
  int winners = 0;
  int losers = 0;
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) ++winners;
    if (WEXITSTATUS(status) == 3) ++losers;
  }
  CHECK(winners == 1);
  CHECK(losers == kProcesses - 1);
  auto m = open_ok(posix_file_system(), system_clock(), tmp.path());
  auto md = m->describe_topic("race");
  REQUIRE(md.ok());
  CHECK(md->partitions == 3);
  for (int p = 0; p < 3; ++p) {
    auto marker = read_file(*posix_file_system(), tmp.join("race-" + std::to_string(p) + "/partition.metadata"));
    REQUIRE(marker.ok());
    CHECK(as_string_view(*marker).find(md->topic_id) != std::string_view::npos);  // the winner's directories
  }
}

TEST_CASE("ADiskFullErrorSaysWhatFailedAndLeavesNoTopicBehind") {
  Fixture f;
  SUBCASE("WritingTheMetadata") { f.fault.fail_after(3, ErrorCode::kNoSpace, FsOp::kWrite); }
  SUBCASE("WritingAPartitionMarker") { f.fault.fail_after(0, ErrorCode::kNoSpace, FsOp::kWrite); }
  SUBCASE("CreatingADirectory") { f.fault.fail_after(0, ErrorCode::kNoSpace, FsOp::kCreateDir); }
  auto r = f.manager->create_topic("orders", 3, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kNoSpace);
  CHECK(r.error().message.find("cannot create topic 'orders': ") == 0);
  CHECK(r.error().message.find("No space left on device") != std::string::npos);
  CHECK(r.error().message.find("(free space on the disk holding /data)") != std::string::npos);
  f.fault.clear_faults();
  CHECK(topics_ok(*f.manager).empty());
  CHECK(partition_dirs(f.mem, "orders").empty());
  create_ok(*f.manager, "orders", 3);  // and it works once there is space
}

TEST_CASE("PermissionDeniedSaysWhatFailedAndHowToFixIt") {
  Fixture f;
  f.fault.fail_after(0, ErrorCode::kPermissionDenied, FsOp::kCreateDir | FsOp::kOpen | FsOp::kLock);
  auto r = f.manager->create_topic("orders", 1, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kPermissionDenied);
  CHECK(r.error().message.find("cannot create topic 'orders': ") == 0);
  CHECK(r.error().message.find("Permission denied") != std::string::npos);
  CHECK(r.error().message.find("check the permissions of /data") != std::string::npos);

  MemFileSystem mem;
  FaultInjectionFileSystem fault(&mem);
  fault.fail_after(0, ErrorCode::kPermissionDenied, FsOp::kCreateDir);
  LogManagerOptions options;
  options.data_dir = "/srv/streamctl";
  options.fs = &fault;
  auto opened = LogManager::open(options);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().code == ErrorCode::kPermissionDenied);
  CHECK(opened.error().message.find("cannot create data directory /srv/streamctl: ") == 0);
}

TEST_CASE("AReadOnlyDirectoryOnDiskGivesPermissionDenied") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: running as root, where chmod 0500 does not stop writes (covered by fault injection above)");
    return;
  }
  TempDir tmp;
  REQUIRE(::chmod(tmp.path().c_str(), 0500) == 0);
  auto m = open_ok(posix_file_system(), system_clock(), tmp.path());
  auto r = m->create_topic("orders", 1, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kPermissionDenied);
  CHECK(r.error().message.find(tmp.path()) != std::string::npos);
}

TEST_CASE("OpeningADataDirectoryChecksWhatIsThere") {
  MemFileSystem mem;
  LogManagerOptions options;
  options.fs = &mem;
  CHECK(LogManager::open(options).error().code == ErrorCode::kInvalidArgument);  // no directory given
  options.data_dir = "/missing";
  options.create_if_missing = false;
  auto missing = LogManager::open(options);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message == "data directory /missing does not exist");
  REQUIRE(write_file_atomically(mem, "/file", as_byte_span("x")).ok());
  options.data_dir = "/file";
  options.create_if_missing = true;
  CHECK(LogManager::open(options).error().message == "data directory /file exists but is not a directory");
  options.data_dir = "/fresh/data/";
  auto fresh = LogManager::open(options);
  REQUIRE(fresh.ok());
  CHECK((*fresh)->data_dir() == "/fresh/data");
  CHECK(topics_ok(**fresh).empty());
  CHECK_FALSE(exists(mem, "/fresh/data/__meta"));  // nothing written until needed
}

TEST_CASE("ACrashAtEveryStepOfCreateLeavesNoTopicOrAWholeOne") {
  uint64_t steps = 0;
  {
    Fixture f;
    f.fault.reset_counters();
    create_ok(*f.manager, "t", 2);
    steps = f.fault.op_count();
  }
  REQUIRE(steps > 10);
  for (uint64_t step = 0; step <= steps; ++step) {
    CAPTURE(step);
    Fixture f;
    f.fault.deactivate_after(step);
    bool created = f.manager->create_topic("t", 2, {{"retention.ms", "1000"}}).ok();
    REQUIRE(f.fault.crash().ok());
    auto m = open_ok(&f.fault, &f.clock);
    auto md = m->describe_topic("t");
    if (created) REQUIRE(md.ok());
    if (md.ok()) {
      CHECK(md->partitions == 2);
      CHECK(md->overrides.at("retention.ms") == "1000");
      CHECK(partition_dirs(f.mem, "t") == std::set<std::string>{"t-0", "t-1"});
      CHECK(log_ok(*m, "t", 1) != nullptr);
    } else {
      CHECK(md.error().code == ErrorCode::kNotFound);
      CHECK(topics_ok(*m).empty());
      create_ok(*m, "t", 2);  // leftovers never block a new attempt
    }
  }
}

TEST_CASE("ACrashAtEveryStepOfDeleteLeavesTheTopicOrNothingAfterASweep") {
  uint64_t steps = 0;
  {
    Fixture f;
    create_ok(*f.manager, "t", 3);
    f.fault.reset_counters();
    REQUIRE(f.manager->delete_topic("t").ok());
    steps = f.fault.op_count();
  }
  for (uint64_t step = 0; step <= steps; ++step) {
    CAPTURE(step);
    Fixture f;
    create_ok(*f.manager, "t", 3);
    create_ok(*f.manager, "other", 1);
    f.fault.deactivate_after(step);
    bool deleted = f.manager->delete_topic("t").ok();
    REQUIRE(f.fault.crash().ok());
    auto m = open_ok(&f.fault, &f.clock);
    auto md = m->describe_topic("t");
    if (deleted) CHECK_FALSE(md.ok());
    REQUIRE(m->run_retention().ok());
    if (md.ok()) {
      CHECK(partition_dirs(f.mem, "t").size() == 3);
    } else {
      CHECK(partition_dirs(f.mem, "t").empty());  // orphans swept
    }
    CHECK(partition_dirs(f.mem, "other").size() == 1);
  }
}

TEST_CASE("DirectoriesThatAreNotProvablyOursAreNeverDeleted") {
  Fixture f;
  REQUIRE(f.mem.create_dirs(kData + "/kafka-0").ok());
  REQUIRE(write_file_atomically(f.mem, kData + "/kafka-0/00000000000000000000.log", as_byte_span("data")).ok());
  REQUIRE(f.manager->run_retention().ok());
  CHECK(exists(f.mem, kData + "/kafka-0/00000000000000000000.log"));
  auto r = f.manager->create_topic("kafka", 1, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kAlreadyExists);
  CHECK(r.error().message.find("directory /data/kafka-0 already exists but belongs to no streamctl topic") !=
        std::string::npos);
  CHECK(exists(f.mem, kData + "/kafka-0/00000000000000000000.log"));
  CHECK(topics_ok(*f.manager).empty());
}

TEST_CASE("ALeftoverDirectoryOfADeletedTopicIsReplacedOnRecreate") {
  Fixture f;
  TopicMetadata old_md = create_ok(*f.manager, "t", 1);
  // Simulate a delete interrupted after its commit point: metadata gone, directory still there.
  REQUIRE(f.mem.remove_file(kData + "/__meta/topics/t.json").ok());
  REQUIRE(write_file_atomically(f.mem, kData + "/t-0/stale", as_byte_span("old data")).ok());
  TopicMetadata new_md = create_ok(*f.manager, "t", 1);
  CHECK(new_md.topic_id != old_md.topic_id);
  CHECK_FALSE(exists(f.mem, kData + "/t-0/stale"));
}

TEST_CASE("RunRetentionSweepsPartitionsLeftByAnInterruptedAddPartitions") {
  Fixture f;
  TopicMetadata md = create_ok(*f.manager, "t", 1);
  REQUIRE(f.mem.create_dirs(kData + "/t-1").ok());
  REQUIRE(write_file_atomically(f.mem, kData + "/t-1/partition.metadata",
                                as_byte_span("version: 0\ntopic_id: " + md.topic_id + "\n"))
              .ok());
  REQUIRE(f.manager->run_retention().ok());
  CHECK(partition_dirs(f.mem, "t") == std::set<std::string>{"t-0"});
}

TEST_CASE("DeletingATopicDropsItsCommittedOffsets") {
  Fixture f;
  create_ok(*f.manager, "gone", 2);
  create_ok(*f.manager, "kept", 1);
  CommittedOffset co{Offset(5), kNoLeaderEpoch, "", Timestamp(1)};
  REQUIRE(f.manager->groups().commit("g", {{{"gone", 0}, co}, {{"gone", 1}, co}, {{"kept", 0}, co}}).ok());
  REQUIRE(f.manager->groups().commit("only-gone", {{{"gone", 0}, co}}).ok());
  REQUIRE(f.manager->delete_topic("gone").ok());
  auto offsets = f.manager->groups().fetch("g");
  REQUIRE(offsets.ok());
  CHECK(offsets->size() == 1);
  CHECK(offsets->count({"kept", 0}) == 1);
  CHECK(f.manager->groups().list_groups().value() == std::vector<std::string>{"g"});
}

TEST_CASE("TheMetadataFileIsJsonAndDamageIsReportedNotIgnored") {
  Fixture f;
  create_ok(*f.manager, "t", 1);
  const std::string path = kData + "/__meta/topics/t.json";

  SUBCASE("HandWrittenJsonWithEscapesAndUnknownKeysIsRead") {
    std::string text =
        "{\"version\":1,\"name\":\"\\u0074\",\"topic_id\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"partitions\":2,"
        "\"future\":[1,{\"x\":null},true],\"configs\":{\"retention.ms\":\"12\\u0033\"}}";
    REQUIRE(write_file_atomically(f.mem, path, as_byte_span(text)).ok());
    auto md = f.manager->describe_topic("t");
    REQUIRE_MESSAGE(md.ok(), md.error().to_string());
    CHECK(md->partitions == 2);
    CHECK(md->overrides.at("retention.ms") == "123");
    CHECK(md->created_ms == 0);
  }
  SUBCASE("TruncatedJsonIsCorruption") {
    auto bytes = read_file(f.mem, path);
    REQUIRE(bytes.ok());
    REQUIRE(write_file_atomically(f.mem, path, ByteSpan(*bytes).first(bytes->size() / 2)).ok());
    auto md = f.manager->describe_topic("t");
    REQUIRE_FALSE(md.ok());
    CHECK(md.error().code == ErrorCode::kCorruption);
    CHECK(md.error().message.find("topic metadata file /data/__meta/topics/t.json is corrupt: ") == 0);
  }
  SUBCASE("AFileForAnotherTopicIsCorruption") {
    REQUIRE(f.mem.rename(path, kData + "/__meta/topics/u.json").ok());
    auto md = f.manager->describe_topic("u");
    REQUIRE_FALSE(md.ok());
    CHECK(md.error().message.find("it describes topic 't'") != std::string::npos);
  }
  SUBCASE("ANewerFormatIsNotSupported") {
    REQUIRE(write_file_atomically(f.mem, path, as_byte_span("{\"version\": 2}")).ok());
    CHECK(f.manager->describe_topic("t").error().code == ErrorCode::kNotSupported);
  }
}

TEST_CASE("RunRetentionVisitsEveryPartitionOfEveryTopic") {
  Fixture f;
  create_ok(*f.manager, "deleting", 2, {{"retention.ms", "1000"}});
  create_ok(*f.manager, "compacting", 1, {{"cleanup.policy", "compact"}});
  create_ok(*f.manager, "both", 1, {{"cleanup.policy", "compact,delete"}});
  REQUIRE(f.manager->run_retention().ok());
  // Every partition was opened to apply its policy.
  for (auto [topic, p] : std::vector<std::pair<std::string, int>>{
           {"deleting", 0}, {"deleting", 1}, {"compacting", 0}, {"both", 0}}) {
    CAPTURE(topic);
    auto l = f.manager->log(topic, p);
    REQUIRE(l.ok());
  }
}

TEST_CASE("RunRetentionDeletesExpiredSegmentsAndCompactsCompactedTopics") {
  Fixture f;
  create_ok(*f.manager, "events", 1, {{"segment.bytes", "1024"}, {"retention.ms", "1000"}});
  create_ok(*f.manager, "state", 1, {{"segment.bytes", "1024"}, {"cleanup.policy", "compact"}});
  Log* events = log_ok(*f.manager, "events", 0);
  Log* state = log_ok(*f.manager, "state", 0);
  for (int i = 0; i < 40; ++i) {
    Record r;
    r.key = "key";  // one key: compaction keeps only the latest record
    r.value = std::string(100, char('a' + i % 26));
    REQUIRE(events->append(std::span<const Record>(&r, 1), BatchBuildOptions{}).ok());
    REQUIRE(state->append(std::span<const Record>(&r, 1), BatchBuildOptions{}).ok());
  }
  REQUIRE(events->segments().size() > 2);
  uint64_t state_before = state->size_bytes();
  size_t state_segments = state->segments().size();
  REQUIRE(state_segments > 2);

  f.clock.advance_ms(5000);
  REQUIRE(f.manager->run_retention().ok());
  CHECK(events->segments().size() == 1);  // only the active segment survives retention
  CHECK(events->log_start_offset() > Offset(0));
  CHECK(events->log_end_offset() == Offset(40));
  CHECK(state->size_bytes() < state_before);  // compacted, not deleted by time
  CHECK(state->log_start_offset() == Offset(0));
  CHECK(state->log_end_offset() == Offset(40));
}
