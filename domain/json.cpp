#include "domain/json.h"

#include <rapidjson/error/en.h>

#include <cmath>

namespace tidemark::domain {

namespace {

/// The value of the four hex digits at `at`, or -1.
int hex4(std::string_view text, std::size_t at) {
  if (at + 4 > text.size()) return -1;
  int value = 0;
  for (char c : text.substr(at, 4)) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/// What RapidJSON would accept but must not be: arrays and objects nested deeper than
/// kMaxJsonDepth (its parser and writer, and contains_nul below, recurse once per level, and a
/// few hundred kilobytes of `[` overflow a thread's stack), and a `\u` escape of a lone low
/// surrogate (RapidJSON 1.1 turns it into bytes that are not UTF-8, which no JSON text we write
/// and no PostgreSQL text can hold). Invalid JSON is left to the parser to name.
std::optional<std::string> unsafe_json(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!in_string) {
      if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        if (++depth > kMaxJsonDepth) {
          return "nests arrays and objects deeper than " + std::to_string(kMaxJsonDepth) +
                 " levels";
        }
      } else if (c == ']' || c == '}') {
        --depth;
      }
    } else if (c == '"') {
      in_string = false;
    } else if (c == '\\' && i + 1 < text.size()) {
      ++i;
      if (text[i] != 'u') continue;
      int unit = hex4(text, i + 1);
      if (unit >= 0xD800 && unit <= 0xDBFF && text.substr(i + 5, 2) == "\\u") {
        int low = hex4(text, i + 7);
        if (low >= 0xDC00 && low <= 0xDFFF) i += 6;  // a pair: skip its low half
      } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
        return "holds a \\u escape of a lone surrogate";
      }
    }
  }
  return std::nullopt;
}

/// True when a number anywhere inside is infinite: RapidJSON 1.1 reads a few out-of-range numbers
/// with many digits (`1.7976931348623159e308`) as infinity instead of refusing them, and its
/// writer then drops them, leaving broken JSON.
bool holds_infinity(const rapidjson::Value& value) {
  if (value.IsDouble()) return !std::isfinite(value.GetDouble());
  if (value.IsArray()) {
    for (const auto& item : value.GetArray()) {
      if (holds_infinity(item)) return true;
    }
  }
  if (value.IsObject()) {
    for (const auto& member : value.GetObject()) {
      if (holds_infinity(member.value)) return true;
    }
  }
  return false;
}

}  // namespace

Result<rapidjson::Document> parse_json_object(std::string_view text, std::string_view what) {
  // RapidJSON stops at a NUL byte, and PostgreSQL can store neither NUL nor invalid UTF-8.
  if (text.find('\0') != std::string_view::npos) {
    return invalid(std::string(what) + " contains a NUL byte");
  }
  if (auto problem = unsafe_json(text)) return invalid(std::string(what) + " " + *problem);
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (document.HasParseError()) {
    return invalid(std::string(what) +
                   " is not valid JSON: " + rapidjson::GetParseError_En(document.GetParseError()) +
                   " (at byte " + std::to_string(document.GetErrorOffset()) + ")");
  }
  if (!document.IsObject()) return invalid(std::string(what) + " must be a JSON object");
  if (holds_infinity(document)) {
    return invalid(std::string(what) + " holds a number beyond the range of a double");
  }
  return document;
}

namespace {

/// True when a string or key anywhere inside holds a NUL character (PostgreSQL refuses it).
bool contains_nul(const rapidjson::Value& value) {
  auto has_nul = [](const rapidjson::Value& text) {
    return std::string_view(text.GetString(), text.GetStringLength()).find('\0') !=
           std::string_view::npos;
  };
  if (value.IsString()) return has_nul(value);
  if (value.IsArray()) {
    for (const auto& item : value.GetArray()) {
      if (contains_nul(item)) return true;
    }
  }
  if (value.IsObject()) {
    for (const auto& member : value.GetObject()) {
      if (has_nul(member.name) || contains_nul(member.value)) return true;
    }
  }
  return false;
}

}  // namespace

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string encode_id_payload(std::string_view name, std::string_view value) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  write_string(writer, name);
  write_string(writer, value);
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<std::string> decode_id_payload(std::string_view payload, std::string_view name,
                                      std::string_view what) {
  auto document = parse_json_object(payload, what);
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto id = fields.string(name, true, 128);
  if (auto error = fields.finish()) return invalid(std::string(what) + ": " + error->message);
  return *id;
}

