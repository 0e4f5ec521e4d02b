#include "workers/webhooks.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "infra/address_resolution.h"
#include "infra/database.h"
#include "infra/log.h"
#include "infra/webhook_signature.h"
#include "projections/jobs.h"

namespace tidemark::workers {
namespace {

constexpr long kIdleWaitMicroseconds = 250000;
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::hours(24);
constexpr auto kFirstReconnectDelay = std::chrono::milliseconds(200);
constexpr auto kMaxReconnectDelay = std::chrono::seconds(5);
/// libpq's shortest connect timeout, so that a stop is not held up long by an unreachable server.
constexpr auto kConnectTimeout = std::chrono::seconds(2);

constexpr const char* kMarkDelivered =
    "UPDATE webhook_deliveries SET delivered_at = now(), attempts = attempts + 1, "
    "last_error = NULL WHERE job_id = $1::uuid";
constexpr const char* kMarkFailed =
    "UPDATE webhook_deliveries SET attempts = $2, last_error = $3, "
    "next_attempt_at = now() + $4::double precision * interval '1 millisecond', "
    "abandoned_at = CASE WHEN $5::boolean THEN now() END WHERE job_id = $1::uuid";
constexpr const char* kMarkAbandoned =
    "UPDATE webhook_deliveries SET abandoned_at = now(), last_error = $2 WHERE job_id = $1::uuid";

/// The due deliveries, locked, each with its job in kJobColumns order from index 0 (what
/// projections::job_json reads) and the delivery's own columns after, by name.
std::string claim_query() {
  return std::string(
             "WITH due AS (SELECT job_id, url AS delivery_url, attempts AS delivery_attempts, "
             "next_attempt_at AS delivery_due FROM webhook_deliveries "
             "WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= now() "
             "ORDER BY next_attempt_at LIMIT ") +
         std::to_string(WebhookDispatcher::kBatchLimit) + " FOR UPDATE SKIP LOCKED) SELECT " +
         projections::kJobColumns +
         ", delivery_url, delivery_attempts FROM due JOIN jobs USING (job_id) "
         "ORDER BY delivery_due";
}

struct Attempt {
  enum class Outcome { delivered, failed, refused, interrupted };
  Outcome outcome = Outcome::failed;
  std::string error;
};

/// What the socket callback needs to refuse internal addresses.
struct Transfer {
  bool allow_internal = false;
  bool refused = false;
};

bool is_internal(const curl_sockaddr& address) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(&address.addr);
  if (address.family == AF_INET && address.addrlen >= sizeof(sockaddr_in)) {
    sockaddr_in socket{};
    std::memcpy(&socket, bytes, sizeof socket);
    std::array<std::uint8_t, 4> ip{};
    std::memcpy(ip.data(), &socket.sin_addr, ip.size());
    return domain::is_internal_ipv4(ip);
  }
  if (address.family == AF_INET6 && address.addrlen >= sizeof(sockaddr_in6)) {
    sockaddr_in6 socket{};
    std::memcpy(&socket, bytes, sizeof socket);
    std::array<std::uint8_t, 16> ip{};
    std::memcpy(ip.data(), &socket.sin6_addr, ip.size());
    return domain::is_internal_ipv6(ip);
  }
  return true;
}

/// Refuses, at connect time, an internal address the host resolved to after it was checked.
curl_socket_t open_socket(void* data, curlsocktype purpose, curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(data);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  if (!transfer->allow_internal && is_internal(*address)) {
    transfer->refused = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

std::size_t discard(char*, std::size_t size, std::size_t count, void*) {
  return size * count;
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

/// Adds the easy handle to the multi handle for its lifetime.
class Attached {
 public:
  Attached(CURLM* multi, CURL* easy) : multi_(multi), easy_(easy) {
    if (curl_multi_add_handle(multi_, easy_) != CURLM_OK) {
      throw std::runtime_error("cannot start a libcurl transfer");
    }
  }
  ~Attached() { curl_multi_remove_handle(multi_, easy_); }
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;

 private:
  CURLM* multi_;
  CURL* easy_;
};

/// POSTs `body` to `url` without following redirects, checking `stop` every 100 ms.
Attempt post(const std::string& url, const std::string& body,
             const std::vector<std::string>& headers, const WebhookDispatcher::Options& options,
             const std::atomic<bool>& stop) {
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  if (!easy || !multi) throw std::runtime_error("cannot start libcurl");
  std::unique_ptr<curl_slist, ListDeleter> list;
  for (const auto& header : headers) {
    curl_slist* longer = curl_slist_append(list.get(), header.c_str());
    if (longer == nullptr) throw std::runtime_error("cannot build the request headers");
    static_cast<void>(list.release());  // `longer` is the same list, grown
    list.reset(longer);
  }
  Transfer transfer;
  transfer.allow_internal = options.callback_policy.allow_internal;
  char error[CURL_ERROR_SIZE] = {};
  CURL* handle = easy.get();
#if LIBCURL_VERSION_NUM >= 0x075500
  CURLcode restricted = curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  CURLcode restricted = curl_easy_setopt(handle, CURLOPT_PROTOCOLS,
                                         static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  if (restricted != CURLE_OK) {
    throw std::runtime_error(std::string("cannot restrict libcurl to HTTP(S): ") +
                             curl_easy_strerror(restricted));
  }
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "tidemark-webhooks");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_PROXY, "");
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, &open_socket);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, &transfer);

  CURLcode result = CURLE_OK;
  {
    Attached attached(multi.get(), handle);
    int running = 1;
    while (true) {
      CURLMcode code = curl_multi_perform(multi.get(), &running);
      if (code != CURLM_OK) return {Attempt::Outcome::failed, curl_multi_strerror(code)};
      if (running == 0) break;
      if (stop) return {Attempt::Outcome::interrupted, {}};
      code = curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(kPollInterval.count()),
                             nullptr);
      if (code != CURLM_OK) return {Attempt::Outcome::failed, curl_multi_strerror(code)};
    }
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi.get(), &left)) {
      if (message->msg == CURLMSG_DONE) result = message->data.result;
    }
  }
  if (transfer.refused) {
    return {Attempt::Outcome::refused,
            "field 'callback_url' names a host that resolves to an internal address"};
  }
  if (result != CURLE_OK) {
    return {Attempt::Outcome::failed,
            error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(result))};
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return {Attempt::Outcome::delivered, {}};
  return {Attempt::Outcome::failed, "HTTP " + std::to_string(status)};
}

