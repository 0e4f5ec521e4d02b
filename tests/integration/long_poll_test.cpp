// The long-poll behind `?wait=` (api::long_poll), driven directly against a real PostgreSQL:
// a change announced while a read is under way must wake the poll at once. A long-poll that
// listened again only after its read lost such a change and slept to its deadline (fixed in
// commit e6bfc63); over HTTP the window is too narrow to hit on purpose, so this test holds a
// read open while the change is announced. Once answered, the poll leaves no wait behind.
// The armed poll of `POST /predict` is driven in both orders of acknowledgement and result.
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

/// Announces `key` and waits for a wait registered for it just before: true once the watcher
/// called it back notified, false at `timeout`. Waits for one key are called in the order they
/// were registered, so every earlier wait for `key` has been called back by then.
bool announce_and_deliver(const TestStack& stack, infra::NotificationWatcher& watcher,
                          const std::string& key, std::chrono::milliseconds timeout) {
  auto delivered = std::make_shared<std::promise<bool>>();
  auto result = delivered->get_future();
  watcher.wait_for(key, std::chrono::steady_clock::now() + timeout,
                   [delivered](bool notified) { delivered->set_value(notified); });
  announce(stack, key);
  return result.wait_for(timeout) == std::future_status::ready && result.get();
}

/// Returns once the watcher has its LISTEN in place: a probe key is announced until its waiter
/// is called back (bounded).
void wait_until_listening(const TestStack& stack, infra::NotificationWatcher& watcher) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (announce_and_deliver(stack, watcher, "probe", 100ms)) return;
  }
  FAIL() << "the job watcher never received a notification";
}

/// The watcher's waits left after a bounded wait for the last ones to be dropped (an answer
/// drops its poll's wait just after responding).
std::size_t waits_left(infra::NotificationWatcher& watcher) {
  for (int attempt = 0; attempt < 100 && watcher.waiting() > 0; ++attempt) {
    std::this_thread::sleep_for(20ms);
  }
  return watcher.waiting();
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
  EXPECT_EQ(waits_left(parts.job_watcher), 0u);
}

/// POST /predict's armed poll over a test stack, and what the test learns from it: its reads
/// (each finds the result) and its answer.
class ArmedPoll : public ::testing::Test {
 protected:
  ArmedPoll() { wait_until_listening(stack_, parts_.job_watcher); }

  std::shared_ptr<api::ArmedLongPoll> arm(const std::string& key) {
    api::HttpRequest request;
    request.method = "POST";
    request.path = "/predict";
    return api::arm_long_poll(
        parts_.context, request, key, started_ + 20s,
        [this](pqxx::connection&, bool final) -> std::optional<api::HttpResponse> {
          ++reads_;
          if (final) final_read_ = true;
          return api::HttpResponse{200, R"({"status":"succeeded"})", "application/json", {}};
        });
  }

  api::Respond respond() {
    return [answered = answered_](api::HttpResponse response) {
      answered->set_value(std::move(response));
    };
  }

  TestStack stack_{TestStack::Options{1, {}, false}};
  ApiParts parts_{stack_};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::atomic<int> reads_{0};
  std::atomic<bool> final_read_{false};
  std::shared_ptr<std::promise<api::HttpResponse>> answered_ =
      std::make_shared<std::promise<api::HttpResponse>>();
  std::future<api::HttpResponse> answer_ = answered_->get_future();
};

// The result is announced before the broker's acknowledgement of the submission reaches the
// API. The armed poll must not read then (it has no response to answer on), and must read at
// once when it gets one, not sleep to its deadline.
TEST_F(ArmedPoll, WokenBeforeItsResponseItReadsOnceItHasOne) {
  auto poll = arm("finished:job-armed");
  ASSERT_TRUE(announce_and_deliver(stack_, parts_.job_watcher, "finished:job-armed", 10s))
      << "the announcement never arrived";
  EXPECT_EQ(reads_.load(), 0) << "an armed poll read before it could answer";
  poll->answer_through(respond());

  ASSERT_EQ(answer_.wait_for(10s), std::future_status::ready)
      << "the announcement that came before the response was lost";
  EXPECT_EQ(answer_.get().status, 200);
  EXPECT_EQ(reads_.load(), 1);
  EXPECT_FALSE(final_read_.load()) << "answered at the deadline, not by the announcement";
  EXPECT_LT(std::chrono::steady_clock::now() - started_, 5s);
}

// The common order: the response first, then the announcement. Given its response, the armed
// poll still reads only when woken: one read per prediction.
TEST_F(ArmedPoll, GivenItsResponseItReadsOnlyWhenWoken) {
  auto poll = arm("finished:job-later");
  poll->answer_through(respond());
  EXPECT_EQ(answer_.wait_for(300ms), std::future_status::timeout)
      << "answered before the result was announced";
  EXPECT_EQ(reads_.load(), 0);

  announce(stack_, "finished:job-later");
  ASSERT_EQ(answer_.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(reads_.load(), 1);
  EXPECT_FALSE(final_read_.load());
  EXPECT_EQ(waits_left(parts_.job_watcher), 0u);
}

// A refused submission disarms its poll: the wait goes at once, and a later announcement of the
// same key reads and answers nothing.
TEST_F(ArmedPoll, DisarmedItLeavesNoWaitAndNeverReads) {
  auto poll = arm("finished:job-refused");
  EXPECT_EQ(parts_.job_watcher.waiting(), 1u);
  poll->disarm();
  EXPECT_EQ(parts_.job_watcher.waiting(), 0u);

  ASSERT_TRUE(announce_and_deliver(stack_, parts_.job_watcher, "finished:job-refused", 10s))
      << "the announcement never arrived";
  EXPECT_EQ(reads_.load(), 0);
  EXPECT_EQ(answer_.wait_for(0s), std::future_status::timeout);
}

}  // namespace
}  // namespace tidemark::testing
