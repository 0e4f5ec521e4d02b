#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/dbtransaction>
#include <string>
#include <vector>

#include "domain/envelope.h"
#include "domain/job.h"
#include "infra/kafka.h"
#include "projections/batch.h"
#include "workers/runners.h"

namespace tidemark::workers {

/// Runs submitted jobs: a consumer group on the event log that takes each
/// `tidemark.job.submitted` event, runs the algorithm pinned in it on the recording's content,
/// and appends started, then succeeded or failed (with the attempt number) as events. Outcomes
/// are appended without waiting, job after job; the batch's position is stored once all of them
/// are acknowledged, so a worker killed mid-job leaves the
/// job to whichever worker takes its partitions; a duplicate outcome is ignored by the read
/// model (the first terminal one wins). A job that fails every attempt is also written to the
/// dead-letter topic with its reason.
class InferenceWorker {
 public:
  struct Options {
    std::string database_url;
    std::string bootstrap_servers;
    std::string topic;
    std::string dead_letter_topic;
    std::string group_id = "tidemark-inference";
    std::string worker_name;  ///< in started events, for operators
    RunnerSettings runners;
    int max_attempts = 3;
    std::chrono::milliseconds first_backoff{200};  ///< doubles after each failed attempt
    std::chrono::milliseconds time_limit{30000};   ///< per attempt
    std::int64_t max_input_bytes = 64 << 20;
    std::size_t batch_size = 64;  ///< records per transaction
    infra::KafkaSecurity kafka_security{};
  };

  explicit InferenceWorker(Options options);
  ~InferenceWorker();

  /// Works until `stop` becomes true; a job in progress finishes first.
  void run(const std::atomic<bool>& stop);

 private:
  /// The worker's projection batches: the submitted jobs gathered, run at the batch's end
  /// through `run_jobs`, then the outcomes awaited.
  class JobBatch;
  struct SubmittedJob {
    domain::JobSubmitted job;
    std::string correlation_id;
  };
  /// Runs the jobs in order, except those whose outcome is projected already.
  void run_jobs(pqxx::dbtransaction& transaction, const std::vector<SubmittedJob>& submitted);
  void run_job(const domain::JobSubmitted& job, const std::string& content,
               const std::string& correlation_id);
  /// Output JSON of one attempt, or why it failed.
  domain::Result<std::string> attempt(const domain::JobSubmitted& job, const std::string& content,
                                      double& runtime_ms);
  /// Queues an outcome; `wait_for_outcomes` waits for it.
  void append(std::string_view type, const domain::JobOutcome& outcome,
              const std::string& correlation_id);
  /// Blocks until every queued outcome is acknowledged; throws when one was not, so that the
  /// batch is not marked done and its jobs run again.
  void wait_for_outcomes();
  void dead_letter(const domain::JobSubmitted& job, const std::string& reason);

  Options options_;
  std::unique_ptr<infra::EventProducer> producer_;
  std::map<std::string, std::shared_ptr<Runner>, std::less<>> runners_;

  std::mutex outcomes_mutex_;
  std::condition_variable outcomes_reported_;
  int outcomes_pending_ = 0;
  std::string outcome_failure_;  ///< the first failed append's reason since the last wait
};

}  // namespace tidemark::workers
