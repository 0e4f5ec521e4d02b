#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidemark::infra {

/// The HTTP header that carries `webhook_signature_header` on webhook calls.
inline constexpr const char* kWebhookSignatureHeader = "Tidemark-Signature";

/// `t=<unix_seconds>,v1=<hex>`: the lower-case hex HMAC-SHA256 under `key` of
/// `<unix_seconds>.<body>`, so a receiver can check who sent the body and when.
std::string webhook_signature_header(std::string_view key, std::int64_t unix_seconds,
                                     std::string_view body);

/// True when `header` holds a `t=` (exactly once, decimal digits) and at least one `v1=` that is
/// the HMAC-SHA256 under `key` of `<t>.<body>` (any matches; hex of either case; compared in
/// constant time), and `t` lies within `tolerance_seconds` of `now_unix_seconds` either way.
/// Items are separated by commas in any order; unknown schemes (`v0=`) are ignored. False for
/// any malformed header, never throws on bad input.
bool verify_webhook_signature(std::string_view key, std::string_view header, std::string_view body,
                              std::int64_t now_unix_seconds, std::int64_t tolerance_seconds = 300);

}  // namespace tidemark::infra
