#include "api/routes.h"

#include "api/accounts.h"

#include <charconv>
#include <mutex>
#include <pqxx/pqxx>

#include "domain/position.h"
#include "infra/checkpoint_watcher.h"
#include "infra/database.h"
#include "infra/ids.h"
#include "infra/kafka.h"
#include "infra/log.h"

namespace tidemark::api {

std::shared_ptr<Router> make_router(std::shared_ptr<ApiContext> context) {
  auto router = std::make_shared<Router>();
  add_health_routes(*router, context);
  add_event_log_routes(*router, context);
  add_account_routes(*router, context);
  add_algorithm_routes(*router, context);
  add_recording_routes(*router, context);
  add_app_user_routes(*router, context);
  return router;
}

void with_database(ApiContext& context, const HttpRequest& request, Respond respond,
                   std::function<HttpResponse(pqxx::connection&)> work) {
  with_database_then(context, request, std::move(respond),
                     [work = std::move(work)](pqxx::connection& connection, Respond& respond) {
                       respond(work(connection));
                     });
}

void with_database_then(ApiContext& context, const HttpRequest& request, Respond respond,
                        std::function<void(pqxx::connection&, Respond&)> work) {
  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  bool queued = context.database.submit(
      {[shared_respond, work = std::move(work)](pqxx::connection& connection) {
         // Hand over a copy: if `work` throws before answering, the failure handler answers.
         Respond owned = *shared_respond;
         work(connection, owned);
       },
       [shared_respond, request_id = request.request_id,
        path = request.path](std::exception_ptr failure) {
         if (infra::is_connection_failure(failure)) {
           (*shared_respond)(unavailable_response("the database is unavailable; retry shortly"));
           return;
         }
         std::string what = "unknown error";
         try {
           std::rethrow_exception(failure);
         } catch (const std::exception& error) {
           what = error.what();
         } catch (...) {
         }
         infra::log_error("request failed",
                          {{"error", what}, {"path", path}, {"request_id", request_id}});
         (*shared_respond)(error_response(500, "internal error; request id " + request_id));
       }});
  if (!queued) (*shared_respond)(unavailable_response("the server is overloaded; retry shortly"));
}

void append_events(ApiContext& context, std::vector<domain::EventEnvelope> envelopes,
                   Respond respond, std::function<void(bool projected, Respond)> then) {
  struct Progress {
    std::mutex mutex;
    std::size_t remaining;
    bool failed = false;
    domain::Position last{};
    Respond respond;
    std::function<void(bool, Respond)> then;
  };
  auto progress = std::make_shared<Progress>();
  progress->remaining = envelopes.size();
  progress->respond = std::move(respond);
  progress->then = std::move(then);
  for (std::size_t i = 0; i < envelopes.size(); ++i) {
    bool is_last = i + 1 == envelopes.size();
    context.producer.append(
        context.events_topic, envelopes[i],
        [&context, progress, is_last](domain::Result<domain::Position> appended) {
          bool finished = false;
          {
            std::lock_guard lock(progress->mutex);
            if (!appended) {
              if (!progress->failed) {
                progress->failed = true;
                progress->respond(unavailable_response(appended.error().message));
              }
            } else if (is_last) {
              progress->last = *appended;
            }
            finished = --progress->remaining == 0 && !progress->failed;
          }
          if (!finished) return;
          context.watcher.wait_for(progress->last, context.projection_wait,
                                   [progress](bool projected) {
                                     progress->then(projected, std::move(progress->respond));
                                   });
        });
  }
}

domain::EventEnvelope make_envelope(const HttpRequest& request, std::string_view type,
                                    std::string key, std::string subject, std::string payload,
                                    std::string actor) {
  return new_envelope(type, std::move(key), std::move(subject), std::move(payload),
                      request.request_id, std::move(actor));
}

std::string revision_etag(std::int64_t revision) {
  return "W/\"" + std::to_string(revision) + "\"";
}

domain::Result<std::optional<std::int64_t>> if_match_revision(const HttpRequest& request) {
  std::string value = request.header("if-match");
  if (value.empty() || value == "*") return std::optional<std::int64_t>();
  std::string digits = value.starts_with("W/") ? value.substr(2) : value;
  if (digits.size() >= 2 && digits.front() == '"' && digits.back() == '"') {
    digits = digits.substr(1, digits.size() - 2);
  }
  std::int64_t revision = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), revision);
  if (error == std::errc{} && end == digits.data() + digits.size() && !digits.empty()) {
    return std::optional<std::int64_t>(revision);
  }
  return domain::invalid("If-Match must be an ETag this API gave, such as W/\"3\"");
}

void after_position(ApiContext& context, const HttpRequest& request, Respond respond,
                    std::function<void(Respond)> then) {
  std::string token = request.header("x-tidemark-position");
  for (const auto& [name, value] : request.query) {
    if (name == "position") token = value;
  }
  if (token.empty()) {
    then(std::move(respond));
    return;
  }
  auto position = domain::Position::parse_token(token);
  if (!position) {
    respond(error_response(400, "position must be PARTITION:OFFSET as returned by a write, got '" +
                                    token + "'"));
    return;
  }
  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  auto shared_then = std::make_shared<std::function<void(Respond)>>(std::move(then));
  // Whether or not the wait reached the position, the read answers with what is there.
  context.watcher.wait_for(*position, context.projection_wait,
                           [shared_respond, shared_then](bool) {
                             (*shared_then)(std::move(*shared_respond));
                           });
}

}  // namespace tidemark::api
