#include "domain/algorithm.h"

#include "domain/json.h"

namespace tidemark::domain {
namespace {

/// Reads the fields every algorithm body has; `algo_id` may come from the path instead.
Algorithm read_fields(JsonFieldReader& fields, const std::optional<std::string>& path_id,
                      std::optional<Error>& mismatch) {
  Algorithm algorithm;
  auto algo_id = fields.string("algo_id", !path_id, kMaxIdentifierBytes);
  if (path_id && algo_id && *algo_id != *path_id) {
    mismatch =
        invalid("field 'algo_id' is '" + *algo_id + "' but the path names '" + *path_id + "'");
  }
  algorithm.algo_id = path_id ? *path_id : algo_id.value_or("");
  algorithm.recording_type =
      fields.string("recording_type", true, kMaxIdentifierBytes).value_or("");
  algorithm.location = fields.string("location", true, kMaxLocationBytes).value_or("");
  algorithm.version = fields.string("version", true, kMaxIdentifierBytes).value_or("");
  return algorithm;
}

}  // namespace

Result<Algorithm> parse_algorithm_request(std::string_view body,
                                          const std::optional<std::string>& path_id) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  std::optional<Error> mismatch;
  Algorithm algorithm = read_fields(fields, path_id, mismatch);
  if (auto error = fields.finish()) return *error;
  if (mismatch) return *mismatch;
  return algorithm;
}

std::string encode_algorithm(const Algorithm& algorithm,
                             std::optional<std::int64_t> expected_revision) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  for (auto [name, value] :
       {std::pair{"algo_id", &algorithm.algo_id},
        std::pair{"recording_type", &algorithm.recording_type},
        std::pair{"location", &algorithm.location}, std::pair{"version", &algorithm.version}}) {
    writer.Key(name);
    write_string(writer, *value);
  }
  if (expected_revision) {
    writer.Key("expected_revision");
    writer.Int64(*expected_revision);
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<AlgorithmChange> decode_algorithm(std::string_view payload) {
  auto document = parse_json_object(payload, "algorithm payload");
  if (!document) return document.error();
  rapidjson::Document& object = document.value();
  std::optional<std::int64_t> expected_revision;
  auto member = object.FindMember("expected_revision");
  if (member != object.MemberEnd()) {
    if (!member->value.IsInt64()) return invalid("algorithm payload: bad expected_revision");
    expected_revision = member->value.GetInt64();
    object.RemoveMember(member);
  }
  JsonFieldReader fields(object);
  std::optional<Error> mismatch;
  Algorithm algorithm = read_fields(fields, std::nullopt, mismatch);
  if (auto error = fields.finish()) return invalid("algorithm payload: " + error->message);
  return AlgorithmChange{algorithm, expected_revision};
}

std::string encode_algorithm_deleted(std::string_view algo_id) {
  return encode_id_payload("algo_id", algo_id);
}

Result<std::string> decode_algorithm_deleted(std::string_view payload) {
  return decode_id_payload(payload, "algo_id", "algorithm deletion");
}

Result<AlgorithmQuery> parse_algorithm_query(const QueryParameters& parameters) {
  AlgorithmQuery query;
  auto page = parse_filters_and_page(
      parameters, {{"recording_type", &query.recording_type}, {"version", &query.version}});
  if (!page) return page.error();
  query.page = *page;
  return query;
}

}  // namespace tidemark::domain
