#include "projections/algorithms.h"

#include <pqxx/pqxx>

#include "domain/algorithm.h"
#include "infra/log.h"
#include "projections/read_models.h"

namespace tidemark::projections {

bool apply_algorithm_event(pqxx::dbtransaction& transaction,
                           const domain::EventEnvelope& envelope) {
  std::string time = domain::format_timestamp(envelope.time);
  if (envelope.type == domain::kAlgorithmRegisteredV1 ||
      envelope.type == domain::kAlgorithmUpdatedV1) {
    auto change = domain::decode_algorithm(envelope.payload);
    if (!change) throw PoisonRecord(change.error().message);
    const auto& algorithm = change->algorithm;
    if (envelope.type == domain::kAlgorithmRegisteredV1) {
      infra::exec_prepared_sql(
          transaction,
          confirming_claim(
              "INSERT INTO algorithms (algo_id, recording_type, location, version, revision, "
              "created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5::timestamptz, "
              "$5::timestamptz) ON CONFLICT (algo_id) DO NOTHING",
              "algorithm"),
          algorithm.algo_id, algorithm.recording_type, algorithm.location, algorithm.version, time);
    } else {
      auto updated = infra::exec_prepared_sql(
          transaction,
          "UPDATE algorithms SET recording_type = $2, location = $3, version = $4, "
          "revision = revision + 1, updated_at = $5::timestamptz "
          "WHERE algo_id = $1 AND ($6::integer IS NULL OR revision = $6::integer)",
          algorithm.algo_id, algorithm.recording_type, algorithm.location, algorithm.version, time,
          change->expected_revision);
      if (updated.affected_rows() == 0) {
        infra::log_info("algorithm update skipped: revision changed or algorithm deleted",
                        {{"algo_id", algorithm.algo_id}, {"event", envelope.id}});
      }
    }
    return true;
  }
  if (envelope.type == domain::kAlgorithmDeletedV1) {
    auto algo_id = domain::decode_algorithm_deleted(envelope.payload);
    if (!algo_id) throw PoisonRecord(algo_id.error().message);
    infra::exec_prepared_sql(transaction, "DELETE FROM algorithms WHERE algo_id = $1", *algo_id);
    outside_read_models(
        transaction, "DELETE FROM identity_claims WHERE kind = 'algorithm' AND value = lower($1)",
        *algo_id);
    return true;
  }
  return false;
}

}  // namespace tidemark::projections
