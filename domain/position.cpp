#include "domain/position.h"

#include <charconv>

namespace tidemark::domain {

std::string Position::to_token() const {
  return std::to_string(partition) + ":" + std::to_string(offset);
}

std::optional<Position> Position::parse_token(std::string_view token) {
  auto colon = token.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Position position;
  auto partition_end = token.data() + colon;
  auto [p, partition_error] = std::from_chars(token.data(), partition_end, position.partition);
  if (partition_error != std::errc{} || p != partition_end || position.partition < 0) {
    return std::nullopt;
  }
  auto offset_end = token.data() + token.size();
  auto [o, offset_error] = std::from_chars(partition_end + 1, offset_end, position.offset);
  if (offset_error != std::errc{} || o != offset_end || position.offset < 0) return std::nullopt;
  return position;
}

}  // namespace tidemark::domain
