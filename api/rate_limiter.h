#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace tidemark::api {

/// Counts events per key in fixed windows (login failures per account, attempts per address).
/// In memory, per API instance: with N instances behind a balancer the effective limit is up
/// to N times higher. Bounded: expired keys are dropped when the table grows.
class RateLimiter {
 public:
  RateLimiter(std::size_t limit, std::chrono::seconds window) : limit_(limit), window_(window) {}

  /// Seconds until `key` may try again, or nullopt when it is under the limit.
  std::optional<std::chrono::seconds> blocked_for(const std::string& key);
  void record(const std::string& key);
  void forget(const std::string& key);

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    std::size_t count = 0;
  };
  void prune(std::chrono::steady_clock::time_point now);

  std::size_t limit_;
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::chrono::steady_clock::time_point last_prune_{};
};

}  // namespace tidemark::api
