#pragma once

#include <pqxx/dbtransaction>
#include <pqxx/row>
#include <string>
#include <string_view>

#include "domain/envelope.h"
#include "domain/json.h"

namespace tidemark::projections {

/// The NOTIFY channel on which job changes are announced, with the payload
/// `JOB_ID RECORDING_ID OWNER_ID`, followed by `finished_word` of the job id and of the
/// recording id once the job has finished. The event stream waits on the owner id; waits for a
/// result wait on a finished word, so that a job's start wakes none of them.
inline constexpr const char* kJobsChannel = "tidemark_jobs";
/// The word a job's announcement carries for `id` (its job id or its recording id) once the job
/// has finished.
inline constexpr std::string_view kFinishedPrefix = "finished:";
inline std::string finished_word(std::string_view id) {
  return std::string(kFinishedPrefix).append(id);
}
/// Announced when a webhook delivery becomes due.
inline constexpr const char* kWebhooksChannel = "tidemark_webhooks";

/// Applies job events to `jobs` (and queues webhook deliveries); false for other types. The
/// first terminal outcome wins: a redelivered or duplicate outcome changes nothing.
bool apply_job_event(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope);

/// The columns `write_job` reads, in its order, for `SELECT … FROM jobs`.
#define TIDEMARK_UTC_TEXT(column) \
  "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
inline constexpr const char* kJobColumns =
    "job_id, recording_id, algo_id, version, recording_type, status, attempts, result, failure, "
    "runtime_ms, " TIDEMARK_UTC_TEXT("submitted_at") ", " TIDEMARK_UTC_TEXT(
        "started_at") ", " TIDEMARK_UTC_TEXT("finished_at") ", update_seq, location, owner_id";
#undef TIDEMARK_UTC_TEXT

/// A job as clients see it (`GET /jobs/{id}`, the event stream, webhook bodies).
/// `first`: the index of the first job column in `row`.
void write_job(domain::JsonWriter& writer, const pqxx::row& row, int first = 0);
inline constexpr int kJobColumnCount = 16;
std::string job_json(const pqxx::row& row);

}  // namespace tidemark::projections
