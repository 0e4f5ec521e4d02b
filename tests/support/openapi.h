#pragma once

#include <rapidjson/document.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/http_client.h"

namespace tidemark::testing {

/// The HTTP methods an OpenAPI path item may hold, lower case as the document writes them.
const std::vector<std::string>& openapi_methods();

/// Parses JSON text (RapidJSON's default flags); check HasParseError().
rapidjson::Document parse_json(std::string_view text);

/// api/openapi.json as the source tree has it.
std::string read_openapi_source();

/// What a local `$ref` (`#/components/...`) points at; nullptr when it points at nothing.
const rapidjson::Value* resolve_ref(const rapidjson::Document& document, std::string_view ref);
/// `value` itself, or what it refers to when it is a `{"$ref": ...}`; nullptr for a dangling one.
const rapidjson::Value* dereference(const rapidjson::Document& document,
                                    const rapidjson::Value& value);

/// JSON Schema (2020-12, as OpenAPI 3.1 uses it), the subset api/openapi.json keeps to. Of the
/// formats, `date-time` (RFC 3339) and `uuid` are checked; the others are annotations.
class SchemaValidator {
 public:
  explicit SchemaValidator(const rapidjson::Document& document) : document_(document) {}

  /// The keywords this validator understands; a schema using any other is a problem.
  static const std::set<std::string>& keywords();

  /// What is wrong with `value` against `schema`, one line per problem; empty when it conforms.
  std::vector<std::string> problems(const rapidjson::Value& value, const rapidjson::Value& schema,
                                    const std::string& where = "$") const;

 private:
  void check(const rapidjson::Value& value, const rapidjson::Value& schema, const std::string& at,
             std::vector<std::string>& found) const;

  const rapidjson::Document& document_;
};

/// What is wrong with `reply` as an answer of the documented operation `method path_template`
/// (`method` in any case): the operation or the status is not documented, the Content-Type is
/// not among the status's, a body where none is documented, a JSON body that does not parse or
/// does not match its schema. Empty when the answer is as documented.
std::vector<std::string> response_problems(const rapidjson::Document& document,
                                           const SchemaValidator& validator,
                                           const std::string& method,
                                           const std::string& path_template,
                                           const HttpReply& reply);

}  // namespace tidemark::testing
