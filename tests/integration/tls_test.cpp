// TLS with certificates made at test time: the API over HTTPS (libcurl verifying against the
// test CA), PostgreSQL with ssl=on reached with sslmode=verify-full, and Kafka clients set to
// ssl against the plaintext mock broker (which cannot speak TLS): they must fail, promptly.
#include "infra/tls.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "infra/config.h"
#include "infra/database.h"
#include "infra/kafka.h"
#include "infra/local_postgres.h"
#include "tests/support/certificates.h"
#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// A temporary folder with the test certificates in it, removed at the end.
class CertificateFolder {
 public:
  CertificateFolder() {
    char pattern[] = "/tmp/tidemark-tls-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    // The postgres account reads nothing here (LocalPostgres copies the files), but it must
    // reach the cluster folder made inside when we are root.
    fs::permissions(path_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    files_ = make_test_certificates(path_ / "pki");
  }
  ~CertificateFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  const TestCertificates& files() const { return files_; }

 private:
  fs::path path_;
  TestCertificates files_;
};

struct CurlReply {
  CURLcode code = CURLE_OK;
  std::string error;  ///< curl's message when code is not CURLE_OK
  long status = 0;
  std::vector<std::string> headers;  ///< raw header lines
  std::string body;

  std::string header(const std::string& name) const {
    for (const auto& line : headers) {
      if (line.size() > name.size() && line[name.size()] == ':' &&
          strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
        std::string value = line.substr(name.size() + 1);
        value.erase(0, value.find_first_not_of(' '));
        value.erase(value.find_last_not_of("\r\n ") + 1);
        return value;
      }
    }
    return "";
  }
};

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* reply) {
  static_cast<CurlReply*>(reply)->body.append(data, size * count);
  return size * count;
}

std::size_t append_header(char* data, std::size_t size, std::size_t count, void* reply) {
  static_cast<CurlReply*>(reply)->headers.emplace_back(data, size * count);
  return size * count;
}

/// One request with libcurl, verifying the server against `ca_file`, bounded by `timeout`.
CurlReply request(const std::string& url, const fs::path& ca_file,
                  const std::string& method = "GET", const std::string& body = "",
                  std::chrono::milliseconds timeout = 10s) {
  CurlReply reply;
  CURL* curl = curl_easy_init();
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  // The connect phase includes the TLS handshake.
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  reply.code = curl_easy_perform(curl);
  reply.error = reply.code == CURLE_OK
                    ? ""
                    : std::string(error) + " (" + curl_easy_strerror(reply.code) + ")";
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

/// A TCP connection to the port that sends `start` (nothing by default) and then stalls, as an
/// idle or a broken client would.
class StalledConnection {
 public:
  explicit StalledConnection(std::uint16_t port, const std::string& start = "")
      : socket_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::send(socket_, start.data(), start.size(), 0) == static_cast<ssize_t>(start.size());
  }
  ~StalledConnection() { ::close(socket_); }
  bool connected() const { return connected_; }

 private:
  int socket_;
  bool connected_ = false;
};

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  static void TearDownTestSuite() { curl_global_cleanup(); }
};

