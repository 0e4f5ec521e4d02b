#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/log_entry.h"
#include "domain/result.h"

namespace tidemark::api {

/// A request as the handlers see it, independent of the HTTP library.
struct HttpRequest {
  std::string method;
  std::string path;
  domain::QueryParameters query;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
  std::string request_id;
  std::string remote_address;  ///< the peer's IP address

  /// A cookie's value from the Cookie header, or empty.
  std::string cookie(std::string_view name) const;

  /// The header's value, or empty.
  std::string header(std::string_view lower_case_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Sends the response; call exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;
using PathParameters = std::map<std::string, std::string>;
using Handler = std::function<void(const HttpRequest&, const PathParameters&, Respond)>;

/// `{"detail": message}` with the status, the error shape of seed 003.
HttpResponse error_response(int status, std::string_view message);
/// The one mapping from domain errors to HTTP statuses.
HttpResponse error_response(const domain::Error& error);
/// 503 with Retry-After, for a dependency that did not answer.
HttpResponse unavailable_response(std::string_view message, int retry_after_seconds = 1);

/// Decodes `%XX` escapes, and `+` as a space when `plus_is_space` (query strings; in a path
/// `+` is itself); nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = true);

/// True when `text` is well-formed UTF-8 (no overlong form, surrogate or code point beyond
/// U+10FFFF) without NUL: what every id and text column can hold. PostgreSQL refuses anything
/// else, and libpq would cut a parameter at its first NUL.
bool is_utf8_text(std::string_view text);

/// Escapes every byte but RFC 3986's unreserved characters as `%XX`, so that any id (quotes,
/// spaces, CR LF, `/`, non-ASCII) can stand as one path segment of a URL or a Location header.
std::string percent_encode(std::string_view text);

}  // namespace tidemark::api
