#include "infra/webhook_signature.h"

#include <openssl/crypto.h>

#include <charconv>
#include <optional>
#include <vector>

#include "infra/cipher.h"

namespace tidemark::infra {
namespace {

constexpr std::size_t kMacBytes = 32;

std::string signed_text(std::string_view timestamp, std::string_view body) {
  std::string text;
  text.reserve(timestamp.size() + 1 + body.size());
  text.append(timestamp);
  text.push_back('.');
  text.append(body);
  return text;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The 32 bytes a 64-digit hex MAC stands for, or nullopt.
std::optional<std::string> decode_mac(std::string_view hex) {
  if (hex.size() != 2 * kMacBytes) return std::nullopt;
  std::string bytes(kMacBytes, '\0');
  for (std::size_t i = 0; i < kMacBytes; ++i) {
    int high = hex_digit(hex[2 * i]);
    int low = hex_digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes[i] = static_cast<char>(high * 16 + low);
  }
  return bytes;
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool within(std::int64_t timestamp, std::int64_t now, std::int64_t tolerance) {
  if (tolerance < 0) return false;
  // Unsigned subtraction gives the distance even when the signed one would overflow.
  auto a = static_cast<std::uint64_t>(timestamp);
  auto b = static_cast<std::uint64_t>(now);
  std::uint64_t distance = timestamp > now ? a - b : b - a;
  return distance <= static_cast<std::uint64_t>(tolerance);
}

}  // namespace

std::string webhook_signature_header(std::string_view key, std::int64_t unix_seconds,
                                     std::string_view body) {
  std::string timestamp = std::to_string(unix_seconds);
  return "t=" + timestamp + ",v1=" + hmac_sha256_hex(key, signed_text(timestamp, body));
}

bool verify_webhook_signature(std::string_view key, std::string_view header, std::string_view body,
                              std::int64_t now_unix_seconds, std::int64_t tolerance_seconds) {
  std::optional<std::string_view> timestamp_text;
  std::vector<std::string> candidates;
  while (true) {
    std::size_t comma = header.find(',');
    std::string_view item = trimmed(header.substr(0, comma));
    std::size_t equals = item.find('=');
    if (equals == std::string_view::npos || equals == 0) return false;
    std::string_view scheme = item.substr(0, equals);
    std::string_view value = item.substr(equals + 1);
    if (scheme == "t") {
      if (timestamp_text) return false;
      timestamp_text = value;
    } else if (scheme == "v1") {
      auto mac = decode_mac(value);
      if (!mac) return false;
      candidates.push_back(std::move(*mac));
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (!timestamp_text || candidates.empty()) return false;
  auto timestamp = parse_timestamp(*timestamp_text);
  if (!timestamp || !within(*timestamp, now_unix_seconds, tolerance_seconds)) return false;
  std::string expected;
  try {
    expected = hmac_sha256(key, signed_text(*timestamp_text, body));
  } catch (const std::exception&) {
    return false;
  }
  if (expected.size() != kMacBytes) return false;
  bool matched = false;
  for (const auto& candidate : candidates) {
    matched |= CRYPTO_memcmp(candidate.data(), expected.data(), kMacBytes) == 0;
  }
  return matched;
}

}  // namespace tidemark::infra
