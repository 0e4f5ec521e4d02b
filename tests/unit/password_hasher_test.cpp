#include "infra/password_hasher.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using tidemark::infra::hash_password;
using tidemark::infra::PasswordHasher;
using tidemark::infra::PasswordHashParams;
using tidemark::infra::verify_password;

namespace {

using namespace std::chrono_literals;

// 1 MiB and one pass: the same code paths as the OWASP costs, a fraction of the time.
const PasswordHashParams kCheap{.memory_kib = 1024, .iterations = 1, .parallelism = 1};

/// Waits, bounded, until `predicate` holds under `mutex`; false on timeout.
template <typename Predicate>
bool wait_for(std::mutex& mutex, std::condition_variable& changed, Predicate predicate) {
  std::unique_lock lock(mutex);
  return changed.wait_for(lock, 10s, predicate);
}

/// Threads of this process in the idle scheduling class (SCHED_IDLE), from /proc/self/task.
int idle_class_threads() {
  int idle = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the command name, which is in parentheses and may hold spaces; the policy
    // is field 41 of the line, the 39th after the ")".
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 0; i < 39 && fields >> field; ++i) {
    }
    if (field == std::to_string(SCHED_IDLE)) ++idle;
  }
  return idle;
}

}  // namespace

TEST(PasswordHash, VerifiesTheRightPasswordOnly) {
  std::string encoded = hash_password("correct horse battery staple", kCheap);
  EXPECT_TRUE(verify_password("correct horse battery staple", encoded));
  EXPECT_FALSE(verify_password("correct horse battery stapler", encoded));
  EXPECT_FALSE(verify_password("", encoded));
  EXPECT_FALSE(verify_password("Correct horse battery staple", encoded));
}

TEST(PasswordHash, UsesOwaspArgon2idParametersByDefault) {
  std::string encoded = hash_password("hunter2");
  EXPECT_TRUE(encoded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << encoded;
  // 16-byte salt and 32-byte hash: 22 and 43 base64 characters.
  std::string tail = encoded.substr(std::string("$argon2id$v=19$m=19456,t=2,p=1$").size());
  EXPECT_EQ(tail.find('$'), 22u) << encoded;
  EXPECT_EQ(tail.size(), 22u + 1 + 43) << encoded;
  EXPECT_TRUE(verify_password("hunter2", encoded));
}

TEST(PasswordHash, WritesTheParametersItWasGiven) {
  std::string encoded = hash_password("pw", kCheap);
  EXPECT_TRUE(encoded.starts_with("$argon2id$v=19$m=1024,t=1,p=1$")) << encoded;
}

TEST(PasswordHash, TwoHashesOfOnePasswordDiffer) {
  std::string a = hash_password("same password", kCheap);
  std::string b = hash_password("same password", kCheap);
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password("same password", a));
  EXPECT_TRUE(verify_password("same password", b));
}

TEST(PasswordHash, HandlesEmptyAndBinaryPasswords) {
  std::string empty = hash_password("", kCheap);
  EXPECT_TRUE(verify_password("", empty));
  EXPECT_FALSE(verify_password("x", empty));
  std::string with_nul("a\0b", 3);
  std::string encoded = hash_password(with_nul, kCheap);
  EXPECT_TRUE(verify_password(with_nul, encoded));
  EXPECT_FALSE(verify_password("a", encoded));
}

