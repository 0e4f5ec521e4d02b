#include "api/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/http_headers.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "infra/ids.h"
#include "infra/log.h"
#include "infra/tls.h"

namespace tidemark::api {

struct HttpServer::State {
  std::shared_ptr<const Router> router;
  std::size_t max_body_bytes = 0;
  std::size_t max_upload_bytes = 0;
  std::vector<std::string> cors_origins;
  bool tls = false;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> draining{false};
};

namespace {

using namespace Pistache;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// Converts Pistache's request into ours; the query is parsed separately.
HttpRequest convert(const Http::Request& request) {
  HttpRequest converted;
  converted.method = Http::methodString(request.method());
  converted.path = request.resource();
  for (const auto& raw : request.headers().rawList()) {
    converted.headers[lower(raw.first)] = raw.second.value();
  }
  for (const auto& header : request.headers().list()) {
    std::ostringstream value;
    header->write(value);
    converted.headers[lower(header->name())] = value.str();
  }
  converted.body = request.body();
  converted.remote_address = request.address().host();
  // Pistache moves the Cookie header into its jar; put it back as the client sent it.
  std::string cookies;
  for (const auto& cookie : request.cookies()) {
    cookies += (cookies.empty() ? "" : "; ") + cookie.name + "=" + cookie.value;
  }
  if (!cookies.empty()) converted.headers["cookie"] = cookies;
  return converted;
}

/// Whether a client's `X-Request-Id` can stand as the request's id: 1 to 128 visible ASCII
/// characters. The id goes back in a header and into the log as the correlation id of the events
/// the request causes, where bytes that are not UTF-8 would make PostgreSQL refuse the event.
bool usable_request_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7F;
  });
}

/// A response header whose name is known only at run time: Pistache 0.0.5 writes only typed
/// headers into responses and silently drops raw ones.
class NamedHeader : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override {
    return Http::Header::detail::hash(name_.c_str());
  }
#endif

 private:
  std::string name_;
  std::string value_;
};

void set_header(Http::ResponseWriter& writer, std::string name, std::string value) {
  writer.headers().add(std::make_shared<NamedHeader>(std::move(name), std::move(value)));
}

class PistacheHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)

  explicit PistacheHandler(std::shared_ptr<HttpServer::State> state) : state_(std::move(state)) {}

  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    bool keep_alive = request.version() == Http::Version::Http11;
    if (auto connection = request.headers().tryGet<Http::Header::Connection>()) {
      keep_alive = connection->control() == Http::ConnectionControl::KeepAlive;
    }
    // Pistache copied the request's Connection header (or Close) into the response already.
    writer.headers().remove<Http::Header::Connection>();
    writer.headers().add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                              : Http::ConnectionControl::Close);

    auto shared_writer = std::make_shared<Http::ResponseWriter>(std::move(writer));
    auto state = state_;
    HttpRequest converted = convert(request);
    converted.request_id = converted.header("x-request-id");
    if (!usable_request_id(converted.request_id)) {
      converted.request_id = infra::random_uuid().to_string();
    }
    state->in_flight++;
    auto sent = std::make_shared<std::atomic<bool>>(false);
    std::string origin = converted.header("origin");
    bool cors_allowed = !origin.empty() &&
                        std::find(state->cors_origins.begin(), state->cors_origins.end(), origin) !=
                            state->cors_origins.end();
    Respond respond = [shared_writer, state, sent, request_id = converted.request_id,
                       origin = cors_allowed ? origin : std::string()](HttpResponse response) {
      if (sent->exchange(true)) return;  // a second answer to one request is a bug; drop it
      set_header(*shared_writer, "X-Request-Id", request_id);
      set_header(*shared_writer, "X-Content-Type-Options", "nosniff");
      // Pistache keeps the first of two headers of one name: a response's own caching wins.
      bool own_caching =
          std::any_of(response.headers.begin(), response.headers.end(),
                      [](const auto& header) { return header.first == "Cache-Control"; });
      if (!own_caching) set_header(*shared_writer, "Cache-Control", "no-store");
      set_header(*shared_writer, "X-Frame-Options", "DENY");
      set_header(*shared_writer, "Referrer-Policy", "no-referrer");
      if (state->tls) set_header(*shared_writer, "Strict-Transport-Security", "max-age=31536000");
      if (!origin.empty()) {
        set_header(*shared_writer, "Access-Control-Allow-Origin", origin);
        set_header(*shared_writer, "Access-Control-Allow-Credentials", "true");
        set_header(*shared_writer, "Access-Control-Expose-Headers",
                   "X-Request-Id, X-Tidemark-Position, X-Total-Count, Location, Retry-After");
        set_header(*shared_writer, "Vary", "Origin");
      }
      for (const auto& [name, value] : response.headers) {
        set_header(*shared_writer, name, value);
      }
      shared_writer->send(static_cast<Http::Code>(response.status), response.body,
                          Http::Mime::MediaType::fromString(response.content_type));
      state->in_flight--;
    };

    if (state->draining) {
      respond(unavailable_response("the server is shutting down"));
      return;
    }
    if (converted.method == "OPTIONS" &&
        !converted.header("access-control-request-method").empty()) {
      // A CORS preflight: allowed origins get the methods and headers; others get nothing.
      HttpResponse preflight{cors_allowed ? 204 : 403, "", "application/json", {}};
      if (cors_allowed) {
        preflight.headers.emplace_back("Access-Control-Allow-Methods",
                                       "GET, POST, PUT, PATCH, DELETE, OPTIONS");
        preflight.headers.emplace_back(
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type, Idempotency-Key, Prefer, X-Request-Id, "
            "X-Tidemark-Position, If-Match");
        preflight.headers.emplace_back("Access-Control-Max-Age", "600");
      } else {
        preflight.body = R"({"detail":"origin not allowed"})";
      }
      respond(std::move(preflight));
      return;
    }
    auto query = parse_query(request);
    if (!query) {
      respond(error_response(400, "the query string has a malformed %-escape"));
      return;
    }
    converted.query = std::move(*query);
    // Uploads (any media type but JSON and forms) have a limit of their own.
    std::string content_type = converted.header("content-type");
    bool upload = !content_type.empty() && !content_type.starts_with("application/json") &&
                  !content_type.starts_with("application/x-www-form-urlencoded") &&
                  !content_type.starts_with("text/plain");
    std::size_t limit = upload ? state->max_upload_bytes : state->max_body_bytes;
    if (converted.body.size() > limit) {
      respond(error_response(413, "request body is " + std::to_string(converted.body.size()) +
                                      " bytes; the limit is " + std::to_string(limit)));
      return;
    }
    try {
      state->router->dispatch(converted, respond);
    } catch (const std::exception& error) {
      infra::log_error("handler threw", {{"error", error.what()},
                                         {"path", converted.path},
                                         {"request_id", converted.request_id}});
      respond(error_response(500, "internal error; request id " + converted.request_id));
    }
  }

 private:
  static std::optional<domain::QueryParameters> parse_query(const Http::Request& request) {
    domain::QueryParameters parameters;
    const auto& query = request.query();
    for (auto parameter = query.parameters_begin(); parameter != query.parameters_end();
         ++parameter) {
      auto name = percent_decode(parameter->first);
      auto value = percent_decode(parameter->second);
      if (!name || !value) return std::nullopt;
      parameters.emplace_back(std::move(*name), std::move(*value));
    }
    std::sort(parameters.begin(), parameters.end());
    return parameters;
  }

  std::shared_ptr<HttpServer::State> state_;
};

