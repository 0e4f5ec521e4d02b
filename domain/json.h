#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "domain/result.h"
#include "domain/timestamp.h"
#include "domain/uuid.h"

namespace tidemark::domain {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

/// Deepest nesting of arrays and objects parse_json_object accepts.
inline constexpr int kMaxJsonDepth = 512;

/// Parses a request or record body that must be one JSON object, nested at most kMaxJsonDepth
/// levels; the error names the problem.
Result<rapidjson::Document> parse_json_object(std::string_view text, std::string_view what);

/// Serialises a value compactly.
std::string to_json(const rapidjson::Value& value);

inline void write_string(JsonWriter& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

/// `{"NAME": "VALUE"}`, the payload of events that only name their subject (deletions).
std::string encode_id_payload(std::string_view name, std::string_view value);
/// Its inverse: the id, or an error prefixed with `what`.
Result<std::string> decode_id_payload(std::string_view payload, std::string_view name,
                                      std::string_view what);

/// Reads the fields of one JSON object by name and type, remembering the first problem so a
/// caller can read every field and then ask once whether the object was valid. Fields the
/// caller never asked for are reported as unknown.
class JsonFieldReader {
 public:
  /// `prefix` names a nested object in messages: `field 'body_data.height' …`.
  explicit JsonFieldReader(const rapidjson::Value& object, std::string prefix = "")
      : object_(object), prefix_(std::move(prefix)) {}

  /// A string of 1..max_length characters; `required` decides whether absence is an error.
  /// JSON null counts as absent.
  std::optional<std::string> string(std::string_view name, bool required, std::size_t max_length);
  /// A nested JSON object, serialised; absent or null gives std::nullopt.
  std::optional<std::string> object_text(std::string_view name, bool required,
                                         std::size_t max_bytes);

  /// A JSON number.
  std::optional<double> number(std::string_view name, bool required);
  /// A JSON number that is a whole number within the range of int64.
  std::optional<std::int64_t> integer(std::string_view name, bool required);
  /// A JSON true or false.
  std::optional<bool> boolean(std::string_view name, bool required);
  /// A nested object, to read with a reader of its own; then `adopt` that reader's verdict.
  const rapidjson::Value* object(std::string_view name, bool required);
  void adopt(const JsonFieldReader& nested);
  /// A UUID in canonical text form.
  std::optional<Uuid> uuid(std::string_view name, bool required);
  /// An RFC 3339 date-time.
  std::optional<Timestamp> timestamp(std::string_view name, bool required);

  /// The first problem met, or the first field that no call named.
  std::optional<Error> finish() const;

 private:
  const rapidjson::Value* find(std::string_view name, bool required);
  void fail(std::string message);
  std::string qualified(std::string_view name) const;

  const rapidjson::Value& object_;
  std::string prefix_;
  std::set<std::string, std::less<>> known_;
  std::optional<Error> error_;
};

}  // namespace tidemark::domain
