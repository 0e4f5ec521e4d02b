#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tidemark::infra {

// Symmetric primitives for accounts and personal data, all on OpenSSL. Keys and secrets are
// raw bytes in std::string; texts meant for storage or the wire are base64url (encoding.h).

/// `count` bytes from OpenSSL's CSPRNG; throws std::runtime_error if it fails.
std::string random_bytes(std::size_t count);

/// An unguessable bearer token (refresh, password reset): base64url of `bytes` random bytes,
/// 43 characters at the default. Store only its sha256_hex. Throws std::invalid_argument below
/// 16 bytes, which would be guessable.
std::string random_token(std::size_t bytes = 32);

/// Lower-case hex SHA-256 of `data`: how refresh and reset tokens are stored, so a database
/// leak does not hand out live tokens (the tokens are random, so no salt or slow hash is needed).
std::string sha256_hex(std::string_view data);

/// Raw 32-byte HMAC-SHA256 of `message` under `key` (RFC 2104); the MAC of JWTs.
std::string hmac_sha256(std::string_view key, std::string_view message);
/// The same, as 64 lower-case hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// True when `a` and `b` are equal, in time that depends only on their lengths (CRYPTO_memcmp),
/// for comparing MACs and other secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

/// Overwrites the characters of `secret` (OPENSSL_cleanse, which the optimiser cannot drop) and
/// empties it. Copies the string made earlier (moves of short strings copy) are not reached.
void wipe(std::string& secret);

/// A fresh AES-256 key: 32 random bytes. One per user for crypto-shredding: deleting the
/// user's wrapped key makes every field sealed under it unreadable, in backups and the log too.
std::string generate_data_key();

/// Encrypts `plaintext` with AES-256-GCM under the 32-byte `key` (std::invalid_argument
/// otherwise), authenticating `associated_data` too (not stored: pass the same to open, e.g.
/// "user:<id>:email", so a sealed value cannot be moved to another row or field). Returns
/// `v1.<nonce>.<ciphertext and tag>`: a 12-byte random nonce and the 16-byte tag appended to
/// the ciphertext, both base64url. Random nonces are safe up to about 2^32 seals per key.
std::string seal(std::string_view key, std::string_view plaintext,
                 std::string_view associated_data);

/// The plaintext of a `seal` result, or std::nullopt when the text is malformed, the key or the
/// associated data differ, or any part was altered. Never throws on bad input.
std::optional<std::string> open(std::string_view key, std::string_view sealed,
                                std::string_view associated_data);

/// Key wrapping is seal/open under the master key, with the owner (e.g. the user id) bound in as
/// associated data, so a wrapped key copied to another user's row does not unwrap.
std::string wrap_data_key(std::string_view master_key, std::string_view data_key,
                          std::string_view owner);
/// The data key `wrap_data_key` sealed, or std::nullopt (also when it is not 32 bytes).
std::optional<std::string> unwrap_data_key(std::string_view master_key, std::string_view wrapped,
                                           std::string_view owner);

}  // namespace tidemark::infra
