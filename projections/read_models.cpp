#include "projections/read_models.h"

#include <atomic>
#include <pqxx/pqxx>
#include <utility>

#include "domain/log_entry.h"
#include "domain/upcasters.h"
#include "infra/checkpoint_watcher.h"
#include "projections/accounts.h"
#include "projections/algorithms.h"
#include "projections/app_users.h"
#include "projections/jobs.h"
#include "projections/recordings.h"

namespace tidemark::projections {
namespace {

domain::LogEntry decoded_entry(const domain::EventEnvelope& envelope) {
  auto entry = domain::decode_log_entry_payload(envelope.payload);
  if (!entry) {
    throw PoisonRecord("undecodable " + envelope.type + " payload: " + entry.error().message);
  }
  return std::move(entry).value();
}

std::optional<std::string> owner_text(const domain::LogEntry& entry) {
  return entry.owner_id ? std::optional<std::string>(entry.owner_id->to_string()) : std::nullopt;
}

/// A correction replaces the content; the entry keeps its owner and its place in the log.
void apply_log_entry_corrected(pqxx::dbtransaction& transaction,
                               const domain::EventEnvelope& envelope) {
  domain::LogEntry entry = decoded_entry(envelope);
  infra::exec_prepared_sql(
      transaction,
      "UPDATE event_log SET user_id = $2, session_id = $3, event_type = $4, "
      "event_data = $5::jsonb, event_source = $6, log_level = $7, ts = $8::timestamptz, "
      "revision = revision + 1 "
      "WHERE event_id = $1 AND ($9::integer IS NULL OR revision = $9::integer)",
      entry.event_id.to_string(), entry.user_id, entry.session_id, entry.event_type,
      entry.event_data_json, entry.event_source, entry.log_level,
      domain::format_timestamp(entry.ts), entry.expected_revision);
}

void apply_log_entry_redacted(pqxx::dbtransaction& transaction,
                              const domain::EventEnvelope& envelope) {
  auto event_id = domain::decode_log_entry_redacted(envelope.payload);
  if (!event_id) throw PoisonRecord(event_id.error().message);
  infra::exec_prepared_sql(transaction, "DELETE FROM event_log WHERE event_id = $1",
                           event_id->to_string());
}

/// Applies the event to the read model its type belongs to; false for an unknown type.
bool apply_to_read_model(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope,
                         const infra::Keyring& keyring) {
  if (envelope.type == domain::kLogEntryCorrectedV1) {
    apply_log_entry_corrected(transaction, envelope);
    return true;
  }
  if (envelope.type == domain::kLogEntryRedactedV1) {
    apply_log_entry_redacted(transaction, envelope);
    return true;
  }
  return apply_account_event(transaction, envelope, keyring) ||
         apply_algorithm_event(transaction, envelope) ||
         apply_recording_event(transaction, envelope) ||
         apply_app_user_event(transaction, envelope, keyring) ||
         apply_job_event(transaction, envelope);
}

/// NULL for an absent or empty text, in a COPY row.
const char* or_null(const std::optional<std::string>& text) {
  return text && !text->empty() ? text->c_str() : nullptr;
}

const char* or_null(const std::string& text) {
  return text.empty() ? nullptr : text.c_str();
}

std::atomic<bool> rebuilding_flag{false};

}  // namespace

void set_rebuilding(bool rebuilding) {
  rebuilding_flag = rebuilding;
}

bool rebuilding() {
  return rebuilding_flag;
}

/// Rows waiting for COPY, as their columns' text.
struct ReadModelBatch::Gathered {
  struct LogEntryRow {
    domain::LogEntry entry;
    std::string recorded_at;
    domain::Position position;
  };
  std::vector<LogEntryRow> log_entries;
  std::vector<DomainLogRow> domain_events;
  bool staging_table_ready = false;
};

ReadModelBatch::ReadModelBatch(pqxx::dbtransaction& transaction, const infra::Keyring& keyring,
                               bool defer_domain_log)
    : transaction_(transaction),
      keyring_(keyring),
      defer_domain_log_(defer_domain_log),
      gathered_(std::make_unique<Gathered>()) {}

ReadModelBatch::~ReadModelBatch() = default;

void ReadModelBatch::apply(const domain::EventEnvelope& envelope, domain::Position position) {
  // Old versions are lifted to the current one first; the domain log keeps the record as logged.
  auto current = domain::upcast(envelope);
  if (!current) throw PoisonRecord(current.error().message);
  if (current->type == domain::kLogEntryRecordedV1) {
    gathered_->log_entries.push_back(
        {decoded_entry(*current), domain::format_timestamp(current->time), position});
  } else {
    // This event may read or change what the gathered ones write.
    write_log_entries();
    if (!apply_to_read_model(transaction_, *current, keyring_)) {
      throw PoisonRecord("unknown event type '" + envelope.type + "'");
    }
  }
  gathered_->domain_events.push_back({envelope, position});
}

void copy_domain_log(pqxx::dbtransaction& transaction, const std::vector<DomainLogRow>& rows) {
  if (rows.empty()) return;
  pqxx::stream_to copy(transaction, "domain_events",
                       std::vector<std::string>{"log_partition", "log_offset", "event_id", "type",
                                                "source", "subject", "aggregate_key", "actor",
                                                "correlation_id", "time", "payload"});
  for (const auto& [envelope, position] : rows) {
    copy << std::make_tuple(position.partition, position.offset, envelope.id, envelope.type,
                            envelope.source, or_null(envelope.subject), envelope.key,
                            or_null(envelope.actor), or_null(envelope.correlation_id),
                            domain::format_timestamp(envelope.time), envelope.payload);
  }
  copy.complete();
}

void ReadModelBatch::finish() {
  write_log_entries();
  if (defer_domain_log_) return;
  copy_domain_log(transaction_, gathered_->domain_events);
  gathered_->domain_events.clear();
}

std::vector<DomainLogRow> ReadModelBatch::take_domain_log() {
  return std::exchange(gathered_->domain_events, {});
}

void ReadModelBatch::write_log_entries() {
  auto& rows = gathered_->log_entries;
  if (rows.empty()) return;
  // A log entry may be recorded twice (a producer retry): COPY into a staging table, then insert
  // what is new. The staging table is this session's, emptied by the same statement.
  if (!gathered_->staging_table_ready) {
    auto missing = transaction_.exec("SELECT to_regclass('pg_temp.staged_event_log') IS NULL");
    if (missing[0][0].as<bool>()) {
      transaction_.exec(
          "CREATE TEMP TABLE staged_event_log (LIKE event_log INCLUDING DEFAULTS) "
          "ON COMMIT DELETE ROWS");
    }
    gathered_->staging_table_ready = true;
  }
  static const std::vector<std::string> columns{
      "event_id",  "user_id", "session_id",  "event_type",    "event_data", "event_source",
      "log_level", "ts",      "recorded_at", "log_partition", "log_offset", "owner_id"};
  {
    pqxx::stream_to copy(transaction_, "staged_event_log", columns);
    for (const auto& [entry, recorded_at, position] : rows) {
      std::optional<std::string> owner = owner_text(entry);
      copy << std::make_tuple(entry.event_id.to_string(), entry.user_id, or_null(entry.session_id),
                              entry.event_type, entry.event_data_json, entry.event_source,
                              entry.log_level, domain::format_timestamp(entry.ts), recorded_at,
                              position.partition, position.offset, or_null(owner));
    }
    copy.complete();
  }
  transaction_.exec(
      "WITH staged AS (DELETE FROM staged_event_log RETURNING *) "
      "INSERT INTO event_log (event_id, user_id, session_id, event_type, event_data, "
      "event_source, log_level, ts, recorded_at, log_partition, log_offset, owner_id) "
      "SELECT event_id, user_id, session_id, event_type, event_data, event_source, log_level, "
      "ts, recorded_at, log_partition, log_offset, owner_id FROM staged "
      "ORDER BY log_partition, log_offset ON CONFLICT (event_id) DO NOTHING");
  rows.clear();
}

BatchFactory read_model_batches(const infra::Keyring& keyring) {
  return [&keyring](pqxx::dbtransaction& transaction) -> std::unique_ptr<Batch> {
    return std::make_unique<ReadModelBatch>(transaction, keyring);
  };
}

std::map<std::int32_t, std::int64_t> load_offsets(pqxx::connection& connection,
                                                  const std::string& projection,
                                                  const std::string& topic) {
  pqxx::nontransaction read(connection);
  std::map<std::int32_t, std::int64_t> offsets;
  for (const auto& row :
       infra::exec_prepared_sql(read,
                                "SELECT log_partition, next_offset FROM projection_offsets "
                                "WHERE projection = $1 AND topic = $2",
                                projection, topic)) {
    offsets[row[0].as<std::int32_t>()] = row[1].as<std::int64_t>();
  }
  return offsets;
}

std::string confirming_claim(const std::string& insert, std::string_view kind) {
  if (rebuilding()) return insert;
  return "WITH created AS (" + insert +
         ") UPDATE identity_claims SET confirmed = true WHERE kind = '" + std::string(kind) +
         "' AND value = lower($1)";
}

std::map<std::int32_t, std::int64_t> lock_offsets(pqxx::dbtransaction& transaction,
                                                  const std::string& projection,
                                                  const std::string& topic,
                                                  const std::vector<std::int32_t>& partitions) {
  // Creates the missing rows and locks them all (an upsert locks what it finds), in the order
  // given, as one statement per batch.
  auto rows = infra::exec_prepared_sql(
      transaction,
      "INSERT INTO projection_offsets (projection, topic, log_partition, next_offset) "
      "SELECT $1, $2, partition, 0 FROM unnest($3::integer[]) WITH ORDINALITY AS p(partition, n) "
      "ORDER BY n ON CONFLICT (projection, topic, log_partition) "
      "DO UPDATE SET next_offset = projection_offsets.next_offset "
      "RETURNING log_partition, next_offset",
      projection, topic, infra::array_literal(partitions));
  std::map<std::int32_t, std::int64_t> offsets;
  for (const auto& row : rows) offsets[row[0].as<std::int32_t>()] = row[1].as<std::int64_t>();
  return offsets;
}

void store_offsets(pqxx::dbtransaction& transaction, const std::string& projection,
                   const std::string& topic, const std::map<std::int32_t, std::int64_t>& next) {
  if (next.empty()) return;
  std::vector<std::int32_t> partitions;
  std::vector<std::int64_t> offsets;
  std::vector<std::string> tokens;
  for (const auto& [partition, next_offset] : next) {
    partitions.push_back(partition);
    offsets.push_back(next_offset);
    tokens.push_back(domain::Position{partition, next_offset}.to_token());
  }
  infra::exec_prepared_sql(
      transaction,
      "UPDATE projection_offsets AS stored SET next_offset = moved.next_offset, updated_at = now() "
      "FROM unnest($3::integer[], $4::bigint[]) AS moved(partition, next_offset) "
      "WHERE stored.projection = $1 AND stored.topic = $2 "
      "AND stored.log_partition = moved.partition",
      projection, topic, infra::array_literal(partitions), infra::array_literal(offsets));
  outside_read_models(transaction, "SELECT pg_notify($1, token) FROM unnest($2::text[]) AS token",
                      infra::projection_channel(projection), infra::array_literal(tokens));
}

}  // namespace tidemark::projections
