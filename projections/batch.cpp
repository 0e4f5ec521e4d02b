#include "projections/batch.h"

namespace tidemark::projections {
namespace {

class EachRecord final : public Batch {
 public:
  EachRecord(pqxx::dbtransaction& transaction, const RecordApplier& applier)
      : transaction_(transaction), applier_(applier) {}

  void apply(const domain::EventEnvelope& envelope, domain::Position position) override {
    applier_(transaction_, envelope, position);
  }

 private:
  pqxx::dbtransaction& transaction_;
  const RecordApplier& applier_;
};

}  // namespace

BatchFactory each_record(RecordApplier applier) {
  return [applier = std::move(applier)](pqxx::dbtransaction& transaction) {
    return std::unique_ptr<Batch>(std::make_unique<EachRecord>(transaction, applier));
  };
}

}  // namespace tidemark::projections
