#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tidemark::infra {

/// Runs database work off the HTTP threads: a fixed set of threads, each with its own
/// PostgreSQL connection (made on first use and again after it breaks, with generic plans for
/// prepared statements), fed by one bounded queue. A task that cannot run (the connection
/// cannot be made, or the work throws) gets its `failed` handler called with the exception
/// instead.
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

/// The name `exec_prepared_sql` prepares `sql` under: derived from the text, so the same SQL
/// gets the same statement on every call.
std::string prepared_statement_name(std::string_view sql);

/// Runs `sql` as a statement prepared on the transaction's connection: PostgreSQL parses it once
/// per connection, and plans it once where a generic plan is as good, instead of both on every
/// call (most of a short query's cost). For SQL whose text does not depend on the values, which
/// travel as parameters.
template <typename... Parameters>
pqxx::result exec_prepared_sql(pqxx::transaction_base& transaction, const std::string& sql,
                               Parameters&&... parameters) {
  const std::string name = prepared_statement_name(sql);
  transaction.conn().prepare(name, sql);
  return transaction.exec_prepared(name, std::forward<Parameters>(parameters)...);
}

/// A PostgreSQL array literal of `elements`, for one parameter cast to `integer[]`, `bigint[]`,
/// `text[]` or `uuid[]`: one statement for many rows (with `unnest`) instead of one each. Text
/// elements are quoted, so any text goes in.
std::string array_literal(const std::vector<std::string>& elements);
std::string array_literal(const std::vector<std::int64_t>& elements);
std::string array_literal(const std::vector<std::int32_t>& elements);

/// Opens a connection, failing within `timeout` when the server does not answer.
std::unique_ptr<pqxx::connection> connect(const std::string& url,
                                          std::chrono::seconds timeout = std::chrono::seconds(5));

/// `url` (a postgresql:// URL) with one more libpq parameter (`name=value`, already encoded).
std::string with_url_parameter(std::string url, std::string_view parameter);

/// `url` (a postgresql:// URL) with the TLS settings added as libpq parameters: `sslmode`
/// unless it is `prefer` (libpq's default, which leaves the URL's own), and `sslrootcert` when
/// set. Throws ConfigError when the URL already sets them otherwise, when a root certificate
/// file is not a readable PEM file, or goes with sslmode=disable.
std::string with_database_tls(const std::string& url, const std::string& sslmode,
                              const std::string& sslrootcert);

}  // namespace tidemark::infra
