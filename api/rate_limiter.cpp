#include "api/rate_limiter.h"

namespace tidemark::api {
namespace {
constexpr std::size_t kPruneAbove = 100000;
}

std::optional<std::chrono::seconds> RateLimiter::blocked_for(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  auto found = windows_.find(key);
  if (found == windows_.end() || now - found->second.start >= window_) return std::nullopt;
  if (found->second.count < limit_) return std::nullopt;
  auto remaining = std::chrono::ceil<std::chrono::seconds>(found->second.start + window_ - now);
  return std::max(remaining, std::chrono::seconds(1));
}

void RateLimiter::record(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  // A flood of distinct keys must not make every call scan the table: prune once a second.
  if (windows_.size() > kPruneAbove && now - last_prune_ >= std::chrono::seconds(1)) {
    prune(now);
    last_prune_ = now;
  }
  Window& window = windows_[key];
  if (window.count == 0 || now - window.start >= window_) window = {now, 0};
  ++window.count;
}

void RateLimiter::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  windows_.erase(key);
}

void RateLimiter::prune(std::chrono::steady_clock::time_point now) {
  for (auto window = windows_.begin(); window != windows_.end();) {
    window = now - window->second.start >= window_ ? windows_.erase(window) : std::next(window);
  }
}

}  // namespace tidemark::api
