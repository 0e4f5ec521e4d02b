#pragma once

#include <string>
#include <vector>

#include "api/http.h"
#include "infra/metrics.h"

namespace tidemark::api {

/// Matches method and path (`/events/{event_id}` style patterns) to a handler.
/// An unknown path answers 404 and a known path with another method 405 with `Allow`,
/// both as JSON. Every answer is counted per method, route pattern and status, and its latency
/// observed per route (`GET /metrics`).
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  void dispatch(const HttpRequest& request, Respond respond) const;

  struct RouteInfo {
    std::string method;
    std::string pattern;  ///< as matched: `/events/{event_id}`, `/` for the root
  };
  /// Every route in the order added; the OpenAPI document must list exactly these.
  std::vector<RouteInfo> routes() const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    std::string pattern;
    infra::Histogram* latency;  ///< this route's series of tidemark_http_request_duration_seconds
  };
  /// Counts an answer in tidemark_http_requests_total.
  static void count(const std::string& method, const std::string& pattern, int status);
  static std::vector<std::string> split(const std::string& path);
  static bool match(const Route& route, const std::vector<std::string>& segments,
                    PathParameters& parameters);

  std::vector<Route> routes_;
};

}  // namespace tidemark::api
