#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <pqxx/connection>
#include <set>
#include <string>
#include <vector>

#include "infra/kafka.h"
#include "infra/local_postgres.h"
#include "tests/support/http_client.h"

namespace tidemark::testing {

/// A process of ours (the real `tidemark` binary, kcat …) with its output in a file. When it is
/// destroyed, a sanitizer report in that output (a build with TIDEMARK_SANITIZE, see
/// scripts/sanitize.sh) fails the current test and is shown with the command that made it.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, std::filesystem::path output_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void send_signal(int signal);
  pid_t pid() const { return pid_; }
  /// The exit code (128 + signal when killed), or nullopt when still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string output() const;
  /// Waits (bounded) until the output contains `text`; false when it never did.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path output_file_;
  std::string command_;  ///< for the failure message of a sanitizer report
};

/// Registers `username` and makes `client` send its access token from now on; returns it.
std::string sign_in(HttpClient& client, const std::string& username = "tester");

class TestStack;
/// Makes an admin with `tidemark create-admin` and signs `client` in as it.
void sign_in_admin(const TestStack& stack, HttpClient& client,
                   const std::string& username = "the-admin");
/// As the admin on `admin`, gives the user signed in on `user` the role.
void grant_role(HttpClient& admin, HttpClient& user, const std::string& role);

/// Runs a command to completion (bounded) and returns its exit code and output.
std::pair<int, std::string> run_command(
    const std::vector<std::string>& argv,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// A whole Tidemark stack for one test: its own PostgreSQL cluster (initdb on a free loopback
/// port in a temporary folder), its own embedded broker, migrations applied, and the real
/// `tidemark projector` and `tidemark api` processes. Everything stops and is removed at the end.
class TestStack {
 public:
  struct Options {
    int partitions = 3;
    std::vector<std::string> api_flags;  ///< extra flags for `tidemark api`
    bool start_projector = true;
  };

  TestStack();
  explicit TestStack(Options options);
  ~TestStack();

  std::uint16_t api_port() const { return api_port_; }
  const std::string& database_url() const { return database_url_; }
  const std::string& bootstrap_servers() const { return bootstrap_; }
  infra::LocalPostgres& postgres() { return *postgres_; }
  infra::EmbeddedBroker& broker() { return *broker_; }
  const std::filesystem::path& folder() const { return folder_; }
  const std::string& master_key() const { return master_key_; }
  const std::string& token_signing_key() const { return token_signing_key_; }
  /// Every record of the events topic as kcat prints it: key, headers and value per line.
  std::string dump_log() const { return dump_topic("tidemark.events"); }
  /// The same for any topic (the dead-letter topic, `tidemark.events.dlq`).
  std::string dump_topic(const std::string& topic) const;

  std::unique_ptr<pqxx::connection> connect() const;
  /// The first column of every row `sql` returns, as text (such as the names of the tables).
  std::set<std::string> text_column(const std::string& sql) const;
  /// Runs `tidemark ARGS` against this stack's database and broker (flags appended).
  std::pair<int, std::string> tidemark(std::vector<std::string> arguments) const;

  void start_projector();
  ChildProcess& projector() { return *projector_; }
  void stop_projector();  ///< SIGKILL, as a crash would
  /// Starts one more `tidemark projector` in the same consumer group.
  ChildProcess& add_projector();
  void start_api();
  /// Starts `tidemark mailer`, writing mail to `outbox()` unless `flags` say otherwise.
  void start_mailer(const std::vector<std::string>& flags = {});
  /// Stops that mailer (SIGTERM), so that another one alone takes the mail that follows.
  void stop_mailer();
  std::filesystem::path outbox() const { return folder_ / "outbox.jsonl"; }
  /// Waits (bounded) until the outbox holds `count` mails and returns its lines.
  std::vector<std::string> wait_for_mail(std::size_t count,
                                         std::chrono::milliseconds timeout) const;
  ChildProcess& api() { return *api_; }
  /// Starts one more `tidemark inference` worker (they share a consumer group).
  ChildProcess& start_inference(const std::vector<std::string>& flags = {});
  std::vector<std::unique_ptr<ChildProcess>>& inference_workers() { return inference_; }
  /// The raw webhook signing key the workers use.
  std::string webhook_key() const;

  /// Waits (bounded) until the projection has applied everything in the topic.
  bool wait_until_projected(std::chrono::milliseconds timeout);

 private:
  Options options_;
  std::filesystem::path folder_;
  std::unique_ptr<infra::LocalPostgres> postgres_;
  std::unique_ptr<infra::EmbeddedBroker> broker_;
  std::string database_url_;
  std::string bootstrap_;
  std::unique_ptr<ChildProcess> projector_;
  std::unique_ptr<ChildProcess> api_;
  std::unique_ptr<ChildProcess> mailer_;
  std::vector<std::unique_ptr<ChildProcess>> inference_;
  std::vector<std::unique_ptr<ChildProcess>> extra_projectors_;
  std::uint16_t api_port_ = 0;
  int projector_starts_ = 0;
  std::string master_key_;  ///< base64url, as an operator would configure it
  std::string token_signing_key_;
  std::string webhook_signing_key_;  ///< base64url
};

}  // namespace tidemark::testing
