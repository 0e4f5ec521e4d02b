#include "workers/projector.h"

#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "domain/envelope.h"
#include "infra/database.h"
#include "infra/log.h"
#include "projections/read_models.h"

namespace tidemark::workers {
namespace {

/// A record's place in the log, for log lines and dead-letter headers.
std::string describe(const infra::ConsumedRecord& record) {
  return record.topic + ":" + std::to_string(record.partition) + ":" +
         std::to_string(record.offset);
}

}  // namespace

Projector::Projector(Options options) : options_(std::move(options)) {
  dead_letters_ = std::make_unique<infra::EventProducer>(infra::EventProducer::Options{
      options_.bootstrap_servers, "tidemark-projector", 30000, options_.kafka_security});
}

Projector::~Projector() = default;

pqxx::connection& Projector::connection() {
  if (!connection_ || !connection_->is_open()) connection_ = infra::connect(options_.database_url);
  return *connection_;
}

void Projector::dead_letter(const infra::ConsumedRecord& record, const std::string& reason) {
  if (options_.dead_letter_topic.empty()) {
    // This projection only reads what another one owns; that one dead-letters the record.
    infra::log_warning("record skipped", {{"record", describe(record)}, {"reason", reason}});
    return;
  }
  domain::Headers headers = record.headers;
  headers.emplace_back(domain::header::kDeadLetterReason, reason);
  headers.emplace_back("tidemark_dlq_source", describe(record));
  auto delivered =
      dead_letters_->append_and_wait(options_.dead_letter_topic, record.key, record.value, headers);
  if (!delivered) {
    // Without the dead letter the record would be lost: fail the batch so it is retried.
    throw std::runtime_error("cannot write to " + options_.dead_letter_topic + ": " +
                             delivered.error().message);
  }
  infra::log_warning("record sent to the dead-letter topic",
                     {{"record", describe(record)}, {"reason", reason}});
}

bool Projector::apply_batch(const std::vector<infra::ConsumedRecord>& batch, bool isolate_records) {
  std::set<std::int32_t> partition_set;
  for (const auto& record : batch) partition_set.insert(record.partition);
  std::vector<std::int32_t> partitions(partition_set.begin(), partition_set.end());

  pqxx::work transaction(connection());
  auto next_offsets =
      projections::lock_offsets(transaction, options_.projection, options_.topic, partitions);
  std::unique_ptr<projections::Batch> applying;
  if (!isolate_records) applying = options_.begin_batch(transaction);
  for (const auto& record : batch) {
    auto& next_offset = next_offsets[record.partition];
    if (record.offset < next_offset) continue;  // already applied
    if (record.offset > next_offset) {
      // The broker dropped records before they were applied (retention shorter than the lag):
      // the consumer went on at the oldest one it still holds. Said loudly, never silently.
      infra::log_error("records lost before they were applied",
                       {{"projection", options_.projection},
                        {"partition", std::to_string(record.partition)},
                        {"missing_offsets",
                         std::to_string(next_offset) + ".." + std::to_string(record.offset - 1)}});
    }
    auto envelope = domain::EventEnvelope::from_record(record.headers, record.key, record.value);
    try {
      if (!envelope) throw projections::PoisonRecord(envelope.error().message);
      domain::Position position{record.partition, record.offset};
      if (isolate_records) {
        pqxx::subtransaction savepoint(transaction, "record");
        try {
          auto alone = options_.begin_batch(savepoint);
          alone->apply(*envelope, position);
          alone->finish();
          savepoint.commit();
        } catch (const pqxx::sql_error& error) {
          if (infra::is_connection_failure(std::current_exception())) throw;
          savepoint.abort();
          throw projections::PoisonRecord(std::string("rejected by PostgreSQL: ") + error.what());
        }
      } else {
        applying->apply(*envelope, position);
      }
    } catch (const projections::PoisonRecord& poison) {
      dead_letter(record, poison.what());
    }
    next_offset = record.offset + 1;
  }
  if (applying) applying->finish();
  projections::store_offsets(transaction, options_.projection, options_.topic, next_offsets);
  transaction.commit();
  return true;
}

void Projector::run(const std::atomic<bool>& stop) {
  infra::GroupConsumer consumer(infra::GroupConsumer::Options{
      options_.bootstrap_servers,
      options_.group_id,
      options_.topic,
      "tidemark-" + options_.projection,
      [this](const infra::GroupConsumer::Assignment&) {
        try {
          return projections::load_offsets(connection(), options_.projection, options_.topic);
        } catch (...) {
          connection_.reset();
          throw;
        }
      },
      {},
      options_.kafka_security,
      options_.fetch_wait});

  std::vector<infra::ConsumedRecord> batch;
  int failures = 0;
  while (!stop) {
    if (batch.empty()) {
      auto first = consumer.poll(std::chrono::milliseconds(200));
      if (!first) continue;
      batch.push_back(std::move(*first));
      while (batch.size() < options_.batch_size) {
        auto next = consumer.poll(std::chrono::milliseconds(0));
        if (!next) break;
        batch.push_back(std::move(*next));
      }
    }
    try {
      try {
        apply_batch(batch, false);
      } catch (const pqxx::sql_error&) {
        if (infra::is_connection_failure(std::current_exception())) throw;
        // One record's content was refused: apply record by record to find it.
        apply_batch(batch, true);
      }
      batch.clear();
      failures = 0;
    } catch (const std::exception& error) {
      // PostgreSQL (or the dead-letter topic) is unavailable: keep the batch and retry it.
      if (infra::is_connection_failure(std::current_exception())) connection_.reset();
      if (failures++ % 20 == 0) {
        infra::log_warning("cannot apply a batch; retrying",
                           {{"error", error.what()}, {"first", describe(batch.front())}});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(failures, 10) * 100));
    }
  }
  consumer.close();
}

}  // namespace tidemark::workers
