// Inference jobs over HTTP: submit (`POST /recordings/{id}/jobs`, `POST /predict`), poll and
// long-poll (`GET /jobs/{id}?wait=`), and the caller's job updates as Server-Sent Events.
#include <algorithm>
#include <charconv>
#include <mutex>
#include <pqxx/pqxx>

#include "api/jobs.h"
#include "domain/json.h"
#include "domain/recording.h"
#include "infra/address_resolution.h"
#include "infra/cipher.h"
#include "infra/database.h"
#include "infra/ids.h"
#include "infra/notification_watcher.h"
#include "projections/jobs.h"

namespace tidemark::api {

class LongPoll : public ArmedLongPoll, public std::enable_shared_from_this<LongPoll> {
 public:
  LongPoll(std::shared_ptr<ApiContext> context, HttpRequest request, Respond respond,
           std::string key, std::chrono::steady_clock::time_point deadline, LongPollRead read)
      : context_(std::move(context)),
        request_(std::move(request)),
        respond_(std::move(respond)),
        key_(std::move(key)),
        deadline_(deadline),
        read_(std::move(read)) {}

  /// Listens before every read, so no change falls between a read and the next wait: a
  /// waiter is woken once, and a job's start and its result can come within a millisecond.
  void start() {
    listen();
    check();
  }

  /// For a result that cannot exist yet (constructed without a response): see ArmedLongPoll.
  void arm() { listen(); }

  void answer_through(Respond respond) override {
    bool read_now = std::chrono::steady_clock::now() >= deadline_;
    {
      std::lock_guard lock(mutex_);
      respond_ = std::move(respond);
      read_now = read_now || woken_while_armed_;
    }
    if (read_now) check();
  }

  void disarm() override {
    if (!answered_.exchange(true)) cancel_wait();
  }

 private:
  void listen() {
    auto ticket =
        context_->job_watcher.wait_for(key_, deadline_, [self = shared_from_this()](bool) {
          if (self->answered_) return;
          if (std::chrono::steady_clock::now() < self->deadline_) self->listen();
          if (self->can_answer()) self->check();
        });
    std::lock_guard lock(mutex_);
    // Tickets only grow: a wake-up that listened again before this line keeps its newer one.
    ticket_ = std::max(ticket_, ticket);
  }

  /// False while armed without a response yet: `answer_through` reads once it has one.
  bool can_answer() {
    std::lock_guard lock(mutex_);
    if (respond_) return true;
    woken_while_armed_ = true;
    return false;
  }

  /// Answers when the read has an answer (always at the deadline); otherwise the waiter
  /// registered before this read calls it again.
  void check() {
    if (answered_) return;
    bool final = std::chrono::steady_clock::now() >= deadline_;
    auto self = shared_from_this();
    with_database_then(
        *context_, request_, [self](HttpResponse response) { self->answer(std::move(response)); },
        [self, final](pqxx::connection& connection, Respond& respond) {
          if (auto response = self->read_(connection, final)) respond(std::move(*response));
        });
  }

  void answer(HttpResponse response) {
    if (answered_.exchange(true)) return;
    respond_(std::move(response));
    cancel_wait();
  }

  /// The wait registered before the read that answered is not needed any more: dropped now, not
  /// kept (with this poll and its request) until the deadline.
  void cancel_wait() {
    infra::NotificationWatcher::Ticket ticket;
    {
      std::lock_guard lock(mutex_);
      ticket = ticket_;
    }
    context_->job_watcher.cancel(key_, ticket);
  }

