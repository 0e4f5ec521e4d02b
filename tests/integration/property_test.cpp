// Property-based test of the HTTP API against its OpenAPI document (api/openapi.json). For every
// documented operation it generates requests from the operation's parameter and body schemas with
// a seeded PRNG: valid instances (types, required fields, enums, lengths, ranges, formats, with
// realistic values for fields such as links and credentials so that the 2xx paths are reached)
// and invalid ones (a missing required field, a wrong type, an over-long string, an out-of-range
// number, null, an unknown field, malformed JSON, a wrong Content-Type, odd bytes in path ids,
// bad query parameters and headers, bad tokens). Callers are real accounts (user, analyst,
// admin, and throwaway accounts for the routes that end sessions or delete the account), and path
// ids are real ones part of the time. Every answer must keep three properties, and the run two:
//
//  - no 5xx. 503 counts too: the stack is healthy and requests go one at a time, so nothing may
//    be unavailable, overloaded or not projected within projection_wait_ms; long-polls answer
//    200 or 202 with the current state when their (short, generated) wait ends. The one
//    exception is /docs and /redoc when the web packages are not installed (documented 503).
//  - every 4xx carries a message: a JSON object with a non-empty string `detail`;
//  - every answer of the operation has a documented status, Content-Type and, for JSON, a body
//    that matches the documented schema of that status (2xx and 4xx alike);
//  - no event the API accepted is refused by the projector (the dead-letter topic holds none);
//  - the main accounts still sign in at the end.
//
// Answers Pistache gives before the API sees the request (a Content-Type it cannot parse gets
// its own plain-text 415; they carry no X-Request-Id) are listed in the summary and checked for
// 5xx only. A mailer runs so that mailed codes reach the 2xx of verify-email and password-reset.
//
// Knobs: TIDEMARK_PROPERTY_SEED (default: random, printed), TIDEMARK_PROPERTY_CASES (cases per
// operation, default 40), TIDEMARK_PROPERTY_ONLY (a regular expression over "METHOD /path").
// A failure prints the operation, the request as sent, the answer, the seed and the case, and
// the API's log lines of that request.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/media.h"
#include "tests/support/openapi.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kDefaultCases = 40;
constexpr std::size_t kMaxBodyBytes = 1 << 20;     // the API's default max_body_bytes
constexpr std::size_t kMaxUploadBytes = 16 << 20;  // and max_upload_bytes

// ---------------------------------------------------------------------------------------------
// Randomness: splitmix64, so that a seed means the same inputs on every platform and library.

class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t bound) { return bound == 0 ? 0 : next() % bound; }
  /// Uniform in [low, high].
  std::int64_t between(std::int64_t low, std::int64_t high) {
    if (high <= low) return low;
    return low + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(high - low) + 1));
  }
  double unit() { return static_cast<double>(next() >> 11) / static_cast<double>(1ULL << 53); }
  bool chance(double probability) { return unit() < probability; }
  template <class T>
  const T& pick(const std::vector<T>& options) {
    return options[below(options.size())];
  }
  std::string token(std::size_t length) {
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string text;
    for (std::size_t i = 0; i < length; ++i) text += kAlphabet[below(sizeof kAlphabet - 1)];
    return text;
  }

 private:
  std::uint64_t state_;
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Random random(a * 0x100000001B3ULL ^ b);
  return random.next();
}

std::uint64_t hash_text(std::string_view text) {
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 0x100000001B3ULL;
  return hash;
}

// ---------------------------------------------------------------------------------------------
// JSON values as generated: kept as a tree so mutations can reach into them, written by hand so
// that invalid texts (numbers beyond a double, lone surrogates) can be written too.

struct Node {
  enum class Kind { null, boolean, integer, number, string, array, object, raw };
  Kind kind = Kind::null;
  bool boolean = false;
  std::int64_t integer = 0;
  double number = 0;
  std::string text;  ///< a string's UTF-8, or raw JSON text
  std::vector<Node> items;
  std::vector<std::pair<std::string, Node>> members;

  static Node of_kind(Kind kind) {
    Node node;
    node.kind = kind;
    return node;
  }
  static Node string(std::string value) {
    Node node = of_kind(Kind::string);
    node.text = std::move(value);
    return node;
  }
  static Node integer_value(std::int64_t value) {
    Node node = of_kind(Kind::integer);
    node.integer = value;
    return node;
  }
  static Node number_value(double value) {
    Node node = of_kind(Kind::number);
    node.number = value;
    return node;
  }
  static Node boolean_value(bool value) {
    Node node = of_kind(Kind::boolean);
    node.boolean = value;
    return node;
  }
  static Node raw(std::string json) {
    Node node = of_kind(Kind::raw);
    node.text = std::move(json);
    return node;
  }

  const Node* member(const std::string& name) const {
    for (const auto& [key, value] : members) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

std::string number_text(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

void write_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void write_json(std::string& out, const Node& node) {
  switch (node.kind) {
    case Node::Kind::null:
      out += "null";
      return;
    case Node::Kind::boolean:
      out += node.boolean ? "true" : "false";
      return;
    case Node::Kind::integer:
      out += std::to_string(node.integer);
      return;
    case Node::Kind::number:
      out += number_text(node.number);
      return;
    case Node::Kind::string:
      write_json_string(out, node.text);
      return;
    case Node::Kind::raw:
      out += node.text;
      return;
    case Node::Kind::array:
      out += '[';
      for (std::size_t i = 0; i < node.items.size(); ++i) {
        if (i) out += ',';
        write_json(out, node.items[i]);
      }
      out += ']';
      return;
    case Node::Kind::object:
      out += '{';
      for (std::size_t i = 0; i < node.members.size(); ++i) {
        if (i) out += ',';
        write_json_string(out, node.members[i].first);
        out += ':';
        write_json(out, node.members[i].second);
      }
      out += '}';
      return;
  }
}

std::string to_json(const Node& node) {
  std::string out;
  write_json(out, node);
  return out;
}

Node from_rapidjson(const rapidjson::Value& value) {
  if (value.IsBool()) return Node::boolean_value(value.GetBool());
  if (value.IsInt64()) return Node::integer_value(value.GetInt64());
  if (value.IsNumber()) return Node::number_value(value.GetDouble());
  if (value.IsString()) return Node::string({value.GetString(), value.GetStringLength()});
  if (value.IsArray()) {
    Node node = Node::of_kind(Node::Kind::array);
    for (const auto& item : value.GetArray()) node.items.push_back(from_rapidjson(item));
    return node;
  }
  if (value.IsObject()) {
    Node node = Node::of_kind(Node::Kind::object);
    for (const auto& member : value.GetObject()) {
      node.members.emplace_back(member.name.GetString(), from_rapidjson(member.value));
    }
    return node;
  }
  return Node{};
}

/// The text of a scalar as a query parameter or header carries it.
std::string scalar_text(const Node& node) {
  switch (node.kind) {
    case Node::Kind::string:
    case Node::Kind::raw:
      return node.text;
    case Node::Kind::integer:
      return std::to_string(node.integer);
    case Node::Kind::number:
      return number_text(node.number);
    case Node::Kind::boolean:
      return node.boolean ? "true" : "false";
    default:
      return to_json(node);
  }
}

std::string encode_utf8(std::uint32_t code_point) {
  std::string out;
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return out;
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
std::string percent_encode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

/// Bytes as a reader can see them: printable ASCII as is, the rest escaped; long texts cut.
std::string printable(std::string_view bytes, std::size_t limit = 700) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7F) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02X", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > limit) {
    out += "… (" + std::to_string(bytes.size()) + " bytes in all)";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The document's operations.

struct Parameter {
  std::string name;
  std::string in;  ///< path, query, header
  bool required = false;
  const rapidjson::Value* schema = nullptr;
};

struct Operation {
  std::string method;  ///< upper case
  std::string path;
  bool is_public = false;
  std::vector<Parameter> parameters;
  bool body_required = false;
  std::vector<std::pair<std::string, const rapidjson::Value*>> bodies;  ///< media type, schema

  std::string name() const { return method + " " + path; }
  const rapidjson::Value* body_schema(const std::string& media_type) const {
    for (const auto& [type, schema] : bodies) {
      if (type == media_type) return schema;
    }
    return nullptr;
  }
  bool has(const std::string& in) const {
    return std::any_of(parameters.begin(), parameters.end(),
                       [&](const Parameter& parameter) { return parameter.in == in; });
  }
};

std::vector<Operation> read_operations(const rapidjson::Document& document) {
  std::vector<Operation> operations;
  for (const auto& path : document["paths"].GetObject()) {
    for (const auto& method : openapi_methods()) {
      if (!path.value.HasMember(method.c_str())) continue;
      const auto& entry = path.value[method.c_str()];
      Operation operation;
      for (char c : method) {
        operation.method += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      operation.path = path.name.GetString();
      operation.is_public = entry.HasMember("security") && entry["security"].Empty();
      if (entry.HasMember("parameters")) {
        for (const auto& listed : entry["parameters"].GetArray()) {
          const rapidjson::Value* parameter = dereference(document, listed);
          if (!parameter) throw std::runtime_error(operation.name() + ": dangling parameter");
          Parameter read;
          read.name = (*parameter)["name"].GetString();
          read.in = (*parameter)["in"].GetString();
          read.required = parameter->HasMember("required") && (*parameter)["required"].GetBool();
          read.schema = &(*parameter)["schema"];
          operation.parameters.push_back(read);
        }
      }
      if (entry.HasMember("requestBody")) {
        const rapidjson::Value* body = dereference(document, entry["requestBody"]);
        operation.body_required = body->HasMember("required") && (*body)["required"].GetBool();
        for (const auto& media : (*body)["content"].GetObject()) {
          operation.bodies.emplace_back(media.name.GetString(), &media.value["schema"]);
        }
      }
      operations.push_back(std::move(operation));
    }
  }
  return operations;
}

// ---------------------------------------------------------------------------------------------
// What the test knows of the stack: its accounts, and the ids and revisions it has seen.

struct Account {
  std::string label;  ///< user, analyst, admin, throwaway-N
  std::string username;
  std::string email;
  std::string password;
  std::string user_id;
  std::string session_id;
  std::string access_token;
  std::string refresh_token;
  bool throwaway = false;
  bool spent = false;  ///< its session (or the account) may have ended
};

struct Owned {
  std::string id;
  std::string owner;  ///< the account's user_id
};

struct World {
  std::deque<Account> main;  ///< user, analyst, admin: never logged out, deleted or demoted
  std::deque<Account> throwaways;
  std::map<std::string, std::vector<Owned>> ids;  ///< kind → what exists (or existed)
  std::map<std::string, std::string> etags;       ///< resource path → the last ETag seen
  std::vector<std::string> positions;
  /// Verification and reset codes the mailer sent, with their recipients.
  std::vector<std::pair<std::string, std::string>> mailed_codes;
  int throwaway_count = 0;

  void remember(const std::string& kind, const std::string& id, const std::string& owner) {
    if (id.empty()) return;
    auto& known = ids[kind];
    for (const auto& entry : known) {
      if (entry.id == id) return;
    }
    known.push_back({id, owner});
    if (known.size() > 64) known.erase(known.begin());
  }
};

/// Operations whose success ends the caller's session or account (or changes its credentials):
/// they run as throwaway accounts, never as the main ones.
bool ends_the_caller(const std::string& operation) {
  static const std::set<std::string> listed = {
      "DELETE /auth/logout", "DELETE /auth/sessions", "DELETE /auth/sessions/{session_id}",
      "DELETE /user/delete", "PATCH /user/update",    "PUT /profile/{id}"};
  return listed.count(operation) > 0;
}

std::string json_string(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name) || !object[name].IsString()) return "";
  return {object[name].GetString(), object[name].GetStringLength()};
}

// ---------------------------------------------------------------------------------------------
// One request as it is built, mutated, sent and reported.

/// Where a generated node sits in the body tree, and the schema it was made from.
struct Slot {
  std::vector<std::size_t> path;
  const rapidjson::Value* schema = nullptr;
  std::string name;
};

struct Draft {
  const Operation* operation = nullptr;
  Account* caller = nullptr;  ///< nullptr: anonymous
  bool cookie_auth = false;
  std::optional<std::string> authorization;  ///< replaces the caller's credentials
  std::map<std::string, std::string> path_values;
  std::map<std::string, std::string> raw_path_values;  ///< sent as they are, not encoded
  std::vector<std::pair<std::string, std::string>> query;
  std::string raw_query;  ///< appended as it is
  std::map<std::string, std::string> headers;
  std::string content_type;
  std::optional<Node> json;
  std::vector<Slot> slots;
  bool multipart = false;
  std::optional<std::string> raw_body;
  std::string mutation = "valid";

  Node* at(const std::vector<std::size_t>& path) {
    Node* node = &*json;
    for (std::size_t index : path) {
      node = node->kind == Node::Kind::object ? &node->members[index].second : &node->items[index];
    }
    return node;
  }
  const Node* at(const std::vector<std::size_t>& path) const {
    return const_cast<Draft*>(this)->at(path);
  }
};

struct Sent {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;
  std::string body;

  std::string describe() const {
    std::string text = method + " " + printable(target, 400) + "\n";
    for (const auto& [name, value] : headers)
      text += "    " + name + ": " + printable(value, 200) + "\n";
    text += "    body: " + (body.empty() ? std::string("(none)") : printable(body));
    return text;
  }
};

std::string multipart_body(const std::string& boundary, const std::string& metadata,
                           const std::string& media_type, const std::string& content) {
  return "--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n"
         "Content-Type: application/json\r\n\r\n" +
         metadata + "\r\n--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"content\"; filename=\"recording\"\r\n"
         "Content-Type: " +
         media_type + "\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
}

Sent render(const Draft& draft) {
  Sent sent;
  sent.method = draft.operation->method;
  static const std::regex parameter("\\{([^}]+)\\}");
  std::string path;
  std::string text = draft.operation->path;
  std::size_t last = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), parameter), end; it != end; ++it) {
    path += text.substr(last, static_cast<std::size_t>(it->position()) - last);
    std::string name = (*it)[1];
    if (draft.raw_path_values.count(name)) {
      path += draft.raw_path_values.at(name);
    } else {
      path += percent_encode(draft.path_values.count(name) ? draft.path_values.at(name) : "x");
    }
    last = static_cast<std::size_t>(it->position() + it->length());
  }
  path += text.substr(last);
  std::string query;
  for (const auto& [name, value] : draft.query) {
    query += (query.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(value);
  }
  query += draft.raw_query;
  sent.target = path + (query.empty() ? "" : "?" + query);
  sent.headers = draft.headers;
  if (draft.authorization) {
    if (!draft.authorization->empty()) sent.headers["Authorization"] = *draft.authorization;
  } else if (draft.caller) {
    if (draft.cookie_auth) {
      sent.headers["Cookie"] = "X-LIVENESS-TOKEN=" + draft.caller->access_token;
    } else {
      sent.headers["Authorization"] = "Bearer " + draft.caller->access_token;
    }
  }
  if (draft.raw_body) {
    sent.body = *draft.raw_body;
  } else if (draft.json) {
    sent.body = to_json(*draft.json);
  }
  bool sends_body =
      !sent.body.empty() || sent.method == "POST" || sent.method == "PUT" || sent.method == "PATCH";
  // HttpClient adds `Content-Type: application/json` to a body without one; an empty value
  // stands for none.
  if (sends_body) sent.headers["Content-Type"] = draft.content_type;
  return sent;
}

