#include "infra/notification_watcher.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <vector>

#include "infra/database.h"
#include "infra/log.h"

namespace tidemark::infra {
namespace {

class PayloadReceiver : public pqxx::notification_receiver {
 public:
  PayloadReceiver(pqxx::connection& connection, const std::string& channel,
                  std::function<void(const std::string&)> on_payload)
      : pqxx::notification_receiver(connection, channel), on_payload_(std::move(on_payload)) {}
  void operator()(const std::string& payload, int) override { on_payload_(payload); }

 private:
  std::function<void(const std::string&)> on_payload_;
};

}  // namespace

NotificationWatcher::NotificationWatcher(std::string database_url, std::string channel)
    : database_url_(std::move(database_url)), channel_(std::move(channel)) {
  thread_ = std::thread([this] { run(); });
}

NotificationWatcher::~NotificationWatcher() {
  stop();
}

void NotificationWatcher::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  expire(true);
}

NotificationWatcher::Ticket NotificationWatcher::wait_for(
    std::string key, std::chrono::steady_clock::time_point deadline, Callback callback) {
  Ticket ticket = 0;
  if (!stopping_) {
    std::lock_guard lock(mutex_);
    ticket = ++last_ticket_;
    waiters_.emplace(std::move(key), Waiter{ticket, deadline, std::move(callback)});
    next_deadline_ = std::min(next_deadline_, deadline);
    return ticket;
  }
  callback(false);
  return ticket;
}

void NotificationWatcher::cancel(const std::string& key, Ticket ticket) {
  Callback dropped;  // destroyed after the lock is released: it may own its waiter
  std::lock_guard lock(mutex_);
  auto [first, last] = waiters_.equal_range(key);
  for (auto waiter = first; waiter != last; ++waiter) {
    if (waiter->second.ticket == ticket) {
      dropped = std::move(waiter->second.callback);
      waiters_.erase(waiter);
      return;
    }
  }
}

std::size_t NotificationWatcher::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

void NotificationWatcher::notify(const std::string& payload) {
  std::vector<Callback> woken;
  {
    std::lock_guard lock(mutex_);
    std::size_t start = 0;
    while (start < payload.size()) {
      auto end = payload.find(' ', start);
      if (end == std::string::npos) end = payload.size();
      auto [first, last] = waiters_.equal_range(payload.substr(start, end - start));
      for (auto waiter = first; waiter != last; ++waiter) {
        woken.push_back(std::move(waiter->second.callback));
      }
      waiters_.erase(first, last);
      start = end + 1;
    }
  }
  for (auto& callback : woken) callback(true);
}

void NotificationWatcher::expire(bool all) {
  std::vector<Callback> due;
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    // Called after every notification: most calls have nothing due and must not walk every
    // waiter (a profile at 300 jobs/s put a sixth of the tidemark process's CPU in that walk).
    if (!all && now < next_deadline_) return;
    next_deadline_ = std::chrono::steady_clock::time_point::max();
    for (auto waiter = waiters_.begin(); waiter != waiters_.end();) {
      if (all || waiter->second.deadline <= now) {
        due.push_back(std::move(waiter->second.callback));
        waiter = waiters_.erase(waiter);
      } else {
        next_deadline_ = std::min(next_deadline_, waiter->second.deadline);
        ++waiter;
      }
    }
  }
  for (auto& callback : due) callback(false);
}

void NotificationWatcher::run() {
  int failures = 0;
  while (!stopping_) {
    try {
      auto connection = connect(database_url_);
      PayloadReceiver receiver(*connection, channel_,
                               [this](const std::string& payload) { notify(payload); });
      failures = 0;
      while (!stopping_) {
        connection->await_notification(0, 50000);
        expire(false);
      }
    } catch (const std::exception& error) {
      if (stopping_) break;
      if (failures++ % 50 == 0) {
        log_warning("notification watcher lost PostgreSQL; reconnecting",
                    {{"channel", channel_}, {"error", error.what()}});
      }
      // Waiters re-read when called back, so waking them all loses nothing said meanwhile.
      expire(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

}  // namespace tidemark::infra
