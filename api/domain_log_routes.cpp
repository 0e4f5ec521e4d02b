// `GET /log`: the domain events themselves, for analysts — every event the projection applied,
// paged and filtered by type, subject and time. Personal fields stay sealed as they were logged.
#include <pqxx/pqxx>

#include "api/auth.h"
#include "api/routes.h"
#include "domain/json.h"
#include "domain/log_entry.h"
#include "domain/position.h"

namespace tidemark::api {
namespace {

struct DomainLogQuery {
  std::optional<std::string> type;
  std::optional<std::string> subject;
  std::optional<std::string> time_gte;
  std::optional<std::string> time_lte;
  domain::PageQuery page;
};

domain::Result<DomainLogQuery> parse_domain_log_query(const domain::QueryParameters& parameters) {
  DomainLogQuery query;
  std::optional<std::string> time_gte, time_lte;
  auto page = domain::parse_filters_and_page(parameters, {{"type", &query.type},
                                                          {"subject", &query.subject},
                                                          {"time_gte", &time_gte},
                                                          {"time_lte", &time_lte}});
  if (!page) return page.error();
  query.page = *page;
  for (auto [name, text, target] : {std::tuple{"time_gte", &time_gte, &query.time_gte},
                                    std::tuple{"time_lte", &time_lte, &query.time_lte}}) {
    if (!*text) continue;
    auto instant = domain::parse_timestamp(**text);
    if (!instant) {
      return domain::invalid(std::string("query parameter '") + name +
                             "' must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z");
    }
    *target = domain::format_timestamp(*instant);
  }
  return query;
}

HttpResponse list_domain_events(pqxx::connection& connection, const DomainLogQuery& query) {
  const std::string where =
      " FROM domain_events WHERE ($1::text IS NULL OR type = $1) "
      "AND ($2::text IS NULL OR subject = $2) "
      "AND ($3::timestamptz IS NULL OR time >= $3::timestamptz) "
      "AND ($4::timestamptz IS NULL OR time <= $4::timestamptz)";
  pqxx::nontransaction read(connection);
  auto rows = read.exec_params(
      "SELECT log_partition, log_offset, event_id, type, source, subject, aggregate_key, actor, "
      "correlation_id, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
      "payload::text, count(*) OVER ()" +
          where + " ORDER BY time DESC, log_partition, log_offset DESC LIMIT $5 OFFSET $6",
      query.type, query.subject, query.time_gte, query.time_lte, query.page.size,
      (query.page.page - 1) * query.page.size);
  std::int64_t total = rows.empty() ? 0 : rows[0][11].as<std::int64_t>();
  if (rows.empty() && query.page.page > 1) {
    total = read.exec_params1("SELECT count(*)" + where, query.type, query.subject, query.time_gte,
                              query.time_lte)[0]
                .as<std::int64_t>();
  }
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartArray();
  for (const auto& row : rows) {
    writer.StartObject();
    writer.Key("position");
    domain::write_string(
        writer, domain::Position{row[0].as<std::int32_t>(), row[1].as<std::int64_t>()}.to_token());
    const char* names[] = {"id",  "type",  "source",         "subject",
                           "key", "actor", "correlation_id", "time"};
    for (int i = 0; i < 8; ++i) {
      writer.Key(names[i]);
      if (row[i + 2].is_null()) {
        writer.Null();
      } else {
        domain::write_string(writer, row[i + 2].c_str());
      }
    }
    writer.Key("data");
    std::string_view data = row[10].c_str();
    writer.RawValue(data.data(), data.size(), rapidjson::kObjectType);
    writer.EndObject();
  }
  writer.EndArray();
  HttpResponse response{200, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back("X-Total-Count", std::to_string(total));
  return response;
}

}  // namespace

void add_domain_log_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add(
      "GET", "/log",
      [context](const HttpRequest& request, const PathParameters& parameters, Respond respond) {
        auto query = parse_domain_log_query(request.query);
        if (!query) {
          respond(error_response(query.error()));
          return;
        }
        authenticated(context, [query = *query](const HttpRequest&, const PathParameters&,
                                                pqxx::connection& connection, const Caller& caller,
                                                Respond& respond) {
          if (caller.role != domain::Role::analyst && caller.role != domain::Role::admin) {
            respond(error_response(403, "the domain event log is for analysts"));
            return;
          }
          respond(list_domain_events(connection, query));
        })(request, parameters, std::move(respond));
      });
}

}  // namespace tidemark::api
