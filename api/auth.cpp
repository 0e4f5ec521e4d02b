#include "api/auth.h"

#include <pqxx/pqxx>
#include <string_view>

#include "domain/json.h"
#include "infra/checkpoint_watcher.h"
#include "infra/database.h"
#include "infra/jwt.h"

namespace tidemark::api {

Caller caller_from_row(const pqxx::row& row, const domain::Uuid& user_id,
                       const domain::Uuid& session_id) {
  auto text = [](const pqxx::field& field) {
    return field.is_null() ? std::nullopt : std::optional<std::string>(field.c_str());
  };
  return Caller{
      user_id,        session_id,   domain::parse_role(row[0].c_str()).value_or(domain::Role::user),
      row[1].c_str(), text(row[2]), text(row[3]),
      row[4].c_str()};
}

std::optional<std::string> readable_owner(const Caller& caller) {
  if (caller.role == domain::Role::user) return caller.user_id.to_string();
  return std::nullopt;
}

HttpResponse analysts_change_nothing(std::string_view what) {
  return error_response(403, "analysts read " + std::string(what) + " and change none");
}

std::optional<pqxx::row> row_to_change(const Caller& caller, const OwnedFinder& find,
                                       std::string_view what, std::string_view not_found,
                                       Respond& respond) {
  std::optional<std::string> owner =
      caller.role == domain::Role::admin ? std::nullopt : std::optional(caller.user_id.to_string());
  auto row = find(owner);
  if (row) return row;
  bool readable = caller.role == domain::Role::analyst && find(std::nullopt);
  respond(readable ? analysts_change_nothing(what) : error_response(404, not_found));
  return std::nullopt;
}

Handler authenticated(std::shared_ptr<ApiContext> context, AuthenticatedWork work,
                      SessionCheckedRead checked_read) {
  return [context, work, checked_read](const HttpRequest& request,
                                       const PathParameters& parameters, Respond respond) {
    authenticate(
        context, request, std::move(respond),
        [work, request, parameters](pqxx::connection& connection, const Caller& caller,
                                    Respond& respond) {
          work(request, parameters, connection, caller, respond);
        },
        checked_read);
  };
}

namespace {

/// The session columns' condition shared by the separate check and the checked reads.
std::string active_session_condition(std::string_view session_placeholder,
                                     std::string_view user_placeholder) {
  return "s.session_id = " + std::string(session_placeholder) + "::uuid AND s.user_id = " +
         std::string(user_placeholder) +
         "::uuid AND s.revoked_at IS NULL AND s.expires_at > now()";
}

}  // namespace

std::string active_user_session_condition(std::string_view session_placeholder,
                                          std::string_view user_placeholder) {
  return "EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.user_id = s.user_id WHERE " +
         active_session_condition(session_placeholder, user_placeholder) +
         " AND u.role = 'user')";
}

std::optional<Caller> find_user(pqxx::connection& connection, const domain::Uuid& user_id) {
  pqxx::nontransaction read(connection);
  auto rows = infra::exec_prepared_sql(
      read, std::string("SELECT ") + kCallerColumns + " FROM users u WHERE u.user_id = $1::uuid",
      user_id.to_string());
  if (rows.empty()) return std::nullopt;
  return caller_from_row(rows[0], user_id, user_id);
}

HttpResponse unauthorized_response(std::string_view detail) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("detail");
  domain::write_string(writer, detail);
  writer.Key("status_code");
  writer.Int(401);
  writer.Key("message");
  writer.String("Unauthorized users");
  writer.EndObject();
  HttpResponse response{401, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

namespace {

using Work = std::function<void(pqxx::connection&, const Caller&, Respond&)>;

void check_session(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                   Respond respond, const TokenSession& token,
                   std::optional<domain::Position> started_at, std::shared_ptr<Work> work);

/// Runs `work` if the session is active in the read model, on the pool's `connection`. A
/// session the projection has not applied yet (its login answered after `projection_wait` ran
/// out) is waited for once, up to `projection_wait`, when the token says where its
/// `session.started` is in the log.
void check_session_on(pqxx::connection& connection, std::shared_ptr<ApiContext> context,
                      const HttpRequest& request, Respond& respond, const TokenSession& token,
                      std::optional<domain::Position> started_at, std::shared_ptr<Work> work) {
  std::optional<Caller> caller;
  {
    // Ended before `work`, which may open its own transaction on this connection.
    pqxx::nontransaction read(connection);
    auto rows = infra::exec_prepared_sql(
        read,
        std::string("SELECT ") + kCallerColumns +
            " FROM sessions s JOIN users u ON u.user_id = s.user_id WHERE " +
            active_session_condition("$1", "$2"),
        token.session_id.to_string(), token.user_id.to_string());
    if (!rows.empty()) caller = caller_from_row(rows[0], token.user_id, token.session_id);
  }
  if (caller) {
    (*work)(connection, *caller, respond);
    return;
  }
  if (started_at && !context->watcher.reached(*started_at)) {
    context->watcher.wait_for(*started_at, context->projection_wait,
                              [context, request, token, work, respond](bool) {
                                check_session(context, request, respond, token, std::nullopt,
                                              work);
                              });
    return;
  }
  respond(unauthorized_response("the session of this token has ended"));
}

void check_session(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                   Respond respond, const TokenSession& token,
                   std::optional<domain::Position> started_at, std::shared_ptr<Work> work) {
  with_database_then(*context, request, std::move(respond),
                     [context, request, token, started_at, work](pqxx::connection& connection,
                                                                 Respond& respond) {
                       check_session_on(connection, context, request, respond, token,
                                        started_at, work);
                     });
}

}  // namespace

void authenticate(std::shared_ptr<ApiContext> context, const HttpRequest& request, Respond respond,
                  std::function<void(pqxx::connection&, const Caller&, Respond&)> work,
                  SessionCheckedRead checked_read) {
  std::string token;
  std::string authorization = request.header("authorization");
  if (authorization.size() > 7 &&
      (authorization.starts_with("Bearer ") || authorization.starts_with("bearer "))) {
    token = authorization.substr(7);
  } else {
    token = request.cookie(context->auth.cookie_name);
  }
  if (token.empty()) {
    respond(unauthorized_response("an access token is required (Authorization: Bearer, or the " +
                                  context->auth.cookie_name + " cookie)"));
    return;
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto claims = context->signer.verify(token, now);
  if (!claims) {
    respond(unauthorized_response(claims.error().message));
    return;
  }
  auto user_id = domain::Uuid::parse(claims->subject);
  auto session_id = domain::Uuid::parse(claims->session_id);
  if (!user_id || !session_id) {
    respond(unauthorized_response("token subject or session is not an id"));
    return;
  }
  TokenSession token_session{*user_id, *session_id};
  auto started_at = domain::Position::parse_token(claims->session_position);
  auto shared_work = std::make_shared<Work>(std::move(work));
  if (!checked_read) {
    check_session(std::move(context), request, std::move(respond), token_session, started_at,
                  std::move(shared_work));
    return;
  }
  with_database_then(*context, request, std::move(respond),
                     [context, request, token_session, started_at, shared_work,
                      checked_read = std::move(checked_read)](pqxx::connection& connection,
                                                              Respond& respond) {
                       if (auto answer = checked_read(connection, token_session)) {
                         respond(std::move(*answer));
                         return;
                       }
                       check_session_on(connection, context, request, respond, token_session,
                                        started_at, shared_work);
                     });
}

}  // namespace tidemark::api
