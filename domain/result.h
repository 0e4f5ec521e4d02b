#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tidemark::domain {

/// Why a request or a record was refused. The API maps each kind to one HTTP status.
enum class ErrorKind {
  invalid,      ///< the input is malformed or breaks a rule (400)
  not_found,    ///< the addressed thing does not exist (404)
  conflict,     ///< the input contradicts the current state (409)
  too_large,    ///< the input exceeds a configured size (413)
  unavailable,  ///< a dependency did not answer in time; retrying may help (503)
};

struct Error {
  ErrorKind kind;
  std::string message;
};

inline Error invalid(std::string message) {
  return {ErrorKind::invalid, std::move(message)};
}
inline Error not_found(std::string message) {
  return {ErrorKind::not_found, std::move(message)};
}

/// A value or the reason there is none (std::expected arrives with C++23).
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace tidemark::domain
