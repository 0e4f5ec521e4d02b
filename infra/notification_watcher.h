#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace tidemark::infra {

/// Wakes waiters when PostgreSQL announces a change on one NOTIFY channel whose payload is a
/// list of words (ids): a waiter for `key` is called back when a payload names it, or at its
/// deadline. Long-polls use it to answer as soon as a job changes, without polling.
class NotificationWatcher {
 public:
  /// `notified` is false at the deadline. Runs on the watcher's thread; must not block.
  using Callback = std::function<void(bool notified)>;

  NotificationWatcher(std::string database_url, std::string channel);
  ~NotificationWatcher();
  NotificationWatcher(const NotificationWatcher&) = delete;
  NotificationWatcher& operator=(const NotificationWatcher&) = delete;

  /// Names one wait, for `cancel`; each wait gets a larger one than the wait before.
  using Ticket = std::uint64_t;
  /// Calls back once, on the next notification naming `key` or at `deadline`, unless cancelled.
  Ticket wait_for(std::string key, std::chrono::steady_clock::time_point deadline,
                  Callback callback);
  /// Drops a wait that is no longer wanted (its waiter answered another way), with its callback,
  /// rather than keeping it to its deadline; nothing when it was called back already.
  void cancel(const std::string& key, Ticket ticket);
  /// Waits registered and not yet called back or cancelled.
  std::size_t waiting() const;
  /// Stops listening; pending waiters are called back with `false`.
  void stop();

 private:
  struct Waiter {
    Ticket ticket;
    std::chrono::steady_clock::time_point deadline;
    Callback callback;
  };
  void run();
  void notify(const std::string& payload);
  void expire(bool all);

  std::string database_url_;
  std::string channel_;
  mutable std::mutex mutex_;
  std::multimap<std::string, Waiter> waiters_;
  Ticket last_ticket_ = 0;
  /// No waiter's deadline is earlier (woken waiters may leave it early: then a walk finds none).
  std::chrono::steady_clock::time_point next_deadline_ =
      std::chrono::steady_clock::time_point::max();
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tidemark::infra
