// Seed 003's user records (`/users`), kept by the account that created them: users see and
// change their own (someone else's answers 404), analysts read all and change none, admins do
// all. GET /users/{id} also answers seed 000's user-by-session when {id} is a session of the
// caller. Responses carry an ETag; a change with a stale If-Match answers 412.
#include <pqxx/pqxx>

#include "api/accounts.h"
#include "api/auth.h"
#include "api/routes.h"
#include "domain/app_user.h"
#include "domain/json.h"
#include "infra/database.h"
#include "infra/ids.h"
#include "infra/keyring.h"

namespace tidemark::api {
namespace {

constexpr const char* kAppUserColumns =
    "user_id, email, display_name, height, weight, revision, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), owner_id::text";

domain::AppUser record_of(const pqxx::row& row) {
  auto text = [](const pqxx::field& field) {
    return field.is_null() ? std::nullopt : std::optional<std::string>(field.c_str());
  };
  auto number = [](const pqxx::field& field) {
    return field.is_null() ? std::nullopt : std::optional<double>(field.as<double>());
  };
  return {row[0].c_str(), text(row[1]), text(row[2]), number(row[3]), number(row[4])};
}

std::string app_user_json(const pqxx::row& row) {
  std::string record = domain::encode_app_user(record_of(row));
  record.pop_back();
  return record + ",\"revision\":" + row[5].c_str() + ",\"created_at\":\"" + row[6].c_str() +
         "\",\"updated_at\":\"" + row[7].c_str() + "\"}";
}

HttpResponse app_user_response(int status, const pqxx::row& row) {
  HttpResponse response{status, app_user_json(row), "application/json", {}};
  response.headers.emplace_back("ETag", revision_etag(row[5].as<std::int64_t>()));
  return response;
}

std::optional<pqxx::row> find_app_user(pqxx::connection& connection, const std::string& id,
                                       const std::optional<std::string>& owner) {
  pqxx::nontransaction read(connection);
  auto rows = infra::exec_prepared_sql(read,
                                       std::string("SELECT ") + kAppUserColumns +
                                           " FROM app_users WHERE user_id = $1 "
                                           "AND ($2::uuid IS NULL OR owner_id = $2::uuid)",
                                       id, owner);
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

/// The record sealed with the owner's key, for an event; not found when the key is gone.
domain::Result<std::string> seal_record(ApiContext& context, pqxx::connection& connection,
                                        const domain::Uuid& owner, const domain::AppUser& user) {
  pqxx::work transaction(connection);
  auto key = context.keyring.user_key(transaction, owner);
  transaction.commit();
  if (!key) return domain::not_found("User not found");
  return context.keyring.seal_for(*key, owner, domain::encode_app_user(user));
}

void create_app_user(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                     const Caller& caller, pqxx::connection& connection, Respond& respond) {
  if (caller.role == domain::Role::analyst) {
    respond(analysts_change_nothing("user records"));
    return;
  }
  auto user = domain::parse_app_user_request(request.body, std::nullopt);
  if (!user) {
    respond(error_response(user.error()));
    return;
  }
  if (!claim_client_id(connection, "app_user", user->user_id)) {
    respond(error_response(409, "user_id '" + user->user_id + "' is taken"));
    return;
  }
  auto sealed = seal_record(*context, connection, caller.user_id, *user);
  if (!sealed) {
    respond(error_response(sealed.error()));
    return;
  }
  std::string id = user->user_id;
  auto event =
      make_envelope(request, domain::kAppUserCreatedV1, id, "users/" + id,
                    domain::encode_app_user_change({id, caller.user_id, *sealed, std::nullopt}),
                    caller.user_id.to_string());
  append_create(context, request, {event}, "app_user", id, "/users/" + percent_encode(id), respond,
                [id](pqxx::connection& connection) -> std::optional<HttpResponse> {
                  auto row = find_app_user(connection, id, std::nullopt);
                  if (!row) return std::nullopt;
                  return app_user_response(201, *row);
                });
}

void change_app_user(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                     const std::string& id, bool remove, const Caller& caller,
                     pqxx::connection& connection, Respond& respond) {
  auto expected = if_match_revision(request);
  if (!expected) {
    respond(error_response(expected.error()));
    return;
  }
  std::optional<domain::AppUser> updated;
  if (!remove) {
    auto parsed = domain::parse_app_user_request(request.body, id);
    if (!parsed) {
      respond(error_response(parsed.error()));
      return;
    }
    updated = *parsed;
  }
  auto current = row_to_change(
      caller, [&](const auto& owner) { return find_app_user(connection, id, owner); },
      "user records", "User not found", respond);
  if (!current) return;
  std::int64_t revision = (*current)[5].as<std::int64_t>();
  if (*expected && **expected != revision) {
    respond(error_response(412, "the user record changed since that ETag; read it again"));
    return;
  }
  auto owner_id = *domain::Uuid::parse((*current)[8].c_str());
  std::string payload;
  if (remove) {
    payload = domain::encode_app_user_deleted(id);
  } else {
    auto sealed = seal_record(*context, connection, owner_id, *updated);
    if (!sealed) {
      respond(error_response(sealed.error()));
      return;
    }
    payload = domain::encode_app_user_change({id, owner_id, *sealed, revision});
  }
  auto event =
      make_envelope(request, remove ? domain::kAppUserDeletedV1 : domain::kAppUserUpdatedV1, id,
                    "users/" + id, payload, caller.user_id.to_string());
  append_events(*context, {event}, std::move(respond),
                [context, request, id, remove, updated, revision](bool projected, Respond respond) {
                  if (!projected) {
                    respond(error_response(202, "the change is recorded but not yet visible; read it again shortly"));
                    return;
                  }
                  if (remove) {
                    respond({204, "", "application/json", {}});
                    return;
                  }
                  with_database(*context, request, std::move(respond),
                                [id, updated, revision](pqxx::connection& connection) {
                                  auto row = find_app_user(connection, id, std::nullopt);
                                  if (!row) return error_response(404, "User not found");
                                  bool ours = (*row)[5].as<std::int64_t>() == revision + 1 &&
                                              domain::encode_app_user(record_of(*row)) ==
                                                  domain::encode_app_user(*updated);
                                  return ours ? app_user_response(200, *row)
                                              : error_response(412,
                                                               "the user record changed meanwhile");
                                });
                });
}

HttpResponse list_app_users(pqxx::connection& connection, const domain::PageQuery& page,
                            const std::optional<std::string>& owner) {
  pqxx::nontransaction read(connection);
  auto rows = read.exec_params(
      std::string("SELECT ") + kAppUserColumns +
          ", count(*) OVER () FROM app_users WHERE ($1::uuid IS NULL OR owner_id = $1::uuid) "
          "ORDER BY created_at, user_id LIMIT $2 OFFSET $3",
      owner, page.size, (page.page - 1) * page.size);
  std::int64_t total = rows.empty() ? 0 : rows[0][9].as<std::int64_t>();
  if (rows.empty() && page.page > 1) {
    total =
        read.exec_params1(
                "SELECT count(*) FROM app_users WHERE ($1::uuid IS NULL OR owner_id = $1::uuid)",
                owner)[0]
            .as<std::int64_t>();
  }
  std::string body = "[";
  for (const auto& row : rows) body += (body.size() > 1 ? "," : "") + app_user_json(row);
  body += "]";
  HttpResponse response{200, body, "application/json", {}};
  response.headers.emplace_back("X-Total-Count", std::to_string(total));
  return response;
}

}  // namespace

void add_app_user_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add(
      "POST", "/users",
      idempotent(context,
                 authenticated(context, [context](const HttpRequest& request, const PathParameters&,
                                                  pqxx::connection& connection,
                                                  const Caller& caller, Respond& respond) {
                   create_app_user(context, request, caller, connection, respond);
                 })));
  router.add(
      "GET", "/users",
      [context](const HttpRequest& request, const PathParameters& parameters, Respond respond) {
        // Bad paging answers 400 before any database work.
        auto page = domain::parse_page_query(request.query);
        if (!page) {
          respond(error_response(page.error()));
          return;
        }
        authenticated(context, [page = *page](const HttpRequest&, const PathParameters&,
                                              pqxx::connection& connection, const Caller& caller,
                                              Respond& respond) {
          respond(list_app_users(connection, page, readable_owner(caller)));
        })(request, parameters, std::move(respond));
      });
  router.add("GET", "/users/{id}",
             authenticated(context, [](const HttpRequest&, const PathParameters& parameters,
                                       pqxx::connection& connection, const Caller& caller,
                                       Respond& respond) {
               const std::string& id = parameters.at("id");
               // Seed 000 asks by session id, seed 003 by user id: one path.
               if (auto by_session = user_by_session(connection, caller, id)) {
                 respond(std::move(*by_session));
                 return;
               }
               auto row = find_app_user(connection, id, readable_owner(caller));
               respond(row ? app_user_response(200, *row) : error_response(404, "User not found"));
             }));
  for (bool remove : {false, true}) {
    router.add(remove ? "DELETE" : "PUT", "/users/{id}",
               authenticated(context, [context, remove](const HttpRequest& request,
                                                        const PathParameters& parameters,
                                                        pqxx::connection& connection,
                                                        const Caller& caller, Respond& respond) {
                 change_app_user(context, request, parameters.at("id"), remove, caller, connection,
                                 respond);
               }));
  }
}

}  // namespace tidemark::api