// ---------------------------------------------------------------------------------------------
// The generator: valid instances of a schema, with realistic values where a field's name says
// what the API expects (so that valid requests reach the 2xx paths), and mutations of them.

std::vector<std::string> types_of(const rapidjson::Value& schema) {
  std::vector<std::string> types;
  if (!schema.HasMember("type")) return types;
  const auto& type = schema["type"];
  if (type.IsString()) {
    types.emplace_back(type.GetString());
  } else {
    for (const auto& one : type.GetArray()) types.emplace_back(one.GetString());
  }
  return types;
}

bool allows(const std::vector<std::string>& types, const std::string& type) {
  if (types.empty()) return true;
  if (type == "integer" && std::count(types.begin(), types.end(), "number")) return true;
  return std::count(types.begin(), types.end(), type) > 0;
}

class Generator {
 public:
  Generator(const rapidjson::Document& document, World& world, Random& random,
            const Operation& operation, Account* caller)
      : document_(document),
        world_(world),
        random_(random),
        operation_(operation),
        caller_(caller) {}

  /// An account whose credentials a login, refresh or logout body uses.
  Account* subject = nullptr;
  /// The request's path parameters, decoded.
  std::map<std::string, std::string> path_values;

  /// A valid instance of `schema`, recording where each node came from in `slots`.
  Node valid(const rapidjson::Value& raw_schema, const std::string& name,
             std::vector<std::size_t> path, std::vector<Slot>* slots) {
    const rapidjson::Value* schema = dereference(document_, raw_schema);
    if (slots) slots->push_back({path, schema, name});
    if (schema->HasMember("const")) return from_rapidjson((*schema)["const"]);
    if (schema->HasMember("enum")) {
      const auto& options = (*schema)["enum"];
      return from_rapidjson(
          options[static_cast<rapidjson::SizeType>(random_.below(options.Size()))]);
    }
    if (schema->HasMember("oneOf")) {
      const auto& options = (*schema)["oneOf"];
      const auto& option = options[static_cast<rapidjson::SizeType>(random_.below(options.Size()))];
      if (slots) slots->pop_back();
      return valid(option, name, std::move(path), slots);
    }
    auto types = types_of(*schema);
    std::string type;
    if (types.empty()) {
      type = schema->HasMember("properties") ? "object" : "any";
    } else {
      std::vector<std::string> concrete;
      for (const auto& one : types) {
        if (one != "null") concrete.push_back(one);
      }
      bool nullable = concrete.size() < types.size();
      type =
          concrete.empty() || (nullable && random_.chance(0.12)) ? "null" : random_.pick(concrete);
    }
    if (type == "null") return Node{};
    if (auto hinted = hint(name, type, *schema)) return *hinted;
    if (type == "object") return object(*schema, path, slots);
    if (type == "array") {
      Node node = Node::of_kind(Node::Kind::array);
      auto count = random_.below(4);
      for (std::size_t i = 0; i < count; ++i) {
        auto child = path;
        child.push_back(i);
        node.items.push_back(schema->HasMember("items")
                                 ? valid((*schema)["items"], name, child, slots)
                                 : free_value(2));
      }
      return node;
    }
    if (type == "string") return Node::string(string_value(*schema));
    if (type == "integer") return Node::integer_value(integer_value(*schema));
    if (type == "number") return Node::number_value(number_value(*schema));
    if (type == "boolean") return Node::boolean_value(random_.chance(0.5));
    return free_value(3);
  }

  /// Any JSON value, for schemas that leave it open (event_data).
  Node free_value(int depth) {
    auto choice = random_.below(depth > 0 ? 8 : 6);
    switch (choice) {
      case 0:
        return Node{};
      case 1:
        return Node::boolean_value(random_.chance(0.5));
      case 2:
        return Node::integer_value(random_.between(-1000000, 1000000));
      case 3:
        return Node::number_value(static_cast<double>(random_.between(-100000, 100000)) / 7.0);
      case 4:
      case 5:
        return Node::string(text(random_.between(0, 12)));
      case 6: {
        Node node = Node::of_kind(Node::Kind::array);
        for (std::uint64_t i = random_.below(4); i > 0; --i)
          node.items.push_back(free_value(depth - 1));
        return node;
      }
      default: {
        Node node = Node::of_kind(Node::Kind::object);
        for (std::uint64_t i = random_.below(4); i > 0; --i) {
          node.members.emplace_back(text(random_.between(1, 8)), free_value(depth - 1));
        }
        return node;
      }
    }
  }

  /// `count` characters: mostly ASCII letters and digits, with punctuation, escapes, and two-,
  /// three- and four-byte UTF-8 among them.
  std::string text(std::int64_t count) {
    static const std::vector<std::uint32_t> kOdd = {
        ' ',    '"',    '\\',   '/',     '\'',    '<',   '>',   '&',   '%',
        '+',    '\n',   '\t',   0xE9,    0xDF,    0x416, 0x5D0, 0x627, 0x6F22,
        0x20AC, 0x202E, 0xFEFF, 0x1F600, 0x10348, 0x7F,  0xA0};
    std::string out;
    for (std::int64_t i = 0; i < count; ++i) {
      if (random_.chance(0.85)) {
        out += random_.token(1);
      } else {
        out += encode_utf8(random_.pick(kOdd));
      }
    }
    return out;
  }

