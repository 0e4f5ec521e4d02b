#include "infra/checkpoint_watcher.h"

#include <pqxx/pqxx>

#include "infra/database.h"
#include "infra/log.h"

namespace tidemark::infra {
namespace {

class NotificationReceiver : public pqxx::notification_receiver {
 public:
  NotificationReceiver(pqxx::connection& connection, const std::string& channel,
                       std::function<void(std::int32_t, std::int64_t)> on_commit)
      : pqxx::notification_receiver(connection, channel), on_commit_(std::move(on_commit)) {}

  void operator()(const std::string& payload, int) override {
    auto position = domain::Position::parse_token(payload);
    if (position) on_commit_(position->partition, position->offset);
  }

 private:
  std::function<void(std::int32_t, std::int64_t)> on_commit_;
};

}  // namespace

CheckpointWatcher::CheckpointWatcher(std::string database_url, std::string projection,
                                     std::string topic)
    : database_url_(std::move(database_url)),
      projection_(std::move(projection)),
      topic_(std::move(topic)) {
  thread_ = std::thread([this] { run(); });
}

CheckpointWatcher::~CheckpointWatcher() {
  stop();
}

void CheckpointWatcher::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  settle_waiters(true);
}

void CheckpointWatcher::wait_for(domain::Position position, std::chrono::milliseconds timeout,
                                 Callback callback) {
  bool done = false;
  {
    std::lock_guard lock(mutex_);
    done = reached_locked(position);
    if (!done && timeout.count() > 0) {
      waiters_.push_back(
          {position, std::chrono::steady_clock::now() + timeout, std::move(callback)});
      return;
    }
  }
  callback(done);
}

bool CheckpointWatcher::reached(domain::Position position) const {
  std::lock_guard lock(mutex_);
  return reached_locked(position);
}

bool CheckpointWatcher::reached_locked(domain::Position position) const {
  auto found = next_offsets_.find(position.partition);
  return found != next_offsets_.end() && found->second > position.offset;
}

std::map<std::int32_t, std::int64_t> CheckpointWatcher::checkpoints() const {
  std::lock_guard lock(mutex_);
  return next_offsets_;
}

void CheckpointWatcher::advance(std::int32_t partition, std::int64_t next_offset) {
  std::lock_guard lock(mutex_);
  auto& known = next_offsets_[partition];
  if (next_offset > known) known = next_offset;
}

void CheckpointWatcher::settle_waiters(bool expire_all) {
  std::vector<std::pair<Callback, bool>> due;
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    for (auto waiter = waiters_.begin(); waiter != waiters_.end();) {
      bool done = reached_locked(waiter->position);
      if (done || expire_all || waiter->deadline <= now) {
        due.emplace_back(std::move(waiter->callback), done);
        waiter = waiters_.erase(waiter);
      } else {
        ++waiter;
      }
    }
  }
  for (auto& [callback, done] : due) callback(done);
}

void CheckpointWatcher::run() {
  int failures = 0;
  while (!stopping_) {
    try {
      auto connection = connect(database_url_);
      NotificationReceiver receiver(*connection, projection_channel(projection_),
                                    [this](std::int32_t partition, std::int64_t next_offset) {
                                      advance(partition, next_offset);
                                    });
      // LISTEN is in place before the first read, so no commit falls between the two.
      {
        pqxx::nontransaction read(*connection);
        auto rows = read.exec_params(
            "SELECT log_partition, next_offset FROM projection_offsets "
            "WHERE projection = $1 AND topic = $2",
            projection_, topic_);
        for (const auto& row : rows) advance(row[0].as<std::int32_t>(), row[1].as<std::int64_t>());
      }
      connected_ = true;
      failures = 0;
      settle_waiters(false);
      while (!stopping_) {
        connection->await_notification(0, 20000);
        settle_waiters(false);
      }
    } catch (const std::exception& error) {
      connected_ = false;
      if (stopping_) break;
      if (failures++ % 50 == 0) {
        log_warning("checkpoint watcher lost PostgreSQL; reconnecting", {{"error", error.what()}});
      }
      settle_waiters(false);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  connected_ = false;
}

}  // namespace tidemark::infra
