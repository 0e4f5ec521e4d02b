#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/log_entry.h"
#include "domain/result.h"
#include "domain/uuid.h"

namespace tidemark::domain {

/// An inference job's life, as events keyed by the recording (so they follow its content on
/// the same partition): submitted once, started per attempt, then succeeded or failed.
inline constexpr std::string_view kJobSubmittedV1 = "tidemark.job.submitted.v1";
inline constexpr std::string_view kJobStartedV1 = "tidemark.job.started.v1";
inline constexpr std::string_view kJobSucceededV1 = "tidemark.job.succeeded.v1";
inline constexpr std::string_view kJobFailedV1 = "tidemark.job.failed.v1";

/// The algorithm is pinned at submission: routing happens once, in the API, so a new version
/// registered later moves only new submissions.
struct JobSubmitted {
  std::string job_id;  ///< a UUID
  std::string recording_id;
  std::string owner_id;  ///< the account's UUID
  std::string algo_id;
  std::string version;
  std::string location;
  std::string recording_type;
  std::string content_sha256;
  std::string content_type;
  std::int64_t content_size = 0;
  std::optional<std::string> callback_url;
};
std::string encode_job_submitted(const JobSubmitted& event);
Result<JobSubmitted> decode_job_submitted(std::string_view payload);

/// Started, succeeded and failed share one shape; unused fields stay empty.
struct JobOutcome {
  std::string job_id;  ///< a UUID
  std::string recording_id;
  std::int64_t attempt = 1;
  std::string worker;                 ///< started: which worker took it
  std::optional<std::string> output;  ///< succeeded: the runner's JSON object
  double runtime_ms = 0;              ///< succeeded: time spent in the runner
  std::string reason;                 ///< failed: why
  bool final = false;                 ///< failed: no attempt follows
};
std::string encode_job_outcome(const JobOutcome& event);
Result<JobOutcome> decode_job_outcome(std::string_view payload);

inline constexpr std::size_t kMaxJobOutputBytes = 1 << 20;

/// `POST /recordings/{id}/jobs`: an optional `algo_id` (default: the newest algorithm for the
/// recording's type) and `callback_url`. An empty body means both defaults.
struct JobRequest {
  std::optional<std::string> algo_id;
  std::optional<std::string> callback_url;
};
Result<JobRequest> parse_job_request(std::string_view body);

/// `wait=SECONDS` of a long-poll: absent gives zero; 0..`max_seconds`, else an error.
Result<std::chrono::milliseconds> parse_wait(const QueryParameters& parameters,
                                             std::chrono::seconds max_seconds);

}  // namespace tidemark::domain
