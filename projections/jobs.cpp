#include "projections/jobs.h"

#include <pqxx/pqxx>

#include "domain/job.h"
#include "projections/read_models.h"

namespace tidemark::projections {
namespace {

/// `change` (an INSERT into or UPDATE of `jobs`, without RETURNING) as one statement that, live,
/// also announces the changed job to everyone waiting on it, its recording or its owner, and,
/// when the change leaves the job finished, adds the finished words to the announcement and
/// queues the webhook delivery its callback URL asks for: one round trip per event. During a
/// rebuild, `change` alone (nothing beyond the read models).
std::string announced(const std::string& change) {
  if (rebuilding()) return change;
  const std::string prefix(kFinishedPrefix);
  return "WITH changed AS (" + change +
         " RETURNING job_id, recording_id, owner_id, callback_url, "
         "status IN ('succeeded', 'failed') AS finished), "
         "queued AS (INSERT INTO webhook_deliveries (job_id, url) SELECT job_id, callback_url "
         "FROM changed WHERE finished AND callback_url IS NOT NULL ON CONFLICT (job_id) DO NOTHING "
         "RETURNING job_id) "
         "SELECT pg_notify('" +
         kJobsChannel +
         "', job_id::text || ' ' || recording_id || ' ' || owner_id::text || "
         "CASE WHEN finished THEN ' " +
         prefix + "' || job_id::text || ' " + prefix +
         "' || recording_id ELSE '' END) FROM changed "
         "UNION ALL SELECT pg_notify('" +
         kWebhooksChannel + "', job_id::text) FROM queued";
}

void apply_submitted(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope) {
  auto job = domain::decode_job_submitted(envelope.payload);
  if (!job) throw PoisonRecord(job.error().message);
  // Only while the recording exists: a deleted one's jobs are not rebuilt.
  infra::exec_prepared_sql(
      transaction,
      announced("INSERT INTO jobs (job_id, recording_id, owner_id, algo_id, version, location, "
                "recording_type, status, callback_url, submitted_at, update_seq) "
                "SELECT $1::uuid, $2, $3::uuid, $4, $5, $6, $7, 'queued', $8, $9::timestamptz, "
                "nextval('job_update_seq') WHERE EXISTS (SELECT 1 FROM recordings WHERE "
                "recording_id = $2) ON CONFLICT (job_id) DO NOTHING"),
      job->job_id, job->recording_id, job->owner_id, job->algo_id, job->version, job->location,
      job->recording_type, job->callback_url, domain::format_timestamp(envelope.time));
}

/// A finished job keeps its outcome, and a job gone with its recording stays gone: each outcome
/// changes only a queued or running job.
void apply_outcome(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope) {
  auto outcome = domain::decode_job_outcome(envelope.payload);
  if (!outcome) throw PoisonRecord(outcome.error().message);
  std::string time = domain::format_timestamp(envelope.time);
  if (envelope.type == domain::kJobStartedV1) {
    infra::exec_prepared_sql(
        transaction,
        announced("UPDATE jobs SET status = 'running', attempts = GREATEST(attempts, $2), "
                  "started_at = COALESCE(started_at, $3::timestamptz), "
                  "update_seq = nextval('job_update_seq') "
                  "WHERE job_id = $1::uuid AND status IN ('queued', 'running')"),
        outcome->job_id, outcome->attempt, time);
  } else if (envelope.type == domain::kJobSucceededV1) {
    if (!outcome->output) throw PoisonRecord("job succeeded without an output");
    infra::exec_prepared_sql(
        transaction,
        announced("UPDATE jobs SET status = 'succeeded', attempts = GREATEST(attempts, $2), "
                  "result = $3::jsonb, failure = NULL, runtime_ms = $4, "
                  "finished_at = $5::timestamptz, update_seq = nextval('job_update_seq') "
                  "WHERE job_id = $1::uuid AND status IN ('queued', 'running')"),
        outcome->job_id, outcome->attempt, *outcome->output, outcome->runtime_ms, time);
  } else {
    infra::exec_prepared_sql(
        transaction,
        announced("UPDATE jobs SET status = CASE WHEN $4 THEN 'failed' ELSE 'running' END, "
                  "attempts = GREATEST(attempts, $2), failure = $3, "
                  "finished_at = CASE WHEN $4 THEN $5::timestamptz END, "
                  "update_seq = nextval('job_update_seq') "
                  "WHERE job_id = $1::uuid AND status IN ('queued', 'running')"),
        outcome->job_id, outcome->attempt, outcome->reason, outcome->final, time);
  }
}

void write_nullable_text(domain::JsonWriter& writer, const char* name, const pqxx::field& field) {
  writer.Key(name);
  if (field.is_null()) {
    writer.Null();
  } else {
    domain::write_string(writer, field.c_str());
  }
}

}  // namespace

bool apply_job_event(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope) {
  if (envelope.type == domain::kJobSubmittedV1) {
    apply_submitted(transaction, envelope);
    return true;
  }
  if (envelope.type == domain::kJobStartedV1 || envelope.type == domain::kJobSucceededV1 ||
      envelope.type == domain::kJobFailedV1) {
    apply_outcome(transaction, envelope);
    return true;
  }
  return false;
}

void write_job(domain::JsonWriter& writer, const pqxx::row& row, int first) {
  writer.StartObject();
  for (auto [name, index] :
       {std::pair{"job_id", 0}, std::pair{"recording_id", 1}, std::pair{"algo_id", 2},
        std::pair{"version", 3}, std::pair{"recording_type", 4}, std::pair{"status", 5}}) {
    writer.Key(name);
    domain::write_string(writer, row[first + index].c_str());
  }
  writer.Key("attempts");
  writer.Int64(row[first + 6].as<std::int64_t>());
  writer.Key("result");
  if (row[first + 7].is_null()) {
    writer.Null();
  } else {
    std::string_view result = row[first + 7].c_str();
    writer.RawValue(result.data(), result.size(), rapidjson::kObjectType);
  }
  write_nullable_text(writer, "failure", row[first + 8]);
  writer.Key("runtime_ms");
  if (row[first + 9].is_null()) {
    writer.Null();
  } else {
    writer.Double(row[first + 9].as<double>());
  }
  write_nullable_text(writer, "submitted_at", row[first + 10]);
  write_nullable_text(writer, "started_at", row[first + 11]);
  write_nullable_text(writer, "finished_at", row[first + 12]);
  writer.EndObject();
}

std::string job_json(const pqxx::row& row) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  write_job(writer, row);
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace tidemark::projections
