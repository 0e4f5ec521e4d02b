#include "domain/app_user.h"

#include <cmath>

#include "domain/json.h"

namespace tidemark::domain {
namespace {

constexpr double kMaxMeasure = 100000;

/// Reads the record's fields; `user_id` may come from the path instead.
AppUser read_app_user(JsonFieldReader& fields, const std::optional<std::string>& path_id,
                      std::optional<Error>& problem) {
  AppUser user;
  auto user_id = fields.string("user_id", !path_id, kMaxIdentifierBytes);
  if (path_id && user_id && *user_id != *path_id) {
    problem =
        invalid("field 'user_id' is '" + *user_id + "' but the path names '" + *path_id + "'");
  }
  user.user_id = path_id ? *path_id : user_id.value_or("");
  if (const rapidjson::Value* firebase = fields.object("firebase_data", false)) {
    JsonFieldReader nested(*firebase, "firebase_data");
    user.email = nested.string("email", false, 254);
    user.display_name = nested.string("display_name", false, 256);
    fields.adopt(nested);
  }
  if (const rapidjson::Value* body = fields.object("body_data", false)) {
    JsonFieldReader nested(*body, "body_data");
    user.height = nested.number("height", false);
    user.weight = nested.number("weight", false);
    fields.adopt(nested);
    for (auto [name, value] :
         {std::pair{"height", user.height}, std::pair{"weight", user.weight}}) {
      if (value && (!std::isfinite(*value) || *value < 0 || *value > kMaxMeasure)) {
        problem = invalid(std::string("field 'body_data.") + name +
                          "' must be a number from 0 to 100000");
      }
    }
  }
  return user;
}

void optional_text(JsonWriter& writer, const char* name, const std::optional<std::string>& value) {
  writer.Key(name);
  value ? write_string(writer, *value) : (void)writer.Null();
}

void optional_number(JsonWriter& writer, const char* name, const std::optional<double>& value) {
  writer.Key(name);
  value ? (void)writer.Double(*value) : (void)writer.Null();
}

}  // namespace

Result<AppUser> parse_app_user_request(std::string_view body,
                                       const std::optional<std::string>& path_id) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  std::optional<Error> problem;
  AppUser user = read_app_user(fields, path_id, problem);
  if (auto error = fields.finish()) return *error;
  if (problem) return *problem;
  return user;
}

std::string encode_app_user(const AppUser& user) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("user_id");
  write_string(writer, user.user_id);
  writer.Key("firebase_data");
  writer.StartObject();
  optional_text(writer, "email", user.email);
  optional_text(writer, "display_name", user.display_name);
  writer.EndObject();
  writer.Key("body_data");
  writer.StartObject();
  optional_number(writer, "height", user.height);
  optional_number(writer, "weight", user.weight);
  writer.EndObject();
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<AppUser> decode_app_user(std::string_view json) {
  auto parsed = parse_app_user_request(json, std::nullopt);
  if (!parsed) return invalid("app user record: " + parsed.error().message);
  return parsed;
}

std::string encode_app_user_change(const AppUserChange& change) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("user_id");
  write_string(writer, change.user_id);
  writer.Key("owner_id");
  write_string(writer, change.owner_id.to_string());
  writer.Key("data");
  write_string(writer, change.sealed_data);
  if (change.expected_revision) {
    writer.Key("expected_revision");
    writer.Int64(*change.expected_revision);
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<AppUserChange> decode_app_user_change(std::string_view payload) {
  auto document = parse_json_object(payload, "app user payload");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto user_id = fields.string("user_id", true, kMaxIdentifierBytes);
  auto owner_id = fields.uuid("owner_id", true);
  auto data = fields.string("data", true, 64 * 1024);
  auto expected_revision = fields.integer("expected_revision", false);
  if (auto error = fields.finish()) return invalid("app user payload: " + error->message);
  return AppUserChange{*user_id, *owner_id, *data, expected_revision};
}

std::string encode_app_user_deleted(std::string_view user_id) {
  return encode_id_payload("user_id", user_id);
}

Result<std::string> decode_app_user_deleted(std::string_view payload) {
  return decode_id_payload(payload, "user_id", "app user deletion");
}

}  // namespace tidemark::domain
