// Accounts and sessions (seeds 000, 001, 002, 004): registration, login, tokens, refresh with
// rotation, logout, the caller's own account, and deletion by crypto-shredding.
#include <pqxx/pqxx>

#include "api/accounts.h"
#include "api/auth.h"
#include "api/rate_limiter.h"
#include "api/routes.h"
#include "domain/account.h"
#include "domain/json.h"
#include "infra/cipher.h"
#include "infra/database.h"
#include "infra/ids.h"
#include "infra/jwt.h"
#include "infra/keyring.h"
#include "infra/password_hasher.h"

namespace tidemark::api {
namespace {

using domain::JsonWriter;
using domain::Uuid;

std::int64_t unix_seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

HttpResponse json_response(int status, const rapidjson::StringBuffer& buffer) {
  return {status, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
}

/// `{"status_code": status, "message": message}` plus `detail`, the shapes seeds 001 and 003
/// clients read.
HttpResponse message_response(int status, std::string_view message) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("status_code");
  writer.Int(status);
  writer.Key("message");
  domain::write_string(writer, message);
  if (status >= 400) {
    writer.Key("detail");
    domain::write_string(writer, message);
  }
  writer.EndObject();
  return json_response(status, buffer);
}

HttpResponse too_many_requests(std::chrono::seconds retry_after, std::string_view what) {
  HttpResponse response =
      error_response(429, std::string("too many ") + std::string(what) + "; retry in " +
                              std::to_string(retry_after.count()) + " s");
  response.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
  return response;
}

std::string token_cookie(const ApiContext& context, const std::string& value,
                         std::chrono::seconds max_age) {
  return context.auth.cookie_name + "=" + value +
         "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age.count()) +
         (context.auth.cookie_secure ? "; Secure" : "");
}

std::string refresh_token_hash(std::string_view token) {
  return infra::sha256_hex(token);
}

/// A new session's or a rotation's tokens and the response that carries them.
struct IssuedTokens {
  std::string access_token;
  std::string refresh_token;
};

/// A signed access token. `session_position` (of the session's `session.started`), when known,
/// goes into it, so that a request arriving before the projection applied the session waits
/// for it instead of being refused (see authenticate).
std::string sign_access_token(const ApiContext& context, const Uuid& user_id,
                              const Uuid& session_id, domain::Role role,
                              std::optional<domain::Position> session_position = std::nullopt) {
  auto now = std::chrono::system_clock::now();
  infra::TokenClaims claims;
  claims.subject = user_id.to_string();
  claims.session_id = session_id.to_string();
  claims.role = std::string(domain::role_name(role));
  claims.issued_at = unix_seconds(now);
  claims.not_before = claims.issued_at;
  claims.expires_at = unix_seconds(now + context.auth.access_token_ttl);
  claims.token_id = infra::random_uuid().to_string();
  if (session_position) claims.session_position = session_position->to_token();
  return context.signer.sign(claims);
}

std::string new_refresh_token(const Uuid& session_id) {
  return session_id.to_string() + "." + infra::random_token(32);
}

IssuedTokens issue_tokens(const ApiContext& context, const Uuid& user_id, const Uuid& session_id,
                          domain::Role role) {
  return {sign_access_token(context, user_id, session_id, role), new_refresh_token(session_id)};
}

HttpResponse session_response(const ApiContext& context, int status, std::string_view message,
                              const Uuid& user_id, const Uuid& session_id,
                              domain::Timestamp expires_at, const IssuedTokens& tokens) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("status");
  writer.String("success");
  writer.Key("status_code");
  writer.Int(status);
  writer.Key("message");
  domain::write_string(writer, message);
  writer.Key("user_id");
  domain::write_string(writer, user_id.to_string());
  writer.Key("session_id");
  domain::write_string(writer, session_id.to_string());
  writer.Key("expires_at");
  domain::write_string(writer, domain::format_timestamp(expires_at));
  writer.Key("access_token");
  domain::write_string(writer, tokens.access_token);
  writer.Key("token_type");
  writer.String("bearer");
  writer.Key("expires_in");
  writer.Int64(context.auth.access_token_ttl.count());
  writer.Key("refresh_token");
  domain::write_string(writer, tokens.refresh_token);
  writer.EndObject();
  HttpResponse response = json_response(status, buffer);
  response.headers.emplace_back(
      "Set-Cookie", token_cookie(context, tokens.access_token, context.auth.access_token_ttl));
  return response;
}

domain::EventEnvelope session_started(const HttpRequest& request, const Uuid& user_id,
                                      const Uuid& session_id, const std::string& refresh_token,
                                      domain::Timestamp expires_at) {
  return make_envelope(request, domain::kSessionStartedV1, user_id.to_string(),
                       "sessions/" + session_id.to_string(),
                       domain::encode_event(domain::SessionStarted{
                           session_id, user_id, refresh_token_hash(refresh_token), expires_at}),
                       user_id.to_string());
}

domain::EventEnvelope session_revoked(const HttpRequest& request, const Uuid& user_id,
                                      const Uuid& session_id, std::string reason,
                                      const std::string& actor) {
  return make_envelope(
      request, domain::kSessionRevokedV1, user_id.to_string(), "sessions/" + session_id.to_string(),
      domain::encode_event(domain::SessionRevoked{session_id, user_id, std::move(reason)}), actor);
}

domain::Timestamp session_expiry(const ApiContext& context) {
  return domain::now_utc() +
         std::chrono::duration_cast<std::chrono::microseconds>(context.auth.session_ttl);
}

void release_registration_later(ApiContext& context, const Uuid& user_id) {
  context.database.submit(
      {[user_id](pqxx::connection& connection) { release_registration(connection, user_id); },
       [](std::exception_ptr) {}});
}

void register_account(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                      Respond respond) {
  std::string address_key = "register:" + request.remote_address;
  if (auto wait = context->registrations_per_address.blocked_for(address_key)) {
    respond(too_many_requests(*wait, "registrations from this address"));
    return;
  }
  auto parsed = domain::parse_registration(request.body, context->auth.min_password_length);
  if (!parsed) {
    respond(error_response(parsed.error()));
    return;
  }
  context->registrations_per_address.record(address_key);
  auto registration = std::make_shared<domain::Registration>(std::move(parsed).value());
  std::string password = registration->password;
  infra::wipe(registration->password);
  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  bool queued = context->hasher.submit_hash(
      std::move(password),
      [context, request, registration, shared_respond](std::string password_hash) {
        with_database_then(
            *context, request, std::move(*shared_respond),
            [context, request, registration, password_hash](pqxx::connection& connection,
                                                            Respond& respond) {
              Uuid user_id = infra::random_uuid();
              auto registered =
                  prepare_registration(connection, context->keyring, *registration, password_hash,
                                       domain::Role::user, user_id, request.request_id);
              if (!registered) {
                respond(error_response(registered.error()));
                return;
              }
              Respond release_on_refusal = [context, user_id, respond](HttpResponse response) {
                // The broker refused: nothing reached the log, so the names are free again.
                if (response.status == 503) release_registration_later(*context, user_id);
                respond(std::move(response));
              };
              append_events(
                  *context, {*registered}, release_on_refusal,
                  [context, request, user_id](bool, Respond respond) {
                    // Seed 000 answers a registration with a session, so one is started here.
                    Uuid session_id = infra::random_uuid();
                    domain::Timestamp expires_at = session_expiry(*context);
                    std::string refresh_token = new_refresh_token(session_id);
                    auto started_at = std::make_shared<domain::Position>();
                    Respond account_exists_anyway = [respond, user_id](HttpResponse response) {
                      if (response.status != 503) {
                        respond(std::move(response));
                        return;
                      }
                      HttpResponse created = message_response(
                          201, "User successfully registered; log in to start a session");
                      created.headers.emplace_back("Location", "/users/" + user_id.to_string());
                      respond(std::move(created));
                    };
                    append_events(
                        *context,
                        {session_started(request, user_id, session_id, refresh_token,
                                         expires_at)},
                        account_exists_anyway,
                        [context, user_id, session_id, expires_at, refresh_token,
                         started_at](bool, Respond respond) {
                          IssuedTokens tokens{sign_access_token(*context, user_id, session_id,
                                                                domain::Role::user, *started_at),
                                              refresh_token};
                          respond(session_response(*context, 201, "User successfully registered",
                                                   user_id, session_id, expires_at, tokens));
                        },
                        true, started_at);
                  });
            });
      });
  if (!queued) (*shared_respond)(unavailable_response("the server is busy; retry shortly"));
}

void login(std::shared_ptr<ApiContext> context, const HttpRequest& request, Respond respond) {
  auto parsed = domain::parse_login_request(request.body);
  if (!parsed) {
    // Seed 001 answered a missing field with this message.
    respond(context->auth.seed001_login_errors
                ? message_response(400, "Username and Password is required")
                : error_response(parsed.error()));
    return;
  }
  auto login_request = std::make_shared<domain::LoginRequest>(std::move(parsed).value());
  std::string account_key = "login:" + login_request->identifier;
  std::string address_key = "login:" + request.remote_address;
  auto account_wait = context->login_failures_per_account.blocked_for(account_key);
  auto address_wait = context->login_attempts_per_address.blocked_for(address_key);
  if (account_wait || address_wait) {
    respond(too_many_requests(std::max(account_wait.value_or(std::chrono::seconds(0)),
                                       address_wait.value_or(std::chrono::seconds(0))),
                              "login attempts"));
    return;
  }
  context->login_attempts_per_address.record(address_key);
  with_database_then(
      *context, request, std::move(respond),
      [context, request, login_request, account_key](pqxx::connection& connection,
                                                     Respond& respond) {
        pqxx::nontransaction read(connection);
        auto rows = read.exec_params(
            login_request->by_email
                ? "SELECT user_id::text, password_hash, role FROM users WHERE email = $1"
                : "SELECT user_id::text, password_hash, role FROM users "
                  "WHERE lower(username) = lower($1)",
            login_request->identifier);
        bool known = !rows.empty();
        std::string encoded = known ? rows[0][1].c_str() : context->decoy_password_hash;
        std::optional<Uuid> user_id = known ? Uuid::parse(rows[0][0].c_str()) : std::nullopt;
        domain::Role role =
            known ? domain::parse_role(rows[0][2].c_str()).value_or(domain::Role::user)
                  : domain::Role::user;
        auto shared_respond = std::make_shared<Respond>(std::move(respond));
        bool queued = context->hasher.submit_verify(
            login_request->password, encoded,
            [context, request, known, user_id, role, account_key, shared_respond](bool verified) {
              if (!known || !verified) {
                context->login_failures_per_account.record(account_key);
                if (context->auth.seed001_login_errors) {
                  (*shared_respond)(message_response(
                      400, known ? "Password is incorrect!" : "Username not found!"));
                } else {
                  (*shared_respond)(unauthorized_response("Incorrect username or password"));
                }
                return;
              }
              context->login_failures_per_account.forget(account_key);
              Uuid session_id = infra::random_uuid();
              domain::Timestamp expires_at = session_expiry(*context);
              std::string refresh_token = new_refresh_token(session_id);
              auto started_at = std::make_shared<domain::Position>();
              append_events(
                  *context,
                  {session_started(request, *user_id, session_id, refresh_token, expires_at)},
                  std::move(*shared_respond),
                  [context, user_id, session_id, expires_at, refresh_token, role,
                   started_at](bool, Respond respond) {
                    IssuedTokens tokens{
                        sign_access_token(*context, *user_id, session_id, role, *started_at),
                        refresh_token};
                    respond(session_response(*context, 200, "Login successfully", *user_id,
                                             session_id, expires_at, tokens));
                  },
                  true, started_at);
            });
        if (!queued) (*shared_respond)(unavailable_response("the server is busy; retry shortly"));
      });
}

void refresh(std::shared_ptr<ApiContext> context, const HttpRequest& request, Respond respond) {
  auto token = domain::parse_refresh_request(request.body);
  if (!token) {
    respond(error_response(token.error()));
    return;
  }
  auto dot = token->find('.');
  auto session_id = Uuid::parse(token->substr(0, dot == std::string::npos ? 0 : dot));
  if (!session_id) {
    respond(unauthorized_response("the refresh token is not valid"));
    return;
  }
  with_database_then(
      *context, request, std::move(respond),
      [context, request, session_id = *session_id, presented = refresh_token_hash(*token)](
          pqxx::connection& connection, Respond& respond) {
        pqxx::nontransaction read(connection);
        auto rows = read.exec_params(
            "SELECT s.user_id::text, s.refresh_token_hash, s.previous_refresh_token_hash, "
            "coalesce(s.rotated_at > now() - $2::interval, false), u.role, "
            "to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
            "FROM sessions s JOIN users u ON u.user_id = s.user_id "
            "WHERE s.session_id = $1::uuid AND s.revoked_at IS NULL AND s.expires_at > now()",
            session_id.to_string(),
            std::to_string(context->auth.refresh_reuse_grace.count()) + " seconds");
        if (rows.empty()) {
          respond(unauthorized_response("the refresh token is not valid"));
          return;
        }
        const auto& row = rows[0];
        Uuid user_id = *Uuid::parse(row[0].c_str());
        std::string current = row[1].c_str();
        std::string previous = row[2].is_null() ? "" : row[2].c_str();
        bool within_grace = row[3].as<bool>();
        domain::Role role = domain::parse_role(row[4].c_str()).value_or(domain::Role::user);
        domain::Timestamp expires_at = *domain::parse_timestamp(row[5].c_str());
        bool rotate =
            infra::constant_time_equal(presented, current) ||
            (!previous.empty() && infra::constant_time_equal(presented, previous) && within_grace);
        if (!rotate) {
          if (previous.empty() || !infra::constant_time_equal(presented, previous)) {
            respond(unauthorized_response("the refresh token is not valid"));
            return;
          }
          // A rotated token came back after the grace window: someone holds a stolen copy.
          append_events(
              *context,
              {session_revoked(request, user_id, session_id, "refresh_reuse", user_id.to_string())},
              std::move(respond), [](bool, Respond respond) {
                respond(
                    unauthorized_response("refresh token reuse detected; the session is revoked"));
              });
          return;
        }
        IssuedTokens tokens = issue_tokens(*context, user_id, session_id, role);
        // A retry within the grace window rotates again from the current token.
        auto event = make_envelope(
            request, domain::kSessionRefreshedV1, user_id.to_string(),
            "sessions/" + session_id.to_string(),
            domain::encode_event(domain::SessionRefreshed{
                session_id, user_id, refresh_token_hash(tokens.refresh_token), current}),
            user_id.to_string());
        append_events(*context, {event}, std::move(respond),
                      [context, user_id, session_id, expires_at, tokens](bool, Respond respond) {
                        respond(session_response(*context, 200, "Token refreshed", user_id,
                                                 session_id, expires_at, tokens));
                      });
      });
}

/// Revokes a session and answers once the revocation is projected, so its tokens stop working
/// before the client hears back.
void revoke_then_answer(ApiContext& context, const HttpRequest& request, Respond respond,
                        const Uuid& user_id, const Uuid& session_id, std::string reason,
                        const std::string& actor, HttpResponse answer) {
  append_events(context, {session_revoked(request, user_id, session_id, std::move(reason), actor)},
                std::move(respond), [answer](bool projected, Respond respond) {
                  if (!projected) {
                    respond(unavailable_response(
                        "the logout is recorded but not yet in effect; retry shortly"));
                    return;
                  }
                  respond(answer);
                });
}

void logout_by_session_id(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                          Respond respond) {
  auto session_id = domain::parse_logout_request(request.body);
  if (!session_id) {
    respond(error_response(session_id.error()));
    return;
  }
  with_database_then(
      *context, request, std::move(respond),
      [context, request, session_id = *session_id](pqxx::connection& connection, Respond& respond) {
        pqxx::nontransaction read(connection);
        auto rows = read.exec_params(
            "SELECT user_id::text FROM sessions WHERE session_id = $1::uuid "
            "AND revoked_at IS NULL",
            session_id.to_string());
        if (rows.empty()) {
          respond(error_response(404, "Session not found"));
          return;
        }
        Uuid user_id = *Uuid::parse(rows[0][0].c_str());
        HttpResponse answer = message_response(200, "Logged out successfully");
        revoke_then_answer(*context, request, std::move(respond), user_id, session_id, "logout",
                           user_id.to_string(), answer);
      });
}

void write_user(JsonWriter& writer, const Caller& caller) {
  writer.StartObject();
  writer.Key("id");
  domain::write_string(writer, caller.user_id.to_string());
  writer.Key("user_id");
  domain::write_string(writer, caller.user_id.to_string());
  writer.Key("username");
  domain::write_string(writer, caller.username);
  writer.Key("email");
  caller.email ? domain::write_string(writer, *caller.email) : (void)writer.Null();
  writer.Key("full_name");
  caller.full_name ? domain::write_string(writer, *caller.full_name) : (void)writer.Null();
  writer.Key("role");
  domain::write_string(writer, domain::role_name(caller.role));
  writer.Key("created_at");
  domain::write_string(writer, caller.created_at);
  writer.EndObject();
}

/// Seed 000's `{"status": "success", "data": …, "time": …}`.
HttpResponse seed000_user_response(const Caller& user) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("status");
  writer.String("success");
  writer.Key("data");
  write_user(writer, user);
  writer.Key("time");
  domain::write_string(writer, domain::format_timestamp(domain::now_utc()));
  writer.EndObject();
  return json_response(200, buffer);
}

