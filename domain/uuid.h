#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidemark::domain {

/// An RFC 4122 UUID. Random and name-based ones are made in infra (they need entropy or a hash).
class Uuid {
 public:
  using Bytes = std::array<std::uint8_t, 16>;

  /// Stamps the version and variant bits onto 16 bytes of entropy or hash output.
  static Uuid from_bytes(Bytes bytes, int version);
  /// Accepts the canonical 8-4-4-4-12 hex form, either case.
  static std::optional<Uuid> parse(std::string_view text);

  std::string to_string() const;
  const Bytes& bytes() const { return bytes_; }
  bool operator==(const Uuid&) const = default;

 private:
  explicit Uuid(Bytes bytes) : bytes_(bytes) {}
  Bytes bytes_;
};

}  // namespace tidemark::domain
