// Secrets never leave in clear: passwords, access and refresh tokens, mailed codes, the webhook
// signing key, the master and token keys and the database and SMTP passwords must not appear in
// any process's log (stdout and stderr of every `tidemark` role of the stack, at debug level),
// in the raw bytes of the Kafka topics (keys, headers and values as the broker holds them, not
// decrypted), or in what `tidemark config` prints. The test prints what it checked.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "infra/database.h"
#include "infra/encoding.h"
#include "infra/keyring.h"
#include "infra/webhook_signature.h"
#include "tests/support/http_client.h"
#include "tests/support/stack.h"
#include "tests/support/tally.h"
#include "tests/support/timing.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

void note(const std::string& line) {
  std::cout << "secrets: " << line << std::endl;
}

std::optional<std::string> field(const HttpReply& reply, const char* name) {
  rapidjson::Document document;
  document.Parse(reply.body.c_str());
  if (!document.IsObject() || !document.HasMember(name) || !document[name].IsString()) {
    return std::nullopt;
  }
  return std::string(document[name].GetString());
}

/// A value that must never be seen, and what it is.
struct Secret {
  std::string what;
  std::string value;
};

class Secrets {
 public:
  void add(const std::string& what, const std::string& value) {
    ASSERT_GE(value.size(), 8u) << what << " is too short to search for";
    secrets_.push_back({what, value});
  }
  /// A password, also as base64url and hex, in case something encodes it on the way.
  void add_password(const std::string& what, const std::string& value) {
    add(what, value);
    add(what + " (base64url)", infra::base64url_encode(value));
    add(what + " (hex)", infra::hex_encode(value));
  }
  /// A key given as base64url: that text, and the key's bytes raw and as hex.
  void add_key(const std::string& what, const std::string& base64url) {
    add(what, base64url);
    auto raw = infra::base64url_decode(base64url);
    ASSERT_TRUE(raw) << what;
    add(what + " (raw bytes)", *raw);
    add(what + " (hex)", infra::hex_encode(*raw));
  }
  /// A JWT: the whole token and its signature.
  void add_access_token(const std::string& what, const std::string& token) {
    add(what, token);
    add(what + " (signature)", token.substr(token.rfind('.') + 1));
  }
  /// `SESSION.SECRET`: the whole token and its secret part (the session id is no secret).
  void add_refresh_token(const std::string& what, const std::string& token) {
    add(what, token);
    add(what + " (secret part)", token.substr(token.find('.') + 1));
  }

  /// Fails for each secret found in `text`, naming where and showing its surroundings. Each
  /// secret searched for is an attack tried; found, it got in.
  int expect_absent(const std::string& where, const std::string& text) const {
    for (const auto& secret : secrets_) {
      auto at = text.find(secret.value);
      tally::attack(at != std::string::npos);
      if (at == std::string::npos) continue;
      auto from = at < 80 ? 0 : at - 80;
      ADD_FAILURE() << secret.what << " appears in " << where << ": …"
                    << text.substr(from, secret.value.size() + 160) << "…";
    }
    return static_cast<int>(secrets_.size());
  }
  std::size_t size() const { return secrets_.size(); }

 private:
  std::vector<Secret> secrets_;
};

/// A loopback HTTP server that answers every request 200 and keeps the Tidemark-Signature
/// header and body of the first.
class WebhookSink {
 public:
  WebhookSink() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 8);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~WebhookSink() {
    stopping_ = true;
    thread_.join();
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  /// The first request's raw text, once it came (bounded).
  std::string wait_for_request(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!received_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    return received_ ? request_ : std::string();
  }

 private:
  void serve() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (::poll(&ready, 1, 50) <= 0) continue;
      int connection = ::accept(listener_, nullptr, nullptr);
      if (connection < 0) continue;
      std::string data;
      char buffer[4096];
      for (int reads = 0; reads < 100; ++reads) {
        pollfd readable{connection, POLLIN, 0};
        if (::poll(&readable, 1, 2000) <= 0) break;
        ssize_t got = ::recv(connection, buffer, sizeof buffer, 0);
        if (got <= 0) break;
        data.append(buffer, static_cast<std::size_t>(got));
        auto end = data.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        auto length_at = data.find("Content-Length: ");
        std::size_t length = length_at < end ? std::stoul(data.substr(length_at + 16)) : 0;
        if (data.size() >= end + 4 + length) break;
      }
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(connection);
      if (!received_) {
        request_ = data;
        received_ = true;
      }
    }
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> received_{false};
  std::string request_;
  std::thread thread_;
};