HttpResponse user_response(int status, const Caller& user) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  write_user(writer, user);
  return json_response(status, buffer);
}

HttpResponse forbidden_unless_admin_response() {
  return error_response(403, "this route needs the admin role");
}

/// Appends a change to `user_id` and answers with the user as projected.
void append_user_change(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                        Respond respond, domain::EventEnvelope event, const Uuid& user_id) {
  append_events(*context, {std::move(event)}, std::move(respond),
                [context, request, user_id](bool projected, Respond respond) {
                  if (!projected) {
                    respond(message_response(202, "Accepted; the change is not yet visible"));
                    return;
                  }
                  with_database(*context, request, std::move(respond),
                                [user_id](pqxx::connection& connection) {
                                  auto user = find_user(connection, user_id);
                                  return user ? user_response(200, *user)
                                              : error_response(404, "User not found");
                                });
                });
}

/// PATCH /user/update and PUT /profile/{id}: hash a new password first (off the HTTP and
/// database threads), then claim new names and append the sealed new personal data.
void update_profile(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                    Respond respond, const Uuid& user_id, const std::string& actor) {
  auto changes = domain::parse_profile_changes(request.body, context->auth.min_password_length);
  if (!changes) {
    respond(error_response(changes.error()));
    return;
  }
  auto shared_changes = std::make_shared<domain::ProfileChanges>(std::move(changes).value());
  auto apply = [context, request, user_id, actor, shared_changes](
                   std::optional<std::string> password_hash, Respond respond) {
    with_database_then(
        *context, request, std::move(respond),
        [context, request, user_id, actor, shared_changes, password_hash](
            pqxx::connection& connection, Respond& respond) {
          auto sealed = prepare_personal_update(connection, context->keyring, user_id,
                                                *shared_changes, password_hash);
          if (!sealed) {
            respond(error_response(sealed.error()));
            return;
          }
          auto event = make_envelope(
              request, domain::kUserProfileUpdatedV1, user_id.to_string(),
              "users/" + user_id.to_string(),
              domain::encode_event(domain::UserProfileUpdated{user_id, *sealed}), actor);
          append_user_change(context, request, std::move(respond), std::move(event), user_id);
        });
  };
  if (!shared_changes->password) {
    apply(std::nullopt, std::move(respond));
    return;
  }
  std::string password = *shared_changes->password;
  infra::wipe(*shared_changes->password);
  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  bool queued = context->hasher.submit_hash(
      std::move(password), [apply, shared_respond](std::string password_hash) {
        apply(std::move(password_hash), std::move(*shared_respond));
      });
  if (!queued) (*shared_respond)(unavailable_response("the server is busy; retry shortly"));
}

