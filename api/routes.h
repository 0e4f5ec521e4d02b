#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "api/router.h"
#include "domain/envelope.h"
#include "domain/position.h"
#include "domain/url_policy.h"

namespace tidemark::infra {
class EventProducer;
class CheckpointWatcher;
class DatabasePool;
class PasswordHasher;
class JwtSigner;
class Keyring;
class NotificationWatcher;
}  // namespace tidemark::infra

namespace tidemark::api {

class RateLimiter;

/// Account and token behaviour, from configuration.
struct AuthSettings {
  std::chrono::seconds access_token_ttl{900};
  std::chrono::seconds session_ttl{30 * 86400};
  std::chrono::seconds refresh_reuse_grace{10};
  std::string cookie_name = "X-LIVENESS-TOKEN";
  bool cookie_secure = false;
  bool seed001_login_errors = false;
  std::size_t min_password_length = 8;
};

/// What the routes need from the outside world; owned by the role's composition root.
struct ApiContext {
  infra::EventProducer& producer;
  infra::CheckpointWatcher& watcher;
  infra::DatabasePool& database;
  std::string events_topic;
  std::chrono::milliseconds projection_wait;
  infra::PasswordHasher& hasher;
  const infra::JwtSigner& signer;
  const infra::Keyring& keyring;
  AuthSettings auth;
  RateLimiter& login_failures_per_account;
  RateLimiter& login_attempts_per_address;
  RateLimiter& registrations_per_address;
  /// Verified against when a login names no account, so both cases cost one hash.
  std::string decoy_password_hash;
  /// Which recording links are accepted.
  domain::UrlPolicy link_policy;
  /// Which webhook callback URLs are accepted.
  domain::UrlPolicy callback_policy;
  /// Announces job changes (long-polls, the event stream).
  infra::NotificationWatcher& job_watcher;
  /// The npm packages `/docs` and `/redoc` serve (swagger-ui-dist, redoc), as
  /// scripts/install-web.sh installs them: `web/node_modules`.
  std::string web_dir;
};

/// Every route of the API.
std::shared_ptr<Router> make_router(std::shared_ptr<ApiContext> context);

void add_health_routes(Router& router, std::shared_ptr<ApiContext> context);
void add_event_log_routes(Router& router, std::shared_ptr<ApiContext> context);
void add_account_routes(Router& router, std::shared_ptr<ApiContext> context);
void add_algorithm_routes(Router& router, std::shared_ptr<ApiContext> context);
void add_recording_routes(Router& router, std::shared_ptr<ApiContext> context);
void add_app_user_routes(Router& router, std::shared_ptr<ApiContext> context);
void add_job_routes(Router& router, std::shared_ptr<ApiContext> context);
/// `/openapi.json`, Swagger UI at `/docs` and Redoc at `/redoc`.
void add_docs_routes(Router& router, std::shared_ptr<ApiContext> context);
void add_domain_log_routes(Router& router, std::shared_ptr<ApiContext> context);
/// `/metrics` in the Prometheus text format.
void add_metrics_routes(Router& router, std::shared_ptr<ApiContext> context);

/// Runs `work` on the database pool, off the HTTP threads. Answers 503 (with Retry-After)
/// when the pool is full or PostgreSQL cannot be reached, and 500, logged with the request
/// id, for anything else that escapes `work`.
void with_database(ApiContext& context, const HttpRequest& request, Respond respond,
                   std::function<HttpResponse(pqxx::connection&)> work);
/// The same for work that answers later (after an append, a hash): `work` owns `respond`
/// and must call it once, unless it throws first.
void with_database_then(ApiContext& context, const HttpRequest& request, Respond respond,
                        std::function<void(pqxx::connection&, Respond&)> work);

/// Appends `envelopes` in order; when every one is acknowledged, waits (bounded) for the
/// projection of the last and calls `then` with whether it was reached — at once with `false`
/// when not `wait_for_projection`. A broker that does not acknowledge answers 503. The answer
/// `then` gives carries the last event's position (`X-Tidemark-Position`) for positioned reads;
/// `last_position`, when given, holds it too before `then` runs.
void append_events(ApiContext& context, std::vector<domain::EventEnvelope> envelopes,
                   Respond respond, std::function<void(bool projected, Respond)> then,
                   bool wait_for_projection = true,
                   std::shared_ptr<domain::Position> last_position = nullptr);

/// `Prefer: respond-async`: answer once the broker acknowledged, without waiting for the
/// projection.
bool prefers_async(const HttpRequest& request);

/// Wraps a create route so that `Idempotency-Key` works: the first 2xx answer is kept (per
/// caller credentials, method, path and key) and a retry gets it back without running the
/// route again; the same key with another body answers 422, and one still in progress 409.
Handler idempotent(std::shared_ptr<ApiContext> context, Handler handler);

/// Claims a client-chosen id (`kind`: algorithm, recording, app_user) for a create; a fresh
/// claimant per request, so the same caller creating an id twice conflicts too.
bool claim_client_id(pqxx::connection& connection, const std::string& kind, const std::string& id);

/// Appends a create whose id was claimed (the creation first, then any events that go with it):
/// when the broker refuses, the id is freed again; otherwise `read_back` answers from the read
/// model once the events are projected (201 with Location `location`), or 202 when the
/// projection did not catch up in time.
void append_create(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                   std::vector<domain::EventEnvelope> events, const std::string& kind,
                   const std::string& id, const std::string& location, Respond respond,
                   std::function<std::optional<HttpResponse>(pqxx::connection&)> read_back);

/// The weak ETag of a projected revision, `W/"3"`.
std::string revision_etag(std::int64_t revision);
/// The revision an `If-Match` names (`W/"3"`, `"3"`, `3`); nullopt without one or for `*`;
/// an `invalid` error for anything else.
domain::Result<std::optional<std::int64_t>> if_match_revision(const HttpRequest& request);

/// An envelope for an event this request causes, keyed by its aggregate.
domain::EventEnvelope make_envelope(const HttpRequest& request, std::string_view type,
                                    std::string key, std::string subject, std::string payload,
                                    std::string actor);

/// The read-your-writes position a request asks for (`X-Tidemark-Position` header or
/// `position` query parameter, which wins), as given; empty when it asks for none.
std::string requested_position(const HttpRequest& request);

/// Honours a read-your-writes position (`requested_position`): runs `then` once the projection
/// has it, or after the bounded wait. A malformed token answers 400.
void after_position(ApiContext& context, const HttpRequest& request, Respond respond,
                    std::function<void(Respond)> then);

}  // namespace tidemark::api
