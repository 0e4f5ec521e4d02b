#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <thread>
#include <vector>

namespace tidemark::infra {

/// Runs database work off the HTTP threads: a fixed set of threads, each with its own
/// PostgreSQL connection (made on first use and again after it breaks), fed by one bounded
/// queue. A task that cannot run (the connection cannot be made, or the work throws) gets its
/// `failed` handler called with the exception instead.
class DatabasePool {
 public:
  struct Task {
    std::function<void(pqxx::connection&)> run;
    std::function<void(std::exception_ptr)> failed;
  };

  DatabasePool(std::string url, std::size_t threads, std::size_t queue_limit);
  ~DatabasePool();
  DatabasePool(const DatabasePool&) = delete;
  DatabasePool& operator=(const DatabasePool&) = delete;

  /// False, and nothing queued, when the queue is full or the pool is stopping.
  bool submit(Task task);
  /// Finishes queued tasks, then joins the threads.
  void stop();

 private:
  void serve();

  std::string url_;
  std::size_t queue_limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

/// True when the exception means PostgreSQL could not be reached or the connection broke,
/// so a retry later may succeed (503 rather than 500).
bool is_connection_failure(std::exception_ptr failure);

/// Opens a connection, failing within `timeout` when the server does not answer.
std::unique_ptr<pqxx::connection> connect(const std::string& url,
                                          std::chrono::seconds timeout = std::chrono::seconds(5));

/// `url` (a postgresql:// URL) with the TLS settings added as libpq parameters: `sslmode`
/// unless it is `prefer` (libpq's default, which leaves the URL's own), and `sslrootcert` when
/// set. Throws ConfigError when the URL already sets them otherwise, when a root certificate
/// file is not a readable PEM file, or goes with sslmode=disable.
std::string with_database_tls(const std::string& url, const std::string& sslmode,
                              const std::string& sslrootcert);

}  // namespace tidemark::infra
