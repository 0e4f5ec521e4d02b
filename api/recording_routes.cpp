// Seed 003's recordings: each belongs to the account that created it. Users see and change
// their own (someone else's answers 404), analysts read all and change none, admins do all.
// Responses carry an ETag; a change with a stale If-Match answers 412.
#include <pqxx/pqxx>

#include "api/accounts.h"
#include "api/auth.h"
#include "api/jobs.h"
#include "api/routes.h"
#include "api/sql_filters.h"
#include "domain/json.h"
#include "domain/multipart.h"
#include "domain/recording.h"
#include "infra/address_resolution.h"
#include "infra/cipher.h"
#include "infra/database.h"
#include "infra/ids.h"
#include "projections/jobs.h"

namespace tidemark::api {
namespace {

constexpr const char* kRecordingColumns =
    "recording_id, recording_link, recording_type, user_id, created_session_id, revision, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), owner_id::text, "
    "content_sha256, content_type, content_size";

/// Where with_latest_job's columns start in a recording row.
constexpr int kFirstJobColumn = 12;

void write_recording(domain::JsonWriter& writer, const pqxx::row& row) {
  writer.StartObject();
  const char* names[] = {"recording_id", "recording_link", "recording_type", "user_id",
                         "created_session_id"};
  for (int i = 0; i < 5; ++i) {
    writer.Key(names[i]);
    if (row[i].is_null()) {
      writer.Null();
    } else {
      domain::write_string(writer, row[i].c_str());
    }
  }
  writer.Key("revision");
  writer.Int64(row[5].as<std::int64_t>());
  writer.Key("created_at");
  domain::write_string(writer, row[6].c_str());
  writer.Key("updated_at");
  domain::write_string(writer, row[7].c_str());
  writer.Key("content");
  if (row[9].is_null()) {
    writer.Null();
  } else {
    writer.StartObject();
    writer.Key("sha256");
    domain::write_string(writer, row[9].c_str());
    writer.Key("content_type");
    domain::write_string(writer, row[10].c_str());
    writer.Key("size");
    writer.Int64(row[11].as<std::int64_t>());
    writer.EndObject();
  }
  // Single-recording answers carry the latest inference job (see with_latest_job).
  if (row.size() >= kFirstJobColumn + projections::kJobColumnCount) {
    writer.Key("status");
    if (row[kFirstJobColumn].is_null()) {
      writer.Null();
      writer.Key("job");
      writer.Null();
    } else {
      domain::write_string(writer, row[kFirstJobColumn + 5].c_str());
      writer.Key("job");
      projections::write_job(writer, row, kFirstJobColumn);
    }
  }
  writer.EndObject();
}

HttpResponse recording_response(int status, const pqxx::row& row) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  write_recording(writer, row);
  HttpResponse response{status, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back("ETag", revision_etag(row[5].as<std::int64_t>()));
  return response;
}

/// The body of a create or update, with a link the configured policy accepts and that does not
/// resolve to an internal address.
domain::Result<domain::Recording> read_recording_body(const ApiContext& context,
                                                      std::string_view body,
                                                      const std::optional<std::string>& path_id,
                                                      bool link_required = true) {
  auto recording =
      domain::parse_recording_request(body, path_id, context.link_policy, link_required);
  if (!recording || recording->recording_link.empty()) return recording;
  auto link =
      infra::check_outbound_url(recording->recording_link, "recording_link", context.link_policy);
  if (!link) return link.error();
  return recording;
}

/// `POST /recordings` as JSON (the metadata alone) or as multipart/form-data: a `metadata` part
/// with the same JSON and a `content` part with the recording's bytes and media type.
struct Upload {
  struct Content {
    std::string_view bytes;
    ContentRef reference;
  };
  std::string_view metadata;
  std::optional<Content> content;
};

domain::Result<Upload> read_multipart_upload(const HttpRequest& request) {
  std::string content_type = request.header("content-type");
  if (!content_type.starts_with("multipart/") && !content_type.starts_with("Multipart/")) {
    return Upload{request.body, std::nullopt};
  }
  auto boundary = domain::multipart_boundary(content_type);
  if (!boundary) return boundary.error();
  auto parts = domain::parse_multipart(request.body, *boundary);
  if (!parts) return parts.error();
  Upload upload;
  bool has_metadata = false;
  for (const auto& part : *parts) {
    if (part.name == "metadata") {
      upload.metadata = part.body;
      has_metadata = true;
    } else if (part.name == "content") {
      if (!domain::is_media_type(part.content_type) || part.body.empty()) {
        return domain::invalid(
            "multipart part 'content' must hold the recording's bytes with its media type as "
            "Content-Type, such as audio/wav");
      }
      upload.content = Upload::Content{part.body,
                                       {infra::sha256_hex(part.body), part.content_type,
                                        static_cast<std::int64_t>(part.body.size())}};
    } else {
      return domain::invalid("multipart part '" + part.name +
                             "' is not known; send 'metadata' (JSON) and 'content'");
    }
  }
  if (!has_metadata || !upload.content) {
    return domain::invalid(
        "a multipart upload needs a 'metadata' part (the recording's JSON) and a 'content' part "
        "(its bytes)");
  }
  return upload;
}

std::optional<std::string> query_parameter(const HttpRequest& request, std::string_view name) {
  std::optional<std::string> value;
  for (const auto& [key, text] : request.query) {
    if (key == name) value = text;
  }
  return value;
}

/// The recording as `owner` may see it (nullopt: anyone's).
std::optional<pqxx::row> find_recording(pqxx::connection& connection, const std::string& id,
                                        const std::optional<std::string>& owner) {
  pqxx::nontransaction read(connection);
  auto rows =
      infra::exec_prepared_sql(read,
                               with_latest_job(std::string("SELECT ") + kRecordingColumns +
                                               " FROM recordings WHERE recording_id = $1 "
                                               "AND ($2::uuid IS NULL OR owner_id = $2::uuid)"),
                               id, owner);
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

void create_recording(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                      const Caller& caller, pqxx::connection& connection, Respond& respond) {
  if (caller.role == domain::Role::analyst) {
    respond(analysts_change_nothing("recordings"));
    return;
  }
  auto upload = read_multipart_upload(request);
  if (!upload) {
    respond(error_response(upload.error()));
    return;
  }
  auto parsed = read_recording_body(*context, upload->metadata, std::nullopt, !upload->content);
  if (!parsed) {
    respond(error_response(parsed.error()));
    return;
  }
  auto recording = std::make_optional(std::move(parsed).value());
  std::string id = recording->recording_id;
  std::optional<domain::JobSubmitted> job;
  if (upload->content) {
    if (recording->recording_link.empty())
      recording->recording_link = "/recordings/" + id + "/content";
    auto routed = route_job(*context, connection, id, recording->recording_type,
                            caller.user_id.to_string(), upload->content->reference, std::nullopt,
                            query_parameter(request, "callback_url"));
    if (!routed && routed.error().kind != domain::ErrorKind::conflict) {
      respond(error_response(routed.error()));
      return;
    }
    if (routed) job = *routed;
  }
  if (!claim_client_id(connection, "recording", recording->recording_id)) {
    respond(error_response(409, "recording_id '" + recording->recording_id + "' is taken"));
    return;
  }
  std::vector<domain::EventEnvelope> events{
      make_envelope(request, domain::kRecordingCreatedV1, id, "recordings/" + id,
                    domain::encode_recording({*recording, caller.user_id, std::nullopt}),
                    caller.user_id.to_string())};
  if (upload->content) {
    const ContentRef& content = upload->content->reference;
    store_content(connection, content.sha256, std::string(upload->content->bytes));
    events.push_back(make_envelope(
        request, domain::kRecordingContentAttachedV1, id, "recordings/" + id,
        domain::encode_content_attached({id, content.sha256, content.size, content.content_type}),
        caller.user_id.to_string()));
    if (job) events.push_back(job_submitted_event(request, *job, caller));
  }
  append_create(context, request, std::move(events), "recording", id,
                "/recordings/" + percent_encode(id), respond,
                [id](pqxx::connection& connection) -> std::optional<HttpResponse> {
                  auto row = find_recording(connection, id, std::nullopt);
                  if (!row) return std::nullopt;
                  return recording_response(201, *row);
                });
}

void change_recording(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                      const std::string& id, bool remove, const Caller& caller,
                      pqxx::connection& connection, Respond& respond) {
  auto expected = if_match_revision(request);
  if (!expected) {
    respond(error_response(expected.error()));
    return;
  }
  std::optional<domain::Recording> updated;
  if (!remove) {
    auto parsed = read_recording_body(*context, request.body, id);
    if (!parsed) {
      respond(error_response(parsed.error()));
      return;
    }
    updated = *parsed;
  }
  auto current = row_to_change(
      caller, [&](const auto& owner) { return find_recording(connection, id, owner); },
      "recordings", "Recording not found", respond);
  if (!current) return;
  std::int64_t revision = (*current)[5].as<std::int64_t>();
  if (*expected && **expected != revision) {
    respond(error_response(412, "the recording changed since that ETag; read it again"));
    return;
  }
  auto owner_id = *domain::Uuid::parse((*current)[8].c_str());
  auto event = remove
                   ? make_envelope(request, domain::kRecordingDeletedV1, id, "recordings/" + id,
                                   domain::encode_recording_deleted(id), caller.user_id.to_string())
                   : make_envelope(request, domain::kRecordingUpdatedV1, id, "recordings/" + id,
                                   domain::encode_recording({*updated, owner_id, revision}),
                                   caller.user_id.to_string());
  append_events(*context, {event}, std::move(respond),
                [context, request, id, remove, updated, revision](bool projected, Respond respond) {
                  if (!projected) {
                    respond(error_response(
                        202, "the change is recorded but not yet visible; read it again shortly"));
                    return;
                  }
                  if (remove) {
                    respond({204, "", "application/json", {}});
                    return;
                  }
                  with_database(*context, request, std::move(respond),
                                [id, updated, revision](pqxx::connection& connection) {
                                  auto row = find_recording(connection, id, std::nullopt);
                                  if (!row) return error_response(404, "Recording not found");
                                  bool ours = (*row)[5].as<std::int64_t>() == revision + 1 &&
                                              updated->recording_link == (*row)[1].c_str() &&
                                              updated->recording_type == (*row)[2].c_str() &&
                                              updated->user_id == (*row)[3].c_str();
                                  return ours ? recording_response(200, *row)
                                              : error_response(412,
                                                               "the recording changed meanwhile");
                                });
                });
}

/// The page `query` asks for among `owner`'s recordings (or anyone's), or, with
/// `checked_session`, nullopt when the page checked by that session has no row.
std::optional<HttpResponse> list_recordings(
    pqxx::connection& connection, const domain::RecordingQuery& query,
    const std::optional<std::string>& owner,
    const std::optional<TokenSession>& checked_session = std::nullopt) {
  SqlFilters filters;
  filters.add("owner_id =", owner, "::uuid");
  filters.add("user_id =", query.user_id);
  filters.add("recording_type =", query.recording_type);
  auto page = read_list_page(connection, kRecordingColumns, "recordings", filters,
                             "recordings.created_at DESC, recordings.recording_id", query.page.page,
                             query.page.size, checked_session);
  if (checked_session && page.rows.empty()) return std::nullopt;
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartArray();
  for (const auto& row : page.rows) write_recording(writer, row);
  writer.EndArray();
  HttpResponse response{200, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back("X-Total-Count", std::to_string(page.total));
  return response;
}

/// PUT /recordings/{id}/content: the raw bytes, stored once per SHA-256, then attached by event.
void upload_content(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                    const std::string& id, const Caller& caller, pqxx::connection& connection,
                    Respond& respond) {
  std::string content_type = request.header("content-type");
  if (!domain::is_media_type(content_type)) {
    respond(error_response(400,
                           "Content-Type must name the recording's media type, such as "
                           "audio/wav or image/jpeg"));
    return;
  }
  if (request.body.empty()) {
    respond(error_response(400, "the request body must hold the recording's bytes"));
    return;
  }
  auto current = row_to_change(
      caller, [&](const auto& owner) { return find_recording(connection, id, owner); },
      "recordings", "Recording not found", respond);
  if (!current) return;
  auto callback_url = query_parameter(request, "callback_url");
  ContentRef content{infra::sha256_hex(request.body), content_type,
                     static_cast<std::int64_t>(request.body.size())};
  // New content is submitted to the algorithm routed for its type, when there is one.
  auto job = route_job(*context, connection, id, (*current)[2].c_str(), (*current)[8].c_str(),
                       content, std::nullopt, callback_url);
  if (!job && job.error().kind != domain::ErrorKind::conflict) {
    respond(error_response(job.error()));
    return;
  }
  store_content(connection, content.sha256, request.body);
  std::vector<domain::EventEnvelope> events{make_envelope(
      request, domain::kRecordingContentAttachedV1, id, "recordings/" + id,
      domain::encode_content_attached({id, content.sha256, content.size, content_type}),
      caller.user_id.to_string())};
  if (job) events.push_back(job_submitted_event(request, *job, caller));
  append_events(
      *context, std::move(events), std::move(respond),
      [context, request, id](bool, Respond respond) {
        with_database(*context, request, std::move(respond), [id](pqxx::connection& connection) {
          auto row = find_recording(connection, id, std::nullopt);
          return row ? recording_response(200, *row) : error_response(404, "Recording not found");
        });
      });
}

HttpResponse download_content(pqxx::connection& connection, const std::string& id,
                              const std::optional<std::string>& owner) {
  pqxx::nontransaction read(connection);
  auto rows = read.exec_params(
      "SELECT b.content, r.content_type, r.content_sha256 FROM recordings r "
      "JOIN content_blobs b ON b.sha256 = r.content_sha256 WHERE r.recording_id = $1 "
      "AND ($2::uuid IS NULL OR r.owner_id = $2::uuid)",
      id, owner);
  if (rows.empty()) return error_response(404, "Recording or its content not found");
  pqxx::binarystring content(rows[0][0]);
  HttpResponse response{200, content.str(), rows[0][1].c_str(), {}};
  response.headers.emplace_back("ETag", "\"" + std::string(rows[0][2].c_str()) + "\"");
  return response;
}

}  // namespace

void add_recording_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add(
      "POST", "/recordings",
      idempotent(context,
                 authenticated(context, [context](const HttpRequest& request, const PathParameters&,
                                                  pqxx::connection& connection,
                                                  const Caller& caller, Respond& respond) {
                   create_recording(context, request, caller, connection, respond);
                 })));
  router.add(
      "GET", "/recordings",
      [context](const HttpRequest& request, const PathParameters& parameters, Respond respond) {
        // Bad filters answer 400 before any database work.
        auto query = domain::parse_recording_query(request.query);
        if (!query) {
          respond(error_response(query.error()));
          return;
        }
        // Most callers are phones reading their own: their session is checked in the page's
        // statement, one round trip instead of two.
        authenticated(
            context,
            [query = *query](const HttpRequest&, const PathParameters&,
                             pqxx::connection& connection, const Caller& caller, Respond& respond) {
              respond(*list_recordings(connection, query, readable_owner(caller)));
            },
            [query = *query](pqxx::connection& connection, const TokenSession& session) {
              return list_recordings(connection, query, session.user_id.to_string(), session);
            })(request, parameters, std::move(respond));
      });
  router.add(
      "GET", "/recordings/{recording_id}",
      authenticated(context, [context](const HttpRequest& request, const PathParameters& parameters,
                                       pqxx::connection&, const Caller& caller, Respond& respond) {
        auto wait = domain::parse_wait(request.query, kMaxLongPoll);
        if (!wait) {
          respond(error_response(wait.error()));
          return;
        }
        // A read-your-writes position is waited for first; then `?wait=` answers once the
        // latest job has finished (at once when there is none).
        std::string id = parameters.at("recording_id");
        after_position(
            *context, request, std::move(respond),
            [context, request, id, owner = readable_owner(caller), wait = *wait](Respond respond) {
              long_poll(context, request, std::move(respond), projections::finished_word(id),
                        std::chrono::steady_clock::now() + wait,
                        [id, owner](pqxx::connection& connection,
                                    bool final) -> std::optional<HttpResponse> {
                          auto row = find_recording(connection, id, owner);
                          if (!row) return error_response(404, "Recording not found");
                          std::string_view status = (*row)[kFirstJobColumn].is_null()
                                                        ? ""
                                                        : (*row)[kFirstJobColumn + 5].c_str();
                          if (!final && (status == "queued" || status == "running")) {
                            return std::nullopt;
                          }
                          return recording_response(200, *row);
                        });
            });
      }));
  router.add(
      "PUT", "/recordings/{recording_id}/content",
      authenticated(
          context, [context](const HttpRequest& request, const PathParameters& parameters,
                             pqxx::connection& connection, const Caller& caller, Respond& respond) {
            upload_content(context, request, parameters.at("recording_id"), caller, connection,
                           respond);
          }));
  router.add("GET", "/recordings/{recording_id}/content",
             authenticated(
                 context, [](const HttpRequest&, const PathParameters& parameters,
                             pqxx::connection& connection, const Caller& caller, Respond& respond) {
                   respond(download_content(connection, parameters.at("recording_id"),
                                            readable_owner(caller)));
                 }));
  for (bool remove : {false, true}) {
    router.add(remove ? "DELETE" : "PUT", "/recordings/{recording_id}",
               authenticated(context, [context, remove](const HttpRequest& request,
                                                        const PathParameters& parameters,
                                                        pqxx::connection& connection,
                                                        const Caller& caller, Respond& respond) {
                 change_recording(context, request, parameters.at("recording_id"), remove, caller,
                                  connection, respond);
               }));
  }
}

}  // namespace tidemark::api
