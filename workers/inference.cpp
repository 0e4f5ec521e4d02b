#include "workers/inference.h"

#include <future>
#include <pqxx/pqxx>
#include <thread>

#include "infra/database.h"
#include "infra/ids.h"
#include "infra/log.h"
#include "projections/read_models.h"
#include "workers/projector.h"

namespace tidemark::workers {
namespace {

constexpr std::string_view kSource = "/tidemark/inference";

/// Runs `runner` on its own thread and waits at most `limit`. A model cannot be interrupted, so
/// on timeout the thread is left to finish on its own, holding the runner and the content; the
/// caller must not use that runner again.
std::optional<domain::Result<std::string>> run_with_limit(
    std::shared_ptr<Runner> runner, std::shared_ptr<const std::string> content,
    RecordingInput input, std::chrono::milliseconds limit) {
  auto task = std::make_shared<std::packaged_task<domain::Result<std::string>()>>(
      [runner, content, input]() mutable {
        input.content = *content;
        return runner->run(input);
      });
  auto result = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (result.wait_for(limit) != std::future_status::ready) return std::nullopt;
  return result.get();
}

}  // namespace

class InferenceWorker::JobBatch final : public projections::Batch {
 public:
  JobBatch(InferenceWorker& worker, pqxx::dbtransaction& transaction)
      : worker_(worker), transaction_(transaction) {}
  void apply(const domain::EventEnvelope& envelope, domain::Position) override {
    if (envelope.type != domain::kJobSubmittedV1) return;
    auto job = domain::decode_job_submitted(envelope.payload);
    if (!job) throw projections::PoisonRecord(job.error().message);
    submitted_.push_back({std::move(job).value(), envelope.correlation_id});
  }
  void finish() override {
    worker_.run_jobs(transaction_, submitted_);
    worker_.wait_for_outcomes();
  }

