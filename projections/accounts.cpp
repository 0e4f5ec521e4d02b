#include "projections/accounts.h"

#include <pqxx/pqxx>

#include "domain/account.h"
#include "infra/log.h"
#include "projections/read_models.h"

namespace tidemark::projections {
namespace {

using namespace tidemark::domain;

template <typename Event>
Event decoded(Result<Event> result) {
  if (!result) throw PoisonRecord(result.error().message);
  return std::move(result).value();
}

/// The personal data sealed in a user's event, or nullopt when their key was destroyed.
std::optional<PersonalData> open_personal_data(pqxx::dbtransaction& transaction,
                                               const infra::Keyring& keyring, const Uuid& user_id,
                                               const std::string& sealed, std::string_view what) {
  auto key = keyring.user_key(transaction, user_id);
  if (!key) return std::nullopt;
  auto opened = keyring.open_for(*key, user_id, sealed);
  if (!opened)
    throw PoisonRecord(std::string(what) + ": personal data does not open with the user's key");
  return decoded(decode_personal_data(*opened));
}

void apply(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
           const UserRegistered& event, const infra::Keyring& keyring) {
  // A destroyed key means the account was deleted: there is nothing to project, ever again.
  auto opened = open_personal_data(transaction, keyring, event.user_id, event.sealed_personal_data,
                                   "user.registered");
  if (!opened) return;
  const PersonalData& personal = *opened;
  std::string time = format_timestamp(envelope.time);
  infra::exec_prepared_sql(
      transaction,
      "INSERT INTO users (user_id, username, email, full_name, password_hash, role, created_at, "
      "updated_at) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::timestamptz, $7::timestamptz) "
      "ON CONFLICT (user_id) DO NOTHING",
      event.user_id.to_string(), personal.username, personal.email, personal.full_name,
      personal.password_hash, std::string(role_name(event.role)), time);
  outside_read_models(transaction,
                      "UPDATE identity_claims SET confirmed = true WHERE user_id = $1::uuid",
                      event.user_id.to_string());
}

void apply(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
           const UserProfileUpdated& event, const infra::Keyring& keyring) {
  auto personal = open_personal_data(transaction, keyring, event.user_id,
                                     event.sealed_personal_data, "user.profile_updated");
  if (!personal) return;
  std::string user_id = event.user_id.to_string();
  infra::exec_prepared_sql(
      transaction,
      "UPDATE users SET username = $2, email = $3, full_name = $4, password_hash = $5, "
      "updated_at = $6::timestamptz WHERE user_id = $1::uuid",
      user_id, personal->username, personal->email, personal->full_name, personal->password_hash,
      format_timestamp(envelope.time));
  // The names this user no longer has are free again; the ones they have are confirmed.
  outside_read_models(
      transaction,
      "DELETE FROM identity_claims WHERE user_id = $1::uuid AND NOT "
      "((kind = 'username' AND value = lower($2)) OR (kind = 'email' AND value = $3))",
      user_id, personal->username, personal->email);
  outside_read_models(
      transaction, "UPDATE identity_claims SET confirmed = true WHERE user_id = $1::uuid", user_id);
}

void apply(pqxx::dbtransaction& transaction, const AccountTokenIssued& event) {
  // Tokens of a deleted user are not kept.
  infra::exec_prepared_sql(transaction,
                           "INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at) "
                           "SELECT $1, $2::uuid, $3, $4::timestamptz "
                           "WHERE EXISTS (SELECT 1 FROM users WHERE user_id = $2::uuid) "
                           "ON CONFLICT (token_hash) DO NOTHING",
                           event.token_hash, event.user_id.to_string(),
                           std::string(purpose_name(event.purpose)),
                           format_timestamp(event.expires_at));
}

void mark_token_used(pqxx::dbtransaction& transaction, const std::string& token_hash,
                     const EventEnvelope& envelope) {
  infra::exec_prepared_sql(
      transaction,
      "UPDATE account_tokens SET used_at = $2::timestamptz WHERE token_hash = $1 "
      "AND used_at IS NULL",
      token_hash, format_timestamp(envelope.time));
}

void apply(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
           const EmailVerified& event) {
  infra::exec_prepared_sql(
      transaction,
      "UPDATE users SET email_verified_at = coalesce(email_verified_at, $2::timestamptz) "
      "WHERE user_id = $1::uuid",
      event.user_id.to_string(), format_timestamp(envelope.time));
  mark_token_used(transaction, event.token_hash, envelope);
}

void apply(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
           const PasswordReset& event, const infra::Keyring& keyring) {
  apply(transaction, envelope, UserProfileUpdated{event.user_id, event.sealed_personal_data},
        keyring);
  mark_token_used(transaction, event.token_hash, envelope);
  // Whoever knew the old password is logged out with it.
  infra::exec_prepared_sql(
      transaction,
      "UPDATE sessions SET revoked_at = $2::timestamptz, revoked_reason = 'password_reset' "
      "WHERE user_id = $1::uuid AND revoked_at IS NULL",
      event.user_id.to_string(), format_timestamp(envelope.time));
}

void apply(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
           const UserRoleChanged& event) {
  infra::exec_prepared_sql(
      transaction,
      "UPDATE users SET role = $2, updated_at = $3::timestamptz WHERE user_id = $1::uuid",
      event.user_id.to_string(), std::string(role_name(event.role)),
      format_timestamp(envelope.time));
}

void apply(pqxx::dbtransaction& transaction, const UserDeleted& event) {
  std::string user_id = event.user_id.to_string();
  // What the person left beyond the read models first: it is found through them.
  for (const char* statement : {"DELETE FROM identity_claims WHERE user_id = $1::uuid",
                                "DELETE FROM identity_claims WHERE kind = 'recording' AND value "
                                "IN (SELECT lower(recording_id) FROM recordings "
                                "WHERE owner_id = $1::uuid)",
                                "DELETE FROM content_blobs WHERE sha256 IN (SELECT content_sha256 "
                                "FROM recordings WHERE owner_id = $1::uuid) AND NOT EXISTS "
                                "(SELECT 1 FROM recordings r WHERE r.content_sha256 = "
                                "content_blobs.sha256 AND r.owner_id <> $1::uuid)",
                                "DELETE FROM identity_claims WHERE kind = 'app_user' AND value "
                                "IN (SELECT lower(user_id) FROM app_users "
                                "WHERE owner_id = $1::uuid)",
                                "DELETE FROM webhook_deliveries WHERE job_id IN "
                                "(SELECT job_id FROM jobs WHERE owner_id = $1::uuid)"}) {
    outside_read_models(transaction, statement, user_id);
  }
  for (const char* statement : {"DELETE FROM sessions WHERE user_id = $1::uuid",
                                "DELETE FROM users WHERE user_id = $1::uuid",
                                "DELETE FROM account_tokens WHERE user_id = $1::uuid",
                                "DELETE FROM event_log WHERE owner_id = $1::uuid",
                                "DELETE FROM recordings WHERE owner_id = $1::uuid",
                                "DELETE FROM jobs WHERE owner_id = $1::uuid",
                                "DELETE FROM app_users WHERE owner_id = $1::uuid"}) {
    infra::exec_prepared_sql(transaction, statement, user_id);
  }
  if (!rebuilding()) infra::Keyring::destroy_user_key(transaction, event.user_id);
}

void apply(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
           const SessionStarted& event) {
  // Sessions of a deleted (or never projected) user are not kept.
  infra::exec_prepared_sql(
      transaction,
      "INSERT INTO sessions (session_id, user_id, refresh_token_hash, expires_at, created_at) "
      "SELECT $1::uuid, $2::uuid, $3, $4::timestamptz, $5::timestamptz "
      "WHERE EXISTS (SELECT 1 FROM users WHERE user_id = $2::uuid) "
      "ON CONFLICT (session_id) DO NOTHING",
      event.session_id.to_string(), event.user_id.to_string(), event.refresh_token_hash,
      format_timestamp(event.expires_at), format_timestamp(envelope.time));
}

void apply(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
           const SessionRefreshed& event) {
  // Matching on the previous hash makes a redelivered rotation a no-op.
  infra::exec_prepared_sql(transaction,
                           "UPDATE sessions SET previous_refresh_token_hash = refresh_token_hash, "
                           "refresh_token_hash = $3, rotated_at = $4::timestamptz "
                           "WHERE session_id = $1::uuid AND refresh_token_hash = $2",
                           event.session_id.to_string(), event.previous_refresh_token_hash,
                           event.refresh_token_hash, format_timestamp(envelope.time));
}

void apply(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
           const SessionRevoked& event) {
  infra::exec_prepared_sql(transaction,
                           "UPDATE sessions SET revoked_at = $2::timestamptz, revoked_reason = $3 "
                           "WHERE session_id = $1::uuid AND revoked_at IS NULL",
                           event.session_id.to_string(), format_timestamp(envelope.time),
                           event.reason);
}

}  // namespace

bool apply_account_event(pqxx::dbtransaction& transaction, const EventEnvelope& envelope,
                         const infra::Keyring& keyring) {
  const std::string& type = envelope.type;
  if (type == kUserRegisteredV1) {
    apply(transaction, envelope, decoded(decode_user_registered(envelope.payload)), keyring);
  } else if (type == kUserProfileUpdatedV1) {
    apply(transaction, envelope, decoded(decode_user_profile_updated(envelope.payload)), keyring);
  } else if (type == kAccountTokenIssuedV1) {
    apply(transaction, decoded(decode_account_token_issued(envelope.payload)));
  } else if (type == kEmailVerifiedV1) {
    apply(transaction, envelope, decoded(decode_email_verified(envelope.payload)));
  } else if (type == kPasswordResetV1) {
    apply(transaction, envelope, decoded(decode_password_reset(envelope.payload)), keyring);
  } else if (type == kUserRoleChangedV1) {
    apply(transaction, envelope, decoded(decode_user_role_changed(envelope.payload)));
  } else if (type == kUserDeletedV1) {
    apply(transaction, decoded(decode_user_deleted(envelope.payload)));
  } else if (type == kSessionStartedV1) {
    apply(transaction, envelope, decoded(decode_session_started(envelope.payload)));
  } else if (type == kSessionRefreshedV1) {
    apply(transaction, envelope, decoded(decode_session_refreshed(envelope.payload)));
  } else if (type == kSessionRevokedV1) {
    apply(transaction, envelope, decoded(decode_session_revoked(envelope.payload)));
  } else {
    return false;
  }
  return true;
}

}  // namespace tidemark::projections
