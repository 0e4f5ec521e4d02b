#include "api/routes.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <mutex>
#include <pqxx/pqxx>

#include "api/accounts.h"
#include "domain/json.h"
#include "domain/position.h"
#include "infra/checkpoint_watcher.h"
#include "infra/cipher.h"
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
  add_job_routes(*router, context);
  add_docs_routes(*router, context);
  add_domain_log_routes(*router, context);
  add_metrics_routes(*router, context);
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

bool prefers_async(const HttpRequest& request) {
  return request.header("prefer").find("respond-async") != std::string::npos;
}

void append_events(ApiContext& context, std::vector<domain::EventEnvelope> envelopes,
                   Respond respond, std::function<void(bool projected, Respond)> then,
                   bool wait_for_projection, std::shared_ptr<domain::Position> last_position) {
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
        [&context, progress, is_last, wait_for_projection,
         last_position](domain::Result<domain::Position> appended) {
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
          if (last_position) *last_position = progress->last;
          Respond positioned = [respond = std::move(progress->respond),
                                position = progress->last.to_token()](HttpResponse response) {
            if (response.status / 100 == 2) {
              response.headers.emplace_back("X-Tidemark-Position", position);
            }
            respond(std::move(response));
          };
          if (!wait_for_projection) {
            progress->then(false, std::move(positioned));
            return;
          }
          context.watcher.wait_for(
              progress->last, context.projection_wait,
              [progress, positioned = std::move(positioned)](bool projected) mutable {
                progress->then(projected, std::move(positioned));
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

namespace {

/// The headers a replayed answer must repeat.
constexpr std::array<std::string_view, 4> kReplayedHeaders = {"Location", "ETag",
                                                              "X-Tidemark-Position", "Set-Cookie"};

std::string headers_json(const HttpResponse& response) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  for (const auto& [name, value] : response.headers) {
    if (std::find(kReplayedHeaders.begin(), kReplayedHeaders.end(), name) ==
        kReplayedHeaders.end()) {
      continue;
    }
    domain::write_string(writer, name);
    domain::write_string(writer, value);
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

HttpResponse replayed(const pqxx::row& row) {
  HttpResponse response{row[0].as<int>(), row[2].c_str(), row[1].c_str(), {}};
  // Our own JSON, but read like any: through parse_json_object, and only string values.
  if (auto headers = domain::parse_json_object(row[3].c_str(), "kept headers")) {
    for (const auto& member : headers->GetObject()) {
      if (member.value.IsString()) {
        response.headers.emplace_back(member.name.GetString(), member.value.GetString());
      }
    }
  }
  response.headers.emplace_back("Idempotent-Replayed", "true");
  return response;
}

}  // namespace

Handler idempotent(std::shared_ptr<ApiContext> context, Handler handler) {
  return [context, handler](const HttpRequest& request, const PathParameters& parameters,
                            Respond respond) {
    std::string key = request.header("idempotency-key");
    if (key.empty()) {
      handler(request, parameters, std::move(respond));
      return;
    }
    if (key.size() > 255) {
      respond(error_response(400, "Idempotency-Key must be at most 255 characters"));
      return;
    }
    // Scoped to the caller's credentials, so two callers' keys never meet.
    std::string credentials = request.header("authorization") + "|" + request.header("cookie");
    std::string scope =
        infra::sha256_hex(credentials + "|" + request.method + " " + request.path + "|" + key);
    std::string request_hash = infra::sha256_hex(request.body);
    with_database_then(
        *context, request, std::move(respond),
        [context, handler, request, parameters, scope, request_hash](pqxx::connection& connection,
                                                                     Respond& respond) {
          {
            pqxx::work transaction(connection);
            auto claimed = infra::exec_prepared_sql(
                transaction,
                "INSERT INTO idempotency_records (scope, request_hash, status) VALUES ($1, $2, 0) "
                "ON CONFLICT (scope) DO NOTHING RETURNING 1",
                scope, request_hash);
            if (claimed.empty()) {
              auto rows = infra::exec_prepared_sql(
                  transaction,
                  "SELECT status, content_type, body, headers::text, request_hash "
                  "FROM idempotency_records WHERE scope = $1",
                  scope);
              transaction.commit();
              if (rows.empty()) {
                respond(error_response(409, "a request with this Idempotency-Key is in progress"));
              } else if (rows[0][4].c_str() != request_hash) {
                respond(error_response(
                    422, "this Idempotency-Key was used with a different request body"));
              } else if (rows[0][0].as<int>() == 0) {
                respond(error_response(409, "a request with this Idempotency-Key is in progress"));
              } else {
                respond(replayed(rows[0]));
              }
              return;
            }
            transaction.commit();
          }
          Respond keep_answer = [context, scope, respond](HttpResponse response) {
            bool keep = response.status >= 200 && response.status < 300;
            bool queued = context->database.submit(
                {[scope, respond, response, keep](pqxx::connection& connection) {
                   pqxx::work transaction(connection);
                   if (keep) {
                     infra::exec_prepared_sql(
                         transaction,
                         "UPDATE idempotency_records SET status = $2, content_type = $3, "
                         "body = $4, headers = $5::jsonb WHERE scope = $1",
                         scope, response.status, response.content_type, response.body,
                         headers_json(response));
                   } else {
                     // A refusal is not kept: the client may fix the request and retry.
                     infra::exec_prepared_sql(
                         transaction, "DELETE FROM idempotency_records WHERE scope = $1", scope);
                   }
                   transaction.commit();
                   respond(response);
                 },
                 [respond, response](std::exception_ptr) { respond(response); }});
            if (!queued) respond(std::move(response));
          };
          handler(request, parameters, keep_answer);
        });
  };
}

bool claim_client_id(pqxx::connection& connection, const std::string& kind, const std::string& id) {
  // One statement, committed on its own: a transaction around it would cost two more round
  // trips (BEGIN, COMMIT) on every create.
  pqxx::nontransaction claim(connection);
  return claim_name(claim, kind, id, infra::random_uuid());
}

void append_create(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                   std::vector<domain::EventEnvelope> events, const std::string& kind,
                   const std::string& id, const std::string& location, Respond respond,
                   std::function<std::optional<HttpResponse>(pqxx::connection&)> read_back) {
  Respond release_on_refusal = [context, kind, id, respond](HttpResponse response) {
    if (response.status == 503) {
      context->database.submit({[kind, id](pqxx::connection& connection) {
                                  pqxx::work transaction(connection);
                                  infra::exec_prepared_sql(
                                      transaction,
                                      "DELETE FROM identity_claims WHERE kind = $1 "
                                      "AND value = lower($2) AND NOT confirmed",
                                      kind, id);
                                  transaction.commit();
                                },
                                [](std::exception_ptr) {}});
    }
    respond(std::move(response));
  };
  append_events(
      *context, std::move(events), release_on_refusal,
      [context, request, location, read_back](bool projected, Respond respond) {
        if (!projected) {
          HttpResponse accepted = error_response(202, "created; not yet visible to reads");
          accepted.headers.emplace_back("Location", location);
          respond(std::move(accepted));
          return;
        }
        with_database(*context, request, std::move(respond),
                      [location, read_back](pqxx::connection& connection) {
                        auto created = read_back(connection);
                        if (!created) return error_response(202, "created; not yet visible");
                        created->status = 201;
                        created->headers.emplace_back("Location", location);
                        return *created;
                      });
      },
      !prefers_async(request));
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

std::string requested_position(const HttpRequest& request) {
  std::string token = request.header("x-tidemark-position");
  for (const auto& [name, value] : request.query) {
    if (name == "position") token = value;
  }
  return token;
}

void after_position(ApiContext& context, const HttpRequest& request, Respond respond,
                    std::function<void(Respond)> then) {
  std::string token = requested_position(request);
  if (token.empty()) {
    then(std::move(respond));
    return;
  }
  auto position = domain::Position::parse_token(token);
  if (!position) {
    respond(error_response(
        400, "position must be PARTITION:OFFSET as returned by a write, got '" + token + "'"));
    return;
  }
  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  auto shared_then = std::make_shared<std::function<void(Respond)>>(std::move(then));
  // Whether or not the wait reached the position, the read answers with what is there.
  context.watcher.wait_for(*position, context.projection_wait, [shared_respond, shared_then](bool) {
    (*shared_then)(std::move(*shared_respond));
  });
}

}  // namespace tidemark::api