  std::string uuid() {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
      if (i == 12) {
        out += '4';
      } else if (i == 16) {
        out += kHex[8 + random_.below(4)];
      } else {
        out += kHex[random_.below(16)];
      }
    }
    return out;
  }

  std::string date_time() {
    char buffer[64];
    std::snprintf(
        buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d",
        static_cast<int>(random_.between(2000, 2035)), static_cast<int>(random_.between(1, 12)),
        static_cast<int>(random_.between(1, 28)), static_cast<int>(random_.between(0, 23)),
        static_cast<int>(random_.between(0, 59)), static_cast<int>(random_.between(0, 59)));
    std::string out = buffer;
    if (random_.chance(0.3)) out += "." + std::to_string(random_.between(0, 999999));
    if (random_.chance(0.7)) {
      out += "Z";
    } else {
      std::snprintf(buffer, sizeof buffer, "%c%02d:%02d", random_.chance(0.5) ? '+' : '-',
                    static_cast<int>(random_.between(0, 14)),
                    static_cast<int>(random_.pick(std::vector<std::int64_t>{0, 30, 45})));
      out += buffer;
    }
    return out;
  }

  std::string string_value(const rapidjson::Value& schema) {
    std::string format = schema.HasMember("format") ? schema["format"].GetString() : "";
    if (format == "uuid") return uuid();
    if (format == "date-time") return date_time();
    if (schema.HasMember("pattern") &&
        std::string(schema["pattern"].GetString()) == "^[0-9]+:[0-9]+$") {
      return std::to_string(random_.between(0, 5)) + ":" + std::to_string(random_.between(0, 500));
    }
    std::int64_t minimum = schema.HasMember("minLength") ? schema["minLength"].GetInt64() : 0;
    std::int64_t maximum =
        schema.HasMember("maxLength") ? schema["maxLength"].GetInt64() : minimum + 40;
    std::int64_t length = random_.chance(0.75)
                              ? random_.between(minimum, std::min(maximum, minimum + 16))
                          : random_.chance(0.5) ? maximum
                                                : random_.between(minimum, maximum);
    return text(length);
  }

  std::int64_t integer_value(const rapidjson::Value& schema) {
    std::int64_t minimum = schema.HasMember("minimum") ? schema["minimum"].GetInt64() : -1000;
    std::int64_t maximum =
        schema.HasMember("maximum") ? schema["maximum"].GetInt64() : minimum + 2000;
    if (random_.chance(0.2)) return random_.chance(0.5) ? minimum : maximum;
    if (random_.chance(0.7)) return random_.between(minimum, std::min(maximum, minimum + 5));
    return random_.between(minimum, maximum);
  }

  double number_value(const rapidjson::Value& schema) {
    double minimum = schema.HasMember("minimum") ? schema["minimum"].GetDouble() : -1000;
    double maximum = schema.HasMember("maximum") ? schema["maximum"].GetDouble() : minimum + 2000;
    if (random_.chance(0.15)) return random_.chance(0.5) ? minimum : maximum;
    return minimum + (maximum - minimum) * random_.unit();
  }

  Node object(const rapidjson::Value& schema, const std::vector<std::size_t>& path,
              std::vector<Slot>* slots) {
    Node node = Node::of_kind(Node::Kind::object);
    if (!schema.HasMember("properties")) {
      // An open object (event_data, a job's result): anything.
      for (std::uint64_t i = random_.below(4); i > 0; --i) {
        node.members.emplace_back(text(random_.between(1, 10)), free_value(2));
      }
      return node;
    }
    std::set<std::string> required;
    if (schema.HasMember("required")) {
      for (const auto& name : schema["required"].GetArray()) required.insert(name.GetString());
    }
    std::vector<std::string> optional;
    std::vector<std::string> chosen;
    for (const auto& property : schema["properties"].GetObject()) {
      std::string name = property.name.GetString();
      if (required.count(name) || random_.chance(0.55)) {
        chosen.push_back(name);
      } else {
        optional.push_back(name);
      }
    }
    // The seeds' names for one field are aliases, given one at a time (the schemas' descriptions
    // say so); a login names the account once, by username or by email.
    std::vector<std::set<std::string>> aliases = {
        {"username", "user"}, {"full_name", "fullname", "name"}, {"session-id", "session_id"}};
    if (operation_.path.find("login") != std::string::npos) {
      aliases.push_back({"username", "user", "email"});
    }
    if (random_.chance(0.9)) {
      for (const auto& group : aliases) {
        std::vector<std::string> present;
        for (const auto& name : chosen) {
          if (group.count(name)) present.push_back(name);
        }
        if (present.size() < 2) continue;
        std::string kept = random_.pick(present);
        chosen.erase(std::remove_if(chosen.begin(), chosen.end(),
                                    [&](const std::string& name) {
                                      return group.count(name) && name != kept;
                                    }),
                     chosen.end());
      }
    }
    std::size_t at_least =
        schema.HasMember("minProperties") ? schema["minProperties"].GetUint() : 0;
    while (chosen.size() < at_least && !optional.empty()) {
      chosen.push_back(optional.back());
      optional.pop_back();
    }
    for (const auto& name : chosen) {
      auto child = path;
      child.push_back(node.members.size());
      node.members.emplace_back(name,
                                valid(schema["properties"][name.c_str()], name, child, slots));
    }
    return node;
  }

  /// A value that the API will take, when the field's name says what that is.
  std::optional<Node> hint(const std::string& name, const std::string& type,
                           const rapidjson::Value& schema) {
    if (name == "wait") {
      // Long-polls are kept short; without `wait`, /stream and /predict wait 25–30 s.
      return std::optional<Node>(
          Node::number_value(random_.chance(0.5) ? 0 : random_.unit() * 1.2));
    }
    if (!random_.chance(0.85)) return std::nullopt;
    const std::string op = operation_.name();
    auto string = [](std::string value) {
      return std::optional<Node>(Node::string(std::move(value)));
    };
    if ((name == "session-id" || name == "session_id") && op == "POST /auth/logout" && subject) {
      return string(subject->session_id);
    }
    if (name == "token" && !world_.mailed_codes.empty() && random_.chance(0.8)) {
      return string(random_.pick(world_.mailed_codes).first);
    }
    // Other hints are plain text: a uuid or date-time comes from its format.
    std::string format = schema.HasMember("format") ? schema["format"].GetString() : "";
    if (type == "string" && !format.empty() && format != "password") return std::nullopt;
    if (type == "string") {
      if (name == "password") {
        return string(subject && random_.chance(0.85) ? subject->password
                                                      : "pw-" + random_.token(12));
      }
      if (name == "username" || name == "user") {
        if (subject && !subject->username.empty()) return string(subject->username);
        return string("prop" + random_.token(8));
      }
      if (name == "email") {
        if (subject && !subject->email.empty()) return string(subject->email);
        if (op.find("password-reset") != std::string::npos && !world_.throwaways.empty()) {
          const Account& account = world_.throwaways[random_.below(world_.throwaways.size())];
          if (!account.email.empty()) return string(account.email);
        }
        return string("prop" + random_.token(8) + "@example.com");
      }
      if (name == "refresh_token" && subject) return string(subject->refresh_token);
      if (name == "recording_link") return string("https://cdn.example.com/r/" + random_.token(8));
      if (name == "callback_url") return string("https://hooks.example.com/" + random_.token(6));
      if (name == "location") {
        return string(random_.pick(std::vector<std::string>{"builtin:summary", "builtin:summary",
                                                            "builtin:face-detection"}));
      }
      if (name == "recording_type") {
        return string(random_.pick(std::vector<std::string>{"sensor", "sensor", "sensor", "face",
                                                            "audio", random_.token(5)}));
      }
      if (name == "version") return string(std::to_string(random_.between(1, 9)));
      // A replacement names the resource of its path again.
      if (operation_.method == "PUT" && random_.chance(0.8)) {
        for (const auto& [parameter, value] : path_values) {
          if (parameter == name || (parameter == "id" && name == "user_id")) return string(value);
        }
      }
      if (name == "algo_id") {
        if (op == "POST /algos") return string("algo-" + random_.token(8));
        if (auto known = known_id("algo")) return string(*known);
      }
      if (name == "recording_id" && op == "POST /recordings") {
        return string("rec-" + random_.token(8));
      }
      if (name == "user_id") {
        if (op == "POST /users") return string("app-" + random_.token(8));
        return string(
            random_.pick(std::vector<std::string>{"u1", "u2", "app-" + random_.token(3)}));
      }
      if (name == "event_type") {
        return string(random_.pick(std::vector<std::string>{"screen_view", "tap", "crash"}));
      }
      if (name == "event_source") {
        return string(random_.pick(std::vector<std::string>{"ios", "android", "web"}));
      }
      if (name == "type" && op == "GET /log") {
        return string(random_.pick(std::vector<std::string>{"tidemark.log_entry.recorded.v1",
                                                            "tidemark.recording.created.v1",
                                                            "tidemark.user.registered.v1"}));
      }
      if (name == "full_name" || name == "fullname" || name == "name") {
        return string("Prop " + random_.token(5));
      }
      if (name == "position" || name == "X-Tidemark-Position") {
        if (!world_.positions.empty()) return string(random_.pick(world_.positions));
      }
      if (name == "If-Match") {
        return string(random_.chance(0.3) ? "W/\"" + std::to_string(random_.between(1, 4)) + "\""
                                          : current_etag());
      }
      if (name == "Idempotency-Key") return string("key-" + random_.token(12));
    }
    if (name == "wait") {
      // Long-polls are kept short; without `wait`, /stream and /predict wait 25–30 s.
      return std::optional<Node>(
          Node::number_value(random_.chance(0.5) ? 0 : random_.unit() * 1.2));
    }
    if (name == "page") return std::optional<Node>(Node::integer_value(random_.between(1, 3)));
    if (name == "size") return std::optional<Node>(Node::integer_value(random_.between(1, 100)));
    if (name == "Last-Event-ID" || name == "last_event_id") {
      return std::optional<Node>(Node::integer_value(random_.between(0, 6)));
    }
    if ((name == "height" || name == "weight") && allows(types_of(schema), "number")) {
      return std::optional<Node>(Node::number_value(random_.between(40, 220) + random_.unit()));
    }
    return std::nullopt;
  }

  /// A real id of `kind`, preferring the caller's own.
  std::optional<std::string> known_id(const std::string& kind) {
    auto found = world_.ids.find(kind);
    if (found == world_.ids.end() || found->second.empty()) return std::nullopt;
    std::vector<Owned> own;
    for (const auto& entry : found->second) {
      if (caller_ && entry.owner == caller_->user_id) own.push_back(entry);
    }
    if (!own.empty() && random_.chance(0.6)) return random_.pick(own).id;
    return random_.pick(found->second).id;
  }

  /// The ETag last seen for the resource the path names.
  std::string current_etag() {
    auto found = world_.etags.find(resource_path);
    return found == world_.etags.end() ? "W/\"1\"" : found->second;
  }

  std::string resource_path;

 private:
  const rapidjson::Document& document_;
  World& world_;
  Random& random_;
  const Operation& operation_;
  Account* caller_;
};

