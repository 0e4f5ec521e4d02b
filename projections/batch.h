#pragma once

#include <functional>
#include <memory>
#include <pqxx/dbtransaction>

#include "domain/envelope.h"
#include "domain/position.h"

namespace tidemark::projections {

/// What a projection does with the records of one transaction: `apply` each in log order, then
/// `finish` once, before the commit. A batch may hold work back until `finish` (to write many
/// rows in one statement), so nothing it applied is in the database before then.
class Batch {
 public:
  virtual ~Batch() = default;
  /// Applies one record; throws PoisonRecord, before changing anything, for a record that can
  /// never apply.
  virtual void apply(const domain::EventEnvelope& envelope, domain::Position position) = 0;
  virtual void finish() {}
};

/// Opens a batch on a transaction (or on a savepoint inside one).
using BatchFactory = std::function<std::unique_ptr<Batch>(pqxx::dbtransaction&)>;

/// Applies one record at a time, inside the batch's transaction.
using RecordApplier =
    std::function<void(pqxx::dbtransaction&, const domain::EventEnvelope&, domain::Position)>;

/// Batches that apply each record on its own, at once, through `applier`.
BatchFactory each_record(RecordApplier applier);

}  // namespace tidemark::projections