  std::shared_ptr<ApiContext> context_;
  HttpRequest request_;
  Respond respond_;
  std::string key_;
  std::chrono::steady_clock::time_point deadline_;
  LongPollRead read_;
  std::atomic<bool> answered_{false};
  std::mutex mutex_;
  infra::NotificationWatcher::Ticket ticket_ = 0;  ///< of the latest wait registered
  bool woken_while_armed_ = false;
};

void long_poll(std::shared_ptr<ApiContext> context, const HttpRequest& request, Respond respond,
               std::string key, std::chrono::steady_clock::time_point deadline, LongPollRead read) {
  std::make_shared<LongPoll>(std::move(context), request, std::move(respond), std::move(key),
                             deadline, std::move(read))
      ->start();
}

std::shared_ptr<ArmedLongPoll> arm_long_poll(std::shared_ptr<ApiContext> context,
                                             const HttpRequest& request, std::string key,
                                             std::chrono::steady_clock::time_point deadline,
                                             LongPollRead read) {
  auto poll = std::make_shared<LongPoll>(std::move(context), request, Respond{}, std::move(key),
                                         deadline, std::move(read));
  poll->arm();
  return poll;
}

namespace {

constexpr std::chrono::seconds kDefaultStreamWait{25};
constexpr std::chrono::seconds kDefaultPredictWait{30};
constexpr int kStreamPageSize = 100;

bool terminal(std::string_view status) {
  return status == "succeeded" || status == "failed";
}

HttpResponse job_response(int status, const pqxx::row& row) {
  HttpResponse response{status, projections::job_json(row), "application/json", {}};
  response.headers.emplace_back("Location", "/jobs/" + std::string(row[0].c_str()));
  return response;
}

std::optional<pqxx::row> find_job(pqxx::connection& connection, const std::string& job_id,
                                  const std::optional<std::string>& owner) {
  pqxx::nontransaction read(connection);
  auto rows = infra::exec_prepared_sql(read,
                                       std::string("SELECT ") + projections::kJobColumns +
                                           " FROM jobs WHERE job_id = $1::uuid "
                                           "AND ($2::uuid IS NULL OR owner_id = $2::uuid)",
                                       job_id, owner);
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

/// The recording a job would read, as the caller may change it (own, or an admin's any).
std::optional<pqxx::row> find_job_source(pqxx::connection& connection, const std::string& id,
                                         const std::optional<std::string>& owner) {
  pqxx::nontransaction read(connection);
  auto rows = infra::exec_prepared_sql(
      read,
      "SELECT recording_type, owner_id::text, content_sha256, content_type, content_size "
      "FROM recordings WHERE recording_id = $1 AND ($2::uuid IS NULL OR owner_id = $2::uuid)",
      id, owner);
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

/// A job as it stands when submitted (queued, no attempt yet), in the shape of `job_json`.
std::string queued_job_json(const domain::JobSubmitted& job, domain::Timestamp submitted_at) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  for (auto [name, value] : {std::pair<const char*, const std::string*>{"job_id", &job.job_id},
                             {"recording_id", &job.recording_id},
                             {"algo_id", &job.algo_id},
                             {"version", &job.version},
                             {"recording_type", &job.recording_type}}) {
    writer.Key(name);
    domain::write_string(writer, *value);
  }
  writer.Key("status");
  writer.String("queued");
  writer.Key("attempts");
  writer.Int(0);
  for (const char* name : {"result", "failure", "runtime_ms"}) {
    writer.Key(name);
    writer.Null();
  }
  writer.Key("submitted_at");
  domain::write_string(writer, domain::format_timestamp(submitted_at));
  for (const char* name : {"started_at", "finished_at"}) {
    writer.Key(name);
    writer.Null();
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

/// Reads a job for a long-poll until it has finished; 404 when the caller may not see it. A job
/// just submitted may not be projected yet: until it is, it reads as `submitted` says (queued).
LongPollRead job_result_read(std::string job_id, std::optional<std::string> owner,
                             int status_when_pending, std::optional<std::string> submitted) {
  return [job_id = std::move(job_id), owner = std::move(owner), status_when_pending,
          submitted = std::move(submitted)](pqxx::connection& connection,
                                            bool final) -> std::optional<HttpResponse> {
    auto row = find_job(connection, job_id, owner);
    if (!row && submitted && !final) return std::nullopt;
    if (!row && submitted) {
      return HttpResponse{
          status_when_pending, *submitted, "application/json", {{"Location", "/jobs/" + job_id}}};
    }
    if (!row) return error_response(404, "Job not found");
    bool finished = terminal((*row)[5].c_str());
    if (!finished && !final) return std::nullopt;
    return job_response(finished ? 200 : status_when_pending, *row);
  };
}

/// Long-polls a job until it has finished (`job_result_read`).
void answer_with_job(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                     Respond respond, const std::string& job_id, std::optional<std::string> owner,
                     std::chrono::milliseconds wait, int status_when_pending) {
  long_poll(context, request, std::move(respond), projections::finished_word(job_id),
            std::chrono::steady_clock::now() + wait,
            job_result_read(job_id, std::move(owner), status_when_pending, std::nullopt));
}

/// The id after which the event stream resumes: `Last-Event-ID` (EventSource sends it on
/// reconnect) or `last_event_id`; 0 replays the caller's jobs from the start.
domain::Result<std::int64_t> stream_start(const HttpRequest& request) {
  std::string text = request.header("last-event-id");
  for (const auto& [name, value] : request.query) {
    if (name == "last_event_id") text = value;
  }
  if (text.empty()) return std::int64_t{0};
  std::int64_t id = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc{} || end != text.data() + text.size() || id < 0) {
    return domain::invalid("Last-Event-ID must be an event id from this stream (a number)");
  }
  return id;
}

HttpResponse stream_response(const pqxx::result& rows, std::int64_t after) {
  // `retry:` tells EventSource when to reconnect; the id line, even without data, moves its
  // Last-Event-ID so the next request resumes after what this one covered.
  std::string body = "retry: 1000\n\n";
  std::int64_t last = after;
  for (const auto& row : rows) {
    last = row[13].as<std::int64_t>();
    body += "id: " + std::to_string(last) + "\nevent: job\ndata: " + projections::job_json(row) +
            "\n\n";
  }
  if (rows.empty()) body += "id: " + std::to_string(last) + "\n\n";
  HttpResponse response{200, std::move(body), "text/event-stream", {}};
  return response;
}

void submit_job(std::shared_ptr<ApiContext> context, const HttpRequest& request,
                const std::string& recording_id, const Caller& caller, pqxx::connection& connection,
                Respond& respond) {
  if (caller.role == domain::Role::analyst) {
    respond(analysts_change_nothing("jobs"));
    return;
  }
  auto wanted = domain::parse_job_request(request.body);
  if (!wanted) {
    respond(error_response(wanted.error()));
    return;
  }
  auto source = row_to_change(
      caller, [&](const auto& owner) { return find_job_source(connection, recording_id, owner); },
      "recordings", "Recording not found", respond);
  if (!source) return;
  if ((*source)[2].is_null()) {
    respond(error_response(409, "recording '" + recording_id +
                                    "' has no content yet; upload it with PUT /recordings/" +
                                    recording_id + "/content"));
    return;
  }
  auto job =
      route_job(*context, connection, recording_id, (*source)[0].c_str(), (*source)[1].c_str(),
                {(*source)[2].c_str(), (*source)[3].c_str(), (*source)[4].as<std::int64_t>()},
                wanted->algo_id, wanted->callback_url);
  if (!job) {
    respond(error_response(job.error()));
    return;
  }
  std::string job_id = job->job_id;
  append_events(*context, {job_submitted_event(request, *job, caller)}, std::move(respond),
                [context, request, job_id](bool, Respond respond) {
                  answer_with_job(context, request, std::move(respond), job_id, std::nullopt,
                                  std::chrono::milliseconds(0), 202);
                });
}

/// `POST /predict?recording_type=TYPE`: the body is the recording; it is stored, submitted and
/// waited for in one call.
void predict(std::shared_ptr<ApiContext> context, const HttpRequest& request, const Caller& caller,
             pqxx::connection& connection, Respond& respond) {
  if (caller.role == domain::Role::analyst) {
    respond(analysts_change_nothing("recordings"));
    return;
  }
  std::optional<std::string> recording_type, user_id, callback_url;
  for (const auto& [name, value] : request.query) {
    if (name == "recording_type") {
      recording_type = value;
    } else if (name == "user_id") {
      user_id = value;
    } else if (name == "callback_url") {
      callback_url = value;
    } else if (name != "wait") {
      respond(error_response(400, "unknown query parameter '" + name +
                                      "'; allowed are recording_type, user_id, callback_url and "
                                      "wait"));
      return;
    }
  }
  if (!recording_type || recording_type->empty() ||
      recording_type->size() > domain::kMaxIdentifierBytes) {
    respond(error_response(400,
                           "query parameter 'recording_type' is required (1 to 128 "
                           "characters), e.g. /predict?recording_type=face"));
    return;
  }
  if (user_id && (user_id->empty() || user_id->size() > domain::kMaxIdentifierBytes)) {
    respond(error_response(400, "query parameter 'user_id' must have 1 to 128 characters"));
    return;
  }
  auto wait = domain::parse_wait(request.query, kMaxLongPoll);
  if (!wait) {
    respond(error_response(wait.error()));
    return;
  }
  bool wait_given = std::any_of(request.query.begin(), request.query.end(),
                                [](const auto& parameter) { return parameter.first == "wait"; });
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
  std::string id = infra::random_uuid().to_string();
  ContentRef content{infra::sha256_hex(request.body), content_type,
                     static_cast<std::int64_t>(request.body.size())};
  std::string owner_id = caller.user_id.to_string();
  auto job = route_job(*context, connection, id, *recording_type, owner_id, content, std::nullopt,
                       callback_url);
  if (!job) {
    respond(error_response(job.error()));
    return;
  }
  if (!claim_client_id(connection, "recording", id)) {
    respond(unavailable_response("could not reserve a recording id; try again"));
    return;
  }
  store_content(connection, content.sha256, request.body);
  domain::Recording recording{id, "/recordings/" + id + "/content", *recording_type,
                              user_id.value_or(owner_id), std::nullopt};
  std::vector<domain::EventEnvelope> events{
      make_envelope(request, domain::kRecordingCreatedV1, id, "recordings/" + id,
                    domain::encode_recording({recording, caller.user_id, std::nullopt}), owner_id),
      make_envelope(
          request, domain::kRecordingContentAttachedV1, id, "recordings/" + id,
          domain::encode_content_attached({id, content.sha256, content.size, content.content_type}),
          owner_id),
      job_submitted_event(request, *job, caller)};
  std::string job_id = job->job_id;
  std::string submitted = queued_job_json(*job, events.back().time);
  auto waited = wait_given ? *wait : std::chrono::milliseconds(kDefaultPredictWait);
  auto result = arm_long_poll(context, request, projections::finished_word(job_id),
                              std::chrono::steady_clock::now() + waited,
                              job_result_read(job_id, std::nullopt, 202, std::move(submitted)));
  append_events(
      *context, std::move(events),
      // A refused submission answers through here alone: its armed wait goes with it.
      [poll = std::weak_ptr<ArmedLongPoll>(result),
       respond = std::move(respond)](HttpResponse response) {
        if (auto armed = poll.lock()) armed->disarm();
        respond(std::move(response));
      },
      [result](bool, Respond respond) {
        // Answers from the broker's acknowledgement on: waiting for the projection of the
        // submission first would add a round trip to every prediction.
        result->answer_through(std::move(respond));
      },
      false);
}

}  // namespace

std::string with_latest_job(const std::string& recording_query) {
  return "SELECT rec.*, job.* FROM (" + recording_query + ") rec LEFT JOIN LATERAL (SELECT " +
         projections::kJobColumns +
         " FROM jobs WHERE jobs.recording_id = rec.recording_id "
         "ORDER BY submitted_at DESC LIMIT 1) job ON true";
}

domain::Result<domain::JobSubmitted> route_job(
    const ApiContext& context, pqxx::connection& connection, const std::string& recording_id,
    const std::string& recording_type, const std::string& owner_id, const ContentRef& content,
    const std::optional<std::string>& algo_id, const std::optional<std::string>& callback_url) {
  if (callback_url) {
    auto checked =
        infra::check_outbound_url(*callback_url, "callback_url", context.callback_policy);
    if (!checked) return checked.error();
  }
  pqxx::nontransaction read(connection);
  auto rows = algo_id ? infra::exec_prepared_sql(
                            read,
                            "SELECT algo_id, version, location, recording_type FROM algorithms "
                            "WHERE algo_id = $1",
                            *algo_id)
                      : infra::exec_prepared_sql(
                            read,
                            "SELECT algo_id, version, location, recording_type FROM algorithms "
                            "WHERE recording_type = $1 ORDER BY created_at DESC, algo_id LIMIT 1",
                            recording_type);
  if (rows.empty()) {
    if (algo_id) return domain::not_found("algorithm '" + *algo_id + "' is not registered");
    return domain::Error{domain::ErrorKind::conflict,
                         "no algorithm is registered for recording_type '" + recording_type +
                             "'; an admin registers one with POST /algos"};
  }
  domain::JobSubmitted job;
  job.job_id = infra::random_uuid().to_string();
  job.recording_id = recording_id;
  job.owner_id = owner_id;
  job.algo_id = rows[0][0].c_str();
  job.version = rows[0][1].c_str();
  job.location = rows[0][2].c_str();
  job.recording_type = recording_type;
  job.content_sha256 = content.sha256;
  job.content_type = content.content_type;
  job.content_size = content.size;
  job.callback_url = callback_url;
  return job;
}

void store_content(pqxx::connection& connection, const std::string& sha256,
                   const std::string& bytes) {
  // One statement, committed on its own: no BEGIN and COMMIT round trips around it.
  pqxx::nontransaction store(connection);
  infra::exec_prepared_sql(store,
                           "INSERT INTO content_blobs (sha256, content, size) VALUES ($1, $2, $3) "
                           "ON CONFLICT (sha256) DO NOTHING",
                           sha256, pqxx::binarystring(bytes),
                           static_cast<std::int64_t>(bytes.size()));
}

domain::EventEnvelope job_submitted_event(const HttpRequest& request,
                                          const domain::JobSubmitted& job, const Caller& caller) {
  return make_envelope(request, domain::kJobSubmittedV1, job.recording_id, "jobs/" + job.job_id,
                       domain::encode_job_submitted(job), caller.user_id.to_string());
}

void add_job_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add(
      "POST", "/recordings/{recording_id}/jobs",
      authenticated(context, [context](const HttpRequest& request, const PathParameters& parameters,
                                       pqxx::connection& connection, const Caller& caller,
                                       Respond& respond) {
        submit_job(context, request, parameters.at("recording_id"), caller, connection, respond);
      }));
  router.add(
      "GET", "/jobs/{job_id}",
      authenticated(context, [context](const HttpRequest& request, const PathParameters& parameters,
                                       pqxx::connection&, const Caller& caller, Respond& respond) {
        const std::string& job_id = parameters.at("job_id");
        if (!domain::Uuid::parse(job_id)) {
          respond(error_response(404, "Job not found"));
          return;
        }
        auto wait = domain::parse_wait(request.query, kMaxLongPoll);
        if (!wait) {
          respond(error_response(wait.error()));
          return;
        }
        answer_with_job(context, request, std::move(respond), job_id, readable_owner(caller), *wait,
                        200);
      }));
  router.add(
      "GET", "/stream",
      authenticated(context, [context](const HttpRequest& request, const PathParameters&,
                                       pqxx::connection&, const Caller& caller, Respond& respond) {
        auto after = stream_start(request);
        if (!after) {
          respond(error_response(after.error()));
          return;
        }
        auto wait = domain::parse_wait(request.query, kMaxLongPoll);
        if (!wait) {
          respond(error_response(wait.error()));
          return;
        }
        bool wait_given =
            std::any_of(request.query.begin(), request.query.end(),
                        [](const auto& parameter) { return parameter.first == "wait"; });
        std::string owner = caller.user_id.to_string();
        long_poll(context, request, std::move(respond), owner,
                  std::chrono::steady_clock::now() +
                      (wait_given ? *wait : std::chrono::milliseconds(kDefaultStreamWait)),
                  [owner, after = *after](pqxx::connection& connection,
                                          bool final) -> std::optional<HttpResponse> {
                    pqxx::nontransaction read(connection);
                    auto rows = infra::exec_prepared_sql(
                        read,
                        std::string("SELECT ") + projections::kJobColumns +
                            " FROM jobs WHERE owner_id = $1::uuid AND update_seq > $2 "
                            "ORDER BY update_seq LIMIT $3",
                        owner, after, kStreamPageSize);
                    if (rows.empty() && !final) return std::nullopt;
                    return stream_response(rows, after);
                  });
      }));
  router.add("POST", "/predict",
             authenticated(context, [context](const HttpRequest& request, const PathParameters&,
                                              pqxx::connection& connection, const Caller& caller,
                                              Respond& respond) {
               predict(context, request, caller, connection, respond);
             }));
}

}  // namespace tidemark::api
