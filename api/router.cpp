#include "api/router.h"

#include <chrono>

namespace tidemark::api {

std::vector<std::string> Router::split(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    segments.push_back(path.substr(start, end - start));
    start = end;
  }
  return segments;
}

void Router::add(std::string method, std::string pattern, Handler handler) {
  auto segments = split(pattern);
  std::string normalized = segments.empty() ? std::string("/") : std::string();
  for (const auto& segment : segments) normalized.append("/").append(segment);
  auto& latency = infra::MetricsRegistry::global().histogram(
      "tidemark_http_request_duration_seconds",
      "Time from a request's arrival at the router to its answer, per route.",
      {{"method", method}, {"route", normalized}});
  routes_.push_back(
      {std::move(method), std::move(segments), std::move(handler), normalized, &latency});
}

void Router::count(const std::string& method, const std::string& pattern, int status) {
  infra::MetricsRegistry::global()
      .counter("tidemark_http_requests_total", "Answers per method, route pattern and status.",
               {{"method", method}, {"route", pattern}, {"status", std::to_string(status)}})
      .add();
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> listed;
  for (const auto& route : routes_) listed.push_back({route.method, route.pattern});
  return listed;
}

bool Router::match(const Route& route, const std::vector<std::string>& segments,
                   PathParameters& parameters) {
  if (route.segments.size() != segments.size()) return false;
  PathParameters found;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& expected = route.segments[i];
    if (expected.size() > 2 && expected.front() == '{' && expected.back() == '}') {
      auto decoded = percent_decode(segments[i], false);
      if (!decoded) return false;
      found[expected.substr(1, expected.size() - 2)] = *decoded;
    } else if (expected != segments[i]) {
      return false;
    }
  }
  parameters = std::move(found);
  return true;
}

void Router::dispatch(const HttpRequest& request, Respond respond) const {
  auto segments = split(request.path);
  std::string allowed;
  for (const auto& route : routes_) {
    PathParameters parameters;
    if (!match(route, segments, parameters)) continue;
    if (route.method == request.method) {
      // No stored id or text holds bytes that are not UTF-8, or a NUL: answer here, before a
      // handler hands them to PostgreSQL (which refuses them: a 500) or to libpq (which would
      // cut the value at the NUL and so name another resource).
      for (const auto& [name, value] : parameters) {
        if (!is_utf8_text(value)) {
          count(route.method, route.pattern, 400);
          respond(error_response(
              400, "path parameter '" + name + "' must be UTF-8 text without NUL characters"));
          return;
        }
      }
      for (const auto& [name, value] : request.query) {
        if (!is_utf8_text(name) || !is_utf8_text(value)) {
          count(route.method, route.pattern, 400);
          respond(error_response(
              400, is_utf8_text(name)
                       ? "query parameter '" + name + "' must be UTF-8 text without NUL characters"
                       : "query parameter names must be UTF-8 text without NUL "
                         "characters"));
          return;
        }
      }
      auto started = std::chrono::steady_clock::now();
      route.handler(
          request, parameters,
          [respond = std::move(respond), started, &route](HttpResponse response) {
            route.latency->observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
            count(route.method, route.pattern, response.status);
            respond(std::move(response));
          });
      return;
    }
    bool listed = (", " + allowed + ",").find(", " + route.method + ",") != std::string::npos;
    if (!listed) allowed += (allowed.empty() ? "" : ", ") + route.method;
  }
  // Unmatched paths are counted under one label: paths are unbounded, routes are not.
  if (allowed.empty()) {
    count(request.method, "unmatched", 404);
    respond(error_response(404, "no route for " + request.method + " " + request.path));
    return;
  }
  count(request.method, "unmatched", 405);
  HttpResponse response = error_response(405, "method " + request.method + " is not allowed on " +
                                                  request.path + "; allowed: " + allowed);
  response.headers.emplace_back("Allow", allowed);
  respond(std::move(response));
}

}  // namespace tidemark::api
