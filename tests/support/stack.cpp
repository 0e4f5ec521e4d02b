#include "tests/support/stack.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "infra/database.h"
#include "infra/keyring.h"

namespace tidemark::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// The sanitizer reports in a process's output, or empty. Sanitizers write to standard error,
/// which ChildProcess sends to the output file; every report starts with one of these lines.
std::string sanitizer_reports(const std::string& output) {
  std::size_t first = std::string::npos;
  for (const char* marker :
       {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
        "ERROR: ThreadSanitizer", ": runtime error: "}) {
    first = std::min(first, output.find(marker));
  }
  if (first == std::string::npos) return "";
  auto line_start = output.rfind('\n', first);
  std::string reports = output.substr(line_start == std::string::npos ? 0 : line_start + 1);
  constexpr std::size_t kShown = 30000;
  if (reports.size() > kShown) reports = reports.substr(0, kShown) + "\n[…]";
  return reports;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, fs::path output_file)
    : output_file_(std::move(output_file)) {
  for (std::size_t i = 0; i < argv.size() && i < 2; ++i) {
    command_ += (i ? " " : "") + fs::path(argv[i]).filename().string();
  }
  std::vector<char*> arguments;
  for (const auto& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
  arguments.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    int output = ::open(output_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(output, 1);
    ::dup2(output, 2);
    int null_input = ::open("/dev/null", O_RDONLY);
    ::dup2(null_input, 0);
    // The test process blocks no signals, but be explicit: the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(arguments[0], arguments.data());
    ::_exit(127);
  }
  if (pid_ < 0) throw std::runtime_error("fork failed");
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) {
    send_signal(SIGKILL);
    wait(10s);
  }
  if (auto reports = sanitizer_reports(output()); !reports.empty()) {
    ADD_FAILURE() << "sanitizer report from `" << command_ << "` (pid " << pid_ << ", output "
                  << output_file_ << "):\n"
                  << reports;
  }
}

void ChildProcess::send_signal(int signal) {
  if (!exit_code_ && pid_ > 0) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(10ms);
  }
  return exit_code_;
}

