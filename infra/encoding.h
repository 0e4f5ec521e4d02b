#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tidemark::infra {

/// Base64url (RFC 4648 §5) without padding: the alphabet A-Z a-z 0-9 '-' '_', as JWTs and our
/// sealed texts use it. The only base64 encoder of the tree; JWT and cipher code call it.
std::string base64url_encode(std::string_view bytes);

/// The bytes `text` encodes, or std::nullopt when it is not canonical unpadded base64url: any
/// character outside the alphabet (including '=', '+', '/', whitespace), a length of 4n+1, or
/// nonzero unused bits in the last character. Canonical only, so every byte string has exactly
/// one accepted encoding and a token cannot be altered without changing its bytes.
std::optional<std::string> base64url_decode(std::string_view text);

/// Lower-case hexadecimal, two digits per byte.
std::string hex_encode(std::string_view bytes);

}  // namespace tidemark::infra
