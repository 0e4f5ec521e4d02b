#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <pqxx/connection>
#include <string>

#include "domain/url_policy.h"

namespace tidemark::workers {

/// Calls the callback URLs of finished jobs, working through the `webhook_deliveries` outbox.
/// Each call is a POST of the job as `GET /jobs/{id}` renders it, with the headers
/// `Tidemark-Signature` (infra::webhook_signature_header over the body), `Tidemark-Delivery`
/// (the job id, the same on every retry, for receivers to drop duplicates) and
/// `Tidemark-Event` (`job.succeeded`, `job.failed`). Delivery is at least once: a call whose
/// outcome could not be recorded is made again. Rows are claimed with SKIP LOCKED, so any
/// number of dispatchers share the outbox.
class WebhookDispatcher {
 public:
  struct Options {
    std::string database_url;
    std::string signing_key;  ///< raw key bytes; never logged
    /// Checked again before every call, and against the address actually connected to, since
    /// DNS may have changed since submission. A refused URL is abandoned.
    domain::UrlPolicy callback_policy;
    int max_attempts = 6;  ///< failed calls before a delivery is abandoned
    /// Wait after the first failed call; it doubles with each further failure.
    std::chrono::milliseconds first_backoff{1000};
    std::chrono::milliseconds request_timeout{5000};  ///< per call, connecting included
  };

  /// The most deliveries claimed in one transaction.
  static constexpr std::size_t kBatchLimit = 16;

  /// Throws std::invalid_argument for an empty signing key, max_attempts below 1, a negative
  /// first_backoff or a request_timeout that is not positive.
  explicit WebhookDispatcher(Options options);

  /// Listens for queued deliveries and makes the due calls (looking at least every 250 ms,
  /// for retries that come due), reconnecting to PostgreSQL after failures, until `stop`
  /// becomes true; returns within about 0.3 s of that, unless blocked connecting to
  /// PostgreSQL or resolving a callback host.
  void run(const std::atomic<bool>& stop);

  /// Claims up to kBatchLimit due deliveries in one transaction, makes their calls and records
  /// the outcomes; returns how many were claimed. Once `stop` is true, the calls not made yet
  /// (and one interrupted) are left due. Throws when PostgreSQL fails; the batch's outcomes
  /// are then not recorded.
  std::size_t deliver_due(pqxx::connection& connection, const std::atomic<bool>& stop);

 private:
  Options options_;
  std::string claim_query_;
};

}  // namespace tidemark::workers
