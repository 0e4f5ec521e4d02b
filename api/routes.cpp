#include "api/routes.h"

#include <pqxx/pqxx>

#include "domain/position.h"
#include "infra/checkpoint_watcher.h"
#include "infra/database.h"
#include "infra/log.h"

namespace tidemark::api {

std::shared_ptr<Router> make_router(std::shared_ptr<ApiContext> context) {
  auto router = std::make_shared<Router>();
  add_health_routes(*router, context);
  add_event_log_routes(*router, context);
  return router;
}

void with_database(ApiContext& context, const HttpRequest& request, Respond respond,
                   std::function<HttpResponse(pqxx::connection&)> work) {
  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  bool queued = context.database.submit(
      {[shared_respond, work = std::move(work)](pqxx::connection& connection) {
         (*shared_respond)(work(connection));
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