// ---------------------------------------------------------------------------------------------
// Mutations: each makes one part of a valid request invalid (or odd), and names what it did.

struct Mutation {
  std::string name;
  std::function<void(Draft&, Random&)> apply;
};

/// A value of a JSON type the schema does not allow.
Node wrong_type(const std::vector<std::string>& types, Random& random) {
  std::vector<Node> options;
  if (!allows(types, "string")) options.push_back(Node::string("wrong"));
  if (!allows(types, "integer")) options.push_back(Node::integer_value(7));
  if (!allows(types, "number")) options.push_back(Node::number_value(2.5));
  if (!allows(types, "boolean")) options.push_back(Node::boolean_value(true));
  if (!allows(types, "array")) options.push_back(Node::of_kind(Node::Kind::array));
  if (!allows(types, "object")) options.push_back(Node::of_kind(Node::Kind::object));
  if (!allows(types, "null")) options.push_back(Node{});
  return options.empty() ? Node{} : random.pick(options);
}

/// Path ids a client could send and the server must survive.
std::string odd_path_id(Random& random) {
  static const std::vector<std::string> kOdd = {"%00",
                                                "%FF",
                                                "%C3%28",
                                                "%ED%A0%80",
                                                "..",
                                                "%2E%2E",
                                                "%2F",
                                                "a%2Fb",
                                                "%20",
                                                "%E2%80%AE",
                                                "%F0%9F%98%80",
                                                "%27%20OR%201%3D1--",
                                                "null",
                                                "-1",
                                                "0",
                                                "%5C",
                                                "%0A",
                                                "%25",
                                                "%7B%7D",
                                                "0b6f3c5e-8a0e-4d4f-9a53-2f5cfb7c1e1Z",
                                                "0B6F3C5E-8A0E-4D4F-9A53-2F5CFB7C1E10",
                                                "%7B0b6f3c5e-8a0e-4d4f-9a53-2f5cfb7c1e10%7D",
                                                "00000000-0000-0000-0000-000000000000",
                                                "\xC3\xA9t\xC3\xA9",
                                                "1e400",
                                                "%2B"};
  std::uint64_t choice = random.below(kOdd.size() + 2);
  if (choice == kOdd.size())
    return std::string(static_cast<std::size_t>(random.between(129, 5000)), 'a');
  if (choice == kOdd.size() + 1) {
    std::string bytes;
    for (std::int64_t i = random.between(1, 12); i > 0; --i) {
      bytes += "%" + std::string(1, "0123456789ABCDEF"[random.below(16)]) +
               std::string(1, "0123456789ABCDEF"[random.below(16)]);
    }
    return bytes;
  }
  return kOdd[choice];
}

std::string malformed_json(const std::string& valid, Random& random) {
  std::vector<std::function<std::string()>> variants = {
      [&] { return valid.substr(0, static_cast<std::size_t>(random.below(valid.size() + 1))); },
      [&] { return valid + "}"; },
      [&] { return valid + " trailing"; },
      [&] { return "{'user_id': 'x'}"; },
      [&] { return "{\"a\":}"; },
      [&] { return "{\"a\":1,}"; },
      [&] { return "["; },
      [&] { return "\xEF\xBB\xBF" + valid; },
      [&] { return "/* comment */" + valid; },
      [&] { return "{\"a\":NaN}"; },
      [&] { return "{\"a\":Infinity}"; },
      [&] { return "{\"a\":1e400}"; },
      [&] { return "{\"a\":-1e400}"; },
      [&] { return "{\"a\":012}"; },
      [&] { return "{\"a\":\"\xFF\xFE\"}"; },
      [&] { return "{\"a\":\"\\ud800\"}"; },
      [&] { return "{\"a\":\"\\udc00x\"}"; },
      [&] { return "{\"a\":\"\\u00\"}"; },
      [&] { return "{\"a\":\"line\nbreak\"}"; },
      [&] { return std::string(static_cast<std::size_t>(random.between(1, 100000)), '['); },
      [&] { return std::string(100000, '{'); },
      [&] {
        std::string deep = "{\"a\":";
        for (int i = 0; i < 5000; ++i) deep += "[";
        return deep;
      },
      [&] { return std::string("\x00\x01\x02", 3); },
      [&] { return "true"; },
      [&] { return "\"just a string\""; },
      [&] { return "12345678901234567890123456789"; },
      [&] { return "<xml/>"; },
  };
  return random.pick(variants)();
}