/// The code in a mailed body ("… code is: CODE\n…").
std::string code_in(const std::string& mail_line) {
  rapidjson::Document mail;
  mail.Parse(mail_line.c_str());
  std::string body = mail["body"].GetString();
  auto start = body.find("is: ") + 4;
  return body.substr(start, body.find('\n', start) - start);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

/// Something random enough to be found only where it was put.
std::string unique(const std::string& prefix) {
  return prefix +
         infra::hex_encode(infra::base64url_decode(infra::generate_secret())->substr(0, 12));
}

TEST(Secrets, NoSecretAppearsInLogsTheRawEventLogOrTheConfigurationPrintout) {
  auto started = std::chrono::steady_clock::now();
  TestStack stack;
  Secrets secrets;

  // A database role that must give its password: scram-sha-256 for it alone, ahead of the
  // stack's trust lines.
  const std::string db_password = unique("db-password-");
  const std::string port = std::to_string(stack.postgres().port());
  const std::string url_with_userinfo =
      "postgresql://tidemark_app:" + db_password + "@127.0.0.1:" + port + "/tidemark";
  const std::string url_with_query =
      "postgresql://tidemark_app@127.0.0.1:" + port + "/tidemark?password=" + db_password;
  {
    auto connection = stack.connect();
    pqxx::nontransaction setup(*connection);
    setup.exec("CREATE ROLE tidemark_app LOGIN SUPERUSER PASSWORD " +
               connection->quote(db_password));
    fs::path hba = setup.exec1("SHOW hba_file")[0].c_str();
    std::string rules = read_file(hba);
    std::ofstream(hba, std::ios::trunc) << "host all tidemark_app 127.0.0.1/32 scram-sha-256\n"
                                        << rules;
    setup.exec("SELECT pg_reload_conf()");
  }
  EXPECT_THROW(infra::connect("postgresql://tidemark_app@127.0.0.1:" + port + "/tidemark"),
               std::exception)
      << "the role must need its password";
  EXPECT_NO_THROW(infra::connect(url_with_userinfo));
  secrets.add("the database password", db_password);

  // Keys of our own for the roles started below.
  const std::string webhook_key = infra::generate_secret();
  secrets.add_key("the webhook signing key", webhook_key);
  secrets.add_key("the master key", stack.master_key());
  secrets.add_key("the token signing key", stack.token_signing_key());

  // An API at debug level that reaches PostgreSQL with the password; a mailer and an inference
  // worker likewise (the password in the URL's query), and a mailer with SMTP credentials.
  ChildProcess api(
      {TIDEMARK_BINARY, "api", "--http-port", "0", "--database-url", url_with_userinfo,
       "--kafka-bootstrap-servers", stack.bootstrap_servers(), "--data-dir",
       stack.folder().string(), "--master-key", stack.master_key(), "--token-signing-key",
       stack.token_signing_key(), "--log-level", "debug", "--allow-internal-urls", "true"},
      stack.folder() / "api-with-password.log");
  ASSERT_TRUE(api.wait_for_output("Tidemark API on http://", 30s)) << api.output();
  const std::string listening = api.output();
  const std::string marker = "://127.0.0.1:";
  const auto api_port = static_cast<std::uint16_t>(std::stoi(
      listening.substr(listening.find(marker, listening.find("Tidemark API on")) + marker.size())));
  stack.start_mailer({"--database-url", url_with_query, "--log-level", "debug"});
  stack.start_inference({"--database-url", url_with_query, "--webhook-signing-key", webhook_key,
                         "--allow-internal-urls", "true", "--log-level", "debug"});
  const std::string smtp_password = unique("smtp-password-");
  const std::string smtp_url_password = unique("smtp-url-password-");
  secrets.add("the SMTP password", smtp_password);
  secrets.add("the password in the SMTP URL", smtp_url_password);
  ChildProcess smtp_mailer({TIDEMARK_BINARY,
                            "mailer",
                            "--database-url",
                            url_with_userinfo,
                            "--kafka-bootstrap-servers",
                            stack.bootstrap_servers(),
                            "--data-dir",
                            stack.folder().string(),
                            "--master-key",
                            stack.master_key(),
                            "--mailer-group",
                            "smtp-mailer",
                            "--smtp-url",
                            "smtp://postmaster:" + smtp_url_password + "@127.0.0.1:9",
                            "--smtp-username",
                            "postmaster",
                            "--smtp-password",
                            smtp_password,
                            "--log-level",
                            "debug"},
                           stack.folder() / "mailer-smtp.log");

  // An account's whole life: register, a wrong password, login, refresh, a password change,
  // email verification, a password reset, logouts.
  HttpClient client(api_port);
  const std::string first_password = unique("first-password-");
  const std::string wrong_password = unique("wrong-password-");
  const std::string second_password = unique("second-password-");
  const std::string third_password = unique("third-password-");
  for (const auto& [what, value] : {std::pair{"the first password", first_password},
                                    {"a wrong password", wrong_password},
                                    {"the changed password", second_password},
                                    {"the reset password", third_password}}) {
    secrets.add_password(what, value);
  }
  secrets.add_password("the admin's password", "admin password");
  auto registered =
      client.post("/auth/register", R"({"username":"secret-keeper","email":"keeper@example.com",)"
                                    R"("password":")" +
                                        first_password + R"("})");
  ASSERT_EQ(registered.status, 201) << registered.body;
  secrets.add_access_token("the registration's access token",
                           field(registered, "access_token").value());
  secrets.add_refresh_token("the registration's refresh token",
                            field(registered, "refresh_token").value());
  EXPECT_EQ(client
                .post("/auth/login",
                      R"({"username":"secret-keeper","password":")" + wrong_password + R"("})")
                .status,
            401);
  auto login = client.post(
      "/auth/login", R"({"username":"secret-keeper","password":")" + first_password + R"("})");
  ASSERT_EQ(login.status, 200) << login.body;
  secrets.add_access_token("the login's access token", field(login, "access_token").value());
  secrets.add_refresh_token("the login's refresh token", field(login, "refresh_token").value());
  auto refreshed = client.post("/auth/refresh",
                               R"({"refresh_token":")" + *field(login, "refresh_token") + R"("})");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  secrets.add_access_token("the refreshed access token", field(refreshed, "access_token").value());
  secrets.add_refresh_token("the rotated refresh token", field(refreshed, "refresh_token").value());
  client.set_default_header("Authorization", "Bearer " + *field(refreshed, "access_token"));
  ASSERT_EQ(client.get("/me").status, 200);
  auto changed =
      client.request("PATCH", "/user/update", R"({"password":")" + second_password + R"("})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  auto relogin = client.post(
      "/auth/login", R"({"username":"secret-keeper","password":")" + second_password + R"("})");
  ASSERT_EQ(relogin.status, 200) << relogin.body;
  secrets.add_access_token("the second login's access token",
                           field(relogin, "access_token").value());
  secrets.add_refresh_token("the second login's refresh token",
                            field(relogin, "refresh_token").value());
  client.set_default_header("Authorization", "Bearer " + *field(relogin, "access_token"));
  ASSERT_EQ(client.post("/auth/verify-email/request", "").status, 202);
  auto mails = stack.wait_for_mail(1, 30s);
  ASSERT_EQ(mails.size(), 1u);
  const std::string verification_code = code_in(mails[0]);
  secrets.add("the email verification code", verification_code);
  EXPECT_EQ(client.post("/auth/verify-email", R"({"token":")" + verification_code + R"("})").status,
            200);
  ASSERT_EQ(client.post("/auth/password-reset/request", R"({"email":"keeper@example.com"})").status,
            202);
  mails = stack.wait_for_mail(2, 30s);
  ASSERT_EQ(mails.size(), 2u);
  const std::string reset_code = code_in(mails[1]);
  secrets.add("the password reset code", reset_code);
  auto reset =
      client.post("/auth/password-reset",
                  R"({"token":")" + reset_code + R"(","password":")" + third_password + R"("})");
  ASSERT_LT(reset.status, 300) << reset.body;
  auto last_login = client.post(
      "/auth/login", R"({"username":"secret-keeper","password":")" + third_password + R"("})");
  ASSERT_EQ(last_login.status, 200) << last_login.body;
  secrets.add_access_token("the last login's access token",
                           field(last_login, "access_token").value());
  secrets.add_refresh_token("the last login's refresh token",
                            field(last_login, "refresh_token").value());
  client.set_default_header("Authorization", "Bearer " + *field(last_login, "access_token"));

  // A job whose result is posted to a webhook, signed with the key.
  HttpClient admin(api_port);
  sign_in_admin(stack, admin);
  ASSERT_EQ(admin
                .post("/algos", R"({"algo_id":"summary","recording_type":"sensor",)"
                                R"("location":"builtin:summary","version":"1"})")
                .status,
            201);
  WebhookSink sink;
  ASSERT_EQ(client
                .post("/recordings", R"({"recording_id":"signed","recording_link":)"
                                     R"("https://cdn.example.com/r","recording_type":"sensor",)"
                                     R"("user_id":"u"})")
                .status,
            201);
  auto content = client.request("PUT", "/recordings/signed/content?callback_url=" + sink.url(),
                                "[1,2,3]", {{"Content-Type", "application/json"}});
  ASSERT_EQ(content.status, 200) << content.body;
  const std::string call = sink.wait_for_request(30s);
  ASSERT_NE(call.find("Tidemark-Signature: t="), std::string::npos) << "no webhook call came";
  {
    auto header_at = call.find("Tidemark-Signature: ") + 20;
    std::string signature = call.substr(header_at, call.find("\r\n", header_at) - header_at);
    std::string body = call.substr(call.find("\r\n\r\n") + 4);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    EXPECT_TRUE(infra::verify_webhook_signature(*infra::base64url_decode(webhook_key), signature,
                                                body, now))
        << "the webhook was not signed with the key given";
  }

  // Both mailers share the mail's delivery record, so whichever takes a mail first delivers it.
  // With the outbox mailer stopped, the next mail is the SMTP mailer's alone: it fails to
  // deliver it (the port is closed) and logs that, which (a) searches for secrets.
  stack.stop_mailer();
  ASSERT_EQ(client.post("/auth/password-reset/request", R"({"email":"keeper@example.com"})").status,
            202);

  // Logouts: the bearer's session, and seed 000's by session id (the reset ended the others).
  auto another = client.post(
      "/auth/login", R"({"username":"secret-keeper","password":")" + third_password + R"("})");
  ASSERT_EQ(another.status, 200) << another.body;
  secrets.add_access_token("one more login's access token", field(another, "access_token").value());
  secrets.add_refresh_token("one more login's refresh token",
                            field(another, "refresh_token").value());
  ASSERT_EQ(client.request("DELETE", "/auth/logout").status, 200);
  EXPECT_EQ(
      client.post("/auth/logout", R"({"session-id":")" + *field(another, "session_id") + R"("})")
          .status,
      200);
  ASSERT_TRUE(stack.wait_until_projected(30s));
  // Let the SMTP mailer try its deliveries (to a closed port) and log what it logs.
  EXPECT_TRUE(smtp_mailer.wait_for_output("SMTP delivery failed", 60s)) << smtp_mailer.output();
  api.send_signal(SIGTERM);
  EXPECT_EQ(api.wait(20s), 0);
  smtp_mailer.send_signal(SIGTERM);
  smtp_mailer.wait(20s);
  note(std::to_string(secrets.size()) +
       " secret strings: 4 passwords and the admin's (each also as base64url and hex), 6 "
       "access tokens and their signatures, 6 refresh tokens and their secret parts, 2 mailed "
       "codes, the webhook, master and token keys (base64url, raw, hex), the database password "
       "and 2 SMTP passwords");

  // (a) Every process's output: the stack's API, projector, mailers and inference worker.
  int log_files = 0;
  std::uintmax_t log_bytes = 0;
  std::string all_logs;
  for (const auto& entry : fs::directory_iterator(stack.folder())) {
    if (entry.path().extension() != ".log") continue;
    std::string text = read_file(entry.path());
    ++log_files;
    log_bytes += text.size();
    secrets.expect_absent("the log " + entry.path().filename().string(), text);
    all_logs += text;
  }
  EXPECT_GE(log_files, 6);
  // The logs hold what they should (the check reads real output): each role's start, the
  // SMTP mailer's failed deliveries.
  for (const char* expected : {"API listening", "mailer sending over SMTP", "SMTP delivery failed",
                               "inference worker started"}) {
    EXPECT_NE(all_logs.find(expected), std::string::npos) << "no '" << expected << "' logged";
  }
  note("(a) logs: " + std::to_string(log_files) + " files, " + std::to_string(log_bytes) +
       " bytes (API at debug level, projector, outbox and SMTP mailers, inference worker): "
       "no secret found");

  // (b) The raw records of both topics, keys, headers and values as the broker holds them.
  std::size_t records = 0, raw_bytes = 0;
  for (const std::string topic : {"tidemark.events", "tidemark.events.dlq"}) {
    std::string raw = stack.dump_topic(topic);
    records += static_cast<std::size_t>(std::count(raw.begin(), raw.end(), '\n'));
    raw_bytes += raw.size();
    secrets.expect_absent("the raw topic " + topic, raw);
    if (topic == "tidemark.events") {
      for (const char* type : {"tidemark.user.registered.v1", "tidemark.user.password_reset.v1",
                               "tidemark.session.refreshed.v1", "tidemark.job.succeeded.v1"}) {
        EXPECT_NE(raw.find(type), std::string::npos) << "the log lacks " << type;
      }
    }
  }
  // The mail outbox, by contrast, must hold the codes: proof that the search finds them.
  std::string outbox = read_file(stack.outbox());
  EXPECT_NE(outbox.find(reset_code), std::string::npos);
  note("(b) raw event log: " + std::to_string(records) + " records, " + std::to_string(raw_bytes) +
       " bytes of tidemark.events and tidemark.events.dlq: no secret found (the outbox, meant "
       "to hold the codes, does)");

  // (c) `tidemark config ROLE` with every secret set, by flag and by environment variable.
  const std::vector<std::string> environment = {
      "TIDEMARK_MASTER_KEY=" + stack.master_key(),
      "TIDEMARK_TOKEN_SIGNING_KEY=" + stack.token_signing_key(),
      "TIDEMARK_WEBHOOK_SIGNING_KEY=" + webhook_key,
      "TIDEMARK_SMTP_URL=smtp://postmaster:" + smtp_url_password + "@mail.example.com:587",
      "TIDEMARK_SMTP_PASSWORD=" + smtp_password,
      "TIDEMARK_PASSWORD=admin password"};
  int printouts = 0;
  for (const std::string role :
       {"api", "projector", "mailer", "inference", "broker", "dev", "migrate", "create-admin"}) {
    for (const std::string& database_url :
         {url_with_userinfo, url_with_query,
          "host=127.0.0.1 port=" + port + " user=tidemark_app password=" + db_password,
          "postgres://tidemark_app:" + db_password + "@127.0.0.1:" + port +
              "/tidemark?sslmode=disable&password=" + db_password}) {
      std::vector<std::string> by_environment = {"env"};
      by_environment.insert(by_environment.end(), environment.begin(), environment.end());
      by_environment.push_back("TIDEMARK_DATABASE_URL=" + database_url);
      by_environment.insert(by_environment.end(), {TIDEMARK_BINARY, "config", role});
      auto [code, printed] = run_command(by_environment);
      EXPECT_EQ(code, 0) << role << ": " << printed;
      secrets.expect_absent("`tidemark config " + role + "` (secrets from the environment)",
                            printed);
      ++printouts;
      // Roles that read the setting print it, masked.
      auto line = printed.find("\ndatabase_url = ");
      if (line != std::string::npos) {
        std::string shown = printed.substr(line + 1, printed.find('\n', line + 1) - line - 1);
        EXPECT_NE(shown.find("****"), std::string::npos) << role << ": " << shown;
      }
    }
  }
  auto [code, printed] = run_command({TIDEMARK_BINARY, "config", "api", "--database-url",
                                      url_with_query, "--master-key", stack.master_key(),
                                      "--token-signing-key", stack.token_signing_key()});
  EXPECT_EQ(code, 0) << printed;
  secrets.expect_absent("`tidemark config api` (secrets as flags)", printed);
  ++printouts;
  note("(c) tidemark config: " + std::to_string(printouts) +
       " printouts (8 roles × 4 forms of database_url, keys and SMTP credentials from the "
       "environment, and flags): no secret found");
  note(took_since(started));
}

}  // namespace
}  // namespace tidemark::testing
