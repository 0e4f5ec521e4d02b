#include "api/accounts.h"

#include <pqxx/pqxx>

#include "infra/cipher.h"
#include "infra/database.h"
#include "infra/ids.h"

namespace tidemark::api {
namespace {

using domain::Uuid;

domain::Error taken(const std::string& kind) {
  return {domain::ErrorKind::conflict,
          kind == "username" ? "username is already taken" : "email is already registered"};
}

}  // namespace

bool claim_name(pqxx::transaction_base& transaction, const std::string& kind,
                const std::string& value, const Uuid& user_id) {
  auto claimed = infra::exec_prepared_sql(
      transaction,
      "INSERT INTO identity_claims (kind, value, user_id) VALUES ($1, lower($2), $3::uuid) "
      "ON CONFLICT (kind, value) DO UPDATE SET user_id = EXCLUDED.user_id, claimed_at = now() "
      "WHERE identity_claims.user_id = EXCLUDED.user_id OR (NOT identity_claims.confirmed "
      "AND identity_claims.claimed_at < now() - interval '5 minutes') "
      "RETURNING user_id",
      kind, value, user_id.to_string());
  return !claimed.empty();
}

domain::EventEnvelope new_envelope(std::string_view type, std::string key, std::string subject,
                                   std::string payload, std::string correlation_id,
                                   std::string actor) {
  return infra::new_event("/tidemark/api", type, std::move(key), std::move(subject),
                          std::move(payload), std::move(correlation_id), std::move(actor));
}

domain::Result<domain::EventEnvelope> prepare_registration(pqxx::connection& connection,
                                                           const infra::Keyring& keyring,
                                                           const domain::Registration& registration,
                                                           const std::string& password_hash,
                                                           domain::Role role, const Uuid& user_id,
                                                           const std::string& correlation_id) {
  pqxx::work transaction(connection);
  if (!claim_name(transaction, "username", registration.username, user_id)) {
    return taken("username");
  }
  if (registration.email && !claim_name(transaction, "email", *registration.email, user_id)) {
    return taken("email");
  }
  std::string data_key = keyring.create_user_key(transaction, user_id);
  transaction.commit();
  domain::PersonalData personal{registration.username, registration.email, registration.full_name,
                                password_hash};
  std::string sealed = keyring.seal_for(data_key, user_id, domain::encode_personal_data(personal));
  return new_envelope(domain::kUserRegisteredV1, user_id.to_string(),
                      "users/" + user_id.to_string(),
                      domain::encode_event(domain::UserRegistered{user_id, role, sealed}),
                      correlation_id, user_id.to_string());
}

void release_registration(pqxx::connection& connection, const Uuid& user_id) {
  pqxx::work transaction(connection);
  transaction.exec_params("DELETE FROM identity_claims WHERE user_id = $1::uuid",
                          user_id.to_string());
  infra::Keyring::destroy_user_key(transaction, user_id);
  transaction.commit();
}

domain::Result<std::string> prepare_personal_update(
    pqxx::connection& connection, const infra::Keyring& keyring, const Uuid& user_id,
    const domain::ProfileChanges& changes, const std::optional<std::string>& password_hash) {
  pqxx::work transaction(connection);
  auto rows = transaction.exec_params(
      "SELECT username, email, full_name, password_hash FROM users WHERE user_id = $1::uuid",
      user_id.to_string());
  auto key = keyring.user_key(transaction, user_id);
  if (rows.empty() || !key) return domain::not_found("User not found");
  const auto& row = rows[0];
  domain::PersonalData personal{
      row[0].c_str(), row[1].is_null() ? std::nullopt : std::optional<std::string>(row[1].c_str()),
      row[2].is_null() ? std::nullopt : std::optional<std::string>(row[2].c_str()), row[3].c_str()};
  // Claims for the new values now; the projector releases the old ones once applied.
  if (changes.username && *changes.username != personal.username) {
    // The same name in other letter case is still this user's claim, so it is taken again.
    if (!claim_name(transaction, "username", *changes.username, user_id)) {
      return taken("username");
    }
    personal.username = *changes.username;
  }
  if (changes.email && changes.email != personal.email) {
    if (!claim_name(transaction, "email", *changes.email, user_id)) return taken("email");
    personal.email = changes.email;
  }
  if (changes.full_name) personal.full_name = changes.full_name;
  if (password_hash) personal.password_hash = *password_hash;
  transaction.commit();
  return keyring.seal_for(*key, user_id, domain::encode_personal_data(personal));
}

domain::Result<IssuedAccountToken> prepare_account_token(pqxx::connection& connection,
                                                         const infra::Keyring& keyring,
                                                         const Uuid& user_id,
                                                         domain::TokenPurpose purpose,
                                                         const std::string& correlation_id) {
  pqxx::work transaction(connection);
  auto rows = transaction.exec_params("SELECT email FROM users WHERE user_id = $1::uuid",
                                      user_id.to_string());
  auto key = keyring.user_key(transaction, user_id);
  transaction.commit();
  if (rows.empty() || !key) return domain::not_found("User not found");
  if (rows[0][0].is_null()) return domain::invalid("the account has no email address");
  bool verify = purpose == domain::TokenPurpose::verify_email;
  // Reset tokens open an account, so they live an hour; verification a day.
  auto lifetime = verify ? std::chrono::hours(24) : std::chrono::hours(1);
  std::string token = infra::random_token(32);
  domain::Mail mail{
      rows[0][0].c_str(), verify ? "Verify your email address" : "Reset your password",
      std::string(verify ? "Your email verification code is: " : "Your password reset code is: ") +
          token + "\nIt is valid for " + (verify ? "24 hours" : "1 hour") +
          " and can be used once."};
  domain::AccountTokenIssued issued{
      user_id, purpose, infra::sha256_hex(token),
      domain::now_utc() + std::chrono::duration_cast<std::chrono::microseconds>(lifetime),
      keyring.seal_for(*key, user_id, domain::encode_mail(mail))};
  return IssuedAccountToken{
      token, new_envelope(domain::kAccountTokenIssuedV1, user_id.to_string(),
                          "users/" + user_id.to_string(), domain::encode_event(issued),
                          correlation_id, user_id.to_string())};
}

domain::Result<Uuid> redeem_account_token(pqxx::connection& connection, const std::string& token,
                                          domain::TokenPurpose purpose) {
  const domain::Error refused =
      domain::invalid("the token is not valid: unknown, expired or already used");
  std::string token_hash = infra::sha256_hex(token);
  pqxx::work transaction(connection);
  auto rows = transaction.exec_params(
      "SELECT user_id::text FROM account_tokens WHERE token_hash = $1 AND purpose = $2 "
      "AND used_at IS NULL AND expires_at > now()",
      token_hash, std::string(domain::purpose_name(purpose)));
  if (rows.empty()) return refused;
  auto first = transaction.exec_params(
      "INSERT INTO token_redemptions (token_hash) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1",
      token_hash);
  if (first.empty()) return refused;
  transaction.commit();
  return *Uuid::parse(rows[0][0].c_str());
}

}  // namespace tidemark::api
