#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <string>

#include "api/auth.h"
#include "api/routes.h"
#include "domain/job.h"

namespace tidemark::api {

/// What a job reads: the recording's stored content.
struct ContentRef {
  std::string sha256;
  std::string content_type;
  std::int64_t size = 0;
};

/// Routes a job for a recording's content: to `algo_id` when given, else to the algorithm most
/// recently registered for `recording_type`. Errors name what is missing (no such algorithm,
/// none for the type) or what is wrong with `callback_url`.
domain::Result<domain::JobSubmitted> route_job(
    const ApiContext& context, pqxx::connection& connection, const std::string& recording_id,
    const std::string& recording_type, const std::string& owner_id, const ContentRef& content,
    const std::optional<std::string>& algo_id, const std::optional<std::string>& callback_url);

/// Stores uploaded bytes once per SHA-256 (a content store the API writes, outside the log).
void store_content(pqxx::connection& connection, const std::string& sha256,
                   const std::string& bytes);

/// The envelope of a submission (keyed by the recording, so it follows its content).
domain::EventEnvelope job_submitted_event(const HttpRequest& request,
                                          const domain::JobSubmitted& job, const Caller& caller);

/// The longest `?wait=`: below the HTTP server's 35 s header timer (see http_server.cpp).
inline constexpr std::chrono::seconds kMaxLongPoll{30};

/// Answers a long-poll: `read` is asked now and after every change announced for `key` (a word of
/// the announcement: an owner id, or a job's or recording's `finished_word`) until it gives a
/// response, or with `final` true at `deadline`, when
/// it must give one. Never blocks an HTTP thread.
using LongPollRead = std::function<std::optional<HttpResponse>(pqxx::connection&, bool final)>;
void long_poll(std::shared_ptr<ApiContext> context, const HttpRequest& request, Respond respond,
               std::string key, std::chrono::steady_clock::time_point deadline, LongPollRead read);

/// A long-poll for a result that cannot exist before its job's submission is acknowledged
/// (`POST /predict`): listens for `key` from `arm_long_poll` on, before the submission is
/// appended, so no announcement can come before the wait, and reads only once woken or at
/// `deadline`, never at once: one read per prediction instead of two.
class ArmedLongPoll {
 public:
  virtual ~ArmedLongPoll() = default;
  /// The submission was acknowledged: answers on `respond` as `long_poll` does, reading now if
  /// woken meanwhile or past the deadline (`wait=0`).
  virtual void answer_through(Respond respond) = 0;
  /// The submission was refused: the wait goes now, and nothing is read or answered.
  virtual void disarm() = 0;
};
std::shared_ptr<ArmedLongPoll> arm_long_poll(std::shared_ptr<ApiContext> context,
                                             const HttpRequest& request, std::string key,
                                             std::chrono::steady_clock::time_point deadline,
                                             LongPollRead read);

/// The latest job of a recording as written in recording responses: columns appended after the
/// recording's own by `with_latest_job` (a query over `rec`).
std::string with_latest_job(const std::string& recording_query);

}  // namespace tidemark::api
