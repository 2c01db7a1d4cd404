// `streamctl user create|delete|list`: SASL/SCRAM users of `serve`'s SASL listeners, kept salted (never a
// password) in <data dir>/__meta/users.json (security/credential_store.h). Embedded on the data directory,
// also while `serve` runs: the file is replaced atomically and the server re-reads it when it changes
// (the next authentication sees the change). The password comes from stdin (first line) or, on a
// terminal, from a prompt without echo (asked twice); never from the command line.
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fs.h"
#include "cli/command.h"
#include "security/credential_store.h"
#include "security/scram.h"

namespace streamctl::cli {

namespace {

struct UserOptions {
  std::string name;
  std::vector<std::string> mechanisms;  // empty = both SCRAM mechanisms
  int iterations = security::kScramDefaultIterations;
};

std::string users_path(const GlobalOptions& global) {
  return join_path(join_path(resolve_data_dir(global), "__meta"), "users.json");
}

Result<std::vector<security::ScramMechanism>> parse_mechanisms(const std::vector<std::string>& names) {
  std::vector<security::ScramMechanism> out;
  if (names.empty()) return std::vector{security::ScramMechanism::kSha256, security::ScramMechanism::kSha512};
  for (const auto& n : names) {
    auto m = security::parse_scram_mechanism(n);
    if (!m) return Error::invalid_argument("--mechanism: '" + n + "' is not SCRAM-SHA-256 or SCRAM-SHA-512");
    out.push_back(*m);
  }
  return out;
}

// One line from the terminal without echo.
Result<std::string> prompt_no_echo(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  struct termios old {};
  const bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    struct termios quiet = old;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool got = bool(std::getline(std::cin, line));
  if (tty) (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::cerr << "\n";
  if (!got) return Error::invalid_argument("no password given (end of input)");
  return line;
}

Result<std::string> read_password(const std::string& user) {
  std::string password;
  if (is_tty(STDIN_FILENO)) {
    STREAMCTL_ASSIGN_OR_RETURN(password, prompt_no_echo("Password for " + user + ": "));
    STREAMCTL_ASSIGN_OR_RETURN(auto again, prompt_no_echo("Again: "));
    if (again != password) return Error::invalid_argument("the passwords do not match");
  } else {
    if (!std::getline(std::cin, password)) return Error::invalid_argument("no password on stdin (its first line)");
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }
  if (password.empty()) return Error::invalid_argument("empty password");
  return password;
}

int run_create(const GlobalOptions& global, const UserOptions& opts) {
  if (auto st = security::validate_user_name(opts.name); !st.ok()) return report_usage_error(st.error().message);
  auto mechs = parse_mechanisms(opts.mechanisms);
  if (!mechs.ok()) return report_usage_error(mechs.error().message);
  if (opts.iterations < security::kScramMinIterations || opts.iterations > security::kScramMaxIterations) {
    return report_usage_error("--iterations must be within " + std::to_string(security::kScramMinIterations) + ".." +
                              std::to_string(security::kScramMaxIterations) + " (Kafka's bounds)");
  }
  auto store = security::CredentialStore::open(users_path(global));
  if (!store.ok()) return report_error(store.error());
  auto password = read_password(opts.name);
  if (!password.ok()) return report_usage_error(password.error().message, "give the password on stdin or at the prompt");
  for (auto m : *mechs) {
    auto cred = security::new_scram_credential(m, *password, opts.iterations);
    if (!cred.ok()) return report_error(cred.error());
    if (auto st = (*store)->upsert(opts.name, m, *cred); !st.ok()) return report_error(st.error());
  }
  std::string names;
  for (auto m : *mechs) names += std::string(names.empty() ? "" : ", ") + security::scram_mechanism_name(m);
  info(global, "user " + opts.name + ": " + names + " credentials set (" + std::to_string(opts.iterations) +
                   " iterations) in " + (*store)->path());
  return to_int(ExitCode::kOk);
}

int run_delete(const GlobalOptions& global, const UserOptions& opts) {
  auto store = security::CredentialStore::open(users_path(global));
  if (!store.ok()) return report_error(store.error());
  Status st = ok_status();
  if (opts.mechanisms.empty()) {
    st = (*store)->remove_user(opts.name);
  } else {
    auto mechs = parse_mechanisms(opts.mechanisms);
    if (!mechs.ok()) return report_usage_error(mechs.error().message);
    for (auto m : *mechs) {
      st = (*store)->remove(opts.name, m);
      if (!st.ok()) break;
    }
  }
  if (!st.ok()) {
    if (st.error().code == streamctl::ErrorCode::kNotFound) {
      return report_error(st.error(), "'streamctl user list' shows the users");
    }
    return report_error(st.error());
  }
  info(global, "deleted " + (opts.mechanisms.empty() ? std::string("user ") : std::string("credentials of ")) +
                   opts.name);
  return to_int(ExitCode::kOk);
}

int run_list(const GlobalOptions& global) {
  auto store = security::CredentialStore::open(users_path(global));
  if (!store.ok()) return report_error(store.error());
  const auto users = (*store)->list();
  std::string out;
  if (global.json) {
    for (const auto& u : users) {
      nlohmann::ordered_json j;
      j["user"] = u.name;
      j["mechanisms"] = nlohmann::ordered_json::array();
      for (const auto& [m, it] : u.mechanisms) {
        j["mechanisms"].push_back({{"mechanism", security::scram_mechanism_name(m)}, {"iterations", it}});
      }
      out += j.dump() + "\n";
    }
  } else {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"USER", "MECHANISMS"});
    for (const auto& u : users) {
      std::string mechs;
      for (const auto& [m, it] : u.mechanisms) {
        mechs += std::string(mechs.empty() ? "" : ",") + security::scram_mechanism_name(m) + "(" +
                 std::to_string(it) + ")";
      }
      rows.push_back({u.name, mechs});
    }
    if (users.empty()) {
      info(global, "no users in " + (*store)->path());
      return to_int(ExitCode::kOk);
    }
    out = format_table(rows, color_enabled(STDOUT_FILENO));
  }
  auto st = write_stdout(out);
  return st.ok() ? to_int(ExitCode::kOk) : report_error(st.error());
}

}  // namespace

