#include "infra/database.h"

#include <cctype>
#include <cstdio>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string_view>

#include "infra/config.h"
#include "infra/log.h"
#include "infra/tls.h"

namespace tidemark::infra {

namespace {

template <typename Number>
std::string number_array_literal(const std::vector<Number>& elements) {
  std::string literal = "{";
  for (auto element : elements) {
    if (literal.size() > 1) literal += ',';
    literal += std::to_string(element);
  }
  return literal + "}";
}

}  // namespace

std::string array_literal(const std::vector<std::string>& elements) {
  std::string literal = "{";
  for (const auto& element : elements) {
    if (literal.size() > 1) literal += ',';
    literal += '"';
    for (char c : element) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  return literal + "}";
}

std::string array_literal(const std::vector<std::int64_t>& elements) {
  return number_array_literal(elements);
}

std::string array_literal(const std::vector<std::int32_t>& elements) {
  return number_array_literal(elements);
}

std::string prepared_statement_name(std::string_view sql) {
  // Two texts with one 64-bit hash would make libpqxx refuse the second definition; among the
  // few hundred statements of a connection that chance is negligible.
  char name[24];
  std::snprintf(name, sizeof name, "tm_%016zx", std::hash<std::string_view>{}(sql));
  return name;
}

std::string with_url_parameter(std::string url, std::string_view parameter) {
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += parameter;
  return url;
}

std::unique_ptr<pqxx::connection> connect(const std::string& url, std::chrono::seconds timeout) {
  // libpq takes connect_timeout as a URL parameter or a keyword; the URL form keeps one string.
  if (url.find("connect_timeout=") != std::string::npos) {
    return std::make_unique<pqxx::connection>(url);
  }
  return std::make_unique<pqxx::connection>(
      with_url_parameter(url, "connect_timeout=" + std::to_string(timeout.count())));
}

namespace {

/// The value of `name` in the query of a URL, or nullopt when absent.
std::optional<std::string> url_parameter(const std::string& url, std::string_view name) {
  auto query = url.find('?');
  while (query != std::string::npos) {
    auto start = query + 1;
    auto end = url.find('&', start);
    std::string_view parameter(url.data() + start,
                               (end == std::string::npos ? url.size() : end) - start);
    if (parameter.starts_with(name) && parameter.size() > name.size() &&
        parameter[name.size()] == '=') {
      return std::string(parameter.substr(name.size() + 1));
    }
    query = end;
  }
  return std::nullopt;
}

std::string percent_encode_path(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0xF];
    }
  }
  return encoded;
}

}  // namespace

std::string with_database_tls(const std::string& url, const std::string& sslmode,
                              const std::string& sslrootcert) {
  bool add_mode = !sslmode.empty() && sslmode != "prefer";
  if (!add_mode && sslrootcert.empty()) return url;
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
    throw ConfigError(
        "database_sslmode and database_sslrootcert need database_url in URL form "
        "(postgresql://…)");
  }
  if (add_mode) {
    if (auto in_url = url_parameter(url, "sslmode"); in_url && *in_url != sslmode) {
      throw ConfigError("database_url says sslmode=" + *in_url + " but database_sslmode is " +
                        sslmode + "; set it in one place");
    }
  }
  if (!sslrootcert.empty()) {
    if (sslmode == "disable") {
      throw ConfigError("database_sslrootcert is set but database_sslmode is disable");
    }
    if (url_parameter(url, "sslrootcert")) {
      throw ConfigError(
          "database_url has sslrootcert and database_sslrootcert is set; set it in one place");
    }
    check_certificate_file(sslrootcert, "database_sslrootcert");
  }
  std::string result = url;
  if (add_mode && !url_parameter(url, "sslmode")) {
    result = with_url_parameter(std::move(result), "sslmode=" + sslmode);
  }
  if (!sslrootcert.empty()) {
    result =
        with_url_parameter(std::move(result), "sslrootcert=" + percent_encode_path(sslrootcert));
  }
  return result;
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
      if (!connection || !connection->is_open()) {
        connection = connect(url_);
        // The pool's statements are prepared (exec_prepared_sql) and look rows up through
        // indexes whatever the values. Left to choose, PostgreSQL kept planning the paged
        // lists afresh on every call (a LIMIT parameter makes the generic plan look dear);
        // forcing the generic plan took GET /recordings from 5.5k to 8.3k requests/s.
        pqxx::nontransaction(*connection).exec("SET plan_cache_mode = force_generic_plan");
      }
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