/// The port a listening socket of this process is bound to; 0 when `fd` is no such socket.
std::uint16_t listening_port(int fd) {
  int accepting = 0;
  socklen_t length = sizeof accepting;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) != 0 || !accepting) return 0;
  sockaddr_storage address{};
  socklen_t address_length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0) return 0;
  if (address.ss_family == AF_INET) {
    sockaddr_in ipv4;
    std::memcpy(&ipv4, &address, sizeof ipv4);
    return ntohs(ipv4.sin_port);
  }
  if (address.ss_family == AF_INET6) {
    sockaddr_in6 ipv6;
    std::memcpy(&ipv6, &address, sizeof ipv6);
    return ntohs(ipv6.sin6_port);
  }
  return 0;
}

/// Pistache 0.0.5 runs every TLS handshake (a blocking SSL_accept, each read and write limited
/// to 10 s) on its one accepting thread, so a client that connects and sends nothing would hold
/// up every new connection for 10 s. With TCP_DEFER_ACCEPT the kernel hands over a connection
/// only once its client has sent something (or after `wait_s`). Pistache does not expose its
/// socket: it is found among this process's descriptors by its port.
void defer_accept_until_data(std::uint16_t port, int wait_s) {
  int listening = -1;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = std::atoi(entry.path().filename().c_str());
    if (listening_port(fd) == port) {
      listening = fd;
      break;
    }
  }
  if (listening < 0) {
    throw std::runtime_error("cannot find the API's listening socket (TCP_DEFER_ACCEPT)");
  }
  if (setsockopt(listening, IPPROTO_TCP, TCP_DEFER_ACCEPT, &wait_s, sizeof wait_s) != 0) {
    throw std::runtime_error(std::string("cannot set TCP_DEFER_ACCEPT: ") + std::strerror(errno));
  }
}

}  // namespace

HttpServer::HttpServer(Options options, std::shared_ptr<const Router> router)
    : options_(std::move(options)), state_(std::make_shared<State>()) {
  state_->router = std::move(router);
  state_->max_body_bytes = options_.max_body_bytes;
  state_->max_upload_bytes = options_.max_upload_bytes;
  state_->cors_origins = options_.cors_origins;
  state_->tls = !options_.tls_cert_file.empty() || !options_.tls_key_file.empty();
}

HttpServer::~HttpServer() {
  if (endpoint_) endpoint_->shutdown();
}

std::uint16_t HttpServer::start() {
  Address address(options_.host, Port(options_.port));
  endpoint_ = std::make_unique<Http::Endpoint>(address);
  // Pistache's own limit covers the whole request; ours (the JSON 413) covers the body, so
  // leave room for headers above it.
  auto options =
      Http::Endpoint::options()
          .threads(options_.threads)
          .flags(Tcp::Options::ReuseAddr)
          .maxRequestSize(std::max(options_.max_body_bytes, options_.max_upload_bytes) + 64 * 1024)
          // Pistache 0.0.5's header timer runs until the answer is sent, so it bounds a
          // handler's time too: it must outlast the longest long-poll (30 s).
          .headerTimeout(std::chrono::seconds(35))
          .bodyTimeout(std::chrono::seconds(60));
  endpoint_->init(options);
  endpoint_->setHandler(Http::make_handler<PistacheHandler>(state_));
  if (state_->tls) {
    // OpenSSL's own messages name no setting: check the files first.
    infra::check_certificate_and_key(options_.tls_cert_file, options_.tls_key_file, "tls_cert_file",
                                     "tls_key_file");
    endpoint_->useSSL(options_.tls_cert_file, options_.tls_key_file);
  }
  endpoint_->serveThreaded();
  auto port = static_cast<std::uint16_t>(endpoint_->getPort());
  if (state_->tls) defer_accept_until_data(port, 30);
  return port;
}

std::size_t HttpServer::in_flight() const {
  return state_->in_flight;
}

void HttpServer::drain_and_stop(std::chrono::milliseconds timeout) {
  state_->draining = true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (state_->in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (state_->in_flight > 0) {
    infra::log_warning("stopping with requests still in flight",
                       {{"count", std::to_string(state_->in_flight.load())}});
  }
  if (endpoint_) endpoint_->shutdown();
  endpoint_.reset();
}

}  // namespace tidemark::api
