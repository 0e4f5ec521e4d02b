#include "tests/support/openapi.h"

#include <rapidjson/pointer.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace tidemark::testing {

const std::vector<std::string>& openapi_methods() {
  static const std::vector<std::string> methods = {"get", "put", "post", "delete", "patch"};
  return methods;
}

rapidjson::Document parse_json(std::string_view text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  return document;
}

std::string read_openapi_source() {
  std::ifstream file(std::filesystem::path(TIDEMARK_SOURCE_DIR) / "api" / "openapi.json");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

const rapidjson::Value* resolve_ref(const rapidjson::Document& document, std::string_view ref) {
  if (!ref.starts_with("#")) return nullptr;
  std::string pointer(ref.substr(1));
  return rapidjson::Pointer(pointer.c_str()).Get(document);
}

const rapidjson::Value* dereference(const rapidjson::Document& document,
                                    const rapidjson::Value& value) {
  if (!value.IsObject() || !value.HasMember("$ref") || !value["$ref"].IsString()) return &value;
  return resolve_ref(document, value["$ref"].GetString());
}

namespace {

bool has_type(const rapidjson::Value& value, std::string_view type) {
  if (type == "null") return value.IsNull();
  if (type == "boolean") return value.IsBool();
  if (type == "object") return value.IsObject();
  if (type == "array") return value.IsArray();
  if (type == "string") return value.IsString();
  if (type == "number") return value.IsNumber();
  if (type == "integer") {
    return value.IsInt64() || value.IsUint64() ||
           (value.IsDouble() &&
            value.GetDouble() == static_cast<double>(static_cast<std::int64_t>(value.GetDouble())));
  }
  return false;
}

std::size_t characters(const rapidjson::Value& text) {
  std::size_t count = 0;
  for (rapidjson::SizeType i = 0; i < text.GetStringLength(); ++i) {
    if ((static_cast<unsigned char>(text.GetString()[i]) & 0xC0) != 0x80) ++count;
  }
  return count;
}

/// Whether `text` has the format; formats this validator does not check always conform.
bool has_format(std::string_view format, const std::string& text) {
  if (format == "date-time") {
    // RFC 3339 section 5.6, with its ranges: a time zone is required.
    static const std::regex date_time(
        "^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:"
        "([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$");
    return std::regex_match(text, date_time);
  }
  if (format == "uuid") {
    static const std::regex uuid(
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
    return std::regex_match(text, uuid);
  }
  return true;
}

}  // namespace

const std::set<std::string>& SchemaValidator::keywords() {
  static const std::set<std::string> listed = {
      "$ref",    "type",        "properties", "required", "additionalProperties",
      "items",   "enum",        "const",      "oneOf",    "minimum",
      "maximum", "minLength",   "maxLength",  "pattern",  "minProperties",
      "format",  "description", "examples",   "default",  "contentMediaType"};
  return listed;
}

std::vector<std::string> SchemaValidator::problems(const rapidjson::Value& value,
                                                   const rapidjson::Value& schema,
                                                   const std::string& where) const {
  std::vector<std::string> found;
  check(value, schema, where, found);
  return found;
}

void SchemaValidator::check(const rapidjson::Value& value, const rapidjson::Value& schema,
                            const std::string& at, std::vector<std::string>& found) const {
  if (!schema.IsObject()) {
    found.push_back(at + ": the schema is not an object");
    return;
  }
  for (const auto& member : schema.GetObject()) {
    if (!keywords().count(member.name.GetString())) {
      found.push_back(at + ": keyword '" + member.name.GetString() +
                      "' is outside the subset this test checks");
    }
  }
  if (schema.HasMember("$ref")) {
    const rapidjson::Value* target = resolve_ref(document_, schema["$ref"].GetString());
    if (!target) {
      found.push_back(at + ": unresolved $ref " + schema["$ref"].GetString());
      return;
    }
    check(value, *target, at, found);
  }
  if (schema.HasMember("type")) {
    const auto& type = schema["type"];
    bool matched = false;
    if (type.IsString()) {
      matched = has_type(value, type.GetString());
    } else {
      for (const auto& one : type.GetArray()) matched = matched || has_type(value, one.GetString());
    }
    if (!matched) {
      found.push_back(at + ": has the wrong type");
      return;
    }
  }
  if (schema.HasMember("const") && value != schema["const"]) {
    found.push_back(at + ": is not the constant");
  }
  if (schema.HasMember("enum")) {
    bool listed = false;
    for (const auto& option : schema["enum"].GetArray()) listed = listed || value == option;
    if (!listed) found.push_back(at + ": is not one of the enum");
  }
  if (schema.HasMember("oneOf")) {
    int matching = 0;
    std::string why;
    for (const auto& option : schema["oneOf"].GetArray()) {
      auto option_problems = problems(value, option, at);
      if (option_problems.empty()) ++matching;
      why += "\n    " + (option_problems.empty() ? "matches" : option_problems.front());
    }
    if (matching != 1) {
      found.push_back(at + ": matches " + std::to_string(matching) + " of oneOf, not 1:" + why);
    }
  }
  if (value.IsNumber()) {
    if (schema.HasMember("minimum") && value.GetDouble() < schema["minimum"].GetDouble()) {
      found.push_back(at + ": is below the minimum");
    }
    if (schema.HasMember("maximum") && value.GetDouble() > schema["maximum"].GetDouble()) {
      found.push_back(at + ": is above the maximum");
    }
  }
  if (value.IsString()) {
    if (schema.HasMember("minLength") && characters(value) < schema["minLength"].GetUint()) {
      found.push_back(at + ": is shorter than minLength");
    }
    if (schema.HasMember("maxLength") && characters(value) > schema["maxLength"].GetUint()) {
      found.push_back(at + ": is longer than maxLength");
    }
    if (schema.HasMember("pattern") &&
        !std::regex_search(value.GetString(), std::regex(schema["pattern"].GetString()))) {
      found.push_back(at + ": does not match " + schema["pattern"].GetString());
    }
    if (schema.HasMember("format") &&
        !has_format(schema["format"].GetString(),
                    std::string(value.GetString(), value.GetStringLength()))) {
      found.push_back(at + ": is not a " + schema["format"].GetString() + " ('" +
                      value.GetString() + "')");
    }
  }
  if (value.IsArray() && schema.HasMember("items")) {
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      check(value[i], schema["items"], at + "[" + std::to_string(i) + "]", found);
    }
  }
  if (!value.IsObject()) return;
  if (schema.HasMember("minProperties") &&
      value.MemberCount() < schema["minProperties"].GetUint()) {
    found.push_back(at + ": has too few properties");
  }
  if (schema.HasMember("required")) {
    for (const auto& name : schema["required"].GetArray()) {
      if (!value.HasMember(name.GetString())) {
        found.push_back(at + ": lacks required '" + name.GetString() + "'");
      }
    }
  }
  for (const auto& member : value.GetObject()) {
    std::string name = member.name.GetString();
    if (schema.HasMember("properties") && schema["properties"].HasMember(name.c_str())) {
      check(member.value, schema["properties"][name.c_str()], at + "." + name, found);
    } else if (schema.HasMember("additionalProperties")) {
      const auto& additional = schema["additionalProperties"];
      if (additional.IsFalse()) {
        found.push_back(at + ": has '" + name + "', which the schema does not list");
      } else if (additional.IsObject()) {
        check(member.value, additional, at + "." + name, found);
      }
    }
  }
}

std::vector<std::string> response_problems(const rapidjson::Document& document,
                                           const SchemaValidator& validator,
                                           const std::string& method,
                                           const std::string& path_template,
                                           const HttpReply& reply) {
  std::string lower_method = method;
  for (auto& c : lower_method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto& paths = document["paths"];
  if (!paths.HasMember(path_template.c_str()) ||
      !paths[path_template.c_str()].HasMember(lower_method.c_str())) {
    return {"the operation is not documented"};
  }
  const auto& responses = paths[path_template.c_str()][lower_method.c_str()]["responses"];
  std::string status = std::to_string(reply.status);
  if (!responses.HasMember(status.c_str())) return {"the status is not documented"};
  const rapidjson::Value* response = dereference(document, responses[status.c_str()]);
  if (!response) return {"the response's $ref is unresolved"};
  std::string content_type = reply.header("content-type");
  content_type = content_type.substr(0, content_type.find(';'));
  if (!response->HasMember("content")) {
    if (!reply.body.empty()) return {"documented without a body, got one"};
    return {};
  }
  const auto& content = (*response)["content"];
  const rapidjson::Value* media = nullptr;
  if (content.HasMember(content_type.c_str())) {
    media = &content[content_type.c_str()];
  } else if (content.HasMember("*/*")) {
    media = &content["*/*"];
  }
  if (!media) return {"Content-Type '" + content_type + "' is not documented"};
  // A body documented as any media type (`*/*`: a recording's bytes) is not JSON by contract,
  // even when its bytes happen to be.
  bool documented_json =
      content.HasMember("application/json") && media == &content["application/json"];
  if (!documented_json || !media->HasMember("schema")) return {};
  auto body = parse_json(reply.body);
  if (body.HasParseError()) return {"the body is not JSON"};
  return validator.problems(body, (*media)["schema"]);
}

}  // namespace tidemark::testing
