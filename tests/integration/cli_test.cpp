// The commands as a user runs them: `tidemark dev` twice on one data folder, `tidemark broker`
// with kcat, `tidemark migrate`, and `--help` on every command.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class TemporaryFolder {
 public:
  TemporaryFolder() {
    char pattern[] = "/tmp/tidemark-cli-XXXXXX";
    path_ = ::mkdtemp(pattern);
    fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::uint16_t port_from(const ChildProcess& process, const std::string& marker) {
  std::string output = process.output();
  return static_cast<std::uint16_t>(std::stoi(output.substr(output.find(marker) + marker.size())));
}

TEST(Cli, DevRunsTheWholeStackAndASecondRunReusesItsData) {
  TemporaryFolder folder;
  const std::string marker = "Tidemark is running: http://127.0.0.1:";
  std::string event_id;
  std::string token;
  for (int run = 1; run <= 2; ++run) {
    ChildProcess dev({TIDEMARK_BINARY, "dev", "--data-dir", (folder.path() / "stack").string(),
                      "--http-port", "0", "--broker-port", "0", "--topic-partitions", "2"},
                     folder.path() / ("dev-" + std::to_string(run) + ".log"));
    ASSERT_TRUE(dev.wait_for_output(marker, 90s)) << dev.output();
    HttpClient client(port_from(dev, marker));
    if (run == 1) {
      token = sign_in(client, "dev-user");
      auto created =
          client.post("/events", R"({"user_id":"u","event_type":"t","event_source":"s"})");
      ASSERT_EQ(created.status, 201) << created.body;
      event_id = created.body.substr(created.body.find("\"event_id\":\"") + 12, 36);
      EXPECT_TRUE(fs::exists(folder.path() / "stack" / "broker.address"));
      // The stack's own clients use the cheaper Unix socket (no server address on it).
      std::ifstream url_file(folder.path() / "stack" / "database.url");
      std::string database_url;
      std::getline(url_file, database_url);
      pqxx::connection database(database_url);
      pqxx::nontransaction query(database);
      EXPECT_TRUE(query.exec1("SELECT inet_server_addr()")[0].is_null()) << database_url;
    } else {
      client.set_default_header("Authorization", "Bearer " + token);
      // The same row, and the replayed log agrees with the stored positions: a new event is
      // projected rather than skipped as already applied.
      EXPECT_EQ(client.get("/events/" + event_id).status, 200);
      auto created =
          client.post("/events", R"({"user_id":"u","event_type":"t","event_source":"s"})");
      EXPECT_EQ(created.status, 201) << created.body << dev.output();
      EXPECT_EQ(client.get("/events?user_id=u").header("x-total-count"), "2");
      EXPECT_NE(dev.output().find("broker journal replayed"), std::string::npos);
    }
    dev.send_signal(SIGTERM);
    EXPECT_EQ(dev.wait(30s), std::optional<int>(0)) << dev.output();
  }
}

TEST(Cli, BrokerServesKcatOnItsConfiguredPort) {
  TemporaryFolder folder;
  // A free port: bind, read, release.
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  std::string port = std::to_string(ntohs(address.sin_port));
  ::close(probe);

  // Each run prints how many partitions its topics have.
  auto start_broker = [&](const std::string& partitions, const std::string& log,
                          const std::string& banner) {
    auto broker = std::make_unique<ChildProcess>(
        std::vector<std::string>{TIDEMARK_BINARY, "broker", "--broker-port", port, "--data-dir",
                                 folder.path().string(), "--topic-partitions", partitions},
        folder.path() / log);
    EXPECT_TRUE(broker->wait_for_output(
        "Tidemark broker on 127.0.0.1:" + port + " (" + banner + " partitions per topic)", 30s))
        << broker->output();
    return broker;
  };
  auto stop_broker = [](ChildProcess& broker) {
    broker.send_signal(SIGTERM);
    EXPECT_EQ(broker.wait(15s), std::optional<int>(0));
  };
  std::string bootstrap = "127.0.0.1:" + port;
  auto read_topic = [&] {
    auto [consumed, output] = run_command({"kcat", "-C", "-b", bootstrap, "-t", "tidemark.events",
                                           "-o", "beginning", "-e", "-q", "-f", "%p %h %s\n"},
                                          30s);
    EXPECT_EQ(consumed, 0) << output;
    return output;
  };

  auto broker = start_broker("4", "broker.log", "4");
  std::ifstream address_file(folder.path() / "broker.address");
  std::string written;
  std::getline(address_file, written);
  EXPECT_EQ(written, bootstrap);

  auto [produced, produce_output] =
      run_command({"sh", "-c",
                   "printf 'hello-from-kcat\\n' | kcat -P -b " + bootstrap +
                       " -t tidemark.events -p 3 -H ce_type=probe"});
  ASSERT_EQ(produced, 0) << produce_output;
  EXPECT_EQ(read_topic(), "3 ce_type=probe hello-from-kcat\n");
  auto [listed, metadata] = run_command({"kcat", "-L", "-b", bootstrap, "-t", "tidemark.events"});
  EXPECT_NE(metadata.find("4 partitions"), std::string::npos) << metadata;
  const fs::path journal = folder.path() / "broker.journal";
  for (int tries = 0; tries < 100 && !(fs::exists(journal) && fs::file_size(journal) > 0);
       ++tries) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GT(fs::file_size(journal), 0u) << "the journal never got the record";
  stop_broker(*broker);
  EXPECT_FALSE(fs::exists(folder.path() / "broker.address"));

  // Asked for fewer partitions, the folder keeps its four: the record on partition 3 comes back
  // where it was.
  auto again = start_broker("2", "broker-again.log", "4");
  EXPECT_EQ(read_topic(), "3 ce_type=probe hello-from-kcat\n");
  stop_broker(*again);

  // A journal without its partitions file comes from before it existed, when every folder had 6.
  ASSERT_TRUE(fs::remove(folder.path() / "broker.journal.partitions"));
  auto older = start_broker("2", "broker-older.log", "6");
  stop_broker(*older);
}

TEST(Cli, MigrateGoesDownAndUpAndReportsStatus) {
  TestStack stack(TestStack::Options{1, {}, false});
  auto [status_code, status] = stack.tidemark({"migrate", "status"});
  ASSERT_EQ(status_code, 0) << status;
  EXPECT_NE(status.find("0002 event_log"), std::string::npos) << status;
  EXPECT_EQ(status.find("pending"), std::string::npos) << status;

  auto [down_code, down] = stack.tidemark({"migrate", "down"});
  ASSERT_EQ(down_code, 0) << down;
  EXPECT_NE(down.find("reverted 1 migration(s)"), std::string::npos) << down;
  // Only the latest migration is reverted: the status lists it, and only it, as pending.
  auto connection = stack.connect();
  int applied = pqxx::nontransaction(*connection)
                    .exec1("SELECT count(*) FROM schema_migrations")[0]
                    .as<int>();
  auto [after_code, after] = stack.tidemark({"migrate", "status"});
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = after.find('\n', start)) != std::string::npos;
       start = end + 1) {
    if (after.compare(start, 1, "0") == 0) lines.push_back(after.substr(start, end - start));
  }
  ASSERT_EQ(static_cast<int>(lines.size()), applied + 1) << after;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    bool pending = lines[i].ends_with("pending");
    EXPECT_EQ(pending, i + 1 == lines.size()) << lines[i];
  }
  auto [up_code, up] = stack.tidemark({"migrate"});
  ASSERT_EQ(up_code, 0) << up;
  EXPECT_NE(up.find("applied 1 migration(s)"), std::string::npos) << up;
  auto [again_code, again] = stack.tidemark({"migrate", "up"});
  EXPECT_NE(again.find("applied 0 migration(s)"), std::string::npos) << again;
  auto [bad_code, bad] = stack.tidemark({"migrate", "sideways"});
  EXPECT_EQ(bad_code, 2);
  EXPECT_NE(bad.find("usage: tidemark migrate"), std::string::npos) << bad;
}