TEST(PasswordHash, MalformedEncodingsVerifyFalse) {
  std::string good = hash_password("pw", kCheap);
  ASSERT_TRUE(verify_password("pw", good));
  std::string after_prefix = good.substr(std::string("$argon2id$v=19$m=1024,t=1,p=1").size());
  const std::vector<std::string> malformed = {
      "",
      "pw",
      "not a hash",
      "$argon2id$",
      "$argon2id$v=19$m=1024,t=1,p=1$",
      good.substr(0, good.size() - 1),
      good.substr(0, good.rfind('$')),
      good + "$",
      good + "A",
      good + std::string(1, '\0'),
      "$argon2i$v=19$m=1024,t=1,p=1" + after_prefix,
      "$argon2d$v=19$m=1024,t=1,p=1" + after_prefix,
      "$argon2id$v=16$m=1024,t=1,p=1" + after_prefix,
      "$argon2id$m=1024,t=1,p=1" + after_prefix,
      "$argon2id$v=19$m=01024,t=1,p=1" + after_prefix,
      "$argon2id$v=19$m=1024,t=1,p=1,x=1" + after_prefix,
      "$argon2id$v=19$m=,t=1,p=1" + after_prefix,
      "$argon2id$v=19$m=4294967296,t=1,p=1" + after_prefix,
      "$argon2id$v=19$t=1,m=1024,p=1" + after_prefix,
      "$ARGON2ID$v=19$m=1024,t=1,p=1" + after_prefix,
      // Costs beyond what verification accepts: a stored hash must not stall logins.
      "$argon2id$v=19$m=4194304,t=1,p=1" + after_prefix,
      "$argon2id$v=19$m=1024,t=1000,p=1" + after_prefix,
      "$argon2id$v=19$m=1024,t=1,p=255" + after_prefix,
      // Costs libargon2 itself refuses.
      "$argon2id$v=19$m=1,t=1,p=1" + after_prefix,
      "$argon2id$v=19$m=1024,t=0,p=1" + after_prefix,
      "$argon2id$v=19$m=1024,t=1,p=0" + after_prefix,
      "$argon2id$v=19$m=1024,t=1,p=1$!!!!$AAAA",
      "$argon2id$v=19$m=1024,t=1,p=1$$",
      std::string(10000, '$'),
  };
  for (const std::string& encoded : malformed) {
    EXPECT_FALSE(verify_password("pw", encoded)) << encoded;
  }
}

TEST(PasswordHash, AnAlteredHashOrSaltVerifiesFalse) {
  std::string good = hash_password("pw", kCheap);
  std::size_t salt_at = good.rfind('$', good.rfind('$') - 1) + 1;
  for (std::size_t at : {salt_at, salt_at + 5, good.rfind('$') + 1, good.size() - 5}) {
    std::string altered = good;
    altered[at] = altered[at] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify_password("pw", altered)) << altered;
  }
}

TEST(PasswordHash, RefusesCostsLibargon2Rejects) {
  EXPECT_THROW(hash_password("pw", {.memory_kib = 1, .iterations = 1}), std::invalid_argument);
  EXPECT_THROW(hash_password("pw", {.memory_kib = 1024, .iterations = 0}), std::invalid_argument);
  EXPECT_THROW(hash_password("pw", {.memory_kib = 1024, .iterations = 1, .salt_bytes = 4}),
               std::invalid_argument);
}

TEST(PasswordHasher, HashesOnIdleClassThreadsAndCallsEachBackOnceOnANormalOne) {
  constexpr int kJobs = 8;
  std::string stored = hash_password("right", kCheap);
  PasswordHasher hasher(kJobs, kJobs, kCheap);

  std::mutex mutex;
  std::condition_variable changed;
  int arrived = 0;
  std::vector<int> calls(kJobs, 0);
  std::vector<int> policies(kJobs, -1);
  std::set<std::thread::id> callback_threads;
  std::vector<std::string> hashes(kJobs);
  std::vector<int> verified(kJobs, -1);
  auto arrive = [&](int job, auto record) {
    std::lock_guard lock(mutex);
    ++calls[job];
    policies[job] = sched_getscheduler(0);
    callback_threads.insert(std::this_thread::get_id());
    record();
    ++arrived;
    changed.notify_all();
  };
  for (int job = 0; job < kJobs; ++job) {
    bool accepted =
        job % 2 == 0
            ? hasher.submit_hash("password " + std::to_string(job),
                                 [&, job](std::string encoded) {
                                   arrive(job, [&] { hashes[job] = std::move(encoded); });
                                 })
            : hasher.submit_verify(job % 4 == 1 ? "right" : "wrong", stored,
                                   [&, job](bool ok) { arrive(job, [&] { verified[job] = ok; }); });
    ASSERT_TRUE(accepted) << job;
  }
  ASSERT_TRUE(wait_for(mutex, changed, [&] { return arrived == kJobs; }));
  EXPECT_EQ(idle_class_threads(), kJobs);
  hasher.stop();
  EXPECT_EQ(idle_class_threads(), 0);
  EXPECT_EQ(callback_threads.size(), 1u);
  EXPECT_EQ(callback_threads.count(std::this_thread::get_id()), 0u);
  for (int job = 0; job < kJobs; ++job) {
    EXPECT_EQ(calls[job], 1) << job;
    EXPECT_EQ(policies[job], SCHED_OTHER) << job;
    if (job % 2 == 0) {
      EXPECT_TRUE(verify_password("password " + std::to_string(job), hashes[job])) << job;
    } else {
      EXPECT_EQ(verified[job], job % 4 == 1 ? 1 : 0) << job;
    }
  }
}

