#include "security/credential_store.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>

#include "security/private_file.h"
#include "tests/support/temp_dir.h"

using namespace streamctl::security;
using streamctl::ErrorCode;
using streamctl::test::TempDir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("StoreKeepsCredentialsAcrossReopenAndNeverThePassword") {
  TempDir dir;
  const std::string path = dir.join("data/__meta/users.json");
  auto c256 = new_scram_credential(ScramMechanism::kSha256, "the-password").value();
  auto c512 = new_scram_credential(ScramMechanism::kSha512, "the-password", 8192).value();
  {
    auto store = CredentialStore::open(path);
    REQUIRE(store.ok());
    CHECK(store.value()->list().empty());
    REQUIRE((*store)->upsert("alice", ScramMechanism::kSha256, c256).ok());
    REQUIRE((*store)->upsert("alice", ScramMechanism::kSha512, c512).ok());
    REQUIRE((*store)->upsert("bob", ScramMechanism::kSha256, c256).ok());
  }
  CHECK(slurp(path).find("the-password") == std::string::npos);
  CHECK(mode_of(path) == 0600);
  CHECK(mode_of(dir.join("data/__meta")) == 0700);
  CHECK(mode_of(dir.join("data")) == 0700);
  auto store = CredentialStore::open(path);
  REQUIRE(store.ok());
  auto got = (*store)->lookup("alice", ScramMechanism::kSha512);
  REQUIRE(got.has_value());
  CHECK(got->salt == c512.salt);
  CHECK(got->iterations == 8192);
  CHECK(got->stored_key == c512.stored_key);
  CHECK(got->server_key == c512.server_key);
  CHECK_FALSE((*store)->lookup("bob", ScramMechanism::kSha512).has_value());
  auto users = (*store)->list();
  REQUIRE(users.size() == 2);
  CHECK(users[0].name == "alice");
  CHECK(users[0].mechanisms.size() == 2);
  // The reloaded credential still authenticates a SCRAM exchange.
  ScramServer server(ScramMechanism::kSha512, (*store)->lookup_function());
  ScramClient client(ScramMechanism::kSha512, "alice", "the-password");
  auto fin = client.client_final(server.step(client.client_first()).value());
  CHECK(server.step(fin.value()).ok());
}

TEST_CASE("StoreRemovesMechanismsAndUsers") {
  TempDir dir;
  auto store = CredentialStore::open(dir.join("users.json")).value();
  auto c = new_scram_credential(ScramMechanism::kSha256, "pw").value();
  REQUIRE(store->upsert("alice", ScramMechanism::kSha256, c).ok());
  CHECK(store->remove("alice", ScramMechanism::kSha512).error().code == ErrorCode::kNotFound);
  REQUIRE(store->remove("alice", ScramMechanism::kSha256).ok());
  CHECK(store->list().empty());  // no mechanism left: user gone
  CHECK(store->remove_user("alice").error().code == ErrorCode::kNotFound);
  REQUIRE(store->upsert("bob", ScramMechanism::kSha256, c).ok());
  REQUIRE(store->remove_user("bob").ok());
  CHECK(CredentialStore::open(dir.join("users.json")).value()->list().empty());
}

TEST_CASE("StoreRefusesBadNamesAndMalformedCredentials") {
  TempDir dir;
  auto store = CredentialStore::open(dir.join("users.json")).value();
  auto c = new_scram_credential(ScramMechanism::kSha256, "pw").value();
  CHECK_FALSE(store->upsert("", ScramMechanism::kSha256, c).ok());
  CHECK_FALSE(store->upsert("a\nb", ScramMechanism::kSha256, c).ok());
  CHECK_FALSE(store->upsert(std::string(300, 'a'), ScramMechanism::kSha256, c).ok());
  CHECK_FALSE(store->upsert("alice", ScramMechanism::kSha512, c).ok());  // 32-byte keys for SHA-512
  ScramCredential weak = c;
  weak.iterations = 1;
  CHECK_FALSE(store->upsert("alice", ScramMechanism::kSha256, weak).ok());
}

TEST_CASE("CorruptStoreFileIsRefusedNamingFileAndUser") {
  TempDir dir;
  const std::string path = dir.join("users.json");
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& k : {Case{"not json", "not a JSON object"}, Case{R"({"version":2,"users":{}})", "version"},
                        Case{R"({"version":1})", "'users'"},
                        Case{R"({"version":1,"users":{"eve":{"SCRAM-SHA-1":{}}}})", "user 'eve'"},
                        Case{R"({"version":1,"users":{"eve":{"SCRAM-SHA-256":{"salt":"c2FsdA==","iterations":4096,
                             "stored_key":"AAAA","server_key":"AAAA"}}}})", "key length"},
                        Case{R"({"version":1,"users":{"eve":{"SCRAM-SHA-256":{"salt":"c2FsdA==","iterations":10,
                             "stored_key":"AAAA","server_key":"AAAA"}}}})", "iterations"},
                        Case{R"({"version":1,"users":{"eve":{"SCRAM-SHA-256":{"salt":"!!","iterations":4096}}}})",
                             "'salt' is not base64"}}) {
    CAPTURE(k.text);
    REQUIRE(write_private_file(path, k.text).ok());
    auto store = CredentialStore::open(path);
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().code == ErrorCode::kCorruption);
    CHECK(store.error().message.find(path) != std::string::npos);
    CHECK(store.error().message.find(k.expect) != std::string::npos);
  }
}

TEST_CASE("PrivateFileReplacesAtomicallyWithMode0600") {
  TempDir dir;
  const std::string path = dir.join("f");
  {
    std::ofstream stale(path + ".tmp");  // a leftover from a crash, mode from the umask
    stale << "old";
  }
  ::chmod((path + ".tmp").c_str(), 0644);
  REQUIRE(write_private_file(path, "one").ok());
  REQUIRE(write_private_file(path, "two").ok());
  CHECK(slurp(path) == "two");
  CHECK(mode_of(path) == 0600);
  CHECK(::access((path + ".tmp").c_str(), F_OK) != 0);
  CHECK_FALSE(read_file_if_exists(dir.join("missing")).value().has_value());
  CHECK(write_private_file(path + "/under-a-file", "x").error().code != ErrorCode::kOk);
}
