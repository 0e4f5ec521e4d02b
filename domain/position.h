#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidemark::domain {

/// Where an event sits in the log: its partition and offset. Clients get it as the token
/// `PARTITION:OFFSET` and may send it back to read their own writes.
struct Position {
  std::int32_t partition = 0;
  std::int64_t offset = 0;

  std::string to_token() const;
  static std::optional<Position> parse_token(std::string_view token);
  bool operator==(const Position&) const = default;
};

}  // namespace tidemark::domain