TEST(Cli, EveryCommandHasHelpWithEachSettingAndItsDefault) {
  for (const char* command : {"api", "projector", "inference", "broker", "dev", "migrate"}) {
    auto [code, help] = run_command({TIDEMARK_BINARY, command, "--help"});
    EXPECT_EQ(code, 0) << command;
    EXPECT_NE(help.find("usage: tidemark " + std::string(command)), std::string::npos) << help;
    EXPECT_NE(help.find("--data-dir VALUE  (env TIDEMARK_DATA_DIR)"), std::string::npos) << help;
    EXPECT_NE(help.find("default: .tidemark"), std::string::npos) << help;
  }
  auto [dev_code, dev_help] = run_command({TIDEMARK_BINARY, "dev", "--help"});
  EXPECT_NE(dev_help.find("--http-port VALUE  (env TIDEMARK_HTTP_PORT)"), std::string::npos);
  EXPECT_NE(dev_help.find("default: 8080"), std::string::npos);
  auto [bad_code, bad] = run_command({TIDEMARK_BINARY, "api", "--http-port", "99999"});
  EXPECT_EQ(bad_code, 2);
  EXPECT_NE(bad.find("http_port must be between 0 and 65535, got 99999"), std::string::npos) << bad;
  auto [unknown_code, unknown] = run_command({TIDEMARK_BINARY, "api", "--colour", "blue"});
  EXPECT_EQ(unknown_code, 2);
  EXPECT_NE(unknown.find("unknown option '--colour'"), std::string::npos) << unknown;
  auto [config_code, config] = run_command(
      {TIDEMARK_BINARY, "config", "api", "--database-url", "postgresql://u:secret@db/x"});
  EXPECT_EQ(config_code, 0);
  EXPECT_NE(config.find("database_url = postgresql://u:****@db/x"), std::string::npos) << config;
  EXPECT_EQ(config.find("secret"), std::string::npos) << config;
}

}  // namespace
}  // namespace tidemark::testing
