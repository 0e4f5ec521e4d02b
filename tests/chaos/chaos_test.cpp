// Faults on purpose: the broker going away under load, projectors killed with SIGKILL again and
// again, PostgreSQL restarted mid-stream, and abusive clients. Each test prints what it tried and
// what it found. TIDEMARK_CHAOS_ROUNDS (default 1) repeats the faults: the README's test command
// runs the short form, `TIDEMARK_CHAOS_ROUNDS=20 ctest -L chaos` the long one. The tests count
// faults injected, requests acknowledged, events lost and duplicates (tests/support/tally.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"
#include "tests/support/tally.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int rounds() {
  const char* text = std::getenv("TIDEMARK_CHAOS_ROUNDS");
  int value = text ? std::atoi(text) : 1;
  return std::clamp(value, 1, 1000);
}

void report(const std::string& line) {
  std::cout << "chaos: " << line << std::endl;
}

std::string entry(int i) {
  return R"({"user_id":"u","event_type":"chaos","event_source":"test","event_data":{"i":)" +
         std::to_string(i) + "}}";
}

/// Writers posting entries until told to stop; they remember every acknowledged event id and
/// the slowest refusal.
class Writers {
 public:
  Writers(std::uint16_t port, std::string token, int threads, bool asynchronous) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, port, token, t, asynchronous] {
        HttpClient client(port);
        client.set_default_header("Authorization", "Bearer " + token);
        if (asynchronous) client.set_default_header("Prefer", "respond-async");
        for (int i = 0; i < 100000 && !stop_; ++i) {
          auto started = Clock::now();
          auto reply = client.post("/events", entry(t * 100000 + i));
          auto took = Clock::now() - started;
          rapidjson::Document body;
          body.Parse(reply.body.c_str());
          std::lock_guard lock(mutex_);
          if (reply.status / 100 == 2 && body.IsObject() && body.HasMember("event_id")) {
            acknowledged_.insert(body["event_id"].GetString());
          } else if (reply.status == 503) {
            ++refused_;
            slowest_refusal_ = std::max(slowest_refusal_, took);
            std::this_thread::sleep_for(50ms);
          } else {
            ++other_;
          }
        }
      });
    }
  }
  ~Writers() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  std::set<std::string> acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }
  int refused() const { return refused_; }
  int other() const { return other_; }
  Clock::duration slowest_refusal() const { return slowest_refusal_; }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<std::string> acknowledged_;
  int refused_ = 0;
  int other_ = 0;
  Clock::duration slowest_refusal_{};
  std::vector<std::thread> threads_;
};

/// Every acknowledged entry is in the read model once, and nothing else is.
void expect_exactly_the_acknowledged(TestStack& stack, const std::set<std::string>& acknowledged) {
  ASSERT_TRUE(stack.wait_until_projected(90s));
  auto connection = stack.connect();
  pqxx::nontransaction read(*connection);
  std::set<std::string> projected;
  auto rows = read.exec("SELECT event_id::text FROM event_log WHERE event_type = 'chaos'");
  for (const auto& row : rows) projected.insert(row[0].c_str());
  std::size_t missing = 0;
  for (const auto& id : acknowledged) missing += projected.count(id) ? 0 : 1;
  report(std::to_string(acknowledged.size()) + " acknowledged, " +
         std::to_string(projected.size()) + " projected, " + std::to_string(missing) + " missing");
  tally::add("requests acknowledged", static_cast<std::int64_t>(acknowledged.size()));
  tally::add("events lost", static_cast<std::int64_t>(missing));
  EXPECT_EQ(missing, 0u);
  // A write refused with 503 may still have reached the log (the acknowledgement was lost):
  // more rows than acknowledgements is allowed, never fewer, and never a row twice.
  EXPECT_GE(projected.size(), acknowledged.size());
  tally::add("duplicates", static_cast<std::int64_t>(rows.size() - projected.size()));
  EXPECT_EQ(rows.size(), projected.size());
}

TEST(Chaos, BrokerLossUnderLoadLosesNoAcknowledgedWriteAndRefusesQuickly) {
  TestStack stack(TestStack::Options{3, {"--produce-timeout-ms", "1500"}, true});
  HttpClient setup(stack.api_port());
  std::string token = sign_in(setup, "chaos-writer");
  // Asynchronous writes keep every writer on the broker path (a projected write would sit in
  // its projection wait through the outage instead).
  Writers writers(stack.api_port(), token, 4, true);
  std::mt19937 random(7);
  for (int round = 0; round < rounds(); ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + random() % 1000));
    stack.broker().set_down();
    tally::add("faults injected");
    auto outage = std::chrono::milliseconds(2000 + random() % 2000);
    report("round " + std::to_string(round + 1) + ": broker down for " +
           std::to_string(outage.count()) + " ms");
    std::this_thread::sleep_for(outage);
    stack.broker().set_up();
  }
  std::this_thread::sleep_for(3s);  // writes succeed again before the writers stop
  writers.stop();
  auto acknowledged = writers.acknowledged();
  report(std::to_string(writers.refused()) + " refused with 503, slowest refusal " +
         std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(writers.slowest_refusal())
                 .count()) +
         " ms, " + std::to_string(writers.other()) + " other answers");
  EXPECT_GT(writers.refused(), 0) << "no request met the outage";
  EXPECT_LT(writers.slowest_refusal(), 5s) << "a refusal hung instead of answering 503";
  EXPECT_EQ(writers.other(), 0);
  expect_exactly_the_acknowledged(stack, acknowledged);
}

