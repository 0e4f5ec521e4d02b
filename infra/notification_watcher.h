#pragma once

#include <atomic>
#include <chrono>
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

  /// Calls back once, on the next notification naming `key` or at `deadline`.
  void wait_for(std::string key, std::chrono::steady_clock::time_point deadline, Callback callback);
  /// Stops listening; pending waiters are called back with `false`.
  void stop();

 private:
  struct Waiter {
    std::chrono::steady_clock::time_point deadline;
    Callback callback;
  };
  void run();
  void notify(const std::string& payload);
  void expire(bool all);

  std::string database_url_;
  std::string channel_;
  std::mutex mutex_;
  std::multimap<std::string, Waiter> waiters_;
  /// No waiter's deadline is earlier (woken waiters may leave it early: then a walk finds none).
  std::chrono::steady_clock::time_point next_deadline_ =
      std::chrono::steady_clock::time_point::max();
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tidemark::infra
