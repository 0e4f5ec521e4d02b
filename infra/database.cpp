#include "infra/database.h"

#include <pqxx/pqxx>

#include "infra/log.h"

namespace tidemark::infra {

std::unique_ptr<pqxx::connection> connect(const std::string& url, std::chrono::seconds timeout) {
  // libpq takes connect_timeout as a URL parameter or a keyword; the URL form keeps one string.
  std::string with_timeout = url;
  if (url.find("connect_timeout=") == std::string::npos) {
    with_timeout += (url.find('?') == std::string::npos ? "?" : "&");
    with_timeout += "connect_timeout=" + std::to_string(timeout.count());
  }
  return std::make_unique<pqxx::connection>(with_timeout);
}

bool is_connection_failure(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const pqxx::broken_connection&) {
    return true;
  } catch (const pqxx::sql_error& error) {
    // Class 08: connection exception; 57P: operator intervention (server shutting down).
    const std::string& state = error.sqlstate();
    return state.starts_with("08") || state.starts_with("57P");
  } catch (...) {
    return false;
  }
}

DatabasePool::DatabasePool(std::string url, std::size_t threads, std::size_t queue_limit)
    : url_(std::move(url)), queue_limit_(queue_limit) {
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { serve(); });
}

DatabasePool::~DatabasePool() {
  stop();
}

bool DatabasePool::submit(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void DatabasePool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void DatabasePool::serve() {
  std::unique_ptr<pqxx::connection> connection;
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      if (!connection || !connection->is_open()) connection = connect(url_);
      task.run(*connection);
    } catch (...) {
      auto failure = std::current_exception();
      if (is_connection_failure(failure)) connection.reset();
      try {
        task.failed(failure);
      } catch (const std::exception& error) {
        log_error("database task failure handler threw", {{"error", error.what()}});
      }
    }
  }
}

}  // namespace tidemark::infra