/// The ways the request of `draft` can be broken, with what each needs.
std::vector<Mutation> mutations_for(const Draft& draft, const rapidjson::Document& document) {
  std::vector<Mutation> mutations;
  const Operation& operation = *draft.operation;
  auto slots_where = [&draft](const std::function<bool(const Slot&)>& wanted) {
    std::vector<Slot> found;
    for (const auto& slot : draft.slots) {
      if (wanted(slot)) found.push_back(slot);
    }
    return found;
  };
  auto add_slot_mutation = [&](const std::string& label, std::function<bool(const Slot&)> wanted,
                               std::function<void(Draft&, const Slot&, Random&)> apply) {
    auto found = slots_where(wanted);
    if (found.empty()) return;
    mutations.push_back({label, [found, apply, label](Draft& draft, Random& random) {
                           const Slot& slot = random.pick(found);
                           apply(draft, slot, random);
                           draft.mutation = label + " at " + (slot.name.empty() ? "$" : slot.name);
                         }});
  };
  if (draft.json) {
    add_slot_mutation(
        "missing required property",
        [&draft](const Slot& slot) {
          if (!slot.schema->HasMember("required")) return false;
          const Node* node = draft.at(slot.path);
          return node->kind == Node::Kind::object && !node->members.empty() &&
                 (*slot.schema)["required"].Size() > 0;
        },
        [](Draft& draft, const Slot& slot, Random& random) {
          Node* node = draft.at(slot.path);
          const auto& required = (*slot.schema)["required"];
          std::string gone =
              required[static_cast<rapidjson::SizeType>(random.below(required.Size()))].GetString();
          auto& members = node->members;
          members.erase(std::remove_if(members.begin(), members.end(),
                                       [&](const auto& member) { return member.first == gone; }),
                        members.end());
        });
    add_slot_mutation(
        "wrong type", [](const Slot& slot) { return slot.schema->HasMember("type"); },
        [](Draft& draft, const Slot& slot, Random& random) {
          *draft.at(slot.path) = wrong_type(types_of(*slot.schema), random);
        });
    add_slot_mutation(
        "string over maxLength",
        [](const Slot& slot) {
          return slot.schema->HasMember("maxLength") && allows(types_of(*slot.schema), "string");
        },
        [](Draft& draft, const Slot& slot, Random& random) {
          auto length = static_cast<std::size_t>((*slot.schema)["maxLength"].GetInt64()) +
                        static_cast<std::size_t>(random.chance(0.5) ? 1 : random.between(2, 5000));
          *draft.at(slot.path) =
              Node::string(random.chance(0.3) ? std::string(length / 2 + 1, '\0') + "x"
                                              : std::string(length, 'x'));
          if (random.chance(0.3)) {
            std::string wide;
            for (std::size_t i = 0; i < length; ++i) wide += "\xC3\xA9";
            draft.at(slot.path)->text = wide;
          }
        });
    add_slot_mutation(
        "string under minLength",
        [](const Slot& slot) {
          return slot.schema->HasMember("minLength") && (*slot.schema)["minLength"].GetInt64() > 0;
        },
        [](Draft& draft, const Slot& slot, Random&) {
          auto length = static_cast<std::size_t>((*slot.schema)["minLength"].GetInt64()) - 1;
          *draft.at(slot.path) = Node::string(std::string(length, 'y'));
        });
    add_slot_mutation(
        "huge string", [](const Slot& slot) { return allows(types_of(*slot.schema), "string"); },
        [](Draft& draft, const Slot& slot, Random& random) {
          *draft.at(slot.path) = Node::string(
              std::string(static_cast<std::size_t>(random.between(5000, 400000)), 'z'));
        });
    add_slot_mutation(
        "number out of range",
        [](const Slot& slot) {
          return slot.schema->HasMember("minimum") || slot.schema->HasMember("maximum");
        },
        [](Draft& draft, const Slot& slot, Random& random) {
          const auto& schema = *slot.schema;
          std::vector<Node> options = {Node::number_value(1e308), Node::number_value(-1e308),
                                       Node::raw("1e400"), Node::raw("-1e400"),
                                       Node::raw("123456789012345678901234567890")};
          if (schema.HasMember("minimum")) {
            options.push_back(Node::number_value(schema["minimum"].GetDouble() - 1));
            options.push_back(Node::number_value(schema["minimum"].GetDouble() - 0.001));
          }
          if (schema.HasMember("maximum")) {
            options.push_back(Node::number_value(schema["maximum"].GetDouble() + 1));
            options.push_back(Node::number_value(schema["maximum"].GetDouble() * 10));
          }
          *draft.at(slot.path) = random.pick(options);
        });
    add_slot_mutation(
        "null where not allowed",
        [](const Slot& slot) {
          auto types = types_of(*slot.schema);
          return !types.empty() && !allows(types, "null");
        },
        [](Draft& draft, const Slot& slot, Random&) { *draft.at(slot.path) = Node{}; });
    add_slot_mutation(
        "unknown property",
        [](const Slot& slot) {
          return slot.schema->HasMember("additionalProperties") &&
                 (*slot.schema)["additionalProperties"].IsFalse();
        },
        [](Draft& draft, const Slot& slot, Random& random) {
          Node* node = draft.at(slot.path);
          if (node->kind != Node::Kind::object) return;
          node->members.emplace_back(random.pick(std::vector<std::string>{
                                         "unexpected", "role", "__proto__", "owner_id", ""}),
                                     Node::string("x"));
        });
    add_slot_mutation(
        "not in the enum", [](const Slot& slot) { return slot.schema->HasMember("enum"); },
        [](Draft& draft, const Slot& slot, Random& random) {
          *draft.at(slot.path) = Node::string(random.pick(
              std::vector<std::string>{"INFO", "superuser", "", "respond-async ", "admin\u0000"}));
        });
    add_slot_mutation(
        "bad format", [](const Slot& slot) { return slot.schema->HasMember("format"); },
        [](Draft& draft, const Slot& slot, Random& random) {
          *draft.at(slot.path) = Node::string(random.pick(std::vector<std::string>{
              "yesterday", "2026-13-45T99:99:99Z", "2026-02-30T10:00:00Z", "0000-00-00T00:00:00Z",
              "2026-01-31", "2026-01-31T12:00:00", "99999-01-01T00:00:00Z",
              "2026-01-31T12:00:00+25:00", "not-a-uuid", "0b6f3c5e8a0e4d4f9a532f5cfb7c1e10"}));
        });
    add_slot_mutation(
        "odd characters", [](const Slot& slot) { return allows(types_of(*slot.schema), "string"); },
        [](Draft& draft, const Slot& slot, Random& random) {
          // Escapes are written by hand: NUL and a lone surrogate in JSON text.
          *draft.at(slot.path) = Node::raw(random.pick(std::vector<std::string>{
              "\"a\\u0000b\"", "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"\xC0\xAF\"",
              "\"\xF4\x90\x80\x80\"", "\"\\u202e\\u0000\"", "\"%00\"", "\"\\b\\f\\r\\t\""}));
        });
    mutations.push_back({"body replaced by a scalar", [](Draft& draft, Random& random) {
                           draft.json = random.pick(std::vector<Node>{
                               Node{}, Node::string("x"), Node::integer_value(1),
                               Node::of_kind(Node::Kind::array), Node::boolean_value(false)});
                         }});
    mutations.push_back({"malformed JSON", [](Draft& draft, Random& random) {
                           std::string valid = to_json(*draft.json);
                           std::string broken = malformed_json(valid, random);
                           if (draft.multipart) {
                             draft.raw_body = multipart_body("prop-boundary", broken,
                                                             "application/json", "[1,2,3]");
                           } else {
                             draft.raw_body = broken;
                           }
                         }});
    mutations.push_back({"body over max_body_bytes", [](Draft& draft, Random&) {
                           draft.multipart = false;
                           draft.content_type = "application/json";
                           draft.raw_body =
                               "{\"user_id\":\"" + std::string(kMaxBodyBytes, 'a') + "\"}";
                         }});
    mutations.push_back({"wrong Content-Type", [](Draft& draft, Random& random) {
                           auto choice = random.below(7);
                           std::string json = to_json(*draft.json);
                           draft.multipart = false;
                           if (choice == 0) {
                             draft.content_type = "application/xml";
                             draft.raw_body = "<recording><id>1</id></recording>";
                           } else if (choice == 1) {
                             draft.content_type = "application/x-www-form-urlencoded";
                             draft.raw_body = "user_id=u1&event_type=t";
                           } else if (choice == 2) {
                             draft.content_type = "multipart/form-data";
                             draft.raw_body = json;
                           } else if (choice == 3) {
                             draft.content_type = "multipart/form-data; boundary=zzz";
                             draft.raw_body = json;
                           } else if (choice == 4) {
                             draft.content_type = "image/png";
                             draft.raw_body = json;
                           } else if (choice == 5) {
                             draft.content_type = "text/plain";
                             draft.raw_body = "hello";
                           } else {
                             draft.content_type = "";
                             draft.raw_body = json;
                           }
                         }});
    mutations.push_back({"empty body", [](Draft& draft, Random&) {
                           draft.multipart = false;
                           draft.raw_body = "";
                         }});
  }
  if (draft.multipart) {
    mutations.push_back(
        {"broken multipart", [](Draft& draft, Random& random) {
           std::string metadata = to_json(*draft.json);
           std::vector<std::string> bodies = {
               "--prop-boundary\r\nContent-Disposition: form-data; "
               "name=\"metadata\"\r\n\r\n" +
                   metadata + "\r\n",
               multipart_body("other-boundary", metadata, "image/bmp", "BM"),
               "--prop-boundary\r\nContent-Disposition: form-data; "
               "name=\"content\"\r\nContent-Type: image/bmp\r\n\r\nBM\r\n"
               "--prop-boundary--\r\n",
               "--prop-boundary\r\nContent-Type: application/json\r\n\r\n" + metadata +
                   "\r\n--prop-boundary--\r\n",
               multipart_body("prop-boundary", metadata, "not a media type", "bytes"),
               multipart_body("prop-boundary", metadata, "image/bmp", ""),
               multipart_body("prop-boundary", metadata, "image/bmp; name=\xFF", "BM"),
               multipart_body("prop-boundary", metadata, "image/bmp", "BM") +
                   multipart_body("prop-boundary", metadata, "image/bmp", "BM"),
               "--prop-boundary\r\nContent-Disposition: form-data; name=\"" +
                   std::string(4000, 'n') + "\"\r\n\r\nx\r\n--prop-boundary--\r\n",
               "--prop-boundary--\r\n",
               ""};
           draft.raw_body = random.pick(bodies);
         }});
  }
  if (!draft.json && !operation.bodies.empty()) {
    // Raw uploads (`*/*`).
    mutations.push_back({"empty upload", [](Draft& draft, Random&) { draft.raw_body = ""; }});
    mutations.push_back({"bad media type", [](Draft& draft, Random& random) {
                           draft.content_type = random.pick(std::vector<std::string>{
                               "", "nonsense", "image/", "/png", "text/plain; charset",
                               "application/json; charset=\xFF", "image/bmp; name=\xC3\x28",
                               "image/bmp; name=\"\xE2\x82\"", "image/bmp;\x01",
                               "application/json\x01", std::string(3000, 'm') + "/x"});
                         }});
    mutations.push_back({"garbage bytes", [](Draft& draft, Random& random) {
                           std::string bytes;
                           for (std::int64_t i = random.between(1, 4096); i > 0; --i) {
                             bytes += static_cast<char>(random.below(256));
                           }
                           draft.raw_body = bytes;
                           draft.content_type = random.pick(std::vector<std::string>{
                               "application/json", "image/bmp", "image/png", "image/jpeg",
                               "audio/wav", "application/octet-stream"});
                         }});
    mutations.push_back({"upload over max_upload_bytes", [](Draft& draft, Random&) {
                           draft.raw_body = std::string(kMaxUploadBytes + 1, 'u');
                           draft.content_type = "application/octet-stream";
                         }});
  }
  // Query parameters.
  std::vector<const Parameter*> query_parameters;
  for (const auto& parameter : operation.parameters) {
    if (parameter.in == "query") query_parameters.push_back(&parameter);
  }
  if (!query_parameters.empty()) {
    mutations.push_back(
        {"bad query parameter", [query_parameters, &document](Draft& draft, Random& random) {
           const Parameter& parameter = *random.pick(query_parameters);
           const rapidjson::Value& schema = *dereference(document, *parameter.schema);
           auto types = types_of(schema);
           std::vector<std::string> values = {"",
                                              " ",
                                              "%",
                                              "null",
                                              "[]",
                                              std::string(5000, 'q'),
                                              "\xFF",
                                              "\xC3\x28",
                                              "\xED\xA0\x80",
                                              std::string("a\0b", 3)};
           if (allows(types, "number") || allows(types, "integer")) {
             values.insert(values.end(),
                           {"abc", "1.5", "1e3", " 1", "0x10", "-1", "-0", "99999999999999999999",
                            "1e400", "nan", "inf", "+5", "1,2"});
           }
           if (schema.HasMember("minimum")) {
             values.push_back(number_text(schema["minimum"].GetDouble() - 1));
           }
           if (schema.HasMember("maximum")) {
             values.push_back(number_text(schema["maximum"].GetDouble() + 1));
             values.push_back(number_text(schema["maximum"].GetDouble() + 0.5));
           }
           if (schema.HasMember("maxLength")) {
             values.push_back(std::string(schema["maxLength"].GetUint() + 1, 'q'));
           }
           if (schema.HasMember("format") || schema.HasMember("pattern")) {
             values.insert(values.end(), {"yesterday", "2026-13-01T00:00:00Z", "1:", ":1", "a:b",
                                          "-1:5", "99999999999999999999:1"});
           }
           std::string value = random.pick(values);
           auto& query = draft.query;
           query.erase(
               std::remove_if(query.begin(), query.end(),
                              [&](const auto& entry) { return entry.first == parameter.name; }),
               query.end());
           query.emplace_back(parameter.name, value);
           if (random.chance(0.2)) query.emplace_back(parameter.name, "2");
           draft.mutation = "bad query parameter " + parameter.name;
         }});
  }
  for (const auto& parameter : operation.parameters) {
    if (parameter.in == "query" && parameter.required) {
      mutations.push_back(
          {"missing required query parameter " + parameter.name,
           [name = parameter.name](Draft& draft, Random&) {
             auto& query = draft.query;
             query.erase(std::remove_if(query.begin(), query.end(),
                                        [&](const auto& entry) { return entry.first == name; }),
                         query.end());
           }});
    }
  }
  mutations.push_back({"malformed %-escape in the query", [](Draft& draft, Random& random) {
                         draft.raw_query += (draft.query.empty() ? "" : "&") +
                                            random.pick(std::vector<std::string>{
                                                "a=%zz", "a=%", "%G0=1", "x=%2", "=%%"});
                       }});
  // Path ids.
  if (operation.has("path")) {
    mutations.push_back({"odd path id", [](Draft& draft, Random& random) {
                           auto& values = draft.path_values;
                           auto it = values.begin();
                           std::advance(it, static_cast<long>(random.below(values.size())));
                           std::string odd = odd_path_id(random);
                           draft.raw_path_values[it->first] = odd;
                           draft.mutation = "odd path id " + it->first + "=" + printable(odd, 40);
                         }});
  }
  // Headers.
  for (const auto& parameter : operation.parameters) {
    if (parameter.in != "header") continue;
    mutations.push_back(
        {"bad header " + parameter.name, [name = parameter.name](Draft& draft, Random& random) {
           draft.headers[name] = random.pick(std::vector<std::string>{
               "", "garbage", "W/\"-1\"", "\"99999999999999999999\"", "W/", "W/\"1\", W/\"2\"",
               "-1", "1.5", "abc", "1:", "x:y", "99999999999999999999:1", std::string(300, 'k'),
               "\xC3\xA9", "respond-sync"});
         }});
  }
  mutations.push_back({"odd X-Request-Id", [](Draft& draft, Random& random) {
                         draft.headers["X-Request-Id"] = random.pick(std::vector<std::string>{
                             std::string(129, 'r'), std::string(128, 'r'), "\xFF\xFE", "a b", "%00",
                             "\"quoted\"", "<script>", "\xC3\xA9", "{}", ""});
                       }});
  // Credentials.
  if (!operation.is_public) {
    mutations.push_back({"bad credentials", [](Draft& draft, Random& random) {
                           std::string token = draft.caller ? draft.caller->access_token : "a.b.c";
                           std::string tampered = token;
                           if (!tampered.empty()) {
                             tampered[random.below(tampered.size())] ^= 0x01;
                           }
                           auto choice = random.below(8);
                           if (choice == 0) {
                             draft.authorization = "Bearer garbage";
                           } else if (choice == 1) {
                             draft.authorization = "Bearer " + tampered;
                           } else if (choice == 2) {
                             draft.authorization = "Basic dXNlcjpwYXNz";
                           } else if (choice == 3) {
                             draft.authorization = "Bearer";
                           } else if (choice == 4) {
                             draft.authorization = "Bearer " + std::string(8000, 'A');
                           } else if (choice == 5) {
                             draft.authorization = "";
                             draft.headers["Cookie"] = "X-LIVENESS-TOKEN=" + tampered;
                           } else if (choice == 6) {
                             draft.authorization =
                                 "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.";
                           } else {
                             draft.authorization = "bearer  " + token + " extra";
                           }
                         }});
  }
  return mutations;
}

