#include "domain/multipart.h"

#include <algorithm>
#include <cctype>

namespace tidemark::domain {
namespace {

constexpr std::size_t kMaxHeaderLine = 1024;
constexpr std::size_t kMaxPartHeaders = 8;

std::string lower_case(std::string_view text) {
  std::string lowered(text);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// The value of `parameter` in `; a=b; c="d"` parameter lists, unquoted; nullopt when absent.
std::optional<std::string> parameter_value(std::string_view parameters, std::string_view name) {
  while (!parameters.empty()) {
    auto semicolon = parameters.find(';');
    if (semicolon == std::string_view::npos) break;
    parameters.remove_prefix(semicolon + 1);
    std::string_view item = trim(parameters.substr(0, parameters.find(';')));
    auto equals = item.find('=');
    if (equals == std::string_view::npos) continue;
    if (lower_case(trim(item.substr(0, equals))) != name) continue;
    std::string_view value = trim(item.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"') {
      // A quoted value may hold `;`: take it up to its closing quote.
      std::string_view rest = parameters.substr(parameters.find('"') + 1);
      auto close = rest.find('"');
      if (close == std::string_view::npos) return std::nullopt;
      return std::string(rest.substr(0, close));
    }
    return std::string(value);
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> multipart_boundary(std::string_view content_type) {
  std::string essence = lower_case(trim(content_type.substr(0, content_type.find(';'))));
  if (essence != "multipart/form-data") {
    return invalid("Content-Type must be multipart/form-data for a multipart upload");
  }
  auto boundary = parameter_value(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70) {
    return invalid("Content-Type multipart/form-data needs a boundary of 1 to 70 characters");
  }
  return *boundary;
}

Result<std::vector<MultipartPart>> parse_multipart(std::string_view body,
                                                   std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  if (!body.starts_with(delimiter)) {
    return invalid("multipart body does not start with its boundary");
  }
  std::vector<MultipartPart> parts;
  std::size_t position = delimiter.size();
  while (true) {
    std::string_view after = body.substr(position);
    if (after.starts_with("--")) break;  // the closing delimiter
    if (!after.starts_with("\r\n")) return invalid("multipart boundary is not followed by CRLF");
    position += 2;
    if (parts.size() == kMaxMultipartParts) {
      return invalid("multipart body has more than " + std::to_string(kMaxMultipartParts) +
                     " parts");
    }
    MultipartPart part;
    part.content_type = "text/plain";
    bool named = false;
    for (std::size_t headers = 0;; ++headers) {
      auto line_end = body.find("\r\n", position);
      if (line_end == std::string_view::npos) return invalid("multipart part headers never end");
      std::string_view line = body.substr(position, line_end - position);
      position = line_end + 2;
      if (line.empty()) break;
      if (line.size() > kMaxHeaderLine || headers == kMaxPartHeaders) {
        return invalid("multipart part headers are too long");
      }
      auto colon = line.find(':');
      if (colon == std::string_view::npos) return invalid("multipart part header has no ':'");
      std::string name = lower_case(trim(line.substr(0, colon)));
      std::string_view value = trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        if (lower_case(trim(value.substr(0, value.find(';')))) != "form-data") {
          return invalid("multipart part is not form-data");
        }
        auto field = parameter_value(value, "name");
        if (!field || field->empty()) return invalid("multipart part has no name");
        part.name = *field;
        part.filename = parameter_value(value, "filename");
        named = true;
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
    }
    if (!named) return invalid("multipart part has no Content-Disposition with a name");
    const std::string next = "\r\n" + delimiter;
    auto end = body.find(next, position);
    if (end == std::string_view::npos) return invalid("multipart body has no closing boundary");
    part.body = body.substr(position, end - position);
    position = end + next.size();
    if (std::any_of(parts.begin(), parts.end(),
                    [&](const MultipartPart& seen) { return seen.name == part.name; })) {
      return invalid("multipart part '" + part.name + "' is given twice");
    }
    parts.push_back(std::move(part));
  }
  if (parts.empty()) return invalid("multipart body has no parts");
  return parts;
}

}  // namespace tidemark::domain
