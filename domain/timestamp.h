#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tidemark::domain {

/// A UTC instant with microsecond precision, the precision PostgreSQL keeps.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// Parses RFC 3339 (`2024-12-07T03:55:15.972101Z`, `…+07:00`), and the same without a zone,
/// which is read as UTC like FastAPI's naive datetimes. A date alone means its midnight.
std::optional<Timestamp> parse_timestamp(std::string_view text);

/// Formats as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
std::string format_timestamp(Timestamp instant);

Timestamp now_utc();

}  // namespace tidemark::domain