std::int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// first_backoff * 2^(attempts - 1), at most kMaxBackoff.
std::chrono::milliseconds backoff_after(std::chrono::milliseconds first, int attempts) {
  std::chrono::milliseconds limit = kMaxBackoff;
  std::chrono::milliseconds delay = std::min(first, limit);
  for (int i = 1; i < attempts && delay < limit; ++i) delay = std::min(delay * 2, limit);
  return delay;
}

void sleep_unless_stopped(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
  auto until = std::chrono::steady_clock::now() + duration;
  while (!stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

class Listener : public pqxx::notification_receiver {
 public:
  Listener(pqxx::connection& connection, const std::string& channel)
      : pqxx::notification_receiver(connection, channel) {}
  void operator()(const std::string&, int) override {}
};

}  // namespace

WebhookDispatcher::WebhookDispatcher(Options options)
    : options_(std::move(options)), claim_query_(claim_query()) {
  if (options_.signing_key.empty()) {
    throw std::invalid_argument("the webhook signing key is empty");
  }
  if (options_.max_attempts < 1) throw std::invalid_argument("max_attempts must be at least 1");
  if (options_.first_backoff.count() < 0) {
    throw std::invalid_argument("first_backoff must not be negative");
  }
  if (options_.request_timeout.count() <= 0) {
    throw std::invalid_argument("request_timeout must be positive");
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

std::size_t WebhookDispatcher::deliver_due(pqxx::connection& connection,
                                           const std::atomic<bool>& stop) {
  pqxx::work transaction(connection);
  pqxx::result due = transaction.exec(claim_query_);
  for (const auto& row : due) {
    if (stop) break;
    std::string job_id = row["job_id"].c_str();
    std::string url = row["delivery_url"].c_str();
    int attempts = row["delivery_attempts"].as<int>() + 1;
    Attempt attempt;
    auto checked = infra::check_outbound_url(url, "callback_url", options_.callback_policy);
    if (!checked) {
      attempt = {Attempt::Outcome::refused, checked.error().message};
    } else {
      try {
        std::string body = projections::job_json(row);
        std::string status = row["status"].c_str();
        attempt = post(
            url, body,
            {"Content-Type: application/json",
             std::string(infra::kWebhookSignatureHeader) + ": " +
                 infra::webhook_signature_header(options_.signing_key, unix_seconds_now(), body),
             "Tidemark-Delivery: " + job_id, "Tidemark-Event: job." + status, "Expect:"},
            options_, stop);
      } catch (const std::exception& error) {
        attempt = {Attempt::Outcome::failed, error.what()};
      }
    }
    std::string attempt_text = std::to_string(attempts);
    switch (attempt.outcome) {
      case Attempt::Outcome::interrupted:
        break;
      case Attempt::Outcome::delivered:
        transaction.exec_params(kMarkDelivered, job_id);
        infra::log_info("webhook delivered", {{"job_id", job_id}, {"attempt", attempt_text}});
        break;
      case Attempt::Outcome::refused:
        transaction.exec_params(kMarkAbandoned, job_id, attempt.error);
        infra::log_warning("webhook abandoned: callback URL refused",
                           {{"job_id", job_id}, {"error", attempt.error}});
        break;
      case Attempt::Outcome::failed: {
        bool abandon = attempts >= options_.max_attempts;
        auto delay = backoff_after(options_.first_backoff, attempts);
        transaction.exec_params(kMarkFailed, job_id, attempts, attempt.error,
                                static_cast<double>(delay.count()), abandon);
        if (abandon) {
          infra::log_warning(
              "webhook abandoned after its last attempt",
              {{"job_id", job_id}, {"attempt", attempt_text}, {"error", attempt.error}});
        } else {
          infra::log_info(
              "webhook attempt failed; retrying later",
              {{"job_id", job_id}, {"attempt", attempt_text}, {"error", attempt.error}});
        }
        break;
      }
    }
    if (attempt.outcome == Attempt::Outcome::interrupted) break;
  }
  transaction.commit();
  return due.size();
}

void WebhookDispatcher::run(const std::atomic<bool>& stop) {
  int failures = 0;
  auto delay = kFirstReconnectDelay;
  while (!stop) {
    try {
      auto connection = infra::connect(options_.database_url, kConnectTimeout);
      Listener listener(*connection, projections::kWebhooksChannel);
      while (!stop) {
        std::size_t claimed = deliver_due(*connection, stop);
        failures = 0;
        delay = kFirstReconnectDelay;
        if (claimed >= kBatchLimit) {
          connection->get_notifs();
        } else if (!stop) {
          connection->await_notification(0, kIdleWaitMicroseconds);
        }
      }
    } catch (const std::exception& error) {
      if (stop) break;
      if (failures++ % 50 == 0) {
        infra::log_warning("webhook dispatcher lost PostgreSQL; reconnecting",
                           {{"error", error.what()}});
      }
      sleep_unless_stopped(delay, stop);
      delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxReconnectDelay);
    }
  }
}

}  // namespace tidemark::workers
