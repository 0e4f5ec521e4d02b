#include "domain/recording.h"

#include <algorithm>
#include <cctype>

#include "domain/json.h"

namespace tidemark::domain {
namespace {

Recording read_fields(JsonFieldReader& fields, const std::optional<std::string>& path_id,
                      std::optional<Error>& problem, bool link_required = true) {
  Recording recording;
  auto recording_id = fields.string("recording_id", !path_id, kMaxIdentifierBytes);
  if (path_id && recording_id && *recording_id != *path_id) {
    problem = invalid("field 'recording_id' is '" + *recording_id + "' but the path names '" +
                      *path_id + "'");
  }
  recording.recording_id = path_id ? *path_id : recording_id.value_or("");
  recording.recording_link =
      fields.string("recording_link", link_required, kMaxLinkBytes).value_or("");
  recording.recording_type =
      fields.string("recording_type", true, kMaxIdentifierBytes).value_or("");
  recording.user_id = fields.string("user_id", true, kMaxIdentifierBytes).value_or("");
  recording.created_session_id = fields.string("created_session_id", false, kMaxIdentifierBytes);
  return recording;
}

}  // namespace

Result<Recording> parse_recording_request(std::string_view body,
                                          const std::optional<std::string>& path_id,
                                          const UrlPolicy& link_policy, bool link_required) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  std::optional<Error> problem;
  Recording recording = read_fields(fields, path_id, problem, link_required);
  if (auto error = fields.finish()) return *error;
  if (problem) return *problem;
  if (recording.recording_link.empty()) return recording;  // not required, not given
  if (auto link = check_url(recording.recording_link, "recording_link", link_policy); !link) {
    return link.error();
  }
  return recording;
}

std::string encode_recording(const RecordingChange& change) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  const Recording& recording = change.recording;
  for (auto [name, value] : {std::pair{"recording_id", &recording.recording_id},
                             std::pair{"recording_link", &recording.recording_link},
                             std::pair{"recording_type", &recording.recording_type},
                             std::pair{"user_id", &recording.user_id}}) {
    writer.Key(name);
    write_string(writer, *value);
  }
  writer.Key("created_session_id");
  if (recording.created_session_id) {
    write_string(writer, *recording.created_session_id);
  } else {
    writer.Null();
  }
  writer.Key("owner_id");
  write_string(writer, change.owner_id.to_string());
  if (change.expected_revision) {
    writer.Key("expected_revision");
    writer.Int64(*change.expected_revision);
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<RecordingChange> decode_recording(std::string_view payload) {
  auto document = parse_json_object(payload, "recording payload");
  if (!document) return document.error();
  rapidjson::Document& object = document.value();
  std::optional<std::int64_t> expected_revision;
  auto member = object.FindMember("expected_revision");
  if (member != object.MemberEnd()) {
    if (!member->value.IsInt64()) return invalid("recording payload: bad expected_revision");
    expected_revision = member->value.GetInt64();
    object.RemoveMember(member);
  }
  JsonFieldReader fields(object);
  std::optional<Error> problem;
  Recording recording = read_fields(fields, std::nullopt, problem);
  auto owner_id = fields.uuid("owner_id", true);
  if (auto error = fields.finish()) return invalid("recording payload: " + error->message);
  return RecordingChange{recording, *owner_id, expected_revision};
}

std::string encode_recording_deleted(std::string_view recording_id) {
  return encode_id_payload("recording_id", recording_id);
}

Result<std::string> decode_recording_deleted(std::string_view payload) {
  return decode_id_payload(payload, "recording_id", "recording deletion");
}

std::string encode_content_attached(const ContentAttached& event) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("recording_id");
  write_string(writer, event.recording_id);
  writer.Key("sha256");
  write_string(writer, event.sha256);
  writer.Key("size");
  writer.Int64(event.size);
  writer.Key("content_type");
  write_string(writer, event.content_type);
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<ContentAttached> decode_content_attached(std::string_view payload) {
  auto document = parse_json_object(payload, "content attachment");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  ContentAttached event;
  event.recording_id = fields.string("recording_id", true, kMaxIdentifierBytes).value_or("");
  event.sha256 = fields.string("sha256", true, 64).value_or("");
  event.size = fields.integer("size", true).value_or(0);
  event.content_type = fields.string("content_type", true, 127).value_or("");
  if (auto error = fields.finish()) return invalid("content attachment: " + error->message);
  return event;
}

bool is_media_type(std::string_view text) {
  if (text.empty() || text.size() > 127) return false;
  std::string_view essence = text.substr(0, text.find(';'));
  while (!essence.empty() && essence.back() == ' ') essence.remove_suffix(1);
  auto slash = essence.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == essence.size()) return false;
  auto token = [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$&-^_.+").find(static_cast<char>(c)) != std::string_view::npos;
  };
  for (std::size_t i = 0; i < essence.size(); ++i) {
    if (i != slash && !token(static_cast<unsigned char>(essence[i]))) return false;
  }
  // Printable ASCII only: the media type travels in events as JSON text, and bytes that are not
  // UTF-8 would make the projector refuse them (and the upload never be attached).
  return std::none_of(text.begin(), text.end(),
                      [](unsigned char c) { return c < 0x20 || c >= 0x7F; });
}

Result<RecordingQuery> parse_recording_query(const QueryParameters& parameters) {
  RecordingQuery query;
  auto page = parse_filters_and_page(
      parameters, {{"user_id", &query.user_id}, {"recording_type", &query.recording_type}});
  if (!page) return page.error();
  query.page = *page;
  return query;
}

}  // namespace tidemark::domain