TEST_F(Tls, TheApiServesHttpsWithTheConfiguredCertificate) {
  CertificateFolder pki;
  const auto& files = pki.files();
  TestStack stack(TestStack::Options{.api_flags = {"--tls-cert-file", files.cert_file.string(),
                                                   "--tls-key-file", files.key_file.string()}});
  EXPECT_NE(stack.api().output().find("Tidemark API on https://127.0.0.1:"), std::string::npos)
      << stack.api().output();
  const std::string port = std::to_string(stack.api_port());
  const std::string base = "https://127.0.0.1:" + port;

  auto health = request(base + "/healthz", files.ca_file);
  ASSERT_EQ(health.code, CURLE_OK) << health.error;
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.header("Strict-Transport-Security"), "max-age=31536000");
  // The certificate names localhost too.
  auto by_name = request("https://localhost:" + port + "/healthz", files.ca_file);
  ASSERT_EQ(by_name.code, CURLE_OK) << by_name.error;
  EXPECT_EQ(by_name.status, 200);

  // A client that trusts another CA refuses the server.
  auto untrusted = request(base + "/healthz", files.other_ca_file);
  EXPECT_EQ(untrusted.code, CURLE_PEER_FAILED_VERIFICATION) << untrusted.error;

  // Plain HTTP to the TLS port gets no HTTP answer, and promptly.
  auto started = Clock::now();
  auto plain = request("http://127.0.0.1:" + port + "/healthz", files.ca_file);
  EXPECT_NE(plain.code, CURLE_OK);
  EXPECT_EQ(plain.status, 0);
  EXPECT_LT(Clock::now() - started, 5s);
  auto after_plain = request(base + "/healthz", files.ca_file);
  ASSERT_EQ(after_plain.code, CURLE_OK) << after_plain.error;
  EXPECT_EQ(after_plain.status, 200);

  // Pistache 0.0.5 does each handshake on its one accepting thread. Clients that connect and
  // send nothing are not handed to it (TCP_DEFER_ACCEPT), so they hold nobody up ...
  {
    std::vector<std::unique_ptr<StalledConnection>> idle;
    for (int i = 0; i < 3; ++i)
      idle.push_back(std::make_unique<StalledConnection>(stack.api_port()));
    std::this_thread::sleep_for(200ms);
    auto started_while_idle = Clock::now();
    auto reply = request(base + "/healthz", files.ca_file);
    EXPECT_EQ(reply.code, CURLE_OK) << reply.error;
    EXPECT_LT(Clock::now() - started_while_idle, 2s);
  }
  // ... but one that stalls mid-handshake holds new connections until Pistache's 10 s socket
  // timeout gives up on it: bounded, not fixed (hence the proxy in production).
  {
    StalledConnection stalled(stack.api_port(), std::string("\x16\x03\x01", 3));
    ASSERT_TRUE(stalled.connected());
    std::this_thread::sleep_for(200ms);
    auto started_while_stalled = Clock::now();
    auto reply = request(base + "/healthz", files.ca_file, "GET", "", 20s);
    EXPECT_EQ(reply.code, CURLE_OK) << reply.error;
    EXPECT_LT(Clock::now() - started_while_stalled, 13s);
  }

  // TLS implies a Secure token cookie, with no cookie_secure setting.
  auto registered = request(base + "/auth/register", files.ca_file, "POST",
                            R"({"username":"tls-user","password":"test password"})");
  ASSERT_EQ(registered.code, CURLE_OK) << registered.error;
  ASSERT_EQ(registered.status, 201) << registered.body;
  auto login = request(base + "/auth/login", files.ca_file, "POST",
                       R"({"username":"tls-user","password":"test password"})");
  ASSERT_EQ(login.code, CURLE_OK) << login.error;
  ASSERT_EQ(login.status, 200) << login.body;
  std::string cookie = login.header("Set-Cookie");
  EXPECT_EQ(cookie.rfind("X-LIVENESS-TOKEN=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;

  // Bodies larger than one TLS record, both ways.
  auto document = request(base + "/openapi.json", files.ca_file);
  ASSERT_EQ(document.code, CURLE_OK) << document.error;
  EXPECT_EQ(document.status, 200);
  std::ifstream source(fs::path(TIDEMARK_SOURCE_DIR) / "api" / "openapi.json");
  std::stringstream expected;
  expected << source.rdbuf();
  EXPECT_EQ(document.body.size(), expected.str().size());
  std::string big_login =
      R"({"username":"tls-user","password":")" + std::string(600 * 1024, 'x') + R"("})";
  auto refused = request(base + "/auth/login", files.ca_file, "POST", big_login);
  ASSERT_EQ(refused.code, CURLE_OK) << refused.error;
  EXPECT_GE(refused.status, 400) << refused.body;
  EXPECT_LT(refused.status, 500) << refused.body;
}

TEST_F(Tls, BadTlsSettingsStopTheCommandsAtStart) {
  CertificateFolder pki;
  const auto& files = pki.files();
  const std::string data_dir = (pki.path() / "data").string();
  auto [mismatch_code, mismatch] =
      run_command({TIDEMARK_BINARY, "api", "--data-dir", data_dir, "--tls-cert-file",
                   files.cert_file.string(), "--tls-key-file", files.other_key_file.string()},
                  30s);
  EXPECT_EQ(mismatch_code, 2) << mismatch;
  EXPECT_NE(mismatch.find("tls_key_file " + files.other_key_file.string() +
                          " is not the key of the certificate in tls_cert_file"),
            std::string::npos)
      << mismatch;

  auto [half_code, half] = run_command(
      {TIDEMARK_BINARY, "api", "--data-dir", data_dir, "--tls-cert-file", files.cert_file.string()},
      30s);
  EXPECT_EQ(half_code, 2) << half;
  EXPECT_NE(half.find("tls_cert_file and tls_key_file go together"), std::string::npos) << half;

  auto [missing_code, missing] =
      run_command({TIDEMARK_BINARY, "dev", "--data-dir", data_dir, "--tls-cert-file",
                   "/nonexistent/cert.pem", "--tls-key-file", files.key_file.string()},
                  30s);
  EXPECT_EQ(missing_code, 2) << missing;
  EXPECT_NE(missing.find("tls_cert_file /nonexistent/cert.pem: cannot read it"), std::string::npos)
      << missing;
  // dev refuses before starting anything: it made no PostgreSQL cluster.
  EXPECT_FALSE(fs::exists(fs::path(data_dir) / "postgres"));

  auto [broker_code, broker] = run_command(
      {TIDEMARK_BINARY, "dev", "--data-dir", data_dir, "--kafka-security-protocol", "ssl"}, 30s);
  EXPECT_EQ(broker_code, 2) << broker;
  EXPECT_NE(broker.find("the embedded broker speaks plaintext only"), std::string::npos) << broker;
  EXPECT_FALSE(fs::exists(fs::path(data_dir) / "postgres"));

  // Nothing listens at these addresses: the Kafka settings are refused before any connection.
  auto [ca_code, ca] = run_command(
      {TIDEMARK_BINARY, "api", "--data-dir", data_dir, "--database-url",
       "postgresql://tidemark@127.0.0.1:1/tidemark", "--kafka-bootstrap-servers", "127.0.0.1:1",
       "--kafka-security-protocol", "ssl", "--kafka-ssl-ca-file", "/nonexistent/ca.pem"},
      30s);
  EXPECT_EQ(ca_code, 2) << ca;
  EXPECT_NE(ca.find("kafka_ssl_ca_file /nonexistent/ca.pem: cannot read it"), std::string::npos)
      << ca;
}

TEST_F(Tls, AKafkaClientSetToSslFailsAgainstThePlaintextBrokerWithinItsTimeout) {
  CertificateFolder pki;
  infra::EmbeddedBroker broker(infra::EmbeddedBroker::Options{0, {"tls.events"}, 1, ""});
  infra::KafkaSecurity ssl{"ssl", pki.files().ca_file.string()};

  auto started = Clock::now();
  {
    infra::EventProducer producer(
        infra::EventProducer::Options{broker.bootstrap_servers(), "tls-probe", 2000, ssl});
    EXPECT_FALSE(producer.reachable(3s));
    auto appended = producer.append_and_wait("tls.events", "k", "v", {});
    ASSERT_FALSE(appended);
    EXPECT_NE(appended.error().message.find("the broker did not acknowledge"), std::string::npos)
        << appended.error().message;
  }
  EXPECT_LT(Clock::now() - started, 20s);

  // The same client in plaintext works against that broker: the failure was TLS.
  infra::EventProducer plain(
      infra::EventProducer::Options{broker.bootstrap_servers(), "plain-probe", 5000});
  EXPECT_TRUE(plain.append_and_wait("tls.events", "k", "v", {}));
}

TEST_F(Tls, TheApiWithKafkaSslAgainstThePlaintextBrokerAnswers503AndLogsWhy) {
  CertificateFolder pki;
  TestStack stack(TestStack::Options{
      .api_flags = {"--kafka-security-protocol", "ssl", "--kafka-ssl-ca-file",
                    pki.files().ca_file.string(), "--produce-timeout-ms", "2000"}});
  HttpClient client(stack.api_port());
  auto started = Clock::now();
  auto registered =
      client.post("/auth/register", R"({"username":"no-kafka","password":"test password"})");
  EXPECT_EQ(registered.status, 503) << registered.body;
  EXPECT_LT(Clock::now() - started, 15s);
  EXPECT_TRUE(stack.api().wait_for_output(
      "SSL handshake failed: Disconnected: connecting to a PLAINTEXT broker listener?", 10s))
      << stack.api().output();
}

TEST_F(Tls, PostgresqlWithSslOnIsReachedWithVerifyFull) {
  CertificateFolder pki;
  const auto& files = pki.files();
  infra::LocalPostgres postgres(infra::LocalPostgres::Options{
      .data_dir = pki.path() / "postgres",
      .ssl_cert_file = files.cert_file,
      .ssl_key_file = files.key_file,
  });
  postgres.start();
  auto uses_tls = [](pqxx::connection& connection) {
    pqxx::nontransaction query(connection);
    return query.exec1("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0].as<bool>();
  };

  std::string verified =
      infra::with_database_tls(postgres.url(), "verify-full", files.ca_file.string());
  auto connection = infra::connect(verified);
  EXPECT_TRUE(uses_tls(*connection));
  auto plain = infra::connect(infra::with_database_tls(postgres.url(), "disable", ""));
  EXPECT_FALSE(uses_tls(*plain));

  // A CA that did not sign the server's certificate: no connection.
  std::string wrong =
      infra::with_database_tls(postgres.url(), "verify-full", files.other_ca_file.string());
  try {
    infra::connect(wrong);
    ADD_FAILURE() << "connected with a CA that did not sign the server's certificate";
  } catch (const pqxx::broken_connection& error) {
    EXPECT_NE(std::string(error.what()).find("certificate verify failed"), std::string::npos)
        << error.what();
  }

  // The same through the settings of a command.
  auto [code, output] = run_command(
      {TIDEMARK_BINARY, "migrate", "--database-url", postgres.url(), "--database-sslmode",
       "verify-full", "--database-sslrootcert", files.ca_file.string()},
      60s);
  EXPECT_EQ(code, 0) << output;
  auto [wrong_code, wrong_output] = run_command(
      {TIDEMARK_BINARY, "migrate", "status", "--database-url", postgres.url(), "--database-sslmode",
       "verify-full", "--database-sslrootcert", files.other_ca_file.string()},
      60s);
  EXPECT_NE(wrong_code, 0) << wrong_output;
  EXPECT_NE(wrong_output.find("certificate verify failed"), std::string::npos) << wrong_output;
}

}  // namespace
}  // namespace tidemark::testing
