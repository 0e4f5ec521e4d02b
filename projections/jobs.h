#pragma once

#include <pqxx/dbtransaction>
#include <pqxx/row>
#include <string>

#include "domain/envelope.h"
#include "domain/json.h"

namespace tidemark::projections {

/// The NOTIFY channel on which job changes are announced, with the payload
/// `JOB_ID RECORDING_ID OWNER_ID` (long-polls and the event stream wait on any of the three).
inline constexpr const char* kJobsChannel = "tidemark_jobs";
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