/// Appends the token's mail and answers 202: the mailer delivers it.
void mail_token(ApiContext& context, const HttpRequest& request, Respond respond,
                pqxx::connection& connection, const Uuid& user_id, domain::TokenPurpose purpose,
                HttpResponse answer) {
  auto issued =
      prepare_account_token(connection, context.keyring, user_id, purpose, request.request_id);
  if (!issued) {
    respond(purpose == domain::TokenPurpose::verify_email ? error_response(issued.error())
                                                          : answer);
    return;
  }
  append_events(context, {issued->event}, std::move(respond),
                [answer](bool, Respond respond) { respond(answer); });
}

void reset_password(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                    Respond respond) {
  auto reset = domain::parse_password_reset(request.body, context->auth.min_password_length);
  if (!reset) {
    respond(error_response(reset.error()));
    return;
  }
  std::string token = reset->token;
  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  bool queued = context->hasher.submit_hash(reset->password, [context, request, token,
                                                              shared_respond](
                                                                 std::string password_hash) {
    with_database_then(
        *context, request, std::move(*shared_respond),
        [context, request, token, password_hash](pqxx::connection& connection, Respond& respond) {
          auto user_id =
              redeem_account_token(connection, token, domain::TokenPurpose::reset_password);
          if (!user_id) {
            respond(error_response(user_id.error()));
            return;
          }
          auto sealed =
              prepare_personal_update(connection, context->keyring, *user_id, {}, password_hash);
          if (!sealed) {
            respond(error_response(sealed.error()));
            return;
          }
          auto event = make_envelope(request, domain::kPasswordResetV1, user_id->to_string(),
                                     "users/" + user_id->to_string(),
                                     domain::encode_event(domain::PasswordReset{
                                         *user_id, infra::sha256_hex(token), *sealed}),
                                     user_id->to_string());
          append_events(*context, {event}, std::move(respond), [](bool projected, Respond respond) {
            respond(projected ? message_response(200, "Password changed; every session ended")
                              : message_response(202, "Accepted; the change is not yet visible"));
          });
        });
  });
  if (!queued) (*shared_respond)(unavailable_response("the server is busy; retry shortly"));
}

