#include "projections/app_users.h"

#include <pqxx/pqxx>

#include "domain/app_user.h"
#include "infra/log.h"
#include "projections/read_models.h"

namespace tidemark::projections {
namespace {

/// The record sealed in `change`, or nullopt when the owner's key was destroyed.
std::optional<domain::AppUser> open_record(pqxx::dbtransaction& transaction,
                                           const infra::Keyring& keyring,
                                           const domain::AppUserChange& change) {
  auto key = keyring.user_key(transaction, change.owner_id);
  if (!key) return std::nullopt;
  auto opened = keyring.open_for(*key, change.owner_id, change.sealed_data);
  if (!opened) throw PoisonRecord("app user " + change.user_id + ": data does not open");
  auto record = domain::decode_app_user(*opened);
  if (!record) throw PoisonRecord(record.error().message);
  return std::move(record).value();
}

}  // namespace

bool apply_app_user_event(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope,
                          const infra::Keyring& keyring) {
  std::string time = domain::format_timestamp(envelope.time);
  if (envelope.type == domain::kAppUserCreatedV1 || envelope.type == domain::kAppUserUpdatedV1) {
    auto change = domain::decode_app_user_change(envelope.payload);
    if (!change) throw PoisonRecord(change.error().message);
    auto record = open_record(transaction, keyring, *change);
    if (!record) return true;
    if (envelope.type == domain::kAppUserCreatedV1) {
      infra::exec_prepared_sql(
          transaction,
          confirming_claim(
              "INSERT INTO app_users (user_id, owner_id, email, display_name, height, weight, "
              "revision, created_at, updated_at) SELECT $1, $2::uuid, $3, $4, $5, $6, 1, "
              "$7::timestamptz, $7::timestamptz WHERE EXISTS (SELECT 1 FROM users WHERE user_id = "
              "$2::uuid) ON CONFLICT (user_id) DO NOTHING",
              "app_user"),
          change->user_id, change->owner_id.to_string(), record->email, record->display_name,
          record->height, record->weight, time);
    } else {
      auto updated = infra::exec_prepared_sql(
          transaction,
          "UPDATE app_users SET email = $2, display_name = $3, height = $4, weight = $5, "
          "revision = revision + 1, updated_at = $6::timestamptz "
          "WHERE user_id = $1 AND ($7::integer IS NULL OR revision = $7::integer)",
          change->user_id, record->email, record->display_name, record->height, record->weight,
          time, change->expected_revision);
      if (updated.affected_rows() == 0) {
        infra::log_info("app user update skipped: revision changed or record deleted",
                        {{"event", envelope.id}});
      }
    }
    return true;
  }
  if (envelope.type == domain::kAppUserDeletedV1) {
    auto user_id = domain::decode_app_user_deleted(envelope.payload);
    if (!user_id) throw PoisonRecord(user_id.error().message);
    infra::exec_prepared_sql(transaction, "DELETE FROM app_users WHERE user_id = $1", *user_id);
    outside_read_models(transaction,
                        "DELETE FROM identity_claims WHERE kind = 'app_user' AND value = lower($1)",
                        *user_id);
    return true;
  }
  return false;
}

}  // namespace tidemark::projections
