#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tidemark::infra {

enum class LogLevel { debug, info, warning, error };

/// Sets the lowest level written; read once at start from the role's `log_level` setting.
void set_log_level(std::string_view level);

using LogFields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// Writes one JSON object per line to stderr: time, level, message and the given fields.
/// Callers never pass secrets (passwords, tokens, full database URLs) as fields.
void log(LogLevel level, std::string_view message, LogFields fields = {});

inline void log_info(std::string_view message, LogFields fields = {}) {
  log(LogLevel::info, message, fields);
}
inline void log_warning(std::string_view message, LogFields fields = {}) {
  log(LogLevel::warning, message, fields);
}
inline void log_error(std::string_view message, LogFields fields = {}) {
  log(LogLevel::error, message, fields);
}

}  // namespace tidemark::infra
