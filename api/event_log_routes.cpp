#include <pqxx/pqxx>

#include "api/auth.h"
#include "api/routes.h"
#include "api/sql_filters.h"
#include "domain/envelope.h"
#include "domain/json.h"
#include "domain/log_entry.h"
#include "infra/checkpoint_watcher.h"
#include "infra/database.h"
#include "infra/ids.h"
#include "infra/kafka.h"

namespace tidemark::api {
namespace {

constexpr const char* kEntryColumns =
    "event_id::text, user_id, session_id, event_type, event_data::text, event_source, log_level, "
    "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "log_partition, log_offset, revision";

/// One event_log row (selected with kEntryColumns) as the API shows it.
void write_entry(domain::JsonWriter& writer, const pqxx::row& row) {
  auto text = [&](const char* key, int column) {
    writer.Key(key);
    if (row[column].is_null()) {
      writer.Null();
    } else {
      domain::write_string(writer, row[column].c_str());
    }
  };
  writer.StartObject();
  text("event_id", 0);
  text("user_id", 1);
  text("session_id", 2);
  text("event_type", 3);
  writer.Key("event_data");
  std::string data = row[4].c_str();
  writer.RawValue(data.data(), data.size(), rapidjson::kObjectType);
  text("event_source", 5);
  text("log_level", 6);
  text("ts", 7);
  text("recorded_at", 8);
  writer.Key("position");
  domain::write_string(
      writer, domain::Position{row[9].as<std::int32_t>(), row[10].as<std::int64_t>()}.to_token());
  writer.EndObject();
}

HttpResponse entry_response(int status, const pqxx::row& row) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  write_entry(writer, row);
  HttpResponse response{status, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back(
      "X-Tidemark-Position",
      domain::Position{row[9].as<std::int32_t>(), row[10].as<std::int64_t>()}.to_token());
  response.headers.emplace_back("ETag", revision_etag(row[11].as<std::int64_t>()));
  return response;
}

/// The entry as `owner` may see it (nullopt owner: anyone's).
std::optional<pqxx::row> find_entry(pqxx::connection& connection, const std::string& event_id,
                                    const std::optional<std::string>& owner) {
  pqxx::nontransaction read(connection);
  // The last column is the key the entry was recorded under (a correction may change user_id).
  auto rows = infra::exec_prepared_sql(read,
                                       std::string("SELECT ") + kEntryColumns +
                                           ", COALESCE((SELECT aggregate_key FROM domain_events d "
                                           "WHERE d.log_partition = event_log.log_partition "
                                           "AND d.log_offset = event_log.log_offset), user_id) "
                                           "FROM event_log WHERE event_id = $1::uuid "
                                           "AND ($2::uuid IS NULL OR owner_id = $2::uuid)",
                                       event_id, owner);
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

/// 202: the broker has the event, the read models may not yet.
HttpResponse accepted_response(const domain::LogEntry& entry, domain::Position position,
                               std::string_view message) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("event_id");
  domain::write_string(writer, entry.event_id.to_string());
  writer.Key("status");
  writer.String("accepted");
  writer.Key("message");
  domain::write_string(writer, message);
  writer.Key("position");
  domain::write_string(writer, position.to_token());
  writer.EndObject();
  HttpResponse response{202, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back("Location", "/events/" + entry.event_id.to_string());
  response.headers.emplace_back("X-Tidemark-Position", position.to_token());
  return response;
}

void create_entry(std::shared_ptr<ApiContext> context, const HttpRequest& request, Respond respond,
                  const Caller& caller) {
  std::string idempotency_key = request.header("idempotency-key");
  if (idempotency_key.size() > 255) {
    respond(error_response(400, "Idempotency-Key must be at most 255 characters"));
    return;
  }
  // A retried request with the same key gets the same event id; the read model keeps one row.
  // Scoped to the caller, so two accounts' keys never meet.
  domain::Uuid event_id =
      idempotency_key.empty()
          ? infra::random_uuid()
          : infra::uuid_from_name("log_entry:" + caller.user_id.to_string(), idempotency_key);
  auto parsed = domain::parse_log_entry_request(request.body, event_id, domain::now_utc());
  if (!parsed) {
    respond(error_response(parsed.error()));
    return;
  }
  auto entry = std::make_shared<domain::LogEntry>(std::move(parsed).value());
  entry->owner_id = caller.user_id;

  domain::EventEnvelope envelope;
  envelope.id = entry->event_id.to_string();
  envelope.type = domain::kLogEntryRecordedV1;
  envelope.source = "/tidemark/api";
  envelope.subject = "event_log/" + envelope.id;
  envelope.time = domain::now_utc();
  envelope.correlation_id = request.request_id;
  envelope.actor = caller.user_id.to_string();
  envelope.key = entry->user_id;
  envelope.payload = domain::encode_log_entry_payload(*entry);

  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  bool asynchronous = prefers_async(request);
  context->producer.append(
      context->events_topic, envelope,
      [context, entry, shared_respond, asynchronous,
       request](domain::Result<domain::Position> appended) {
        if (!appended) {
          (*shared_respond)(unavailable_response(appended.error().message));
          return;
        }
        domain::Position position = *appended;
        if (asynchronous) {
          (*shared_respond)(accepted_response(*entry, position, "recorded in the log"));
          return;
        }
        context->watcher.wait_for(
            position, context->projection_wait,
            [context, entry, shared_respond, position, request](bool reached) {
              if (!reached) {
                (*shared_respond)(accepted_response(
                    *entry, position, "recorded in the log; not yet visible to reads"));
                return;
              }
              with_database(*context, request, std::move(*shared_respond),
                            [entry, position](pqxx::connection& connection) {
                              auto row =
                                  find_entry(connection, entry->event_id.to_string(), std::nullopt);
                              // A retry with an idempotency key lands on the first row.
                              if (!row) return accepted_response(*entry, position, "recorded");
                              HttpResponse response = entry_response(201, *row);
                              response.headers.emplace_back(
                                  "Location", "/events/" + entry->event_id.to_string());
                              return response;
                            });
            });
      });
}

void get_entry(std::shared_ptr<ApiContext> context, const HttpRequest& request,
               const std::string& event_id, const Caller& caller, Respond respond) {
  if (!domain::Uuid::parse(event_id)) {
    respond(error_response(400, "event_id must be a UUID, got '" + event_id + "'"));
    return;
  }
  after_position(*context, request, std::move(respond),
                 [context, request, event_id, owner = readable_owner(caller)](Respond respond) {
                   with_database(*context, request, std::move(respond),
                                 [event_id, owner](pqxx::connection& connection) {
                                   auto row = find_entry(connection, event_id, owner);
                                   if (!row) return error_response(404, "Event not found");
                                   return entry_response(200, *row);
                                 });
                 });
}

/// PUT (a correction, the whole entry again) and DELETE (a redaction) of an entry the caller
/// owns; admins may change anyone's, analysts no one's.
void change_entry(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                  const std::string& event_id_text, const Caller& caller,
                  pqxx::connection& connection, Respond respond, bool redact) {
  auto event_id = domain::Uuid::parse(event_id_text);
  if (!event_id) {
    respond(error_response(400, "event_id must be a UUID, got '" + event_id_text + "'"));
    return;
  }
  auto expected = if_match_revision(request);
  if (!expected) {
    respond(error_response(expected.error()));
    return;
  }
  auto row = row_to_change(
      caller, [&](const auto& owner) { return find_entry(connection, event_id_text, owner); },
      "entries", "Event not found", respond);
  if (!row) return;
  std::int64_t revision = (*row)[11].as<std::int64_t>();
  if (*expected && **expected != revision) {
    respond(error_response(412, "the entry changed since that ETag; read it again"));
    return;
  }
  // The original key keeps every event of the entry on one partition, in order.
  std::string key = (*row)[12].c_str();
  std::string payload;
  std::string_view type;
  if (redact) {
    type = domain::kLogEntryRedactedV1;
    payload = domain::encode_log_entry_redacted(*event_id);
  } else {
    auto corrected = domain::parse_log_entry_request(request.body, *event_id, domain::now_utc());
    if (!corrected) {
      respond(error_response(corrected.error()));
      return;
    }
    type = domain::kLogEntryCorrectedV1;
    corrected.value().expected_revision = revision;
    payload = domain::encode_log_entry_payload(corrected.value());
  }
  auto event = make_envelope(request, type, key, "event_log/" + event_id_text, std::move(payload),
                             caller.user_id.to_string());
  append_events(
      *context, {event}, std::move(respond),
      [context, request, event_id_text, redact, revision](bool projected, Respond respond) {
        if (!projected) {
          respond(error_response(
              202, "the change is recorded but not yet visible; read it again shortly"));
          return;
        }
        if (redact) {
          respond({204, "", "application/json", {}});
          return;
        }
        with_database(*context, request, std::move(respond),
                      [event_id_text, revision](pqxx::connection& connection) {
                        auto row = find_entry(connection, event_id_text, std::nullopt);
                        if (!row) return error_response(404, "Event not found");
                        // Another correction of the same revision won the race.
                        if ((*row)[11].as<std::int64_t>() != revision + 1) {
                          return error_response(412, "the entry changed meanwhile");
                        }
                        return entry_response(200, *row);
                      });
      });
}

/// The page `query` asks for among `owner`'s entries (or anyone's), or, with
/// `checked_session`, nullopt when the page checked by that session has no row.
std::optional<HttpResponse> list_entries(
    pqxx::connection& connection, const domain::LogEntryQuery& query,
    const std::optional<std::string>& owner,
    const std::optional<TokenSession>& checked_session = std::nullopt) {
  // The WHERE clause is assembled only from these fixed fragments; values are parameters.
  SqlFilters filters;
  filters.add("owner_id =", owner, "::uuid");
  filters.add("user_id =", query.user_id);
  filters.add("session_id =", query.session_id);
  filters.add("event_type =", query.event_type);
  filters.add("event_source =", query.event_source);
  auto timestamp = [](const std::optional<domain::Timestamp>& time) {
    return time ? std::optional<std::string>(domain::format_timestamp(*time)) : std::nullopt;
  };
  filters.add("ts >=", timestamp(query.ts_gte), "::timestamptz");
  filters.add("ts <=", timestamp(query.ts_lte), "::timestamptz");
  auto page = read_list_page(connection, kEntryColumns, "event_log", filters,
                             "event_log.ts DESC, event_log.event_id", query.page, query.size,
                             checked_session);
  if (checked_session && page.rows.empty()) return std::nullopt;
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartArray();
  for (const auto& row : page.rows) write_entry(writer, row);
  writer.EndArray();
  HttpResponse response{200, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back("X-Total-Count", std::to_string(page.total));
  return response;
}

}  // namespace

void add_event_log_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add("POST", "/events",
             idempotent(context, [context](const HttpRequest& request, const PathParameters&,
                                           Respond respond) {
               authenticate(
                   context, request, std::move(respond),
                   [context, request](pqxx::connection&, const Caller& caller, Respond& respond) {
                     create_entry(context, request, std::move(respond), caller);
                   });
             }));
  router.add(
      "GET", "/events/{event_id}",
      [context](const HttpRequest& request, const PathParameters& parameters, Respond respond) {
        authenticate(context, request, std::move(respond),
                     [context, request, event_id = parameters.at("event_id")](
                         pqxx::connection&, const Caller& caller, Respond& respond) {
                       get_entry(context, request, event_id, caller, std::move(respond));
                     });
      });
  for (bool redact : {false, true}) {
    router.add(redact ? "DELETE" : "PUT", "/events/{event_id}",
               [context, redact](const HttpRequest& request, const PathParameters& parameters,
                                 Respond respond) {
                 authenticate(
                     context, request, std::move(respond),
                     [context, request, redact, event_id = parameters.at("event_id")](
                         pqxx::connection& connection, const Caller& caller, Respond& respond) {
                       change_entry(context, request, event_id, caller, connection,
                                    std::move(respond), redact);
                     });
               });
  }
  router.add("GET", "/events",
             [context](const HttpRequest& request, const PathParameters&, Respond respond) {
               auto query = domain::parse_log_entry_query(request.query, {"position"});
               if (!query) {
                 respond(error_response(query.error()));
                 return;
               }
               // A user's list without a position to wait for checks the session in the
               // page's own statement, as GET /recordings does.
               SessionCheckedRead checked_read;
               if (requested_position(request).empty()) {
                 checked_read = [query = *query](pqxx::connection& connection,
                                                 const TokenSession& session) {
                   return list_entries(connection, query, session.user_id.to_string(), session);
                 };
               }
               authenticate(
                   context, request, std::move(respond),
                   [context, request, query = *query](pqxx::connection&, const Caller& caller,
                                                      Respond& respond) {
                     after_position(*context, request, std::move(respond),
                                    [context, request, query,
                                     owner = readable_owner(caller)](Respond respond) {
                                      with_database(*context, request, std::move(respond),
                                                    [query, owner](pqxx::connection& connection) {
                                                      return *list_entries(connection, query,
                                                                           owner);
                                                    });
                                    });
                   },
                   std::move(checked_read));
             });
}

}  // namespace tidemark::api
