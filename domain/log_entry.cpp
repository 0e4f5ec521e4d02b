#include "domain/log_entry.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "domain/json.h"

namespace tidemark::domain {
namespace {

constexpr std::array<std::string_view, 5> kLogLevels = {"debug", "info", "warning", "error",
                                                        "critical"};

/// Reads the fields every entry shares; `event_id` is checked by the caller.
Result<LogEntry> read_entry_fields(JsonFieldReader& fields, Uuid event_id,
                                   std::optional<Timestamp> default_ts) {
  LogEntry entry{event_id, {}, {}, {}, "{}", {}, "info", {}, std::nullopt, std::nullopt};
  auto user_id = fields.string("user_id", true, kMaxIdentifierBytes);
  entry.session_id = fields.string("session_id", false, kMaxIdentifierBytes);
  auto event_type = fields.string("event_type", true, kMaxIdentifierBytes);
  auto event_data = fields.object_text("event_data", false, kMaxEventDataBytes);
  auto event_source = fields.string("event_source", true, kMaxIdentifierBytes);
  auto log_level = fields.string("log_level", false, 16);
  auto ts = fields.string("ts", !default_ts, 64);
  if (auto error = fields.finish()) return *error;

  entry.user_id = std::move(*user_id);
  entry.event_type = std::move(*event_type);
  entry.event_source = std::move(*event_source);
  if (event_data) entry.event_data_json = std::move(*event_data);
  if (log_level) {
    std::string lowered = *log_level;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(kLogLevels.begin(), kLogLevels.end(), lowered) == kLogLevels.end()) {
      return invalid("field 'log_level' must be one of debug, info, warning, error, critical");
    }
    entry.log_level = std::move(lowered);
  }
  if (ts) {
    auto parsed = parse_timestamp(*ts);
    if (!parsed) return invalid("field 'ts' must be an RFC 3339 date-time, got '" + *ts + "'");
    entry.ts = *parsed;
  } else {
    entry.ts = *default_ts;
  }
  return entry;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Result<LogEntry> parse_log_entry_request(std::string_view body, Uuid event_id, Timestamp now) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  return read_entry_fields(fields, event_id, now);
}

std::string encode_log_entry_payload(const LogEntry& entry) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("event_id");
  write_string(writer, entry.event_id.to_string());
  writer.Key("user_id");
  write_string(writer, entry.user_id);
  writer.Key("session_id");
  if (entry.session_id) {
    write_string(writer, *entry.session_id);
  } else {
    writer.Null();
  }
  writer.Key("event_type");
  write_string(writer, entry.event_type);
  writer.Key("event_data");
  writer.RawValue(entry.event_data_json.data(), entry.event_data_json.size(),
                  rapidjson::kObjectType);
  writer.Key("event_source");
  write_string(writer, entry.event_source);
  writer.Key("log_level");
  write_string(writer, entry.log_level);
  writer.Key("ts");
  write_string(writer, format_timestamp(entry.ts));
  if (entry.owner_id) {
    writer.Key("owner_id");
    write_string(writer, entry.owner_id->to_string());
  }
  if (entry.expected_revision) {
    writer.Key("expected_revision");
    writer.Int64(*entry.expected_revision);
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<LogEntry> decode_log_entry_payload(std::string_view payload) {
  auto document = parse_json_object(payload, "log entry payload");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto event_id_text = fields.string("event_id", true, 36);
  auto event_id = event_id_text ? Uuid::parse(*event_id_text) : std::nullopt;
  if (event_id_text && !event_id) return invalid("field 'event_id' must be a UUID");
  auto owner_id = fields.uuid("owner_id", false);
  auto expected_revision = fields.integer("expected_revision", false);
  auto entry = read_entry_fields(fields, event_id.value_or(Uuid::from_bytes({}, 4)), std::nullopt);
  if (entry) {
    entry.value().owner_id = owner_id;
    entry.value().expected_revision = expected_revision;
  }
  return entry;
}

std::string encode_log_entry_redacted(const Uuid& event_id) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("event_id");
  write_string(writer, event_id.to_string());
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<Uuid> decode_log_entry_redacted(std::string_view payload) {
  auto document = parse_json_object(payload, "log entry redaction");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto event_id = fields.uuid("event_id", true);
  if (auto error = fields.finish()) return *error;
  return *event_id;
}

namespace {

/// Reads `page` or `size` into `query`; nullopt when `name` is neither.
std::optional<Result<bool>> read_paging(const std::string& name, const std::string& value,
                                        PageQuery& query) {
  if (name == "page") {
    auto page = parse_integer(value);
    if (!page || *page < 1 || *page > kMaxPage) {
      return Result<bool>(invalid("query parameter 'page' must be an integer from 1 to " +
                                  std::to_string(kMaxPage)));
    }
    query.page = *page;
    return Result<bool>(true);
  }
  if (name == "size") {
    auto size = parse_integer(value);
    if (!size || *size < 1 || *size > kMaxPageSize) {
      return Result<bool>(invalid("query parameter 'size' must be an integer from 1 to " +
                                  std::to_string(kMaxPageSize)));
    }
    query.size = *size;
    return Result<bool>(true);
  }
  return std::nullopt;
}

}  // namespace

Result<PageQuery> parse_page_query(const QueryParameters& parameters,
                                   const std::vector<std::string_view>& also_allowed) {
  PageQuery query;
  for (const auto& [name, value] : parameters) {
    if (auto read = read_paging(name, value, query)) {
      if (!*read) return read->error();
    } else if (std::find(also_allowed.begin(), also_allowed.end(), name) == also_allowed.end()) {
      return invalid("unknown query parameter '" + name + "'");
    }
  }
  return query;
}

Result<PageQuery> parse_filters_and_page(const QueryParameters& parameters,
                                         const TextFilters& filters) {
  QueryParameters paging;
  for (const auto& [name, value] : parameters) {
    auto filter = std::find_if(filters.begin(), filters.end(),
                               [&name](const auto& entry) { return entry.first == name; });
    if (filter == filters.end()) {
      paging.emplace_back(name, value);
      continue;
    }
    if (value.empty() || value.size() > kMaxIdentifierBytes) {
      return invalid("query parameter '" + name + "' must be 1 to " +
                     std::to_string(kMaxIdentifierBytes) + " bytes");
    }
    *filter->second = value;
  }
  return parse_page_query(paging);
}

Result<LogEntryQuery> parse_log_entry_query(const QueryParameters& parameters,
                                            const std::vector<std::string_view>& also_allowed) {
  LogEntryQuery query;
  PageQuery paging;
  for (const auto& [name, value] : parameters) {
    auto text_filter = [&](std::optional<std::string>& target) -> std::optional<Error> {
      if (value.empty() || value.size() > kMaxIdentifierBytes) {
        return invalid("query parameter '" + name + "' must be 1 to " +
                       std::to_string(kMaxIdentifierBytes) + " bytes");
      }
      target = value;
      return std::nullopt;
    };
    auto time_filter = [&](std::optional<Timestamp>& target) -> std::optional<Error> {
      target = parse_timestamp(value);
      if (!target) {
        return invalid("query parameter '" + name + "' must be an RFC 3339 date-time, got '" +
                       value + "'");
      }
      return std::nullopt;
    };
    std::optional<Error> error;
    if (name == "user_id") {
      error = text_filter(query.user_id);
    } else if (name == "session_id") {
      error = text_filter(query.session_id);
    } else if (name == "event_type") {
      error = text_filter(query.event_type);
    } else if (name == "event_source") {
      error = text_filter(query.event_source);
    } else if (name == "ts_gte") {
      error = time_filter(query.ts_gte);
    } else if (name == "ts_lte") {
      error = time_filter(query.ts_lte);
    } else if (auto read = read_paging(name, value, paging)) {
      if (!*read) return read->error();
    } else if (std::find(also_allowed.begin(), also_allowed.end(), name) == also_allowed.end()) {
      return invalid("unknown query parameter '" + name + "'");
    }
    if (error) return *error;
  }
  query.page = paging.page;
  query.size = paging.size;
  if (query.ts_gte && query.ts_lte && *query.ts_gte > *query.ts_lte) {
    return invalid("query parameter 'ts_gte' must not be after 'ts_lte'");
  }
  return query;
}

}  // namespace tidemark::domain
