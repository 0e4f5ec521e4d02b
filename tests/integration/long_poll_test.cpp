// The long-poll behind `?wait=` (api::long_poll), driven directly against a real PostgreSQL:
// a change announced while a read is under way must wake the poll at once. A long-poll that
// listened again only after its read lost such a change and slept to its deadline (fixed in
// commit e6bfc63); over HTTP the window is too narrow to hit on purpose, so this test holds a
// read open while the change is announced. Once answered, the poll leaves no wait behind.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <pqxx/pqxx>
#include <thread>

#include "api/jobs.h"
#include "api/rate_limiter.h"
#include "api/routes.h"
#include "infra/checkpoint_watcher.h"
#include "infra/database.h"
#include "infra/jwt.h"
#include "infra/kafka.h"
#include "infra/keyring.h"
#include "infra/notification_watcher.h"
#include "infra/password_hasher.h"
#include "projections/jobs.h"
#include "projections/read_models.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;

/// The API's context over a test stack's database and broker: what `long_poll` reads from.
struct ApiParts {
  explicit ApiParts(const TestStack& stack)
      : producer({stack.bootstrap_servers(), "long-poll-test", 10000, {}}),
        watcher(stack.database_url(), projections::kReadModelsProjection, "tidemark.events"),
        job_watcher(stack.database_url(), projections::kJobsChannel),
        database(stack.database_url(), 2, 64),
        hasher(1, 4),
        signer(std::string(32, 'k'), "tidemark", "tidemark-api"),
        keyring(std::string(32, 'm')),
        limiter(1000, 60s),
        context(std::make_shared<api::ApiContext>(api::ApiContext{producer,
                                                                  watcher,
                                                                  database,
                                                                  "tidemark.events",
                                                                  1s,
                                                                  hasher,
                                                                  signer,
                                                                  keyring,
                                                                  {},
                                                                  limiter,
                                                                  limiter,
                                                                  limiter,
                                                                  "",
                                                                  {},
                                                                  {},
                                                                  job_watcher,
                                                                  ""})) {}

  infra::EventProducer producer;
  infra::CheckpointWatcher watcher;
  infra::NotificationWatcher job_watcher;
  infra::DatabasePool database;
  infra::PasswordHasher hasher;
  infra::JwtSigner signer;
  infra::Keyring keyring;
  api::RateLimiter limiter;
  std::shared_ptr<api::ApiContext> context;
};

/// Announces `key` on the jobs channel, as the projector does when a job changes.
void announce(const TestStack& stack, const std::string& key) {
  pqxx::nontransaction(*stack.connect())
      .exec_params("SELECT pg_notify($1, $2)", projections::kJobsChannel, key);
}

/// Returns once the watcher has its LISTEN in place: a probe key is announced until its waiter
/// is called back (bounded).
void wait_until_listening(const TestStack& stack, infra::NotificationWatcher& watcher) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto woken = std::make_shared<std::promise<bool>>();
    auto result = woken->get_future();
    watcher.wait_for("probe", std::chrono::steady_clock::now() + 100ms,
                     [woken](bool notified) { woken->set_value(notified); });
    announce(stack, "probe");
    if (result.get()) return;
  }
  FAIL() << "the job watcher never received a notification";
}

TEST(LongPoll, AChangeAnnouncedDuringAReadWakesThePollAtOnce) {
  TestStack stack(TestStack::Options{1, {}, false});
  ApiParts parts(stack);
  wait_until_listening(stack, parts.job_watcher);

  std::atomic<int> reads{0};
  std::atomic<bool> final_read{false};
  auto answered = std::make_shared<std::promise<api::HttpResponse>>();
  auto answer = answered->get_future();
  auto started = std::chrono::steady_clock::now();
  api::HttpRequest request;
  request.method = "GET";
  request.path = "/jobs/job-under-test";
  api::long_poll(
      parts.context, request,
      [answered](api::HttpResponse response) { answered->set_value(std::move(response)); },
      "job-under-test", started + 20s,
      [&](pqxx::connection&, bool final) -> std::optional<api::HttpResponse> {
        int read = ++reads;
        if (final) final_read = true;
        if (read == 1) {
          // The job changes while this read is under way, after it looked: announced, and
          // delivered to the watcher, before the read returns "not yet".
          announce(stack, "job-under-test");
          std::this_thread::sleep_for(500ms);
          return std::nullopt;
        }
        return api::HttpResponse{200, R"({"status":"succeeded"})", "application/json", {}};
      });

  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready)
      << "the change announced during the first read woke nobody";
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(answer.get().status, 200);
  EXPECT_EQ(reads.load(), 2);
  EXPECT_FALSE(final_read.load()) << "answered at the deadline, not by the announcement";
  EXPECT_LT(waited, 5s);
  // The wait registered before the answering read is dropped with the answer, not kept (with
  // the poll and its request) until the deadline 20 s away. Bounded: the drop follows the answer.
  for (int attempt = 0; attempt < 100 && parts.job_watcher.waiting() > 0; ++attempt) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(parts.job_watcher.waiting(), 0u);
}

}  // namespace
}  // namespace tidemark::testing