// ---------------------------------------------------------------------------------------------
// The driver.

struct Failure {
  std::string key;  ///< for counting repeats
  std::string report;
};

struct Tally {
  int cases = 0;
  int valid = 0;
  std::map<int, int> valid_statuses;
  std::map<int, int> invalid_statuses;
};

class PropertyRun {
 public:
  PropertyRun(TestStack& stack, std::uint64_t seed, int cases)
      : stack_(stack),
        document_(parse_json(read_openapi_source())),
        validator_(document_),
        operations_(read_operations(document_)),
        seed_(seed),
        cases_(cases),
        web_installed_(fs::exists(fs::path(TIDEMARK_SOURCE_DIR) / "web" / "node_modules")) {}

  const std::vector<Operation>& operations() const { return operations_; }
  const std::vector<Failure>& failures() const { return failures_; }
  const std::map<std::string, Tally>& tallies() const { return tallies_; }
  const std::map<std::string, int>& library_answers() const { return library_answers_; }

  /// The main accounts and a few resources of each kind, made through the API itself.
  void set_up() {
    HttpClient client(stack_.api_port());
    world_.main.push_back(register_account(client, "prop-user", "user"));
    world_.main.push_back(register_account(client, "prop-analyst", "analyst"));
    // The admin: made by `tidemark create-admin`, then signed in.
    auto [code, output] = run_command(
        {TIDEMARK_BINARY, "create-admin", "--username", "prop-admin", "--password",
         "the admin password", "--database-url", stack_.database_url(), "--kafka-bootstrap-servers",
         stack_.bootstrap_servers(), "--master-key", stack_.master_key()});
    if (code != 0) throw std::runtime_error("tidemark create-admin failed: " + output);
    auto login =
        client.post("/auth/login", R"({"username":"prop-admin","password":"the admin password"})");
    world_.main.push_back(account_from(login, "admin", "prop-admin", "", "the admin password"));
    Account& user = world_.main[0];
    Account& analyst = world_.main[1];
    Account& admin = world_.main[2];
    auto granted =
        client.request("PUT", "/admin/users/" + analyst.user_id + "/role", R"({"role":"analyst"})",
                       {{"Authorization", "Bearer " + admin.access_token}});
    if (granted.status != 200) throw std::runtime_error("cannot grant analyst: " + granted.body);

    auto as = [&](Account& account, const std::string& method, const std::string& target,
                  const std::string& body, std::map<std::string, std::string> headers = {}) {
      headers["Authorization"] = "Bearer " + account.access_token;
      auto reply = client.request(method, target, body, headers);
      if (reply.status / 100 != 2) {
        throw std::runtime_error("set-up " + method + " " + target + " answered " +
                                 std::to_string(reply.status) + ": " + reply.body);
      }
      return reply;
    };
    as(admin, "POST", "/algos",
       R"({"algo_id":"sensor-summary","recording_type":"sensor","location":"builtin:summary","version":"1"})");
    as(admin, "POST", "/algos",
       R"({"algo_id":"faces","recording_type":"face","location":"builtin:face-detection","version":"1"})");
    world_.remember("algo", "sensor-summary", admin.user_id);
    world_.remember("algo", "faces", admin.user_id);
    for (Account* owner : {&user, &admin}) {
      for (int i = 0; i < 2; ++i) {
        auto entry = as(*owner, "POST", "/events",
                        R"({"user_id":"u1","event_type":"tap","event_source":"ios"})");
        world_.remember("event", json_string(parse_json(entry.body), "event_id"), owner->user_id);
        std::string id = "rec-" + owner->label + "-" + std::to_string(i);
        as(*owner, "POST", "/recordings",
           R"({"recording_id":")" + id +
               R"(","recording_link":"https://cdn.example.com/r","recording_type":"sensor","user_id":"u1"})");
        world_.remember("recording", id, owner->user_id);
        auto content = as(*owner, "PUT", "/recordings/" + id + "/content", "[1,2,3,4]",
                          {{"Content-Type", "application/json"}});
        auto recording = parse_json(content.body);
        if (recording.IsObject() && recording.HasMember("job") && recording["job"].IsObject()) {
          world_.remember("job", json_string(recording["job"], "job_id"), owner->user_id);
        }
        std::string app_user = "app-" + owner->label + "-" + std::to_string(i);
        as(*owner, "POST", "/users",
           R"({"user_id":")" + app_user + R"(","firebase_data":{"email":"a@example.com"}})");
        world_.remember("app_user", app_user, owner->user_id);
      }
    }
    for (int i = 0; i < 2; ++i) fresh_throwaway();
  }

  /// One round: every operation once, in an order of the round's own.
  void round(int index) {
    std::vector<std::size_t> order(operations_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    Random shuffle(mix(seed_, 0xA11CE + static_cast<std::uint64_t>(index)));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[shuffle.below(i)]);
    for (std::size_t position : order) {
      if (stopped_) return;
      const Operation& operation = operations_[position];
      if (only_ && !std::regex_search(operation.name(), *only_)) continue;
      run_case(operation, index);
    }
  }

  void only(const std::string& pattern) { only_ = std::regex(pattern); }
  bool stopped() const { return stopped_; }

  /// Nothing an answer accepted was refused by the projector: the dead-letter topic holds no
  /// event of the API (only the inference worker's jobs that failed for good, which carry no
  /// tidemark_dlq_source). Each refused event is shown with the request that caused it.
  void check_dead_letters() {
    EXPECT_TRUE(stack_.wait_until_projected(60s)) << "the projection did not catch up";
    std::string dump = stack_.dump_topic("tidemark.events.dlq");
    const std::string source = "tidemark_dlq_source=";
    const std::string correlation = "tidemark_correlation_id=";
    int refused = 0;
    for (auto at = dump.find(source); at != std::string::npos; at = dump.find(source, at + 1)) {
      ++refused;
      auto record_start = dump.rfind("ce_specversion=", at);
      std::string record = dump.substr(record_start == std::string::npos ? 0 : record_start,
                                       at - (record_start == std::string::npos ? 0 : record_start));
      std::string origin = "(the request is not known)";
      if (auto id_at = record.find(correlation); id_at != std::string::npos) {
        id_at += correlation.size();
        std::string id = record.substr(id_at, record.find(',', id_at) - id_at);
        if (sent_by_request_id_.count(id)) origin = sent_by_request_id_.at(id);
      }
      if (refused <= 10) {
        ADD_FAILURE() << "the projector refused (dead-lettered) an event the API accepted:\n  "
                      << printable(record, 1500) << "\n  caused by: " << origin
                      << "\n  reproduce: TIDEMARK_PROPERTY_SEED=" << seed_;
      }
    }
    EXPECT_EQ(refused, 0) << refused << " events of the API were dead-lettered";
  }

  /// The main accounts still work (nothing the run did ended their sessions).
  void check_main_accounts() {
    HttpClient client(stack_.api_port());
    for (const auto& account : world_.main) {
      auto reply =
          client.request("GET", "/me", "", {{"Authorization", "Bearer " + account.access_token}});
      EXPECT_EQ(reply.status, 200)
          << "the " << account.label << " account no longer signs in after the run: " << reply.body;
    }
  }

 private:
  Account register_account(HttpClient& client, const std::string& username,
                           const std::string& label) {
    std::string email = username + "@example.com";
    std::string password = "password of " + username;
    auto reply =
        client.post("/auth/register", R"({"username":")" + username + R"(","email":")" + email +
                                          R"(","password":")" + password + R"("})");
    if (reply.status != 201) {
      throw std::runtime_error("cannot register " + username + ": " + reply.body);
    }
    return account_from(reply, label, username, email, password);
  }

  static Account account_from(const HttpReply& reply, const std::string& label,
                              const std::string& username, const std::string& email,
                              const std::string& password) {
    auto body = parse_json(reply.body);
    Account account;
    account.label = label;
    account.username = username;
    account.email = email;
    account.password = password;
    account.user_id = json_string(body, "user_id");
    account.session_id = json_string(body, "session_id");
    account.access_token = json_string(body, "access_token");
    account.refresh_token = json_string(body, "refresh_token");
    if (account.access_token.empty()) {
      throw std::runtime_error("no session for " + username + ": " + reply.body);
    }
    return account;
  }

  Account& fresh_throwaway() {
    HttpClient client(stack_.api_port());
    int number = ++world_.throwaway_count;
    world_.throwaways.push_back(register_account(
        client, "throwaway" + std::to_string(number) + "x" + std::to_string(seed_ % 100000),
        "throwaway-" + std::to_string(number)));
    world_.throwaways.back().throwaway = true;
    world_.remember("account", world_.throwaways.back().user_id, world_.throwaways.back().user_id);
    return world_.throwaways.back();
  }

  Account& live_throwaway(Random& random) {
    std::vector<Account*> live;
    for (auto& account : world_.throwaways) {
      if (!account.spent) live.push_back(&account);
    }
    if (live.empty() || random.chance(0.1)) return fresh_throwaway();
    return *random.pick(live);
  }

  Account* choose_caller(const Operation& operation, Random& random) {
    if (operation.is_public) {
      return random.chance(0.8) ? nullptr : &world_.main[random.below(world_.main.size())];
    }
    if (random.chance(0.08)) return nullptr;
    if (ends_the_caller(operation.name())) {
      if (operation.name() == "PUT /profile/{id}" && random.chance(0.2)) return &world_.main[2];
      return &live_throwaway(random);
    }
    double roll = random.unit();
    if (roll < 0.45) return &world_.main[0];
    if (roll < 0.65) return &world_.main[1];
    return &world_.main[2];
  }

  /// A real id for a path parameter, or nullopt to generate one.
  std::optional<std::string> real_path_id(const Operation& operation, const std::string& name,
                                          Account* caller, Generator& generator, Random& random) {
    const std::string& path = operation.path;
    if (path.starts_with("/events/")) return generator.known_id("event");
    if (path.starts_with("/algos/")) return generator.known_id("algo");
    if (path.starts_with("/recordings/")) return generator.known_id("recording");
    if (path.starts_with("/jobs/")) return generator.known_id("job");
    if (path == "/users/{id}") {
      if (caller && random.chance(0.2)) return caller->session_id;
      return generator.known_id("app_user");
    }
    if (path == "/profile/{id}" || name == "user_id") {
      if (caller && (caller->throwaway || operation.method == "GET") && random.chance(0.5)) {
        return caller->user_id;
      }
      return generator.known_id("account");
    }
    if (path == "/auth/sessions/{session_id}") {
      if (caller && caller->throwaway && random.chance(0.6)) return caller->session_id;
      return generator.known_id("session");
    }
    return std::nullopt;
  }

  /// A valid request for the operation (which a mutation may then break).
  Draft build(const Operation& operation, Random& random, bool& replayed) {
    replayed = false;
    auto last = last_idempotent_.find(operation.name());
    if (last != last_idempotent_.end() && random.chance(0.12)) {
      replayed = true;
      return last->second;
    }
    Draft draft;
    draft.operation = &operation;
    draft.caller = choose_caller(operation, random);
    draft.cookie_auth = random.chance(0.1);
    Generator generator(document_, world_, random, operation, draft.caller);
    const std::string name = operation.name();
    if (name == "POST /auth/verify-email" || name == "POST /auth/password-reset") read_mail();
    if (name == "POST /auth/login" || name == "POST /login" || name == "POST /auth/refresh" ||
        name == "POST /auth/logout") {
      std::vector<Account*> live;
      for (auto& account : world_.throwaways) {
        if (!account.spent || name.find("login") != std::string::npos) live.push_back(&account);
      }
      if (!live.empty() && random.chance(0.8)) generator.subject = random.pick(live);
    }
    for (const auto& parameter : operation.parameters) {
      if (parameter.in != "path") continue;
      std::optional<std::string> value;
      if (random.chance(0.75))
        value = real_path_id(operation, parameter.name, draft.caller, generator, random);
      draft.path_values[parameter.name] =
          value ? *value
                : scalar_text(generator.valid(*parameter.schema, parameter.name, {}, nullptr));
    }
    generator.path_values = draft.path_values;
    generator.resource_path = operation.path;
    for (const auto& [parameter, value] : draft.path_values) {
      generator.resource_path = std::regex_replace(
          generator.resource_path, std::regex("\\{" + parameter + "\\}"), percent_encode(value));
    }
    for (const auto& parameter : operation.parameters) {
      if (parameter.in == "path") continue;
      // Long-polls always carry a short wait (their default is 25–30 s).
      bool always = parameter.required || parameter.name == "wait";
      if (!always && !random.chance(0.35)) continue;
      std::string value =
          scalar_text(generator.valid(*parameter.schema, parameter.name, {}, nullptr));
      if (parameter.in == "query") {
        draft.query.emplace_back(parameter.name, value);
      } else if (parameter.in == "header") {
        draft.headers[parameter.name] = value;
      }
    }
    if (operation.bodies.empty() || (!operation.body_required && random.chance(0.2))) {
      draft.content_type = "application/json";
      return draft;
    }
    if (const rapidjson::Value* schema = operation.body_schema("application/json")) {
      bool multipart = operation.body_schema("multipart/form-data") && random.chance(0.35);
      draft.json = generator.valid(*schema, "", {}, &draft.slots);
      if (multipart) {
        draft.multipart = true;
        draft.content_type = "multipart/form-data; boundary=prop-boundary";
        // The link may be left out when the content comes along.
        auto& members = draft.json->members;
        for (std::size_t i = 0; i < members.size(); ++i) {
          if (members[i].first != "recording_link" || !random.chance(0.5)) continue;
          members.erase(members.begin() + static_cast<std::ptrdiff_t>(i));
          // The slots below the root that followed it move up by one.
          std::vector<Slot> kept;
          for (auto slot : draft.slots) {
            if (!slot.path.empty() && slot.path[0] == i) continue;
            if (!slot.path.empty() && slot.path[0] > i) --slot.path[0];
            kept.push_back(std::move(slot));
          }
          draft.slots = std::move(kept);
          break;
        }
      } else {
        draft.content_type =
            random.chance(0.1) ? "application/json; charset=utf-8" : "application/json";
      }
      return draft;
    }
    // A raw upload: a recording the built-in models read, or other bytes.
    auto [media_type, bytes] = upload(random);
    draft.content_type = media_type;
    draft.raw_body = bytes;
    return draft;
  }

  /// The codes in the mailer's outbox ("… code is: CODE\n…"), newest last.
  void read_mail() {
    world_.mailed_codes.clear();
    std::ifstream outbox(stack_.outbox());
    for (std::string line; std::getline(outbox, line);) {
      auto mail = parse_json(line);
      std::string body = json_string(mail, "body");
      auto start = body.find("is: ");
      if (start == std::string::npos) continue;
      start += 4;
      world_.mailed_codes.emplace_back(body.substr(start, body.find('\n', start) - start),
                                       json_string(mail, "to"));
    }
    if (world_.mailed_codes.size() > 20) {
      world_.mailed_codes.erase(world_.mailed_codes.begin(), world_.mailed_codes.end() - 20);
    }
  }

  static std::pair<std::string, std::string> upload(Random& random) {
    switch (random.below(6)) {
      case 0:
      case 1:
        return {"application/json", "[" + std::to_string(random.between(-50, 50)) + ",2.5,3]"};
      case 2:
        return {"application/json", R"({"x":[1,2,3],"y":[4,5,6]})"};
      case 3:
        return {"image/bmp", plain_bmp(8, 8, {200, 30, 30})};
      case 4:
        return {"audio/wav", sine_wav(0.5)};
      default: {
        std::string bytes;
        for (std::int64_t i = random.between(1, 300); i > 0; --i) {
          bytes += static_cast<char>(random.below(256));
        }
        return {"application/octet-stream", bytes};
      }
    }
  }

  /// A multipart upload carries its metadata (the JSON body as generated) and a sensor reading.
  static void finish_body(Draft& draft) {
    if (draft.multipart && !draft.raw_body && draft.json) {
      draft.raw_body =
          multipart_body("prop-boundary", to_json(*draft.json), "application/json", "[1,2,3]");
    }
  }

  void run_case(const Operation& operation, int index) {
    std::uint64_t case_seed =
        mix(mix(seed_, hash_text(operation.name())), static_cast<std::uint64_t>(index));
    Random random(case_seed);
    bool replayed = false;
    Draft draft = build(operation, random, replayed);
    bool invalid = !replayed && random.chance(0.5);
    if (replayed) draft.mutation = "valid (the same Idempotency-Key and body again)";
    if (invalid) {
      auto mutations = mutations_for(draft, document_);
      const Mutation& mutation = random.pick(mutations);
      draft.mutation = mutation.name;
      mutation.apply(draft, random);
    }
    finish_body(draft);
    Sent sent = render(draft);
    if (!invalid && !replayed && draft.headers.count("Idempotency-Key")) {
      last_idempotent_[operation.name()] = draft;
    }

    auto& tally = tallies_[operation.name()];
    ++tally.cases;
    if (!invalid) ++tally.valid;
    HttpReply reply;
    std::string transport_error;
    auto started = std::chrono::steady_clock::now();
    try {
      HttpClient client(stack_.api_port());
      reply = client.request(sent.method, sent.target, sent.body, sent.headers);
    } catch (const std::exception& error) {
      transport_error = error.what();
    }
    auto took = std::chrono::steady_clock::now() - started;
    (invalid ? tally.invalid_statuses : tally.valid_statuses)[reply.status]++;

    std::vector<std::string> problems;
    if (!transport_error.empty()) problems.push_back("no answer: " + transport_error);
    if (auto exited = stack_.api().wait(0ms)) {
      problems.push_back("the API exited with code " + std::to_string(*exited));
      stopped_ = true;
    }
    if (took > 20s)
      problems.push_back(
          "the answer took " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(took).count()) + " s");
    if (transport_error.empty()) judge(operation, draft, reply, problems);
    if (!problems.empty()) {
      record_failure(operation, draft, sent, reply, problems, index, case_seed);
    }
    if (transport_error.empty()) learn(operation, draft, reply);
    if (!reply.header("x-request-id").empty()) {
      sent_by_request_id_[reply.header("x-request-id")] =
          operation.name() + " — " + draft.mutation + "\n  request: " + sent.describe();
    }
  }

  bool unrouted(const HttpReply& reply) const {
    if (reply.status != 404 && reply.status != 405) return false;
    auto body = parse_json(reply.body);
    std::string detail = json_string(body, "detail");
    return detail.starts_with("no route for ") || detail.starts_with("method ");
  }

  void judge(const Operation& operation, const Draft& draft, const HttpReply& reply,
             std::vector<std::string>& problems) {
    bool docs = operation.path == "/docs" || operation.path == "/redoc";
    if (reply.status >= 500 && !(reply.status == 503 && docs && !web_installed_)) {
      problems.push_back("a " + std::to_string(reply.status) + " answer");
    }
    if (reply.header("x-request-id").empty()) {
      // Pistache answered before the API saw the request (it refuses a Content-Type it cannot
      // parse with its own 415 in plain text): counted apart, see the summary.
      ++library_answers_[operation.name() + " " + std::to_string(reply.status)];
      return;
    }
    if (reply.status >= 400 && reply.status < 500) {
      auto body = parse_json(reply.body);
      if (body.HasParseError() || !body.IsObject()) {
        problems.push_back("a " + std::to_string(reply.status) +
                           " whose body is not a JSON object");
      } else if (json_string(body, "detail").find_first_not_of(" \t\r\n") == std::string::npos) {
        problems.push_back("a " + std::to_string(reply.status) + " without a message in 'detail'");
      }
    }
    if (reply.status == 401 && !operation.is_public && draft.caller && !draft.caller->throwaway &&
        !draft.authorization && !draft.headers.count("Cookie")) {
      problems.push_back("the " + draft.caller->label + " account's token was refused");
    }
    if (unrouted(reply)) {
      // The path no longer matched the route (a broken escape in an odd id): the router's own
      // answer, checked above; a valid request must always reach its route.
      if (draft.mutation == "valid") problems.push_back("a valid request was not routed");
      return;
    }
    for (const auto& problem :
         response_problems(document_, validator_, operation.method, operation.path, reply)) {
      problems.push_back("not as documented: " + problem);
    }
  }

  void record_failure(const Operation& operation, const Draft& draft, const Sent& sent,
                      const HttpReply& reply, const std::vector<std::string>& problems, int index,
                      std::uint64_t case_seed) {
    std::string key = operation.name() + " " + std::to_string(reply.status) + " " +
                      problems.front().substr(0, problems.front().find(" at $"));
    std::ostringstream report;
    report << operation.name() << " — " << draft.mutation << " — as "
           << (draft.caller ? draft.caller->label : std::string("anonymous")) << "\n";
    for (const auto& problem : problems) report << "  problem: " << problem << "\n";
    report << "  request: " << sent.describe() << "\n";
    report << "  answer: " << reply.status << " " << printable(reply.body, 1500) << "\n";
    std::string request_id = reply.header("x-request-id");
    if (!request_id.empty()) {
      std::istringstream log(stack_.api().output());
      int shown = 0;
      for (std::string line; std::getline(log, line) && shown < 6;) {
        if (line.find(request_id) != std::string::npos) {
          report << "  api log: " << printable(line, 600) << "\n";
          ++shown;
        }
      }
    }
    report << "  reproduce: TIDEMARK_PROPERTY_SEED=" << seed_
           << " TIDEMARK_PROPERTY_CASES=" << cases_ << " (case " << index
           << " of this operation, case seed " << case_seed << "; TIDEMARK_PROPERTY_ONLY='"
           << operation.method << " " << operation.path << "$' runs this operation alone)\n";
    failures_.push_back({key, report.str()});
  }

  /// Takes the ids, sessions, revisions and positions an answer reveals.
  void learn(const Operation& operation, const Draft& draft, const HttpReply& reply) {
    const std::string name = operation.name();
    Account* caller = draft.authorization ? nullptr : draft.caller;
    if (reply.status == 401 && caller && caller->throwaway) caller->spent = true;
    if (reply.status / 100 != 2) return;
    std::string owner = caller ? caller->user_id : "";
    std::string etag = reply.header("etag");
    std::string location = reply.header("location");
    if (!etag.empty()) {
      Sent sent = render(draft);
      std::string path = location.empty() ? sent.target.substr(0, sent.target.find('?')) : location;
      world_.etags[path] = etag;
    }
    std::string position = reply.header("x-tidemark-position");
    if (!position.empty()) {
      world_.positions.push_back(position);
      if (world_.positions.size() > 32) world_.positions.erase(world_.positions.begin());
    }
    auto body = parse_json(reply.body);
    if (body.HasParseError()) return;
    if (name == "POST /events") world_.remember("event", json_string(body, "event_id"), owner);
    if (name == "POST /algos") world_.remember("algo", json_string(body, "algo_id"), owner);
    if (name == "POST /recordings")
      world_.remember("recording", json_string(body, "recording_id"), owner);
    if (name == "POST /users") world_.remember("app_user", json_string(body, "user_id"), owner);
    if (name == "POST /predict" || name == "POST /recordings/{recording_id}/jobs") {
      world_.remember("job", json_string(body, "job_id"), owner);
    }
    if (body.IsObject() && body.HasMember("job") && body["job"].IsObject()) {
      world_.remember("job", json_string(body["job"], "job_id"), owner);
    }
    if ((name.find("register") != std::string::npos || name.find("login") != std::string::npos) &&
        draft.json && draft.json->kind == Node::Kind::object) {
      // A new session of a throwaway account (registered now, or signed in again).
      const Node* username = draft.json->member("username");
      if (!username) username = draft.json->member("user");
      const Node* email = draft.json->member("email");
      const Node* password = draft.json->member("password");
      Account account;
      account.label = "throwaway-" + std::to_string(++world_.throwaway_count);
      account.throwaway = true;
      account.username = username && username->kind == Node::Kind::string ? username->text : "";
      account.email = email && email->kind == Node::Kind::string ? email->text : "";
      account.password = password && password->kind == Node::Kind::string ? password->text : "";
      if (name.find("login") != std::string::npos) {
        for (const auto& known : world_.throwaways) {
          if ((!account.username.empty() && known.username == account.username) ||
              (!account.email.empty() && known.email == account.email)) {
            account.username = known.username;
            account.email = known.email;
          }
        }
      }
      account.user_id = json_string(body, "user_id");
      account.session_id = json_string(body, "session_id");
      account.access_token = json_string(body, "access_token");
      account.refresh_token = json_string(body, "refresh_token");
      if (!account.access_token.empty()) {
        world_.throwaways.push_back(account);
        world_.remember("account", account.user_id, account.user_id);
        world_.remember("session", account.session_id, account.user_id);
      }
    }
    if (name == "POST /auth/refresh" && draft.json && draft.json->member("refresh_token")) {
      std::string used = draft.json->member("refresh_token")->text;
      for (auto& account : world_.throwaways) {
        if (account.refresh_token == used) {
          account.refresh_token = json_string(body, "refresh_token");
          account.access_token = json_string(body, "access_token");
          account.spent = false;
        }
      }
    }
    if (name == "POST /auth/logout" && draft.json) {
      for (const char* field : {"session-id", "session_id"}) {
        if (const Node* session = draft.json->member(field)) {
          for (auto& account : world_.throwaways) {
            if (account.session_id == session->text) account.spent = true;
          }
        }
      }
    }
    if (name == "GET /auth/sessions" && body.IsArray() && caller && caller->throwaway) {
      for (const auto& session : body.GetArray()) {
        world_.remember("session", json_string(session, "session_id"), caller->user_id);
      }
    }
    if (ends_the_caller(name) && caller && caller->throwaway) caller->spent = true;
    if (name == "POST /auth/password-reset" && draft.json) {
      // Every session of the account whose code it was has ended.
      if (const Node* token = draft.json->member("token")) {
        for (const auto& [code, recipient] : world_.mailed_codes) {
          if (code != token->text) continue;
          for (auto& account : world_.throwaways) {
            if (account.email == recipient) account.spent = true;
          }
        }
      }
    }
    if (name == "DELETE /user/delete" || name == "PUT /profile/{id}") {
      // The account is gone, or its credentials may have changed: its sessions are suspect.
      auto id = draft.path_values.find("id");
      std::string target = name == "DELETE /user/delete"   ? owner
                           : id != draft.path_values.end() ? id->second
                                                           : "";
      for (auto& account : world_.throwaways) {
        if (account.user_id == target) account.spent = true;
      }
    }
  }

  TestStack& stack_;
  rapidjson::Document document_;
  SchemaValidator validator_;
  std::vector<Operation> operations_;
  std::uint64_t seed_;
  int cases_;
  bool web_installed_;
  World world_;
  std::map<std::string, Draft> last_idempotent_;
  std::map<std::string, Tally> tallies_;
  std::vector<Failure> failures_;
  std::optional<std::regex> only_;
  bool stopped_ = false;
  std::map<std::string, int> library_answers_;             ///< "METHOD /path STATUS" → how many
  std::map<std::string, std::string> sent_by_request_id_;  ///< for the dead letters' origin
};

