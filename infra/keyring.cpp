#include "infra/keyring.h"

#include <pqxx/pqxx>
#include <stdexcept>

#include "infra/cipher.h"
#include "infra/config.h"
#include "infra/encoding.h"

namespace tidemark::infra {

Keyring::Keyring(std::string master_key) : master_key_(std::move(master_key)) {
  if (master_key_.size() != 32) throw std::invalid_argument("the master key must be 32 bytes");
}

std::string Keyring::create_user_key(pqxx::transaction_base& transaction,
                                     const domain::Uuid& user_id) const {
  std::string data_key = generate_data_key();
  transaction.exec_params("INSERT INTO user_keys (user_id, wrapped_key) VALUES ($1::uuid, $2)",
                          user_id.to_string(),
                          wrap_data_key(master_key_, data_key, user_id.to_string()));
  return data_key;
}

std::optional<std::string> Keyring::user_key(pqxx::transaction_base& transaction,
                                             const domain::Uuid& user_id) const {
  auto rows = transaction.exec_params("SELECT wrapped_key FROM user_keys WHERE user_id = $1::uuid",
                                      user_id.to_string());
  if (rows.empty()) return std::nullopt;
  return unwrap_data_key(master_key_, rows[0][0].c_str(), user_id.to_string());
}

void Keyring::destroy_user_key(pqxx::transaction_base& transaction, const domain::Uuid& user_id) {
  transaction.exec_params("DELETE FROM user_keys WHERE user_id = $1::uuid", user_id.to_string());
}

std::string Keyring::seal_for(const std::string& data_key, const domain::Uuid& user_id,
                              std::string_view plaintext) const {
  return seal(data_key, plaintext, user_id.to_string());
}

std::optional<std::string> Keyring::open_for(const std::string& data_key,
                                             const domain::Uuid& user_id,
                                             std::string_view sealed) const {
  return open(data_key, sealed, user_id.to_string());
}

std::string decode_secret(std::string_view base64url, std::string_view setting) {
  auto bytes = base64url_decode(base64url);
  if (!bytes || bytes->size() != 32) {
    throw ConfigError(std::string(setting) +
                      " must be 32 bytes in unpadded base64url (43 characters)");
  }
  return *bytes;
}

std::string generate_secret() {
  return base64url_encode(random_bytes(32));
}

}  // namespace tidemark::infra
