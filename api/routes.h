#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/router.h"

#include <pqxx/connection>

namespace tidemark::infra {
class EventProducer;
class CheckpointWatcher;
class DatabasePool;
}  // namespace tidemark::infra

namespace tidemark::api {

/// What the routes need from the outside world; owned by the role's composition root.
struct ApiContext {
  infra::EventProducer& producer;
  infra::CheckpointWatcher& watcher;
  infra::DatabasePool& database;
  std::string events_topic;
  std::chrono::milliseconds projection_wait;
};

/// Every route of the API.
std::shared_ptr<Router> make_router(std::shared_ptr<ApiContext> context);

void add_health_routes(Router& router, std::shared_ptr<ApiContext> context);
void add_event_log_routes(Router& router, std::shared_ptr<ApiContext> context);

/// Runs `work` on the database pool, off the HTTP threads. Answers 503 (with Retry-After)
/// when the pool is full or PostgreSQL cannot be reached, and 500, logged with the request
/// id, for anything else that escapes `work`.
void with_database(ApiContext& context, const HttpRequest& request, Respond respond,
                   std::function<HttpResponse(pqxx::connection&)> work);

/// Honours a read-your-writes position (`X-Tidemark-Position` header or `position` query
/// parameter): runs `then` once the projection has it, or after the bounded wait. A malformed
/// token answers 400.
void after_position(ApiContext& context, const HttpRequest& request, Respond respond,
                    std::function<void(Respond)> then);

}  // namespace tidemark::api