TEST(Chaos, ProjectorsKilledAgainAndAgainEndEqualToACleanRebuild) {
  TestStack stack;
  HttpClient setup(stack.api_port());
  std::string token = sign_in(setup, "chaos-killer");
  Writers writers(stack.api_port(), token, 2, true);
  std::mt19937 random(11);
  int kills = 3 * rounds();
  for (int kill = 0; kill < kills; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 600));
    stack.stop_projector();  // SIGKILL
    tally::add("faults injected");
    stack.start_projector();
  }
  report(std::to_string(kills) + " projector kills (SIGKILL) during the stream");
  std::this_thread::sleep_for(1s);
  writers.stop();
  expect_exactly_the_acknowledged(stack, writers.acknowledged());
  auto [code, output] =
      stack.tidemark({"rebuild", "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                      "--master-key", stack.master_key()});
  report("clean rebuild: " + output.substr(output.rfind("rebuild:")));
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output.find("DIFFERENT"), std::string::npos) << output;
}

TEST(Chaos, PostgresRestartMidStreamRecoversByItselfAndReadsAnswer503Meanwhile) {
  TestStack stack;
  HttpClient setup(stack.api_port());
  std::string token = sign_in(setup, "chaos-restart");
  Writers writers(stack.api_port(), token, 2, true);
  HttpClient reader(stack.api_port());
  reader.set_default_header("Authorization", "Bearer " + token);
  for (int round = 0; round < rounds(); ++round) {
    std::this_thread::sleep_for(1s);
    stack.postgres().stop();
    tally::add("faults injected");
    std::set<int> statuses;
    auto deadline = Clock::now() + 2s;
    Clock::duration slowest{};
    while (Clock::now() < deadline) {
      auto started = Clock::now();
      statuses.insert(reader.get("/events?size=1").status);
      slowest = std::max(slowest, Clock::now() - started);
    }
    stack.postgres().start();
    std::string seen;
    for (int status : statuses) seen += " " + std::to_string(status);
    report("round " + std::to_string(round + 1) + ": PostgreSQL down 2 s, reads answered" + seen +
           ", slowest " +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()) +
           " ms");
    EXPECT_TRUE(statuses.count(503)) << seen;
    EXPECT_FALSE(statuses.count(500)) << seen;
    EXPECT_LT(slowest, 5s);
  }
  std::this_thread::sleep_for(2s);
  writers.stop();
  expect_exactly_the_acknowledged(stack, writers.acknowledged());
  EXPECT_EQ(reader.get("/events?size=1").status, 200);
}

/// A raw loopback connection for abusive clients.
int open_connection(std::uint16_t port) {
  int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(socket_fd);
    return -1;
  }
  return socket_fd;
}

long resident_kilobytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

TEST(Chaos, AbusiveClientsDoNotStopTheServerAnsweringOthers) {
  TestStack stack;
  int pid = stack.api().pid();
  long memory_before = resident_kilobytes(pid);
  const int idle = 1000;
  std::vector<int> sockets;
  for (int i = 0; i < idle; ++i) {
    int fd = open_connection(stack.api_port());
    if (fd >= 0) sockets.push_back(fd);
  }
  // Slowloris: headers that never end, a byte now and then.
  std::vector<int> slow;
  for (int i = 0; i < 50; ++i) {
    int fd = open_connection(stack.api_port());
    if (fd < 0) continue;
    ::send(fd, "GET /healthz HTTP/1.1\r\nX-Slow: ", 31, MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  // Huge headers and a body over the limit.
  HttpClient abuser(stack.api_port());
  auto huge = abuser.request("GET", "/healthz", "", {{"X-Huge", std::string(64 * 1024, 'h')}});
  HttpClient abuser2(stack.api_port());
  auto oversized = abuser2.post("/events", std::string(2 << 20, 'x'));
  // Each abusive connection and request is a fault of its own.
  tally::add("faults injected", static_cast<std::int64_t>(sockets.size() + slow.size() + 2));

  HttpClient client(stack.api_port());
  std::vector<double> latencies;
  for (int i = 0; i < 200; ++i) {
    for (int fd : slow) ::send(fd, "x", 1, MSG_NOSIGNAL);
    auto started = Clock::now();
    ASSERT_EQ(client.get("/healthz").status, 200);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
  }
  std::sort(latencies.begin(), latencies.end());
  long memory_after = resident_kilobytes(pid);
  report(std::to_string(sockets.size()) + " idle and " + std::to_string(slow.size()) +
         " slowloris connections, a 64 KiB header (" + std::to_string(huge.status) +
         ") and a 2 MiB body (" + std::to_string(oversized.status) + "); /healthz p50 " +
         std::to_string(latencies[100]) + " ms, p99 " + std::to_string(latencies[198]) +
         " ms; API memory " + std::to_string(memory_before / 1024) + " → " +
         std::to_string(memory_after / 1024) + " MiB");
  EXPECT_GE(sockets.size(), static_cast<std::size_t>(idle * 9 / 10));
  // Pistache takes headers up to the request limit; the proxy in front caps them at 8 KiB.
  EXPECT_TRUE(huge.status == 200 || huge.status == 413 || huge.status == 431) << huge.status;
  EXPECT_EQ(oversized.status, 413);
  EXPECT_LT(latencies[198], 50.0) << "p99 of others' requests under abuse";
  EXPECT_LT(memory_after - memory_before, 256 * 1024) << "memory grew by more than 256 MiB";
  for (int fd : sockets) ::close(fd);
  for (int fd : slow) ::close(fd);
}

}  // namespace
}  // namespace tidemark::testing
