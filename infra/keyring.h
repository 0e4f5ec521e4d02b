#pragma once

#include <optional>
#include <pqxx/transaction_base>
#include <string>

#include "domain/uuid.h"

namespace tidemark::infra {

/// Per-user data keys for crypto-shredding, stored in `user_keys` wrapped with the master key.
/// Destroying a user's row makes the personal data sealed in their events unreadable forever.
class Keyring {
 public:
  /// `master_key` is 32 raw bytes; anything else throws std::invalid_argument.
  explicit Keyring(std::string master_key);

  /// Makes a new data key for the user, stores it wrapped, and returns it.
  std::string create_user_key(pqxx::transaction_base& transaction,
                              const domain::Uuid& user_id) const;
  /// The user's data key, or nullopt when it was destroyed (or never made).
  std::optional<std::string> user_key(pqxx::transaction_base& transaction,
                                      const domain::Uuid& user_id) const;
  static void destroy_user_key(pqxx::transaction_base& transaction, const domain::Uuid& user_id);

  /// Seals or opens a user's personal data; the user id is bound in as associated data, so
  /// a sealed text moved to another user's event does not open.
  std::string seal_for(const std::string& data_key, const domain::Uuid& user_id,
                       std::string_view plaintext) const;
  std::optional<std::string> open_for(const std::string& data_key, const domain::Uuid& user_id,
                                      std::string_view sealed) const;

 private:
  std::string master_key_;
};

/// Reads a 32-byte secret given as base64url (the form `tidemark dev` writes); the error names
/// `setting`.
std::string decode_secret(std::string_view base64url, std::string_view setting);
/// A new 32-byte secret as base64url.
std::string generate_secret();

}  // namespace tidemark::infra
