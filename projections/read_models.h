#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <pqxx/connection>
#include <pqxx/dbtransaction>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/envelope.h"
#include "domain/position.h"
#include "infra/database.h"
#include "infra/keyring.h"
#include "projections/batch.h"

namespace tidemark::projections {

/// The name under which the read models keep their position in the log.
inline constexpr const char* kReadModelsProjection = "read_models";

/// A record that can never be applied (unknown type, undecodable payload): it goes to the
/// dead-letter topic with this message as the reason, and the projection moves past it.
class PoisonRecord : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A rebuild replays the log into fresh read-model tables (`tidemark rebuild`) while the live
/// projector goes on: effects beyond the read models (freeing claimed names, deleting stored
/// content and keys, queueing webhooks, NOTIFY) already happened once, live, and are skipped.
/// Set once, by the rebuilding process.
void set_rebuilding(bool rebuilding);
bool rebuilding();

/// Runs a statement on what lies beyond the read models (claims, stored content, keys,
/// outboxes, NOTIFY): live only, never during a rebuild.
template <typename... Parameters>
void outside_read_models(pqxx::dbtransaction& transaction, const std::string& statement,
                         Parameters&&... parameters) {
  if (rebuilding()) return;
  infra::exec_prepared_sql(transaction, statement, std::forward<Parameters>(parameters)...);
}

/// `insert` (the INSERT of a created row whose `$1` is the client's id) followed, live, by the
/// confirmation of that id's claim of `kind` (a plain word: recording, app_user, algorithm), in
/// one statement: one round trip per create rather than two. During a rebuild, `insert` alone.
std::string confirming_claim(const std::string& insert, std::string_view kind);

/// A record's row in the domain log (`domain_events`): the record as logged, and where.
struct DomainLogRow {
  domain::EventEnvelope envelope;
  domain::Position position;
};

/// Writes `rows` into `domain_events` with one COPY. Each record applies once per projection
/// (its position is locked and moved in the same transaction, or a rebuild fills fresh tables),
/// so no row is there already.
void copy_domain_log(pqxx::dbtransaction& transaction, const std::vector<DomainLogRow>& rows);

/// Applies events to the read-model tables inside one transaction (or savepoint), in log order.
/// Rows that only add to a table (event-log entries, the domain log) are gathered and written
/// with COPY, one round trip per table rather than one per event: before any other event
/// applies, so that it sees every event before it, and at `finish`. Applying the same event twice
/// changes nothing the second time. `keyring` opens sealed personal data.
class ReadModelBatch final : public Batch {
 public:
  /// With `defer_domain_log`, `finish` leaves the domain log's rows to `take_domain_log`: a
  /// rebuild writes them on a connection of their own, since no other table depends on them.
  ReadModelBatch(pqxx::dbtransaction& transaction, const infra::Keyring& keyring,
                 bool defer_domain_log = false);
  ~ReadModelBatch() override;
  void apply(const domain::EventEnvelope& envelope, domain::Position position) override;
  void finish() override;
  /// The domain log's rows of the records applied so far (with `defer_domain_log`).
  std::vector<DomainLogRow> take_domain_log();

 private:
  struct Gathered;
  void write_log_entries();

  pqxx::dbtransaction& transaction_;
  const infra::Keyring& keyring_;
  bool defer_domain_log_;
  std::unique_ptr<Gathered> gathered_;
};

/// Read-model batches for projectors and rebuilds.
BatchFactory read_model_batches(const infra::Keyring& keyring);

/// Next offset to apply per partition for `projection` on `topic` (absent: from the start).
std::map<std::int32_t, std::int64_t> load_offsets(pqxx::connection& connection,
                                                  const std::string& projection,
                                                  const std::string& topic);

/// The same, locking the rows so that a second projector working on the same partitions
/// (during a rebalance) waits, then sees what the first one committed.
std::map<std::int32_t, std::int64_t> lock_offsets(pqxx::dbtransaction& transaction,
                                                  const std::string& projection,
                                                  const std::string& topic,
                                                  const std::vector<std::int32_t>& partitions);

/// Records the new position of each partition in `next` and announces them (NOTIFY) when the
/// transaction commits.
void store_offsets(pqxx::dbtransaction& transaction, const std::string& projection,
                   const std::string& topic, const std::map<std::int32_t, std::int64_t>& next);

}  // namespace tidemark::projections