std::string statuses(const std::map<int, int>& counted) {
  std::string text;
  for (const auto& [status, count] : counted) {
    text += (text.empty() ? "" : " ") +
            (status == 0 ? std::string("none") : std::to_string(status)) + "×" +
            std::to_string(count);
  }
  return text.empty() ? "-" : text;
}

TEST(Property, EveryOperationAnswersGeneratedRequestsAsDocumented) {
  std::uint64_t seed =
      std::random_device{}() ^
      static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  if (const char* text = std::getenv("TIDEMARK_PROPERTY_SEED"); text && *text) {
    seed = std::stoull(text);
  }
  int cases = kDefaultCases;
  if (const char* text = std::getenv("TIDEMARK_PROPERTY_CASES"); text && *text) {
    cases = std::stoi(text);
  }
  std::cout << "property test: seed " << seed << " (TIDEMARK_PROPERTY_SEED), " << cases
            << " cases per operation (TIDEMARK_PROPERTY_CASES)" << std::endl;

  auto started = std::chrono::steady_clock::now();
  TestStack stack(TestStack::Options{
      .api_flags = {"--web-dir", (fs::path(TIDEMARK_SOURCE_DIR) / "web" / "node_modules").string(),
                    // Every case may register an account or fail a login from 127.0.0.1.
                    "--registrations-per-address", "1000000", "--login-attempts-per-address",
                    "1000000"}});
  stack.start_inference();
  stack.start_mailer();
  PropertyRun run(stack, seed, cases);
  if (const char* only = std::getenv("TIDEMARK_PROPERTY_ONLY"); only && *only) run.only(only);
  run.set_up();
  for (int index = 0; index < cases && !run.stopped(); ++index) run.round(index);
  run.check_main_accounts();
  run.check_dead_letters();
  auto took =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);

  std::cout << "\noperation                                  cases  valid: statuses | invalid: "
               "statuses\n";
  int total = 0;
  for (const auto& operation : run.operations()) {
    auto found = run.tallies().find(operation.name());
    if (found == run.tallies().end()) continue;
    const Tally& tally = found->second;
    total += tally.cases;
    std::string label = operation.name();
    label.resize(std::max<std::size_t>(label.size(), 42), ' ');
    std::cout << label << " " << tally.cases << "  " << tally.valid << ": "
              << statuses(tally.valid_statuses) << " | " << tally.cases - tally.valid << ": "
              << statuses(tally.invalid_statuses) << "\n";
  }
  std::cout << total << " requests in " << took.count() << " s, seed " << seed << std::endl;
  for (const auto& [what, count] : run.library_answers()) {
    std::cout << "  answered by Pistache before the API (not checked but for 5xx): " << what << " ×"
              << count << "\n";
  }

  std::map<std::string, int> repeats;
  int shown = 0;
  for (const auto& failure : run.failures()) {
    if (repeats[failure.key]++ > 0) continue;
    if (++shown > 25) continue;
    ADD_FAILURE() << failure.report;
  }
  for (const auto& [key, count] : repeats) {
    if (count > 1) std::cout << "  (" << count << " failures like: " << key << ")\n";
  }
  EXPECT_TRUE(run.failures().empty())
      << run.failures().size() << " failing cases of " << repeats.size()
      << " kinds; reproduce with TIDEMARK_PROPERTY_SEED=" << seed;
}

}  // namespace
}  // namespace tidemark::testing
