#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <pqxx/connection>
#include <pqxx/dbtransaction>
#include <string>
#include <vector>

#include "domain/envelope.h"
#include "domain/position.h"
#include "infra/kafka.h"
#include "projections/batch.h"

namespace tidemark::workers {

/// Applies the event log to PostgreSQL, exactly once in effect: each batch of records and the
/// new positions are written in one transaction, and records below the stored position
/// (redeliveries, a rebalance overlap) are skipped. Records that can never apply go to the
/// dead-letter topic, with the reason, before the position moves past them. What applying
/// means is the batches' of `begin_batch`: the read models for the projector role, mail for
/// the mailer, jobs for the inference worker.
class Projector {
 public:
  struct Options {
    std::string database_url;
    std::string bootstrap_servers;
    std::string topic;
    std::string dead_letter_topic;  ///< empty: skip records that cannot apply, with a log line
    std::string group_id = "tidemark-projector";
    std::size_t batch_size = 500;
    std::string projection;  ///< the name its positions are stored under
    projections::BatchFactory begin_batch;
    infra::KafkaSecurity kafka_security{};
    std::chrono::milliseconds fetch_wait = infra::kFetchWait;  ///< see GroupConsumer::Options
  };

  explicit Projector(Options options);
  ~Projector();

  /// Consumes until `stop` becomes true, then leaves the group. A batch in progress is either
  /// committed whole or not at all.
  void run(const std::atomic<bool>& stop);

 private:
  pqxx::connection& connection();
  /// Applies a batch; false when PostgreSQL failed and the batch should be retried.
  bool apply_batch(const std::vector<infra::ConsumedRecord>& batch, bool isolate_records);
  void dead_letter(const infra::ConsumedRecord& record, const std::string& reason);

  Options options_;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<infra::EventProducer> dead_letters_;
};

}  // namespace tidemark::workers