std::string JsonFieldReader::qualified(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

std::optional<double> JsonFieldReader::number(std::string_view name, bool required) {
  const rapidjson::Value* value = find(name, required);
  if (!value) return std::nullopt;
  if (!value->IsNumber()) {
    fail("field '" + qualified(name) + "' must be a number");
    return std::nullopt;
  }
  return value->GetDouble();
}

std::optional<std::int64_t> JsonFieldReader::integer(std::string_view name, bool required) {
  const rapidjson::Value* value = find(name, required);
  if (!value) return std::nullopt;
  if (value->IsInt64()) return value->GetInt64();
  // A whole number written with a fraction or an exponent (`2.0`, `1e3`) counts; casting one
  // outside the range of int64 would be undefined.
  if (value->IsDouble()) {
    double number = value->GetDouble();
    if (number == std::floor(number) && number >= -0x1p63 && number < 0x1p63) {
      return static_cast<std::int64_t>(number);
    }
  }
  fail("field '" + qualified(name) + "' must be an integer");
  return std::nullopt;
}

std::optional<bool> JsonFieldReader::boolean(std::string_view name, bool required) {
  const rapidjson::Value* value = find(name, required);
  if (!value) return std::nullopt;
  if (!value->IsBool()) {
    fail("field '" + qualified(name) + "' must be true or false");
    return std::nullopt;
  }
  return value->GetBool();
}

const rapidjson::Value* JsonFieldReader::object(std::string_view name, bool required) {
  const rapidjson::Value* value = find(name, required);
  if (value && !value->IsObject()) {
    fail("field '" + qualified(name) + "' must be a JSON object");
    return nullptr;
  }
  return value;
}

void JsonFieldReader::adopt(const JsonFieldReader& nested) {
  if (auto error = nested.finish()) fail(error->message);
}

const rapidjson::Value* JsonFieldReader::find(std::string_view name, bool required) {
  known_.emplace(name);
  auto member =
      object_.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  if (member == object_.MemberEnd() || member->value.IsNull()) {
    if (required) fail("field '" + qualified(name) + "' is required");
    return nullptr;
  }
  return &member->value;
}

void JsonFieldReader::fail(std::string message) {
  if (!error_) error_ = invalid(std::move(message));
}

std::optional<std::string> JsonFieldReader::string(std::string_view name, bool required,
                                                   std::size_t max_length) {
  const rapidjson::Value* value = find(name, required);
  if (!value) return std::nullopt;
  if (!value->IsString()) {
    fail("field '" + qualified(name) + "' must be a string");
    return std::nullopt;
  }
  std::string text(value->GetString(), value->GetStringLength());
  if (text.find('\0') != std::string::npos) {
    fail("field '" + qualified(name) + "' must not contain a NUL character");
    return std::nullopt;
  }
  if (text.empty()) {
    fail("field '" + qualified(name) + "' must not be empty");
    return std::nullopt;
  }
  if (text.size() > max_length) {
    fail("field '" + qualified(name) + "' must be at most " + std::to_string(max_length) +
         " bytes");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> JsonFieldReader::object_text(std::string_view name, bool required,
                                                        std::size_t max_bytes) {
  const rapidjson::Value* value = find(name, required);
  if (!value) return std::nullopt;
  if (!value->IsObject()) {
    fail("field '" + qualified(name) + "' must be a JSON object");
    return std::nullopt;
  }
  if (contains_nul(*value)) {
    fail("field '" + qualified(name) + "' must not contain a NUL character");
    return std::nullopt;
  }
  std::string text = to_json(*value);
  if (text.size() > max_bytes) {
    fail("field '" + qualified(name) + "' must be at most " + std::to_string(max_bytes) +
         " bytes of JSON");
    return std::nullopt;
  }
  return text;
}

std::optional<Uuid> JsonFieldReader::uuid(std::string_view name, bool required) {
  auto text = string(name, required, 36);
  if (!text) return std::nullopt;
  auto parsed = Uuid::parse(*text);
  if (!parsed) fail("field '" + qualified(name) + "' must be a UUID");
  return parsed;
}

std::optional<Timestamp> JsonFieldReader::timestamp(std::string_view name, bool required) {
  auto text = string(name, required, 64);
  if (!text) return std::nullopt;
  auto parsed = parse_timestamp(*text);
  if (!parsed) fail("field '" + qualified(name) + "' must be an RFC 3339 date-time");
  return parsed;
}

std::optional<Error> JsonFieldReader::finish() const {
  if (error_) return error_;
  for (const auto& member : object_.GetObject()) {
    std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (!known_.contains(name)) return invalid("unknown field '" + qualified(name) + "'");
  }
  return std::nullopt;
}

}  // namespace tidemark::domain