void register_user_command(CLI::App& app, CommandContext& ctx) {
  auto opts = std::make_shared<UserOptions>();
  CLI::App* cmd = app.add_subcommand("user", "SASL/SCRAM users of serve's SASL listeners (salted, on the data dir)");
  cmd->require_subcommand(1);
  cmd->footer(R"(Users live in <data dir>/__meta/users.json (0600): salt, iterations, StoredKey and ServerKey per
mechanism, never the password. A running server picks changes up at the next authentication. One user
serves SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN (PLAIN is checked against the SCRAM credential).

Examples:
  echo "$PASSWORD" | streamctl user create alice        # SCRAM-SHA-256 and -512, 4096 iterations
  streamctl user create bob --mechanism SCRAM-SHA-512 --iterations 8192   # prompts twice, no echo
  streamctl user list
  streamctl user delete alice)");

  CLI::App* create = cmd->add_subcommand("create", "add a user or set its password (from stdin or a prompt)");
  create->add_option("name", opts->name, "user name (SASL username)")->required();
  create->add_option("--mechanism", opts->mechanisms, "SCRAM-SHA-256 and/or SCRAM-SHA-512 (default both)")
      ->type_name("MECH");
  create->add_option("--iterations", opts->iterations, "PBKDF2 iterations, 4096..16384 (default 4096)")
      ->type_name("N");
  create->callback([opts, &ctx]() { ctx.run = [opts, &ctx]() { return run_create(ctx.global, *opts); }; });

  CLI::App* del = cmd->add_subcommand("delete", "remove a user (or only some of its mechanisms)");
  del->add_option("name", opts->name, "user name")->required();
  del->add_option("--mechanism", opts->mechanisms, "remove only this mechanism's credential")->type_name("MECH");
  del->callback([opts, &ctx]() { ctx.run = [opts, &ctx]() { return run_delete(ctx.global, *opts); }; });

  CLI::App* list = cmd->add_subcommand("list", "users and their mechanisms (iterations); --json for JSON lines");
  list->callback([&ctx]() { ctx.run = [&ctx]() { return run_list(ctx.global); }; });
}

}  // namespace streamctl::cli