 private:
  InferenceWorker& worker_;
  pqxx::dbtransaction& transaction_;
  std::vector<SubmittedJob> submitted_;
};

InferenceWorker::InferenceWorker(Options options) : options_(std::move(options)) {
  producer_ = std::make_unique<infra::EventProducer>(infra::EventProducer::Options{
      options_.bootstrap_servers, "tidemark-inference", 30000, options_.kafka_security});
}

InferenceWorker::~InferenceWorker() = default;

void InferenceWorker::run(const std::atomic<bool>& stop) {
  Projector projector(Projector::Options{
      options_.database_url, options_.bootstrap_servers, options_.topic,
      "",  // records nobody can read are the read models' to dead-letter
      options_.group_id, options_.batch_size, "inference",
      [this](pqxx::dbtransaction& transaction) -> std::unique_ptr<projections::Batch> {
        return std::make_unique<JobBatch>(*this, transaction);
      },
      options_.kafka_security});
  projector.run(stop);
  producer_->flush(std::chrono::milliseconds(5000));
}

void InferenceWorker::run_jobs(pqxx::dbtransaction& transaction,
                               const std::vector<SubmittedJob>& submitted) {
  // What each job needs is read in one statement per chunk, rather than two per job; a chunk
  // holds at most kContentBytesPerRead of recordings (at least one job), so a batch of large
  // recordings is not in memory all at once.
  constexpr std::int64_t kContentBytesPerRead = 16 << 20;
  auto content_to_read = [this](const domain::JobSubmitted& job) {
    return job.content_size > options_.max_input_bytes ? 0 : job.content_size;
  };
  for (std::size_t first = 0; first < submitted.size();) {
    std::size_t end = first;
    std::int64_t bytes = 0;
    std::vector<std::string> job_ids, digests;
    while (end < submitted.size() &&
           (end == first || bytes + content_to_read(submitted[end].job) <= kContentBytesPerRead)) {
      const auto& job = submitted[end].job;
      bytes += content_to_read(job);
      job_ids.push_back(job.job_id);
      digests.push_back(content_to_read(job) > 0 ? job.content_sha256 : "");
      ++end;
    }
    // A redelivery after a crash finds its outcome projected already: no content, nothing to do.
    // Lookups by key per job (scalar subqueries): as joins, PostgreSQL hashed whole tables
    // for larger batches, which cost 1.7 ms a batch once the tables had grown.
    auto rows = infra::exec_prepared_sql(
        transaction,
        "SELECT finished, CASE WHEN finished THEN NULL ELSE (SELECT content FROM content_blobs "
        "WHERE content_blobs.sha256 = wanted.sha256) END "
        "FROM (SELECT n, sha256, (SELECT status IN ('succeeded', 'failed') FROM jobs "
        "WHERE jobs.job_id = listed.job_id) AS finished "
        "FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS listed(job_id, sha256, n)) "
        "AS wanted ORDER BY n",
        infra::array_literal(job_ids), infra::array_literal(digests));
    for (std::size_t index = first; index < end; ++index) {
      const auto& row = rows[static_cast<pqxx::result::size_type>(index - first)];
      const auto& [job, correlation_id] = submitted[index];
      if (!row[0].is_null() && row[0].as<bool>()) continue;
      auto fail_at_once = [&](const std::string& reason) {
        append(domain::kJobFailedV1,
               {job.job_id, job.recording_id, 1, "", std::nullopt, 0, reason, true},
               correlation_id);
        dead_letter(job, reason);
      };
      if (job.content_size > options_.max_input_bytes) {
        fail_at_once("the recording has " + std::to_string(job.content_size) +
                     " bytes; this worker takes at most " +
                     std::to_string(options_.max_input_bytes));
      } else if (row[1].is_null()) {
        fail_at_once("the recording's content is gone (the recording was deleted)");
      } else {
        run_job(job, pqxx::binarystring(row[1]).str(), correlation_id);
      }
    }
    first = end;
  }
}

void InferenceWorker::run_job(const domain::JobSubmitted& job, const std::string& content,
                              const std::string& correlation_id) {
  auto shared_content = std::make_shared<const std::string>(content);
  for (int number = 1; number <= options_.max_attempts; ++number) {
    append(domain::kJobStartedV1,
           {job.job_id, job.recording_id, number, options_.worker_name, std::nullopt, 0, "", false},
           correlation_id);
    double runtime_ms = 0;
    auto output = attempt(job, content, runtime_ms);
    if (output) {
      append(domain::kJobSucceededV1,
             {job.job_id, job.recording_id, number, "", *output, runtime_ms, "", false},
             correlation_id);
      infra::log_info("job succeeded", {{"job_id", job.job_id},
                                        {"location", job.location},
                                        {"attempt", std::to_string(number)},
                                        {"runtime_ms", std::to_string(runtime_ms)}});
      return;
    }
    // Bad input fails the same way every time; anything else may be transient.
    bool final =
        number == options_.max_attempts || output.error().kind == domain::ErrorKind::invalid;
    append(
        domain::kJobFailedV1,
        {job.job_id, job.recording_id, number, "", std::nullopt, 0, output.error().message, final},
        correlation_id);
    infra::log_warning("job attempt failed", {{"job_id", job.job_id},
                                              {"location", job.location},
                                              {"attempt", std::to_string(number)},
                                              {"reason", output.error().message}});
    if (final) {
      dead_letter(job, output.error().message);
      return;
    }
    std::this_thread::sleep_for(options_.first_backoff * (1 << (number - 1)));
  }
}

domain::Result<std::string> InferenceWorker::attempt(const domain::JobSubmitted& job,
                                                     const std::string& content,
                                                     double& runtime_ms) {
  auto cached = runners_.find(job.location);
  if (cached == runners_.end()) {
    auto loaded = load_runner(job.location, options_.runners);
    if (!loaded) return loaded.error();
    cached =
        runners_.emplace(job.location, std::shared_ptr<Runner>(std::move(loaded).value())).first;
  }
  auto started = std::chrono::steady_clock::now();
  auto output =
      run_with_limit(cached->second, std::make_shared<const std::string>(content),
                     RecordingInput{job.recording_type, job.content_type, {}}, options_.time_limit);
  runtime_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (!output) {
    runners_.erase(cached);  // still busy on the abandoned run: load a fresh one next time
    return domain::Error{domain::ErrorKind::unavailable,
                         "the model ran longer than the time limit of " +
                             std::to_string(options_.time_limit.count()) + " ms"};
  }
  if (*output && output->value().size() > domain::kMaxJobOutputBytes) {
    return domain::invalid("the model's output has " + std::to_string(output->value().size()) +
                           " bytes; at most " + std::to_string(domain::kMaxJobOutputBytes) +
                           " are kept");
  }
  return std::move(*output);
}

void InferenceWorker::append(std::string_view type, const domain::JobOutcome& outcome,
                             const std::string& correlation_id) {
  auto envelope =
      infra::new_event(kSource, type, outcome.recording_id, "jobs/" + outcome.job_id,
                       domain::encode_job_outcome(outcome), correlation_id, options_.worker_name);
  {
    std::lock_guard lock(outcomes_mutex_);
    ++outcomes_pending_;
  }
  // One key per recording: the idempotent producer keeps a job's events in order.
  producer_->append(
      options_.topic, envelope,
      [this, type = std::string(type)](const domain::Result<domain::Position>& result) {
        std::lock_guard lock(outcomes_mutex_);
        if (!result && outcome_failure_.empty()) {
          outcome_failure_ = "cannot append " + type + ": " + result.error().message;
        }
        if (--outcomes_pending_ == 0) outcomes_reported_.notify_all();
      });
}

void InferenceWorker::wait_for_outcomes() {
  std::unique_lock lock(outcomes_mutex_);
  // The producer reports every append, delivered or not, by its own deadline.
  outcomes_reported_.wait(lock, [this] { return outcomes_pending_ == 0; });
  if (!outcome_failure_.empty()) {
    std::string failure = std::move(outcome_failure_);
    outcome_failure_.clear();
    // Not recorded: fail the batch so its jobs run again once the broker is back.
    throw std::runtime_error(failure);
  }
}

void InferenceWorker::dead_letter(const domain::JobSubmitted& job, const std::string& reason) {
  if (options_.dead_letter_topic.empty()) return;
  domain::Headers headers{{std::string(domain::header::kDeadLetterReason), reason},
                          {"tidemark_job_id", job.job_id}};
  auto delivered = producer_->append_and_wait(options_.dead_letter_topic, job.recording_id,
                                              domain::encode_job_submitted(job), headers);
  if (!delivered) {
    throw std::runtime_error("cannot write to " + options_.dead_letter_topic + ": " +
                             delivered.error().message);
  }
}

}  // namespace tidemark::workers