/// Users see and change only themselves, admins anyone; someone else's id answers 404.
bool may_access(const Caller& caller, const std::optional<Uuid>& target) {
  return target && (caller.role == domain::Role::admin || caller.user_id == *target);
}

}  // namespace

std::optional<HttpResponse> user_by_session(pqxx::connection& connection, const Caller& caller,
                                            const std::string& session_id_text) {
  auto session_id = Uuid::parse(session_id_text);
  if (!session_id) return std::nullopt;
  pqxx::nontransaction read(connection);
  auto rows = read.exec_params(
      std::string("SELECT ") + kCallerColumns +
          ", u.user_id::text FROM sessions s JOIN users u ON u.user_id = s.user_id "
          "WHERE s.session_id = $1::uuid AND s.revoked_at IS NULL AND s.expires_at > now()",
      session_id->to_string());
  bool allowed = !rows.empty() && (caller.role == domain::Role::admin ||
                                   caller.user_id.to_string() == rows[0][5].c_str());
  if (!allowed) return std::nullopt;
  return seed000_user_response(
      caller_from_row(rows[0], *Uuid::parse(rows[0][5].c_str()), *session_id));
}

void add_account_routes(Router& router, std::shared_ptr<ApiContext> context) {
  auto route = [&router, context](const char* method, const char* path, auto handler) {
    router.add(method, path,
               [context, handler](const HttpRequest& request, const PathParameters& parameters,
                                  Respond respond) {
                 handler(context, request, parameters, std::move(respond));
               });
  };
  for (const char* path : {"/auth/register", "/register"}) {
    route("POST", path, [](auto context, auto& request, auto&, Respond respond) {
      register_account(context, request, std::move(respond));
    });
  }
  for (const char* path : {"/auth/login", "/login"}) {
    route("POST", path, [](auto context, auto& request, auto&, Respond respond) {
      login(context, request, std::move(respond));
    });
  }
  route("POST", "/auth/refresh", [](auto context, auto& request, auto&, Respond respond) {
    refresh(context, request, std::move(respond));
  });
  route("POST", "/auth/logout", [](auto context, auto& request, auto&, Respond respond) {
    logout_by_session_id(context, request, std::move(respond));
  });
  route("DELETE", "/auth/logout", [](auto context, auto& request, auto&, Respond respond) {
    authenticate(context, request, std::move(respond),
                 [context, request](pqxx::connection&, const Caller& caller, Respond& respond) {
                   HttpResponse answer = message_response(200, "Logged out");
                   answer.headers.emplace_back("Set-Cookie",
                                               token_cookie(*context, "", std::chrono::seconds(0)));
                   revoke_then_answer(*context, request, std::move(respond), caller.user_id,
                                      caller.session_id, "logout", caller.user_id.to_string(),
                                      answer);
                 });
  });
  route("GET", "/auth/sessions", [](auto context, auto& request, auto&, Respond respond) {
    authenticate(
        context, request, std::move(respond),
        [](pqxx::connection& connection, const Caller& caller, Respond& respond) {
          pqxx::nontransaction read(connection);
          auto rows = read.exec_params(
              "SELECT session_id::text, "
              "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
              "to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
              "FROM sessions WHERE user_id = $1::uuid AND revoked_at IS NULL "
              "AND expires_at > now() ORDER BY created_at DESC LIMIT 1000",
              caller.user_id.to_string());
          rapidjson::StringBuffer buffer;
          JsonWriter writer(buffer);
          writer.StartArray();
          for (const auto& row : rows) {
            writer.StartObject();
            writer.Key("session_id");
            domain::write_string(writer, row[0].c_str());
            writer.Key("created_at");
            domain::write_string(writer, row[1].c_str());
            writer.Key("expires_at");
            domain::write_string(writer, row[2].c_str());
            writer.Key("current");
            writer.Bool(caller.session_id.to_string() == row[0].c_str());
            writer.EndObject();
          }
          writer.EndArray();
          respond(json_response(200, buffer));
        });
  });
  route("DELETE", "/auth/sessions/{session_id}",
        [](auto context, auto& request, auto& parameters, Respond respond) {
          auto session_id = Uuid::parse(parameters.at("session_id"));
          authenticate(context, request, std::move(respond),
                       [context, request, session_id](pqxx::connection& connection,
                                                      const Caller& caller, Respond& respond) {
                         pqxx::nontransaction read(connection);
                         // Someone else's session is answered like a missing one.
                         bool mine = session_id &&
                                     !read.exec_params(
                                              "SELECT 1 FROM sessions WHERE session_id = $1::uuid "
                                              "AND user_id = $2::uuid AND revoked_at IS NULL",
                                              session_id->to_string(), caller.user_id.to_string())
                                          .empty();
                         if (!mine) {
                           respond(error_response(404, "Session not found"));
                           return;
                         }
                         revoke_then_answer(*context, request, std::move(respond), caller.user_id,
                                            *session_id, "logout", caller.user_id.to_string(),
                                            message_response(200, "Session revoked"));
                       });
        });
  route("DELETE", "/auth/sessions", [](auto context, auto& request, auto&, Respond respond) {
    authenticate(
        context, request, std::move(respond),
        [context, request](pqxx::connection& connection, const Caller& caller, Respond& respond) {
          pqxx::nontransaction read(connection);
          auto rows = read.exec_params(
              "SELECT session_id::text FROM sessions WHERE user_id = $1::uuid "
              "AND revoked_at IS NULL",
              caller.user_id.to_string());
          std::vector<domain::EventEnvelope> events;
          for (const auto& row : rows) {
            events.push_back(session_revoked(request, caller.user_id, *Uuid::parse(row[0].c_str()),
                                             "logout_all", caller.user_id.to_string()));
          }
          HttpResponse answer =
              message_response(200, "Revoked " + std::to_string(events.size()) + " session(s)");
          answer.headers.emplace_back("Set-Cookie",
                                      token_cookie(*context, "", std::chrono::seconds(0)));
          append_events(*context, std::move(events), std::move(respond),
                        [answer](bool projected, Respond respond) {
                          respond(projected
                                      ? answer
                                      : unavailable_response("the logout is recorded but not yet "
                                                             "in effect; retry shortly"));
                        });
        });
  });
  route("GET", "/me", [](auto context, auto& request, auto&, Respond respond) {
    authenticate(context, request, std::move(respond),
                 [](pqxx::connection&, const Caller& caller, Respond& respond) {
                   rapidjson::StringBuffer buffer;
                   JsonWriter writer(buffer);
                   write_user(writer, caller);
                   respond(json_response(200, buffer));
                 });
  });
  route("GET", "/home", [](auto context, auto& request, auto&, Respond respond) {
    authenticate(
        context, request, std::move(respond),
        [](pqxx::connection&, const Caller& caller, Respond& respond) {
          respond(message_response(200, "Hello " + caller.full_name.value_or(caller.username)));
        });
  });
  route("PATCH", "/user/update", [](auto context, auto& request, auto&, Respond respond) {
    authenticate(context, request, std::move(respond),
                 [context, request](pqxx::connection&, const Caller& caller, Respond& respond) {
                   update_profile(context, request, std::move(respond), caller.user_id,
                                  caller.user_id.to_string());
                 });
  });
  route("GET", "/profile/{id}", [](auto context, auto& request, auto& parameters, Respond respond) {
    auto target = Uuid::parse(parameters.at("id"));
    authenticate(
        context, request, std::move(respond),
        [target](pqxx::connection& connection, const Caller& caller, Respond& respond) {
          auto user = may_access(caller, target) ? find_user(connection, *target) : std::nullopt;
          respond(user ? user_response(200, *user) : error_response(404, "User not found"));
        });
  });
  route("PUT", "/profile/{id}", [](auto context, auto& request, auto& parameters, Respond respond) {
    auto target = Uuid::parse(parameters.at("id"));
    authenticate(
        context, request, std::move(respond),
        [context, request, target](pqxx::connection&, const Caller& caller, Respond& respond) {
          if (!may_access(caller, target)) {
            respond(error_response(404, "User not found"));
            return;
          }
          update_profile(context, request, std::move(respond), *target, caller.user_id.to_string());
        });
  });
  route("GET", "/admin/users", [](auto context, auto& request, auto&, Respond respond) {
    auto query = domain::parse_page_query(request.query);
    if (!query) {
      respond(error_response(query.error()));
      return;
    }
    authenticate(
        context, request, std::move(respond),
        [page = *query](pqxx::connection& connection, const Caller& caller, Respond& respond) {
          if (caller.role != domain::Role::admin) {
            respond(forbidden_unless_admin_response());
            return;
          }
          pqxx::nontransaction read(connection);
          auto rows = read.exec_params(std::string("SELECT ") + kCallerColumns +
                                           ", u.user_id::text, count(*) OVER () FROM users u "
                                           "ORDER BY u.created_at, u.user_id LIMIT $1 OFFSET $2",
                                       page.size, (page.page - 1) * page.size);
          rapidjson::StringBuffer buffer;
          JsonWriter writer(buffer);
          writer.StartObject();
          writer.Key("status");
          writer.String("success");
          writer.Key("data");
          writer.StartArray();
          for (const auto& row : rows) {
            Uuid user_id = *Uuid::parse(row[5].c_str());
            write_user(writer, caller_from_row(row, user_id, user_id));
          }
          writer.EndArray();
          writer.Key("time");
          domain::write_string(writer, domain::format_timestamp(domain::now_utc()));
          writer.EndObject();
          HttpResponse response = json_response(200, buffer);
          std::int64_t total = rows.empty() ? 0 : rows[0][6].template as<std::int64_t>();
          if (rows.empty() && page.page > 1) {
            total = read.exec1("SELECT count(*) FROM users")[0].template as<std::int64_t>();
          }
          response.headers.emplace_back("X-Total-Count", std::to_string(total));
          respond(std::move(response));
        });
  });
  route("PUT", "/admin/users/{user_id}/role",
        [](auto context, auto& request, auto& parameters, Respond respond) {
          auto target = Uuid::parse(parameters.at("user_id"));
          auto role = domain::parse_role_request(request.body);
          if (!role) {
            respond(error_response(role.error()));
            return;
          }
          authenticate(
              context, request, std::move(respond),
              [context, request, target, role = *role](pqxx::connection& connection,
                                                       const Caller& caller, Respond& respond) {
                if (caller.role != domain::Role::admin) {
                  respond(forbidden_unless_admin_response());
                  return;
                }
                if (!target || !find_user(connection, *target)) {
                  respond(error_response(404, "User not found"));
                  return;
                }
                auto event =
                    make_envelope(request, domain::kUserRoleChangedV1, target->to_string(),
                                  "users/" + target->to_string(),
                                  domain::encode_event(domain::UserRoleChanged{*target, role}),
                                  caller.user_id.to_string());
                append_user_change(context, request, std::move(respond), std::move(event), *target);
              });
        });
  route("POST", "/auth/verify-email/request",
        [](auto context, auto& request, auto&, Respond respond) {
          authenticate(context, request, std::move(respond),
                       [context, request](pqxx::connection& connection, const Caller& caller,
                                          Respond& respond) {
                         mail_token(*context, request, std::move(respond), connection,
                                    caller.user_id, domain::TokenPurpose::verify_email,
                                    message_response(202, "A verification code is on its way"));
                       });
        });
  route("POST", "/auth/verify-email", [](auto context, auto& request, auto&, Respond respond) {
    auto token = domain::parse_token_request(request.body);
    if (!token) {
      respond(error_response(token.error()));
      return;
    }
    with_database_then(
        *context, request, std::move(respond),
        [context, request, token = *token](pqxx::connection& connection, Respond& respond) {
          auto user_id =
              redeem_account_token(connection, token, domain::TokenPurpose::verify_email);
          if (!user_id) {
            respond(error_response(user_id.error()));
            return;
          }
          auto event = make_envelope(
              request, domain::kEmailVerifiedV1, user_id->to_string(),
              "users/" + user_id->to_string(),
              domain::encode_event(domain::EmailVerified{*user_id, infra::sha256_hex(token)}),
              user_id->to_string());
          append_events(*context, {event}, std::move(respond), [](bool, Respond respond) {
            respond(message_response(200, "Email verified"));
          });
        });
  });
  route("POST", "/auth/password-reset/request",
        [](auto context, auto& request, auto&, Respond respond) {
          std::string address_key = "reset:" + request.remote_address;
          if (auto wait = context->login_attempts_per_address.blocked_for(address_key)) {
            respond(too_many_requests(*wait, "reset requests from this address"));
            return;
          }
          auto email = domain::parse_email_request(request.body);
          if (!email) {
            respond(error_response(email.error()));
            return;
          }
          context->login_attempts_per_address.record(address_key);
          with_database_then(
              *context, request, std::move(respond),
              [context, request, email = *email](pqxx::connection& connection, Respond& respond) {
                // The same answer whether or not the address is registered.
                HttpResponse answer = message_response(
                    202, "If the address is registered, a reset code is on its way");
                std::optional<Uuid> user_id;
                {
                  pqxx::nontransaction read(connection);
                  auto rows =
                      read.exec_params("SELECT user_id::text FROM users WHERE email = $1", email);
                  if (!rows.empty()) user_id = Uuid::parse(rows[0][0].c_str());
                }
                if (!user_id) {
                  respond(answer);
                  return;
                }
                mail_token(*context, request, std::move(respond), connection, *user_id,
                           domain::TokenPurpose::reset_password, answer);
              });
        });
  route("POST", "/auth/password-reset", [](auto context, auto& request, auto&, Respond respond) {
    reset_password(context, request, std::move(respond));
  });
  route("DELETE", "/user/delete", [](auto context, auto& request, auto&, Respond respond) {
    authenticate(
        context, request, std::move(respond),
        [context, request](pqxx::connection&, const Caller& caller, Respond& respond) {
          auto event = make_envelope(request, domain::kUserDeletedV1, caller.user_id.to_string(),
                                     "users/" + caller.user_id.to_string(),
                                     domain::encode_event(domain::UserDeleted{caller.user_id}),
                                     caller.user_id.to_string());
          append_events(*context, {event}, std::move(respond),
                        [context](bool projected, Respond respond) {
                          if (!projected) {
                            respond(unavailable_response(
                                "the deletion is recorded but not yet complete; retry shortly"));
                            return;
                          }
                          HttpResponse answer = message_response(200, "Successfully deleted user!");
                          answer.headers.emplace_back(
                              "Set-Cookie", token_cookie(*context, "", std::chrono::seconds(0)));
                          respond(answer);
                        });
        });
  });
}

}  // namespace tidemark::api
