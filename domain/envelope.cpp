#include "domain/envelope.h"

#include <optional>

namespace tidemark::domain {
namespace {

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

}  // namespace

Headers EventEnvelope::headers() const {
  return {
      {std::string(header::kSpecVersion), "1.0"},
      {std::string(header::kId), id},
      {std::string(header::kType), type},
      {std::string(header::kSource), source},
      {std::string(header::kTime), format_timestamp(time)},
      {std::string(header::kSubject), subject},
      {std::string(header::kContentType), "application/json"},
      {std::string(header::kCorrelationId), correlation_id},
      {std::string(header::kActor), actor},
  };
}

Result<EventEnvelope> EventEnvelope::from_record(const Headers& headers, std::string key,
                                                 std::string payload) {
  auto spec_version = find_header(headers, header::kSpecVersion);
  if (spec_version != "1.0") return invalid("record is not a CloudEvents 1.0 event");
  auto content_type = find_header(headers, header::kContentType);
  if (content_type && *content_type != "application/json") {
    return invalid("record content-type is '" + *content_type + "', not application/json");
  }
  EventEnvelope envelope;
  for (auto [name, target] :
       {std::pair{header::kId, &envelope.id}, std::pair{header::kType, &envelope.type},
        std::pair{header::kSource, &envelope.source}}) {
    auto value = find_header(headers, name);
    if (!value || value->empty()) return invalid("record lacks header " + std::string(name));
    *target = std::move(*value);
  }
  auto time = find_header(headers, header::kTime);
  auto parsed_time = time ? parse_timestamp(*time) : std::nullopt;
  if (!parsed_time)
    return invalid("record lacks a valid " + std::string(header::kTime) + " header");
  envelope.time = *parsed_time;
  envelope.subject = find_header(headers, header::kSubject).value_or("");
  envelope.correlation_id = find_header(headers, header::kCorrelationId).value_or("");
  envelope.actor = find_header(headers, header::kActor).value_or("");
  envelope.key = std::move(key);
  envelope.payload = std::move(payload);
  return envelope;
}

}  // namespace tidemark::domain
