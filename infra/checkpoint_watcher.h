#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "domain/position.h"

namespace tidemark::infra {

/// The NOTIFY channel on which a projection announces `PARTITION:NEXT_OFFSET` when it commits:
/// one per projection, so the API hears only the read models' progress.
inline std::string projection_channel(std::string_view projection) {
  return "tidemark_" + std::string(projection);
}

/// Tells the API when the read models contain an event: it LISTENs for the projector's
/// commits (no polling) and keeps, per partition, the next offset the projection will apply.
class CheckpointWatcher {
 public:
  /// `reached` is true when the projection passed the position, false when the deadline came
  /// first. It runs on the watcher's thread and must not block.
  using Callback = std::function<void(bool reached)>;

  CheckpointWatcher(std::string database_url, std::string projection, std::string topic);
  ~CheckpointWatcher();
  CheckpointWatcher(const CheckpointWatcher&) = delete;
  CheckpointWatcher& operator=(const CheckpointWatcher&) = delete;

  /// Stops listening; waiters still pending are called back with `false`.
  void stop();

  /// Calls back at once when already reached, or with `false` at once when `timeout` is zero.
  void wait_for(domain::Position position, std::chrono::milliseconds timeout, Callback callback);
  bool reached(domain::Position position) const;
  /// Next offset to apply per partition, as last heard.
  std::map<std::int32_t, std::int64_t> checkpoints() const;
  /// True while the LISTEN connection is up.
  bool connected() const { return connected_; }

 private:
  struct Waiter {
    domain::Position position;
    std::chrono::steady_clock::time_point deadline;
    Callback callback;
  };

  bool reached_locked(domain::Position position) const;
  void run();
  void advance(std::int32_t partition, std::int64_t next_offset);
  void settle_waiters(bool expire_all);

  std::string database_url_;
  std::string projection_;
  std::string topic_;
  mutable std::mutex mutex_;
  std::map<std::int32_t, std::int64_t> next_offsets_;
  std::vector<Waiter> waiters_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace tidemark::infra
