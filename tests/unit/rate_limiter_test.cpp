#include "api/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using tidemark::api::RateLimiter;
using namespace std::chrono_literals;

TEST(RateLimiter, UnknownKeyIsNotBlocked) {
  RateLimiter limiter(3, 60s);
  EXPECT_EQ(limiter.blocked_for("nobody"), std::nullopt);
}

TEST(RateLimiter, UnderTheLimitNothingIsBlocked) {
  RateLimiter limiter(3, 60s);
  for (int i = 0; i < 2; ++i) {
    limiter.record("alice");
    EXPECT_EQ(limiter.blocked_for("alice"), std::nullopt) << "after " << i + 1 << " records";
  }
}

TEST(RateLimiter, AtTheLimitBlocksForAPositiveTimeWithinTheWindow) {
  RateLimiter limiter(3, 60s);
  for (int i = 0; i < 3; ++i) limiter.record("alice");
  auto blocked = limiter.blocked_for("alice");
  ASSERT_TRUE(blocked.has_value());
  EXPECT_GT(*blocked, 0s);
  EXPECT_LE(*blocked, 60s);
  // Further records keep it blocked, still within one window.
  limiter.record("alice");
  blocked = limiter.blocked_for("alice");
  ASSERT_TRUE(blocked.has_value());
  EXPECT_GT(*blocked, 0s);
  EXPECT_LE(*blocked, 60s);
}

TEST(RateLimiter, LimitOfOneBlocksAfterTheFirstRecord) {
  RateLimiter limiter(1, 10s);
  EXPECT_EQ(limiter.blocked_for("k"), std::nullopt);
  limiter.record("k");
  auto blocked = limiter.blocked_for("k");
  ASSERT_TRUE(blocked.has_value());
  EXPECT_GT(*blocked, 0s);
  EXPECT_LE(*blocked, 10s);
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter(2, 60s);
  limiter.record("alice");
  limiter.record("alice");
  limiter.record("bob");
  EXPECT_TRUE(limiter.blocked_for("alice").has_value());
  EXPECT_EQ(limiter.blocked_for("bob"), std::nullopt);
  EXPECT_EQ(limiter.blocked_for("carol"), std::nullopt);
  EXPECT_EQ(limiter.blocked_for("Alice"), std::nullopt);
  limiter.record("bob");
  EXPECT_TRUE(limiter.blocked_for("bob").has_value());
}

TEST(RateLimiter, ForgetClearsOnlyThatKey) {
  RateLimiter limiter(2, 60s);
  for (int i = 0; i < 2; ++i) {
    limiter.record("alice");
    limiter.record("bob");
  }
  ASSERT_TRUE(limiter.blocked_for("alice").has_value());
  ASSERT_TRUE(limiter.blocked_for("bob").has_value());
  limiter.forget("alice");
  EXPECT_EQ(limiter.blocked_for("alice"), std::nullopt);
  EXPECT_TRUE(limiter.blocked_for("bob").has_value());
  // Counting starts again from zero.
  limiter.record("alice");
  EXPECT_EQ(limiter.blocked_for("alice"), std::nullopt);
  limiter.record("alice");
  EXPECT_TRUE(limiter.blocked_for("alice").has_value());
  limiter.forget("never-seen");  // forgetting an unknown key is harmless
}

TEST(RateLimiter, KeyIsFreeAgainAfterTheWindowPasses) {
  RateLimiter limiter(2, 1s);
  limiter.record("alice");
  limiter.record("alice");
  auto blocked = limiter.blocked_for("alice");
  ASSERT_TRUE(blocked.has_value());
  EXPECT_EQ(*blocked, 1s);
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(limiter.blocked_for("alice"), std::nullopt);
  // A new window starts with the next record: one record is under the limit again.
  limiter.record("alice");
  EXPECT_EQ(limiter.blocked_for("alice"), std::nullopt);
  limiter.record("alice");
  EXPECT_TRUE(limiter.blocked_for("alice").has_value());
}

TEST(RateLimiter, ConcurrentRecordsAreCountedExactly) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  constexpr std::size_t kTotal = kThreads * kPerThread;
  // One more than the total: blocked only when every record was counted, and not before.
  RateLimiter limiter(kTotal + 1, 3600s);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&limiter] {
      for (int i = 0; i < kPerThread; ++i) limiter.record("shared");
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(limiter.blocked_for("shared"), std::nullopt) << "more than " << kTotal << " counted";
  limiter.record("shared");
  EXPECT_TRUE(limiter.blocked_for("shared").has_value()) << "fewer than " << kTotal << " counted";
}

TEST(RateLimiter, ConcurrentRecordsOnDistinctKeysStayIndependent) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  RateLimiter limiter(kPerThread, 3600s);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&limiter, t] {
      const std::string key = "key-" + std::to_string(t);
      for (int i = 0; i < kPerThread - 1; ++i) limiter.record(key);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    const std::string key = "key-" + std::to_string(t);
    EXPECT_EQ(limiter.blocked_for(key), std::nullopt) << key;
    limiter.record(key);
    EXPECT_TRUE(limiter.blocked_for(key).has_value()) << key;
  }
}
