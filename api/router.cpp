#include "api/router.h"

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
  routes_.push_back({std::move(method), split(pattern), std::move(handler)});
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
      route.handler(request, parameters, std::move(respond));
      return;
    }
    bool listed = (", " + allowed + ",").find(", " + route.method + ",") != std::string::npos;
    if (!listed) allowed += (allowed.empty() ? "" : ", ") + route.method;
  }
  if (allowed.empty()) {
    respond(error_response(404, "no route for " + request.method + " " + request.path));
    return;
  }
  HttpResponse response = error_response(405, "method " + request.method + " is not allowed on " +
                                                  request.path + "; allowed: " + allowed);
  response.headers.emplace_back("Allow", allowed);
  respond(std::move(response));
}

}  // namespace tidemark::api
