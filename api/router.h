#pragma once

#include <string>
#include <vector>

#include "api/http.h"

namespace tidemark::api {

/// Matches method and path (`/events/{event_id}` style patterns) to a handler.
/// An unknown path answers 404 and a known path with another method 405 with `Allow`,
/// both as JSON.
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  void dispatch(const HttpRequest& request, Respond respond) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static std::vector<std::string> split(const std::string& path);
  static bool match(const Route& route, const std::vector<std::string>& segments,
                    PathParameters& parameters);

  std::vector<Route> routes_;
};

}  // namespace tidemark::api
