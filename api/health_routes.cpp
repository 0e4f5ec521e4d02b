#include <pqxx/pqxx>

#include "api/routes.h"
#include "domain/json.h"
#include "domain/timestamp.h"
#include "infra/checkpoint_watcher.h"
#include "infra/kafka.h"

namespace tidemark::api {
namespace {

HttpResponse json_response(int status, const rapidjson::StringBuffer& buffer) {
  return {status, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
}

}  // namespace

void add_health_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add("GET", "/", [](const HttpRequest&, const PathParameters&, Respond respond) {
    rapidjson::StringBuffer buffer;
    domain::JsonWriter writer(buffer);
    writer.StartObject();
    writer.Key("status");
    writer.String("success");
    writer.Key("status_code");
    writer.Int(200);
    writer.Key("message");
    writer.String("API connection successful");
    writer.Key("timestamp");
    domain::write_string(writer, domain::format_timestamp(domain::now_utc()));
    writer.EndObject();
    respond(json_response(200, buffer));
  });

  router.add("GET", "/healthz", [](const HttpRequest&, const PathParameters&, Respond respond) {
    respond({200, R"({"status":"ok"})", "application/json", {}});
  });

  router.add("GET", "/check",
             [context](const HttpRequest& request, const PathParameters&, Respond respond) {
               with_database(*context, request, std::move(respond),
                             [](pqxx::connection& connection) {
                               pqxx::nontransaction read(connection);
                               auto version = read.exec1("SELECT version()")[0].as<std::string>();
                               rapidjson::StringBuffer buffer;
                               domain::JsonWriter writer(buffer);
                               writer.StartObject();
                               writer.Key("status");
                               writer.String("success");
                               writer.Key("message");
                               writer.String("Database connection successful");
                               writer.Key("database_version");
                               domain::write_string(writer, version);
                               writer.EndObject();
                               return json_response(200, buffer);
                             });
             });

  router.add("GET", "/readyz",
             [context](const HttpRequest& request, const PathParameters&, Respond respond) {
               with_database(*context, request, std::move(respond),
                             [context](pqxx::connection& connection) {
                               pqxx::nontransaction(connection).exec("SELECT 1");
                               auto end_offsets = context->producer.end_offsets(
                                   context->events_topic, std::chrono::milliseconds(1000));
                               auto checkpoints = context->watcher.checkpoints();
                               bool watching = context->watcher.connected();
                               std::int64_t lag = 0;
                               rapidjson::StringBuffer buffer;
                               domain::JsonWriter writer(buffer);
                               writer.StartObject();
                               writer.Key("database");
                               writer.String("ok");
                               writer.Key("broker");
                               writer.String(end_offsets ? "ok" : "unreachable");
                               writer.Key("projection_listener");
                               writer.String(watching ? "ok" : "disconnected");
                               if (end_offsets) {
                                 writer.Key("projection_lag_by_partition");
                                 writer.StartObject();
                                 for (const auto& [partition, end] : *end_offsets) {
                                   auto found = checkpoints.find(partition);
                                   std::int64_t behind =
                                       end - (found == checkpoints.end() ? 0 : found->second);
                                   if (behind < 0) behind = 0;
                                   lag += behind;
                                   domain::write_string(writer, std::to_string(partition));
                                   writer.Int64(behind);
                                 }
                                 writer.EndObject();
                                 writer.Key("projection_lag");
                                 writer.Int64(lag);
                               }
                               bool ready = end_offsets && watching;
                               writer.Key("status");
                               writer.String(ready ? "ready" : "not ready");
                               writer.EndObject();
                               HttpResponse response = json_response(ready ? 200 : 503, buffer);
                               if (!ready) response.headers.emplace_back("Retry-After", "1");
                               return response;
                             });
             });
}

}  // namespace tidemark::api