std::string ChildProcess::output() const {
  std::ifstream in(output_file_);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

bool ChildProcess::wait_for_output(const std::string& text,
                                   std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (output().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout) {
  char pattern[] = "/tmp/tidemark-command-XXXXXX";
  int file = ::mkstemp(pattern);
  ::close(file);
  std::pair<int, std::string> result;
  {
    ChildProcess child(argv, pattern);
    auto code = child.wait(timeout);
    result = {code.value_or(-1), child.output()};
  }
  fs::remove(pattern);
  return result;
}

TestStack::TestStack() : TestStack(Options{}) {}

TestStack::TestStack(Options options)
    : options_(std::move(options)),
      master_key_(infra::generate_secret()),
      token_signing_key_(infra::generate_secret()),
      webhook_signing_key_(infra::generate_secret()) {
  char pattern[] = "/tmp/tidemark-test-XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  folder_ = pattern;
  fs::permissions(folder_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  postgres_ = std::make_unique<infra::LocalPostgres>(
      infra::LocalPostgres::Options{folder_ / "postgres", 0, "tidemark"});
  postgres_->start();
  database_url_ = postgres_->url();
  broker_ = std::make_unique<infra::EmbeddedBroker>(infra::EmbeddedBroker::Options{
      0, {"tidemark.events", "tidemark.events.dlq"}, options_.partitions, ""});
  bootstrap_ = broker_->bootstrap_servers();
  auto [code, output] = tidemark({"migrate"});
  if (code != 0) throw std::runtime_error("tidemark migrate failed: " + output);
  if (options_.start_projector) start_projector();
  start_api();
}

TestStack::~TestStack() {
  inference_.clear();
  extra_projectors_.clear();
  mailer_.reset();
  api_.reset();
  projector_.reset();
  broker_.reset();
  postgres_.reset();
  std::error_code ignored;
  fs::remove_all(folder_, ignored);
}

std::unique_ptr<pqxx::connection> TestStack::connect() const {
  return infra::connect(database_url_);
}

std::pair<int, std::string> TestStack::tidemark(std::vector<std::string> arguments) const {
  std::vector<std::string> argv = {TIDEMARK_BINARY};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  argv.insert(argv.end(), {"--database-url", database_url_, "--data-dir", folder_.string()});
  return run_command(argv);
}

void TestStack::start_projector() {
  projector_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{TIDEMARK_BINARY, "projector", "--database-url", database_url_,
                               "--kafka-bootstrap-servers", bootstrap_, "--data-dir",
                               folder_.string(), "--master-key", master_key_},
      folder_ / ("projector-" + std::to_string(++projector_starts_) + ".log"));
}

ChildProcess& TestStack::add_projector() {
  extra_projectors_.push_back(std::make_unique<ChildProcess>(
      std::vector<std::string>{TIDEMARK_BINARY, "projector", "--database-url", database_url_,
                               "--kafka-bootstrap-servers", bootstrap_, "--data-dir",
                               folder_.string(), "--master-key", master_key_},
      folder_ / ("projector-" + std::to_string(++projector_starts_) + ".log")));
  return *extra_projectors_.back();
}

void TestStack::start_mailer(const std::vector<std::string>& flags) {
  std::vector<std::string> argv{TIDEMARK_BINARY,
                                "mailer",
                                "--database-url",
                                database_url_,
                                "--kafka-bootstrap-servers",
                                bootstrap_,
                                "--data-dir",
                                folder_.string(),
                                "--master-key",
                                master_key_,
                                "--mail-outbox",
                                outbox().string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  mailer_ = std::make_unique<ChildProcess>(argv, folder_ / "mailer.log");
}

void TestStack::stop_mailer() {
  if (!mailer_) return;
  mailer_->send_signal(SIGTERM);
  mailer_->wait(std::chrono::seconds(20));
}

std::vector<std::string> TestStack::wait_for_mail(std::size_t count,
                                                  std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> lines;
  while (std::chrono::steady_clock::now() < deadline) {
    lines.clear();
    std::ifstream in(outbox());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() >= count) break;
    std::this_thread::sleep_for(50ms);
  }
  return lines;
}

void TestStack::stop_projector() {
  projector_->send_signal(SIGKILL);
  projector_->wait(10s);
}

void TestStack::start_api() {
  std::vector<std::string> argv = {TIDEMARK_BINARY,
                                   "api",
                                   "--http-port",
                                   "0",
                                   "--database-url",
                                   database_url_,
                                   "--kafka-bootstrap-servers",
                                   bootstrap_,
                                   "--data-dir",
                                   folder_.string(),
                                   "--master-key",
                                   master_key_,
                                   "--token-signing-key",
                                   token_signing_key_};
  argv.insert(argv.end(), options_.api_flags.begin(), options_.api_flags.end());
  api_ = std::make_unique<ChildProcess>(argv, folder_ / "api.log");
  // http:// or, with --tls-cert-file, https://
  const std::string marker = "Tidemark API on http";
  const std::string address = "://127.0.0.1:";
  if (!api_->wait_for_output(marker, 30s)) {
    throw std::runtime_error("the API did not start: " + api_->output());
  }
  std::string output = api_->output();
  api_port_ = static_cast<std::uint16_t>(
      std::stoi(output.substr(output.find(address, output.find(marker)) + address.size())));
}

namespace {

/// A string field of a JSON body, or a failure naming what was missing.
std::string string_field(const HttpReply& reply, const std::string& name) {
  const std::string marker = "\"" + name + "\":\"";
  auto start = reply.body.find(marker);
  if (start == std::string::npos) {
    throw std::runtime_error("no " + name + " in HTTP " + std::to_string(reply.status) + ": " +
                             reply.body);
  }
  start += marker.size();
  return reply.body.substr(start, reply.body.find('"', start) - start);
}

}  // namespace

std::string sign_in(HttpClient& client, const std::string& username) {
  auto registered = client.post("/auth/register",
                                R"({"username":")" + username + R"(","password":"test password"})");
  if (registered.status != 201) {
    throw std::runtime_error("cannot register " + username + ": " + registered.body);
  }
  std::string token = string_field(registered, "access_token");
  client.set_default_header("Authorization", "Bearer " + token);
  return token;
}

void sign_in_admin(const TestStack& stack, HttpClient& client, const std::string& username) {
  auto [code, output] = run_command(
      {TIDEMARK_BINARY, "create-admin", "--username", username, "--password", "admin password",
       "--database-url", stack.database_url(), "--kafka-bootstrap-servers",
       stack.bootstrap_servers(), "--master-key", stack.master_key()});
  if (code != 0) throw std::runtime_error("tidemark create-admin failed: " + output);
  auto login = client.post("/auth/login",
                           R"({"username":")" + username + R"(","password":"admin password"})");
  client.set_default_header("Authorization", "Bearer " + string_field(login, "access_token"));
}

void grant_role(HttpClient& admin, HttpClient& user, const std::string& role) {
  std::string user_id = string_field(user.get("/me"), "user_id");
  auto granted =
      admin.request("PUT", "/admin/users/" + user_id + "/role", R"({"role":")" + role + R"("})");
  if (granted.status != 200) throw std::runtime_error("cannot grant " + role + ": " + granted.body);
}

ChildProcess& TestStack::start_inference(const std::vector<std::string>& flags) {
  std::vector<std::string> argv{TIDEMARK_BINARY,
                                "inference",
                                "--database-url",
                                database_url_,
                                "--kafka-bootstrap-servers",
                                bootstrap_,
                                "--data-dir",
                                folder_.string(),
                                "--webhook-signing-key",
                                webhook_signing_key_};
  argv.insert(argv.end(), flags.begin(), flags.end());
  inference_.push_back(std::make_unique<ChildProcess>(
      argv, folder_ / ("inference-" + std::to_string(inference_.size()) + ".log")));
  return *inference_.back();
}

std::string TestStack::webhook_key() const {
  return infra::decode_secret(webhook_signing_key_, "webhook key");
}

std::string TestStack::dump_topic(const std::string& topic) const {
  auto [code, output] = run_command({"kcat", "-C", "-b", bootstrap_, "-t", topic, "-o", "beginning",
                                     "-e", "-q", "-f", "%k|%h|%s\n"},
                                    30s);
  if (code != 0) throw std::runtime_error("kcat failed: " + output);
  return output;
}

std::set<std::string> TestStack::text_column(const std::string& sql) const {
  auto connection = connect();
  pqxx::nontransaction read(*connection);
  std::set<std::string> values;
  for (const auto& row : read.exec(sql)) values.insert(row[0].c_str());
  return values;
}

bool TestStack::wait_until_projected(std::chrono::milliseconds timeout) {
  infra::EventProducer probe(infra::EventProducer::Options{bootstrap_, "test-probe", 5000});
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto connection = connect();
  while (std::chrono::steady_clock::now() < deadline) {
    auto ends = probe.end_offsets("tidemark.events", 5s);
    if (ends) {
      pqxx::nontransaction read(*connection);
      bool caught_up = true;
      for (const auto& [partition, end] : *ends) {
        auto rows = read.exec_params(
            "SELECT next_offset FROM projection_offsets WHERE projection = 'read_models' "
            "AND topic = 'tidemark.events' AND log_partition = $1",
            partition);
        std::int64_t applied = rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
        if (applied < end) caught_up = false;
      }
      if (caught_up) return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace tidemark::testing
