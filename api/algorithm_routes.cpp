// Seed 003's algorithm registry: everyone signed in reads it, admins change it. Responses carry
// an ETag (the projected revision); a change with a stale If-Match answers 412.
#include <pqxx/pqxx>

#include "api/accounts.h"
#include "api/auth.h"
#include "api/routes.h"
#include "domain/algorithm.h"
#include "domain/json.h"
#include "infra/database.h"
#include "infra/ids.h"

namespace tidemark::api {
namespace {

constexpr const char* kAlgorithmColumns =
    "algo_id, recording_type, location, version, revision, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

void write_algorithm(domain::JsonWriter& writer, const pqxx::row& row) {
  writer.StartObject();
  const char* names[] = {"algo_id", "recording_type", "location", "version"};
  for (int i = 0; i < 4; ++i) {
    writer.Key(names[i]);
    domain::write_string(writer, row[i].c_str());
  }
  writer.Key("revision");
  writer.Int64(row[4].as<std::int64_t>());
  writer.Key("created_at");
  domain::write_string(writer, row[5].c_str());
  writer.Key("updated_at");
  domain::write_string(writer, row[6].c_str());
  writer.EndObject();
}

HttpResponse algorithm_response(int status, const pqxx::row& row) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  write_algorithm(writer, row);
  HttpResponse response{status, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back("ETag", revision_etag(row[4].as<std::int64_t>()));
  return response;
}

std::optional<pqxx::row> find_algorithm(pqxx::connection& connection, const std::string& algo_id) {
  pqxx::nontransaction read(connection);
  auto rows = infra::exec_prepared_sql(
      read, std::string("SELECT ") + kAlgorithmColumns + " FROM algorithms WHERE algo_id = $1",
      algo_id);
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

HttpResponse stale_response() {
  return error_response(412, "the algorithm changed since that ETag; read it again");
}

/// Admins only: the others get 403 (they may read the registry, so hiding it would mislead).
bool admin_or_refuse(const Caller& caller, Respond& respond) {
  if (caller.role == domain::Role::admin) return true;
  respond(error_response(403, "algorithms are managed by admins"));
  return false;
}

void create_algorithm(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                      const Caller& caller, pqxx::connection& connection, Respond& respond) {
  if (!admin_or_refuse(caller, respond)) return;
  auto algorithm = domain::parse_algorithm_request(request.body, std::nullopt);
  if (!algorithm) {
    respond(error_response(algorithm.error()));
    return;
  }
  if (!claim_client_id(connection, "algorithm", algorithm->algo_id)) {
    respond(error_response(409, "algo_id '" + algorithm->algo_id + "' is already registered"));
    return;
  }
  auto event = make_envelope(request, domain::kAlgorithmRegisteredV1, algorithm->algo_id,
                             "algos/" + algorithm->algo_id, domain::encode_algorithm(*algorithm),
                             caller.user_id.to_string());
  std::string algo_id = algorithm->algo_id;
  append_create(context, request, {event}, "algorithm", algo_id,
                "/algos/" + percent_encode(algo_id), respond,
                [algo_id](pqxx::connection& connection) -> std::optional<HttpResponse> {
                  auto row = find_algorithm(connection, algo_id);
                  if (!row) return std::nullopt;
                  return algorithm_response(201, *row);
                });
}

void change_algorithm(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                      const std::string& algo_id, bool remove, const Caller& caller,
                      pqxx::connection& connection, Respond& respond) {
  if (!admin_or_refuse(caller, respond)) return;
  auto expected = if_match_revision(request);
  if (!expected) {
    respond(error_response(expected.error()));
    return;
  }
  std::optional<domain::Algorithm> updated;
  if (!remove) {
    auto parsed = domain::parse_algorithm_request(request.body, algo_id);
    if (!parsed) {
      respond(error_response(parsed.error()));
      return;
    }
    updated = *parsed;
  }
  auto current = find_algorithm(connection, algo_id);
  if (!current) {
    respond(error_response(404, "Algorithm not found"));
    return;
  }
  std::int64_t revision = (*current)[4].as<std::int64_t>();
  if (*expected && **expected != revision) {
    respond(stale_response());
    return;
  }
  // The revision read now travels with the event: a change that raced past it is not applied.
  auto event =
      remove
          ? make_envelope(request, domain::kAlgorithmDeletedV1, algo_id, "algos/" + algo_id,
                          domain::encode_algorithm_deleted(algo_id), caller.user_id.to_string())
          : make_envelope(request, domain::kAlgorithmUpdatedV1, algo_id, "algos/" + algo_id,
                          domain::encode_algorithm(*updated, revision), caller.user_id.to_string());
  append_events(
      *context, {event}, std::move(respond),
      [context, request, algo_id, remove, updated, revision](bool projected, Respond respond) {
        if (!projected) {
          respond(error_response(202, "the change is recorded but not yet visible; read it again shortly"));
          return;
        }
        if (remove) {
          respond({204, "", "application/json", {}});
          return;
        }
        with_database(*context, request, std::move(respond),
                      [algo_id, updated, revision](pqxx::connection& connection) {
                        auto row = find_algorithm(connection, algo_id);
                        if (!row) return error_response(404, "Algorithm not found");
                        bool ours = (*row)[4].as<std::int64_t>() == revision + 1 &&
                                    updated->recording_type == (*row)[1].c_str() &&
                                    updated->location == (*row)[2].c_str() &&
                                    updated->version == (*row)[3].c_str();
                        return ours ? algorithm_response(200, *row) : stale_response();
                      });
      });
}

HttpResponse list_algorithms(pqxx::connection& connection, const domain::AlgorithmQuery& query) {
  pqxx::nontransaction read(connection);
  auto rows = read.exec_params(
      std::string("SELECT ") + kAlgorithmColumns +
          ", count(*) OVER () FROM algorithms WHERE ($1::text IS NULL OR recording_type = $1) "
          "AND ($2::text IS NULL OR version = $2) ORDER BY algo_id LIMIT $3 OFFSET $4",
      query.recording_type, query.version, query.page.size,
      (query.page.page - 1) * query.page.size);
  std::int64_t total = rows.empty() ? 0 : rows[0][7].as<std::int64_t>();
  if (rows.empty() && query.page.page > 1) {
    total = read.exec_params1(
                    "SELECT count(*) FROM algorithms WHERE ($1::text IS NULL OR "
                    "recording_type = $1) AND ($2::text IS NULL OR version = $2)",
                    query.recording_type, query.version)[0]
                .as<std::int64_t>();
  }
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartArray();
  for (const auto& row : rows) write_algorithm(writer, row);
  writer.EndArray();
  HttpResponse response{200, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back("X-Total-Count", std::to_string(total));
  return response;
}

}  // namespace

void add_algorithm_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add(
      "POST", "/algos",
      idempotent(context,
                 authenticated(context, [context](const HttpRequest& request, const PathParameters&,
                                                  pqxx::connection& connection,
                                                  const Caller& caller, Respond& respond) {
                   create_algorithm(context, request, caller, connection, respond);
                 })));
  router.add(
      "GET", "/algos",
      [context](const HttpRequest& request, const PathParameters& parameters, Respond respond) {
        // Bad filters answer 400 before any database work.
        auto query = domain::parse_algorithm_query(request.query);
        if (!query) {
          respond(error_response(query.error()));
          return;
        }
        authenticated(context, [query = *query](const HttpRequest&, const PathParameters&,
                                                pqxx::connection& connection, const Caller&,
                                                Respond& respond) {
          respond(list_algorithms(connection, query));
        })(request, parameters, std::move(respond));
      });
  router.add(
      "GET", "/algos/{algo_id}",
      authenticated(context, [](const HttpRequest&, const PathParameters& parameters,
                                pqxx::connection& connection, const Caller&, Respond& respond) {
        auto row = find_algorithm(connection, parameters.at("algo_id"));
        respond(row ? algorithm_response(200, *row) : error_response(404, "Algorithm not found"));
      }));
  for (bool remove : {false, true}) {
    router.add(remove ? "DELETE" : "PUT", "/algos/{algo_id}",
               authenticated(context, [context, remove](const HttpRequest& request,
                                                        const PathParameters& parameters,
                                                        pqxx::connection& connection,
                                                        const Caller& caller, Respond& respond) {
                 change_algorithm(context, request, parameters.at("algo_id"), remove, caller,
                                  connection, respond);
               }));
  }
}

}  // namespace tidemark::api
