#include "projections/recordings.h"

#include <pqxx/pqxx>

#include "domain/recording.h"
#include "infra/log.h"
#include "projections/read_models.h"

namespace tidemark::projections {

bool apply_recording_event(pqxx::dbtransaction& transaction,
                           const domain::EventEnvelope& envelope) {
  std::string time = domain::format_timestamp(envelope.time);
  if (envelope.type == domain::kRecordingCreatedV1 ||
      envelope.type == domain::kRecordingUpdatedV1) {
    auto change = domain::decode_recording(envelope.payload);
    if (!change) throw PoisonRecord(change.error().message);
    const auto& recording = change->recording;
    if (envelope.type == domain::kRecordingCreatedV1) {
      // Only while the owner exists: a deleted account's recordings are not rebuilt.
      infra::exec_prepared_sql(
          transaction,
          confirming_claim(
              "INSERT INTO recordings (recording_id, recording_link, recording_type, user_id, "
              "created_session_id, owner_id, revision, created_at, updated_at) "
              "SELECT $1, $2, $3, $4, $5, $6::uuid, 1, $7::timestamptz, $7::timestamptz "
              "WHERE EXISTS (SELECT 1 FROM users WHERE user_id = $6::uuid) "
              "ON CONFLICT (recording_id) DO NOTHING",
              "recording"),
          recording.recording_id, recording.recording_link, recording.recording_type,
          recording.user_id, recording.created_session_id, change->owner_id.to_string(), time);
    } else {
      auto updated = infra::exec_prepared_sql(
          transaction,
          "UPDATE recordings SET recording_link = $2, recording_type = $3, user_id = $4, "
          "created_session_id = $5, revision = revision + 1, updated_at = $6::timestamptz "
          "WHERE recording_id = $1 AND ($7::integer IS NULL OR revision = $7::integer)",
          recording.recording_id, recording.recording_link, recording.recording_type,
          recording.user_id, recording.created_session_id, time, change->expected_revision);
      if (updated.affected_rows() == 0) {
        infra::log_info("recording update skipped: revision changed or recording deleted",
                        {{"recording_id", recording.recording_id}, {"event", envelope.id}});
      }
    }
    return true;
  }
  if (envelope.type == domain::kRecordingContentAttachedV1) {
    auto attached = domain::decode_content_attached(envelope.payload);
    if (!attached) throw PoisonRecord(attached.error().message);
    infra::exec_prepared_sql(
        transaction,
        "UPDATE recordings SET content_sha256 = $2, content_type = $3, content_size = $4, "
        "updated_at = $5::timestamptz WHERE recording_id = $1",
        attached->recording_id, attached->sha256, attached->content_type, attached->size, time);
    return true;
  }
  if (envelope.type == domain::kRecordingDeletedV1) {
    auto recording_id = domain::decode_recording_deleted(envelope.payload);
    if (!recording_id) throw PoisonRecord(recording_id.error().message);
    // Uploaded bytes go with the last recording that holds them: they may be personal.
    outside_read_models(
        transaction,
        "DELETE FROM content_blobs WHERE sha256 IN (SELECT content_sha256 FROM recordings "
        "WHERE recording_id = $1) AND NOT EXISTS (SELECT 1 FROM recordings r "
        "WHERE r.content_sha256 = content_blobs.sha256 AND r.recording_id <> $1)",
        *recording_id);
    infra::exec_prepared_sql(transaction, "DELETE FROM recordings WHERE recording_id = $1",
                             *recording_id);
    outside_read_models(
        transaction, "DELETE FROM identity_claims WHERE kind = 'recording' AND value = lower($1)",
        *recording_id);
    // Results are derived from the content: they go with it.
    outside_read_models(transaction,
                        "DELETE FROM webhook_deliveries WHERE job_id IN "
                        "(SELECT job_id FROM jobs WHERE recording_id = $1)",
                        *recording_id);
    infra::exec_prepared_sql(transaction, "DELETE FROM jobs WHERE recording_id = $1",
                             *recording_id);
    return true;
  }
  return false;
}

}  // namespace tidemark::projections
