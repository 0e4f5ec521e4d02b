#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/row>
#include <string>

#include "api/routes.h"
#include "domain/account.h"
#include "domain/timestamp.h"
#include "domain/uuid.h"

namespace tidemark::api {

/// Who is calling: the user behind a valid access token of a session that is still active.
struct Caller {
  domain::Uuid user_id;
  domain::Uuid session_id;
  domain::Role role = domain::Role::user;
  std::string username;
  std::optional<std::string> email;
  std::optional<std::string> full_name;
  std::string created_at;
};

/// The `users` columns a Caller is made of, for `caller_from_row`; `u` is the users table.
inline constexpr const char* kCallerColumns =
    "u.role, u.username, u.email, u.full_name, "
    "to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
/// A Caller from the first five columns of `row`, selected with kCallerColumns.
Caller caller_from_row(const pqxx::row& row, const domain::Uuid& user_id,
                       const domain::Uuid& session_id);
/// The user `user_id` as a Caller (without a session), or nullopt when there is none.
std::optional<Caller> find_user(pqxx::connection& connection, const domain::Uuid& user_id);

/// Work for an authenticated route: the request, its path parameters, a database connection
/// (on the pool) and the caller.
using AuthenticatedWork = std::function<void(const HttpRequest&, const PathParameters&,
                                             pqxx::connection&, const Caller&, Respond&)>;

/// The user and session a verified access token names, before the read model confirmed them.
struct TokenSession {
  domain::Uuid user_id;
  domain::Uuid session_id;
};

/// SQL true when session `session_placeholder` of user `user_placeholder` (both uuid text) is
/// active and that user has the role `user`: the condition a read carries to check its caller
/// within its own statement. An analyst or admin does not pass it (they read more than their
/// own) and takes the usual way.
std::string active_user_session_condition(std::string_view session_placeholder,
                                          std::string_view user_placeholder);

/// A read that checks the caller's session in its own statement (with
/// `active_user_session_condition`) and so saves the database round trip of the separate check.
/// It answers for a caller of role `user` reading what they own, and gives nullopt when its
/// statement found no row, which cannot tell an ended session from an empty page: the route
/// then runs the usual way.
using SessionCheckedRead =
    std::function<std::optional<HttpResponse>(pqxx::connection&, const TokenSession&)>;

/// A route handler that authenticates (as `authenticate` does), then runs `work`. With
/// `checked_read`, that read is tried first.
Handler authenticated(std::shared_ptr<ApiContext> context, AuthenticatedWork work,
                      SessionCheckedRead checked_read = nullptr);

/// Whose resources a caller reads: their own (users), or anyone's (nullopt: analysts, admins).
std::optional<std::string> readable_owner(const Caller& caller);

/// 403 for an analyst's attempt to change `what` (plural): analysts read and change nothing.
HttpResponse analysts_change_nothing(std::string_view what);

/// Finds a resource by id, among one owner's (`owner`) or anyone's (nullopt).
using OwnedFinder =
    std::function<std::optional<pqxx::row>(const std::optional<std::string>& owner)>;
/// The resource a caller may change: their own, or anyone's for an admin. Otherwise answers
/// 403 to an analyst who may read it, 404 `not_found` to anyone else, and gives nullopt.
std::optional<pqxx::row> row_to_change(const Caller& caller, const OwnedFinder& find,
                                       std::string_view what, std::string_view not_found,
                                       Respond& respond);

/// Seed 000's `GET /users/{session_id}` answer, when `session_id` is an active session of the
/// caller (or the caller is an admin); nullopt otherwise.
std::optional<HttpResponse> user_by_session(pqxx::connection& connection, const Caller& caller,
                                            const std::string& session_id);

/// 401 with seed 001's shape as well as ours: `{"detail", "status_code", "message"}`.
HttpResponse unauthorized_response(std::string_view detail);

/// Runs `work` for the caller of an authenticated request: the access token comes from
/// `Authorization: Bearer` or the token cookie, is verified (signature, algorithm, expiry,
/// issuer, audience), and its session must exist and be neither revoked nor expired in the read
/// model. Anything else answers 401. `work` runs on the database pool.
/// With `checked_read`, that read is tried first on the same connection.
void authenticate(std::shared_ptr<ApiContext> context, const HttpRequest& request, Respond respond,
                  std::function<void(pqxx::connection&, const Caller&, Respond&)> work,
                  SessionCheckedRead checked_read = nullptr);

}  // namespace tidemark::api