TEST(PasswordHasher, RefusesJobsWhenTheQueueIsFull) {
  // 64 MiB and 16 passes: the first job keeps the only thread busy for a good fraction of a
  // second, far longer than the submissions below take, so the queue's state is certain.
  PasswordHasher hasher(1, 1, {.memory_kib = 64 * 1024, .iterations = 16});
  std::mutex mutex;
  std::condition_variable changed;
  int done = 0;
  auto count = [&] {
    std::lock_guard lock(mutex);
    ++done;
    changed.notify_all();
  };
  ASSERT_TRUE(hasher.submit_hash("first", [&](std::string) { count(); }));
  // Accepted only once the worker has taken "first" off the queue.
  bool second_accepted = false;
  for (int attempt = 0; attempt < 10000 && !second_accepted; ++attempt) {
    second_accepted = hasher.submit_verify("second", "x", [&](bool) { count(); });
    if (!second_accepted) std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(second_accepted);
  std::atomic<int> refused_calls = 0;
  EXPECT_FALSE(hasher.submit_hash("third", [&](std::string) { ++refused_calls; }));
  EXPECT_FALSE(hasher.submit_verify("fourth", "x", [&](bool) { ++refused_calls; }));
  ASSERT_TRUE(wait_for(mutex, changed, [&] { return done == 2; }));
  // With the queue drained there is room again.
  std::atomic<bool> later = false;
  EXPECT_TRUE(hasher.submit_verify("later", "x", [&](bool) { later = true; }));
  hasher.stop();
  EXPECT_TRUE(later);
  EXPECT_EQ(refused_calls, 0);
}

TEST(PasswordHasher, StopRunsQueuedJobsThenRefusesNewOnes) {
  PasswordHasher hasher(1, 8, kCheap);
  std::atomic<int> calls = 0;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(hasher.submit_hash("pw", [&](std::string encoded) {
      if (!encoded.empty()) ++calls;
    }));
  }
  hasher.stop();
  EXPECT_EQ(calls, 6);
  EXPECT_FALSE(hasher.submit_hash("pw", [&](std::string) { ++calls; }));
  hasher.stop();  // idempotent
  EXPECT_EQ(calls, 6);
}

TEST(PasswordHasher, ReportsHashFailuresAndSurvivesThrowingCallbacks) {
  PasswordHasher broken(1, 4, {.memory_kib = 1, .iterations = 1});
  std::string result = "unset";
  ASSERT_TRUE(broken.submit_hash("pw", [&](std::string encoded) { result = encoded; }));
  broken.stop();
  EXPECT_EQ(result, "");

  PasswordHasher hasher(1, 4, kCheap);
  std::atomic<bool> second = false;
  ASSERT_TRUE(hasher.submit_verify("pw", "x", [](bool) { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(hasher.submit_verify("pw", "x", [&](bool) { second = true; }));
  hasher.stop();
  EXPECT_TRUE(second);
}

TEST(PasswordHasher, RefusesZeroThreadsOrQueue) {
  EXPECT_THROW(PasswordHasher(0, 1, kCheap), std::invalid_argument);
  EXPECT_THROW(PasswordHasher(1, 0, kCheap), std::invalid_argument);
}
