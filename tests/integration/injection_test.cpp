// SQL injection and other hostile text in every string field, path id and query filter of the
// data API (user records, recordings, algorithms, the event log, GET /log) and the account
// fields. Every value must either be refused with a 4xx naming the problem or be stored exactly
// as sent and read back equal; filters match only literally (a `%` or `_` is no wildcard); no
// answer is a 5xx; and the tables are all still there afterwards with the rows expected. Each
// test prints what it tried and what it found. Each request with a hostile value, with the checks
// of what it did, is an attack tried; one whose checks fail got in (tests/support/tally.h).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "infra/database.h"
#include "tests/support/http_client.h"
#include "tests/support/stack.h"
#include "tests/support/tally.h"
#include "tests/support/timing.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;

void note(const std::string& line) {
  std::cout << "injection: " << line << std::endl;
}

/// A JSON string literal.
std::string json_text(const std::string& text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return {buffer.GetString(), buffer.GetSize()};
}

/// How a value is shown in the printed notes: JSON-escaped and shortened.
std::string shown(const std::string& text) {
  std::string literal = json_text(text);
  return literal.size() > 48 ? literal.substr(0, 40) + "…(" + std::to_string(text.size()) + " B)"
                             : literal;
}

/// Every byte but the unreserved ones as %XX, for paths and query strings.
std::string url_encoded(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return encoded;
}

/// The inverse, for Location headers.
std::string url_decoded(const std::string& text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(text[i + 1]) &&
        std::isxdigit(text[i + 2])) {
      decoded += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

/// A Location header names the resource by its exact id, escaped: no raw space or control
/// character (a CR LF there would end the header and start another).
void expect_location(const HttpReply& reply, const std::string& path, const std::string& what) {
  const std::string location = reply.header("location");
  EXPECT_EQ(url_decoded(location), path) << what << ": Location " << location;
  EXPECT_TRUE(std::all_of(location.begin(), location.end(),
                          [](unsigned char c) { return c > 0x20 && c < 0x7F; }))
      << what << ": Location " << location;
}

using Fields = std::vector<std::pair<std::string, std::string>>;  ///< name, JSON value

std::string object(const Fields& fields) {
  std::string json = "{";
  for (const auto& [name, value] : fields) {
    json += (json.size() > 1 ? "," : "") + json_text(name) + ":" + value;
  }
  return json + "}";
}

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str(), body.size());
  return document;
}

/// The string at `path` (`firebase_data.email`) of a JSON object, or nullopt.
std::optional<std::string> string_at(const rapidjson::Value& value, const std::string& path) {
  const rapidjson::Value* at = &value;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    std::string name =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!at->IsObject() || !at->HasMember(name.c_str())) return std::nullopt;
    at = &(*at)[name.c_str()];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!at->IsString()) return std::nullopt;
  return std::string(at->GetString(), at->GetStringLength());
}

/// The string member `name` of an object (a name that may itself hold dots), or nullopt.
std::optional<std::string> member(const rapidjson::Value& value, const std::string& name) {
  if (!value.IsObject()) return std::nullopt;
  auto found = value.FindMember(
      rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  if (found == value.MemberEnd() || !found->value.IsString()) return std::nullopt;
  return std::string(found->value.GetString(), found->value.GetStringLength());
}

std::size_t characters(const std::string& text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

bool has_control(const std::string& text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

/// The hostile values: SQL and LIKE metacharacters, quoting and dollar-quoting, backslashes,
/// placeholders, comments, non-ASCII text (no NUL: JSON text with one is refused as a whole,
/// tested separately), control characters, and a value of exactly the 128-byte limit of ids.
std::vector<std::string> hostile_values() {
  std::string longest;
  while (longest.size() < 128) longest += "'; DROP TABLE recordings; --%_\\";
  longest.resize(128);
  return {
      "' OR '1'='1",
      "'; DROP TABLE recordings; --",
      "\"; DROP TABLE app_users; --",
      "Robert'); DROP TABLE event_log;--",
      "1' UNION SELECT username, email FROM users --",
      "admin'--",
      "' OR 1=1 LIMIT 1 OFFSET 1 --",
      "\\",
      "\\'",
      "\\\\' OR '1'='1",
      "%",
      "_",
      "%%",
      "a%b_c",
      "%' OR '%'='",
      "$1",
      "$$; SELECT pg_sleep(10); $$",
      "$tag$ x $tag$",
      "/* comment */ 1",
      "E'\\x27'",
      "  spaced  ",
      "ünïcødé ✓ 日本語 🚀",
      "\xe2\x80\xae reversed",           // U+202E right-to-left override
      "zero\xe2\x80\x8bwidth",           // U+200B zero-width space
      "\xef\xbc\x87 fullwidth quote",    // U+FF07 fullwidth apostrophe
      "line\r\nSet-Cookie: injected=1",  // response splitting, if ever put in a header raw
      "tab\there",
      "{\"$gt\": \"\"}",
      "${jndi:ldap://example.invalid/a}",
      ":name ? %s %n",
      longest,
  };
}

/// A recording link that holds the value as literally as a link can: spaces and control
/// characters (which links may not hold) escaped, everything else as is.
std::string link_with(const std::string& value) {
  std::string link = "https://cdn.example.com/";
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if (c <= 0x20 || c == 0x7F) {
      link += '%';
      link += hex[c >> 4];
      link += hex[c & 15];
    } else {
      link += static_cast<char>(c);
    }
  }
  return link;
}

/// Counts answers by class and fails on any 5xx.
struct Tally {
  int requests = 0;
  int stored = 0;
  int refused = 0;
  std::map<int, int> statuses;

  void count(const std::string& what, const HttpReply& reply) {
    ++requests;
    ++statuses[reply.status];
    EXPECT_LT(reply.status, 500) << what << ": " << reply.body;
    if (reply.status >= 400) {
      EXPECT_NE(reply.body.find("\"detail\""), std::string::npos) << what << ": " << reply.body;
      EXPECT_EQ(reply.header("location").find_first_of("\r\n"), std::string::npos) << what;
    }
    EXPECT_TRUE(reply.header("set-cookie").empty() ||
                reply.header("set-cookie").find("injected") == std::string::npos)
        << what << " let a value into a response header";
    EXPECT_EQ(reply.headers.count("injected"), 0u) << what;
  }
  std::string summary() const {
    std::string text = std::to_string(requests) + " requests, statuses";
    for (const auto& [status, count] : statuses) {
      text += " " + std::to_string(status) + "×" + std::to_string(count);
    }
    return text;
  }
};

/// Every table of the public schema, to show none was dropped or added.
std::set<std::string> tables(const TestStack& stack) {
  return stack.text_column("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
}

std::int64_t rows_in(const TestStack& stack, const std::string& table) {
  auto connection = stack.connect();
  return pqxx::nontransaction(*connection)
      .exec1("SELECT count(*) FROM " + connection->quote_name(table))[0]
      .as<std::int64_t>();
}

TEST(Injection, HostileTextInEveryStoredFieldRoundTripsAndFiltersMatchLiterally) {
  auto started = std::chrono::steady_clock::now();
  TestStack stack;
  HttpClient user(stack.api_port()), admin(stack.api_port());
  sign_in(user, "injection-user");
  sign_in_admin(stack, admin);
  const auto tables_before = tables(stack);
  const auto values = hostile_values();
  Tally tally;
  note("trying " + std::to_string(values.size()) + " values in every field");

  // --- Recordings: each field in turn holds the value, the others are ordinary. ---
  const Fields ordinary_recording = {{"recording_link", json_text("https://cdn.example.com/r")},
                                     {"recording_type", json_text("sensor")},
                                     {"user_id", json_text("app-user")},
                                     {"created_session_id", json_text("s-1")}};
  std::map<std::string, std::map<std::string, int>> recordings_by;  // field → value → count
  std::vector<std::string> recording_ids;  // ids that are hostile values themselves
  int recordings_created = 0;
  auto check_recording = [&](const std::string& id, const std::map<std::string, std::string>& sent,
                             const std::string& what) {
    auto read = user.get("/recordings/" + url_encoded(id));
    tally.count(what + " read back", read);
    ASSERT_EQ(read.status, 200) << what << ": " << read.body;
    auto body = parse(read.body);
    EXPECT_EQ(string_at(body, "recording_id"), id) << what;
    for (const auto& [field, value] : sent) {
      EXPECT_EQ(string_at(body, field), value) << what << " field " << field;
    }
    auto connection = stack.connect();
    auto row = pqxx::nontransaction(*connection)
                   .exec_params(
                       "SELECT recording_link, recording_type, user_id, created_session_id "
                       "FROM recordings WHERE recording_id = $1",
                       id);
    ASSERT_EQ(row.size(), 1u) << what << ": not stored under its exact id";
    const char* columns[] = {"recording_link", "recording_type", "user_id", "created_session_id"};
    for (int i = 0; i < 4; ++i) {
      auto expected = sent.find(columns[i]);
      if (expected != sent.end()) {
        EXPECT_EQ(row[0][i].c_str(), expected->second) << what;
      }
    }
  };
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    for (const std::string field :
         {"recording_id", "recording_link", "recording_type", "user_id", "created_session_id"}) {
      tally::Attack attack;
      const std::string id = field == "recording_id" ? value : field + "-" + std::to_string(i);
      const std::string stored = field == "recording_link" ? link_with(value) : value;
      Fields body = {{"recording_id", json_text(id)}};
      for (const auto& [name, json] : ordinary_recording) {
        body.emplace_back(name, name == field ? json_text(stored) : json);
      }
      const std::string what = "POST /recordings with " + field + " " + shown(value);
      // Hostile ids also go through Idempotency-Key: the kept answer (its Location holds the
      // id) is replayed exactly.
      std::map<std::string, std::string> headers;
      if (field == "recording_id") headers["Idempotency-Key"] = "create-" + std::to_string(i);
      auto reply = user.post("/recordings", object(body), headers);
      tally.count(what, reply);
      ASSERT_EQ(reply.status, 201) << what << ": " << reply.body;
      if (field == "recording_id") {
        auto again = user.post("/recordings", object(body), headers);
        tally.count(what + " again", again);
        EXPECT_EQ(again.status, 201) << what << ": " << again.body;
        EXPECT_EQ(again.header("idempotent-replayed"), "true") << what;
        EXPECT_EQ(again.header("location"), reply.header("location")) << what;
        EXPECT_EQ(again.header("etag"), reply.header("etag")) << what;
        EXPECT_EQ(again.body, reply.body) << what;
      }
      ++tally.stored;
      ++recordings_created;
      expect_location(reply, "/recordings/" + id, what);
      if (field == "recording_id") recording_ids.push_back(id);
      if (field == "user_id" || field == "recording_type") ++recordings_by[field][value];
      check_recording(id,
                      {{field == "recording_id" ? "user_id" : field,
                        field == "recording_id" ? "app-user" : stored}},
                      what);
    }
  }
  note("recordings: every value stored and read back exactly in all five fields (" +
       std::to_string(recordings_created) + " recordings)");

  // --- User records ---
  std::vector<std::string> app_user_ids;
  int app_users_created = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    for (const std::string field : {"user_id", "email", "display_name"}) {
      tally::Attack attack;
      const std::string id =
          field == "user_id" ? value : "record-" + field + "-" + std::to_string(i);
      std::string email = field == "email" ? value : "someone@example.com";
      std::string display = field == "display_name" ? value : "Someone";
      std::string body = object(Fields{
          {"user_id", json_text(id)},
          {"firebase_data",
           object(Fields{{"email", json_text(email)}, {"display_name", json_text(display)}})},
          {"body_data", R"({"height":1.8,"weight":70})"}});
      const std::string what = "POST /users with " + field + " " + shown(value);
      auto reply = user.post("/users", body);
      tally.count(what, reply);
      ASSERT_EQ(reply.status, 201) << what << ": " << reply.body;
      ++tally.stored;
      ++app_users_created;
      expect_location(reply, "/users/" + id, what);
      if (field == "user_id") app_user_ids.push_back(id);
      auto read = user.get("/users/" + url_encoded(id));
      tally.count(what + " read back", read);
      ASSERT_EQ(read.status, 200) << what << ": " << read.body;
      auto parsed = parse(read.body);
      EXPECT_EQ(string_at(parsed, "user_id"), id) << what;
      EXPECT_EQ(string_at(parsed, "firebase_data.email"), email) << what;
      EXPECT_EQ(string_at(parsed, "firebase_data.display_name"), display) << what;
      auto connection = stack.connect();
      auto row =
          pqxx::nontransaction(*connection)
              .exec_params("SELECT email, display_name FROM app_users WHERE user_id = $1", id);
      ASSERT_EQ(row.size(), 1u) << what;
      EXPECT_EQ(row[0][0].c_str(), email) << what;
      EXPECT_EQ(row[0][1].c_str(), display) << what;
    }
  }
  note("user records: every value stored and read back exactly in user_id, email, display_name");

  // --- Algorithms (admins register them) ---
  const Fields ordinary_algorithm = {{"recording_type", json_text("algo-type")},
                                     {"location", json_text("builtin:summary")},
                                     {"version", json_text("1")}};
  std::map<std::string, std::map<std::string, int>> algorithms_by;
  std::vector<std::string> algo_ids;
  int algorithms_created = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    for (const std::string field : {"algo_id", "recording_type", "location", "version"}) {
      tally::Attack attack;
      const std::string id = field == "algo_id" ? value : "algo-" + field + "-" + std::to_string(i);
      Fields body = {{"algo_id", json_text(id)}};
      for (const auto& [name, json] : ordinary_algorithm) {
        body.emplace_back(name, name == field ? json_text(value) : json);
      }
      const std::string what = "POST /algos with " + field + " " + shown(value);
      auto reply = admin.post("/algos", object(body));
      tally.count(what, reply);
      ASSERT_EQ(reply.status, 201) << what << ": " << reply.body;
      ++tally.stored;
      ++algorithms_created;
      expect_location(reply, "/algos/" + id, what);
      if (field == "algo_id") algo_ids.push_back(id);
      if (field == "recording_type" || field == "version") ++algorithms_by[field][value];
      auto read = user.get("/algos/" + url_encoded(id));
      tally.count(what + " read back", read);
      ASSERT_EQ(read.status, 200) << what << ": " << read.body;
      auto parsed = parse(read.body);
      EXPECT_EQ(string_at(parsed, "algo_id"), id) << what;
      if (field != "algo_id") {
        EXPECT_EQ(string_at(parsed, field), value) << what;
      }
    }
  }
  note("algorithms: every value stored and read back exactly in all four fields");

  // --- Event-log entries: the four text fields, and event_data's keys and values. ---
  std::map<std::string, std::map<std::string, int>> entries_by;
  std::vector<std::string> entry_ids;
  int entries_created = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    for (const std::string field :
         {"user_id", "session_id", "event_type", "event_source", "event_data"}) {
      tally::Attack attack;
      Fields body;
      for (const std::string name : {"user_id", "session_id", "event_type", "event_source"}) {
        body.emplace_back(name, json_text(name == field ? value : "ordinary-" + name));
      }
      body.emplace_back("event_data", field == "event_data"
                                          ? object(Fields{{value, json_text(value)}})
                                          : std::string(R"({"n":1})"));
      const std::string what = "POST /events with " + field + " " + shown(value);
      auto reply = user.post("/events", object(body));
      tally.count(what, reply);
      ASSERT_EQ(reply.status, 201) << what << ": " << reply.body;
      ++tally.stored;
      ++entries_created;
      if (field != "event_data") ++entries_by[field][value];
      auto created = parse(reply.body);
      auto event_id = string_at(created, "event_id");
      ASSERT_TRUE(event_id) << reply.body;
      entry_ids.push_back(*event_id);
      auto read = user.get("/events/" + *event_id);
      tally.count(what + " read back", read);
      ASSERT_EQ(read.status, 200) << what << ": " << read.body;
      auto parsed = parse(read.body);
      if (field == "event_data") {
        ASSERT_TRUE(parsed["event_data"].IsObject()) << read.body;
        EXPECT_EQ(member(parsed["event_data"], value), value) << what;
        EXPECT_EQ(parsed["event_data"].MemberCount(), 1u) << what;
      } else {
        EXPECT_EQ(string_at(parsed, field), value) << what;
      }
      auto connection = stack.connect();
      auto row = pqxx::nontransaction(*connection)
                     .exec_params(
                         "SELECT user_id, session_id, event_type, event_source, event_data::text "
                         "FROM event_log WHERE event_id = $1::uuid",
                         *event_id);
      ASSERT_EQ(row.size(), 1u) << what;
      const char* columns[] = {"user_id", "session_id", "event_type", "event_source"};
      for (int c = 0; c < 4; ++c) {
        if (field == columns[c]) {
          EXPECT_EQ(row[0][c].c_str(), value) << what;
        }
      }
      if (field == "event_data") {
        auto data = parse(row[0][4].c_str());
        EXPECT_EQ(member(data, value), value) << what << ": stored " << row[0][4].c_str();
      }
    }
  }
  note(
      "event log: every value stored and read back exactly in user_id, session_id, "
      "event_type, event_source and as an event_data key and value");

  // --- Filters match only literally: `%`, `_`, quotes are no wildcards and no SQL. ---
  int filters_tried = 0;
  auto expect_count = [&](HttpClient& client, const std::string& path, const std::string& name,
                          const std::string& value, int expected, const char* field) {
    const std::string target = path + "?size=100&" + name + "=" + url_encoded(value);
    auto reply = client.get(target);
    tally.count("GET " + target, reply);
    ++filters_tried;
    if (value.size() > 128) {
      EXPECT_EQ(reply.status, 400) << target;
      return;
    }
    ASSERT_EQ(reply.status, 200) << target << ": " << reply.body;
    EXPECT_EQ(reply.header("x-total-count"), std::to_string(expected))
        << "GET " << path << " with " << name << "=" << shown(value) << " matched other rows";
    auto list = parse(reply.body);
    ASSERT_TRUE(list.IsArray()) << reply.body;
    for (const auto& item : list.GetArray()) {
      EXPECT_EQ(string_at(item, field), value) << target;
    }
  };
  auto attack_count = [&](auto&&... arguments) {
    tally::Attack attack;
    expect_count(arguments...);
  };
  for (const auto& value : values) {
    for (const char* field : {"user_id", "recording_type"}) {
      attack_count(user, "/recordings", field, value, recordings_by[field][value], field);
    }
    for (const char* field : {"recording_type", "version"}) {
      attack_count(user, "/algos", field, value, algorithms_by[field][value], field);
    }
    for (const char* field : {"user_id", "session_id", "event_type", "event_source"}) {
      attack_count(user, "/events", field, value, entries_by[field][value], field);
    }
    for (const std::string prefix : {"recordings/", "algos/", "users/"}) {
      bool names_one =
          std::find(recording_ids.begin(), recording_ids.end(), value) != recording_ids.end();
      attack_count(admin, "/log", "subject", prefix + value, names_one ? 1 : 0, "subject");
    }
    attack_count(admin, "/log", "type", value, 0, "type");
  }
  // The ordinary values are still found in full: the hostile filters were not a fluke of
  // matching nothing.
  expect_count(user, "/recordings", "recording_type", "sensor",
               recordings_created - static_cast<int>(values.size()), "recording_type");
  note("filters: " + std::to_string(filters_tried) +
       " filtered lists, each matched exactly the rows holding the value literally");

  // --- Updates with the value in every field, through the path id that is the value. ---
  for (const auto& id : recording_ids) {
    tally::Attack attack;
    std::string body = object(Fields{{"recording_link", json_text(link_with(id))},
                                     {"recording_type", json_text(id)},
                                     {"user_id", json_text(id)},
                                     {"created_session_id", json_text(id)}});
    const std::string what = "PUT /recordings/" + shown(id);
    auto reply = user.request("PUT", "/recordings/" + url_encoded(id), body);
    tally.count(what, reply);
    ASSERT_EQ(reply.status, 200) << what << ": " << reply.body;
    check_recording(id,
                    {{"recording_link", link_with(id)},
                     {"recording_type", id},
                     {"user_id", id},
                     {"created_session_id", id}},
                    what);
  }
  for (const auto& id : app_user_ids) {
    tally::Attack attack;
    std::string body =
        object({{"firebase_data",
                 object(Fields{{"email", json_text(id)}, {"display_name", json_text(id)}})}});
    const std::string what = "PUT /users/" + shown(id);
    auto reply = user.request("PUT", "/users/" + url_encoded(id), body);
    tally.count(what, reply);
    ASSERT_EQ(reply.status, 200) << what << ": " << reply.body;
    auto parsed = parse(reply.body);
    EXPECT_EQ(string_at(parsed, "firebase_data.email"), id) << what;
    EXPECT_EQ(string_at(parsed, "firebase_data.display_name"), id) << what;
  }
  for (const auto& id : algo_ids) {
    tally::Attack attack;
    std::string body = object({{"recording_type", json_text(id)},
                               {"location", json_text(id)},
                               {"version", json_text(id)}});
    const std::string what = "PUT /algos/" + shown(id);
    auto reply = admin.request("PUT", "/algos/" + url_encoded(id), body);
    tally.count(what, reply);
    ASSERT_EQ(reply.status, 200) << what << ": " << reply.body;
    auto parsed = parse(reply.body);
    for (const char* field : {"recording_type", "location", "version"}) {
      EXPECT_EQ(string_at(parsed, field), id) << what;
    }
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    tally::Attack attack;
    const std::string& event_id = entry_ids[i * 5];
    std::string body = object(Fields{{"user_id", json_text(value)},
                                     {"session_id", json_text(value)},
                                     {"event_type", json_text(value)},
                                     {"event_source", json_text(value)},
                                     {"event_data", object(Fields{{value, json_text(value)}})}});
    const std::string what = "PUT /events/" + event_id + " with " + shown(value);
    auto reply = user.request("PUT", "/events/" + event_id, body);
    tally.count(what, reply);
    ASSERT_EQ(reply.status, 200) << what << ": " << reply.body;
    auto parsed = parse(user.get("/events/" + event_id).body);
    for (const char* field : {"user_id", "session_id", "event_type", "event_source"}) {
      EXPECT_EQ(string_at(parsed, field), value) << what;
    }
    EXPECT_EQ(member(parsed["event_data"], value), value) << what;
  }
  note(
      "updates: every recording, user record and algorithm whose id is a value, and one entry "
      "per value, rewritten with the value in every field, read back exactly");

  // --- Deletions through the hostile path ids remove exactly those rows. ---
  for (const auto& id : recording_ids) {
    tally::Attack attack;
    auto reply = user.request("DELETE", "/recordings/" + url_encoded(id));
    tally.count("DELETE /recordings/" + shown(id), reply);
    EXPECT_EQ(reply.status, 204) << shown(id) << ": " << reply.body;
  }
  for (const auto& id : app_user_ids) {
    tally::Attack attack;
    auto reply = user.request("DELETE", "/users/" + url_encoded(id));
    tally.count("DELETE /users/" + shown(id), reply);
    EXPECT_EQ(reply.status, 204) << shown(id) << ": " << reply.body;
  }
  for (const auto& id : algo_ids) {
    tally::Attack attack;
    auto reply = admin.request("DELETE", "/algos/" + url_encoded(id));
    tally.count("DELETE /algos/" + shown(id), reply);
    EXPECT_EQ(reply.status, 204) << shown(id) << ": " << reply.body;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    tally::Attack attack;
    auto reply = user.request("DELETE", "/events/" + entry_ids[i * 5 + 1]);
    tally.count("DELETE /events/…", reply);
    EXPECT_EQ(reply.status, 204) << reply.body;
  }

  // --- Every table is still there, holding exactly what was written. ---
  ASSERT_TRUE(stack.wait_until_projected(30s));
  const std::int64_t count = static_cast<std::int64_t>(values.size());
  {
    tally::Attack attack;  // all of them on the schema and its rows: one that changed them got in
    EXPECT_EQ(tables(stack), tables_before) << "a table was dropped or created";
    EXPECT_EQ(rows_in(stack, "recordings"), recordings_created - count);
    EXPECT_EQ(rows_in(stack, "app_users"), app_users_created - count);
    // `tidemark create-admin` registers none; the three built-in algorithms are not registered
    // by a test stack.
    EXPECT_EQ(rows_in(stack, "algorithms"), algorithms_created - count);
    EXPECT_EQ(rows_in(stack, "event_log"), entries_created - count);
    EXPECT_EQ(rows_in(stack, "users"), 2);
    EXPECT_EQ(user.get("/recordings").header("x-total-count"),
              std::to_string(recordings_created - count));
  }
  note("tables: the same " + std::to_string(tables_before.size()) +
       " tables before and after; recordings " + std::to_string(recordings_created - count) +
       ", user records " + std::to_string(app_users_created - count) + ", algorithms " +
       std::to_string(algorithms_created - count) + ", entries " +
       std::to_string(entries_created - count) + " as expected");
  note("answers: " + tally.summary() + "; " + std::to_string(tally.stored) + " values stored");
  note(took_since(started));
}

TEST(Injection, HostileAccountFieldsAreStoredExactlyAndNeverLogAnyoneIn) {
  auto started = std::chrono::steady_clock::now();
  TestStack stack(
      TestStack::Options{3,
                         {"--registrations-per-address", "100000", "--login-attempts-per-address",
                          "100000", "--login-failures-per-account", "100000"},
                         true});
  const auto values = hostile_values();
  Tally tally;
  HttpClient victim(stack.api_port());
  sign_in(victim, "victim-account");
  int registered = 1, refused_as_documented = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    tally::Attack attack;
    const std::string& value = values[i];
    // Usernames need 5 characters; short values are repeated, never altered otherwise.
    std::string username = value;
    while (characters(username) < 5) username += value;
    std::string password = value;
    while (characters(password) < 8) password += value;
    HttpClient client(stack.api_port());
    const std::string what = "register " + shown(username) + " / full name " + shown(value);
    auto reply = client.post("/auth/register", object(Fields{{"username", json_text(username)},
                                                             {"full_name", json_text(value)},
                                                             {"password", json_text(password)}}));
    tally.count(what, reply);
    bool acceptable = username.size() <= 64 && !has_control(username) && !has_control(value);
    if (!acceptable) {
      EXPECT_EQ(reply.status, 400) << what << ": " << reply.body;
      ++refused_as_documented;
      continue;
    }
    ASSERT_EQ(reply.status, 201) << what << ": " << reply.body;
    ++registered;
    auto login = client.post("/auth/login", object(Fields{{"username", json_text(username)},
                                                          {"password", json_text(password)}}));
    tally.count("login " + shown(username), login);
    ASSERT_EQ(login.status, 200) << what << ": " << login.body;
    auto token = string_at(parse(login.body), "access_token");
    ASSERT_TRUE(token);
    client.set_default_header("Authorization", "Bearer " + *token);
    auto me = parse(client.get("/me").body);
    EXPECT_EQ(string_at(me, "username"), username) << what;
    EXPECT_EQ(string_at(me, "full_name"), value) << what;
    // The value as someone else's password, and as a username with no such account.
    auto wrong = client.post("/auth/login", object(Fields{{"username", json_text("victim-account")},
                                                          {"password", json_text(password)}}));
    tally.count("login as the victim with " + shown(password), wrong);
    EXPECT_EQ(wrong.status, 401) << shown(password) << ": " << wrong.body;
    auto nobody =
        client.post("/auth/login", object(Fields{{"username", json_text(username + "' --")},
                                                 {"password", json_text(password)}}));
    tally.count("login as " + shown(username + "' --"), nobody);
    EXPECT_EQ(nobody.status, 401) << nobody.body;
  }
  // Emails: the value in the local part, where an address can hold it.
  const std::vector<std::string> emails = {
      "o'reilly+%_$1@example.com", "'or'1'='1@example.com", "x\\'--@example.com",
      "ünï'cødé@example.com",      "a%b_c@example.com",     "$$;drop@example.com",
      "\"quoted\"@example.com",    "%@example.com",         "_@example.com"};
  for (const auto& email : emails) {
    tally::Attack attack;
    HttpClient client(stack.api_port());
    auto reply =
        client.post("/auth/register",
                    object(Fields{{"email", json_text(email)}, {"password", json_text(email)}}));
    tally.count("register " + shown(email), reply);
    ASSERT_EQ(reply.status, 201) << email << ": " << reply.body;
    ++registered;
    auto login = client.post(
        "/auth/login", object(Fields{{"email", json_text(email)}, {"password", json_text(email)}}));
    tally.count("login " + shown(email), login);
    ASSERT_EQ(login.status, 200) << email << ": " << login.body;
    client.set_default_header("Authorization",
                              "Bearer " + string_at(parse(login.body), "access_token").value());
    auto me = parse(client.get("/me").body);
    EXPECT_EQ(string_at(me, "email"), email) << email;
  }
  // The classic bypasses against an existing account, and wildcards as usernames (the
  // accounts registered above with those very names have other passwords).
  for (const auto& [username, password] :
       std::vector<std::pair<std::string, std::string>>{{"victim-account' --", "anything"},
                                                        {"victim-account", "' OR '1'='1"},
                                                        {"victim-account'/*", "*/ OR '1'='1"},
                                                        {"' OR '1'='1", "' OR ''='"},
                                                        {"%", "%"},
                                                        {"%%%%%", "' OR 1=1 --"},
                                                        {"_____", "________x"},
                                                        {"VICTIM-ACCOUNT", "' OR '1'='1"}}) {
    tally::Attack attack;
    HttpClient client(stack.api_port());
    auto reply = client.post("/auth/login", object(Fields{{"username", json_text(username)},
                                                          {"password", json_text(password)}}));
    tally.count("login " + shown(username) + " / " + shown(password), reply);
    EXPECT_EQ(reply.status, 401) << shown(username) << ": " << reply.body;
    EXPECT_TRUE(reply.header("set-cookie").empty()) << shown(username);
  }
  ASSERT_TRUE(stack.wait_until_projected(30s));
  {
    tally::Attack attack;  // all of them on the accounts table
    EXPECT_EQ(rows_in(stack, "users"), registered);
  }
  note("accounts: " + std::to_string(registered - 1) +
       " registered with hostile usernames, full "
       "names, passwords and emails, each logged in and read back exactly; " +
       std::to_string(refused_as_documented) +
       " refused with 400 (control characters, over 64 bytes); no bypass logged anyone in");
  note("answers: " + tally.summary());
  note(took_since(started));
}

TEST(Injection, HostilePathIdsAndQueryValuesAnswer4xxNever5xx) {
  auto started = std::chrono::steady_clock::now();
  TestStack stack;
  HttpClient user(stack.api_port()), admin(stack.api_port());
  sign_in(user, "path-user");
  sign_in_admin(stack, admin);
  ASSERT_EQ(user.post("/recordings",
                      object(Fields{{"recording_id", json_text("rec")},
                                    {"recording_link", json_text("https://cdn.example.com/r")},
                                    {"recording_type", json_text("sensor")},
                                    {"user_id", json_text("u")}}))
                .status,
            201);
  ASSERT_EQ(user.post("/users", object(Fields{{"user_id", json_text("app")}})).status, 201);
  ASSERT_EQ(admin
                .post("/algos", object(Fields{{"algo_id", json_text("algo")},
                                              {"recording_type", json_text("sensor")},
                                              {"location", json_text("builtin:summary")},
                                              {"version", json_text("1")}}))
                .status,
            201);
  Tally tally;

  // Escapes as they travel in a path or query string: the hostile values encoded, and bytes
  // that are not UTF-8 (a lone continuation byte, a broken pair, an overlong slash, a UTF-16
  // surrogate, a code point beyond U+10FFFF), a NUL, and an id with a NUL after a real one.
  std::vector<std::pair<std::string, std::string>> segments;  // label, encoded segment
  for (const auto& value : hostile_values())
    segments.emplace_back(shown(value), url_encoded(value));
  const std::vector<std::string> not_text = {"%FF",          "%C3%28", "%C0%AF",  "%ED%A0%80",
                                             "%F4%90%80%80", "%00",    "rec%00x", "app%00",
                                             "algo%00",      "%E2%82"};
  for (const auto& escape : not_text) segments.emplace_back(escape, escape);

  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/recordings/{}"},
      {"PUT", "/recordings/{}"},
      {"DELETE", "/recordings/{}"},
      {"GET", "/recordings/{}/content"},
      {"PUT", "/recordings/{}/content"},
      {"POST", "/recordings/{}/jobs"},
      {"GET", "/users/{}"},
      {"PUT", "/users/{}"},
      {"DELETE", "/users/{}"},
      {"GET", "/algos/{}"},
      {"PUT", "/algos/{}"},
      {"DELETE", "/algos/{}"},
      {"GET", "/events/{}"},
      {"PUT", "/events/{}"},
      {"DELETE", "/events/{}"},
      {"GET", "/jobs/{}"},
      {"GET", "/profile/{}"},
      {"PUT", "/profile/{}"},
      {"DELETE", "/auth/sessions/{}"},
      {"PUT", "/admin/users/{}/role"},
  };
  const std::map<std::string, std::string> bodies = {
      {"/recordings/{}", R"({"recording_link":"https://cdn.example.com/r","recording_type":"s",)"
                         R"("user_id":"u"})"},
      {"/recordings/{}/content", "[1,2]"},
      {"/recordings/{}/jobs", "{}"},
      {"/users/{}", R"({"firebase_data":{"email":"a@example.com"}})"},
      {"/algos/{}", R"({"recording_type":"s","location":"builtin:summary","version":"2"})"},
      {"/events/{}", R"({"user_id":"u","event_type":"t","event_source":"s"})"},
      {"/profile/{}", R"({"full_name":"Someone Else"})"},
      {"/admin/users/{}/role", R"({"role":"admin"})"},
  };
  int non_text_answers = 0;
  for (const auto& [method, pattern] : routes) {
    for (const auto& [label, segment] : segments) {
      tally::Attack attack;
      std::string path = pattern;
      path.replace(path.find("{}"), 2, segment);
      auto body = bodies.find(pattern);
      HttpClient& client =
          pattern.starts_with("/algos") || pattern.starts_with("/admin") ? admin : user;
      auto reply = client.request(
          method, path,
          method == "GET" || method == "DELETE" || body == bodies.end() ? "" : body->second);
      const std::string what = method + " " + path + " (" + label + ")";
      tally.count(what, reply);
      // No resource has such an id, and an id with a NUL never reaches a real one.
      EXPECT_GE(reply.status, 400) << what << ": " << reply.body;
      if (label.starts_with("%") || label.find("%00") != std::string::npos) {
        ++non_text_answers;
        auto detail = string_at(parse(reply.body), "detail");
        EXPECT_TRUE(detail && !detail->empty()) << what << ": " << reply.body;
      }
    }
  }
  // The real resources are untouched by all of that.
  {
    tally::Attack attack;  // all of them on the real resources
    EXPECT_EQ(user.get("/recordings/rec").status, 200);
    EXPECT_EQ(user.get("/users/app").status, 200);
    EXPECT_EQ(user.get("/algos/algo").status, 200);
  }
  note("path ids: " + std::to_string(routes.size()) + " routes × " +
       std::to_string(segments.size()) + " ids (hostile text and " +
       std::to_string(not_text.size()) +
       " byte sequences that are not UTF-8 text or hold a NUL): " +
       "every answer a 4xx with a detail; the real resources untouched");

  // Query values that are not UTF-8 or hold a NUL, in every text filter.
  const std::vector<std::pair<std::string, std::string>> filters = {
      {"/recordings", "user_id"},
      {"/recordings", "recording_type"},
      {"/algos", "recording_type"},
      {"/algos", "version"},
      {"/events", "user_id"},
      {"/events", "session_id"},
      {"/events", "event_type"},
      {"/events", "event_source"},
      {"/events", "ts_gte"},
      {"/log", "type"},
      {"/log", "subject"},
      {"/log", "time_gte"},
      {"/users", "page"},
      {"/admin/users", "size"},
      {"/predict", "recording_type"},
      {"/predict", "user_id"},
      {"/jobs/00000000-0000-4000-8000-000000000000", "wait"},
  };
  int query_answers = 0;
  for (const auto& [path, name] : filters) {
    for (const auto& escape : not_text) {
      tally::Attack attack;
      const std::string target = path + "?" + name + "=" + escape;
      bool post = path == "/predict";
      auto reply = post ? admin.post(target, "[1]") : admin.get(target);
      tally.count(target, reply);
      ++query_answers;
      EXPECT_EQ(reply.status, 400) << target << ": " << reply.body;
    }
  }
  note("query values: " + std::to_string(query_answers) +
       " filtered requests with bytes that are not UTF-8 text or hold a NUL, each answered 400");

  // JSON text with a NUL escape inside a string is refused whole, whatever the field.
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/recordings", R"({"recording_id":"a\u0000b","recording_link":)"
                           R"("https://cdn.example.com/r","recording_type":"s","user_id":"u"})"},
           {"/users", R"({"user_id":"x\u0000"})"},
           {"/events", R"({"user_id":"u","event_type":"t","event_source":"s",)"
                       R"("event_data":{"k\u0000":"v"}})"},
           {"/auth/register", R"({"username":"nul\u0000user","password":"long enough"})"},
           {"/auth/login", R"({"username":"path-user\u0000","password":"test password"})"}}) {
    tally::Attack attack;
    auto reply =
        (path == "/auth/register" || path == "/auth/login" ? admin : user).post(path, body);
    tally.count("POST " + path + " with \\u0000", reply);
    EXPECT_EQ(reply.status, 400) << path << ": " << reply.body;
  }
  ASSERT_TRUE(stack.wait_until_projected(30s));
  {
    tally::Attack attack;  // all of them on the tables' rows
    EXPECT_EQ(rows_in(stack, "recordings"), 1);
    EXPECT_EQ(rows_in(stack, "app_users"), 1);
    EXPECT_EQ(rows_in(stack, "algorithms"), 1);
    EXPECT_EQ(rows_in(stack, "event_log"), 0);
  }
  note("NUL escapes in JSON strings: refused with 400 in ids, event_data keys and account fields");
  note("answers: " + tally.summary());
  note(took_since(started));
}

/// The arrays that carry many rows' values in one statement (`infra::array_literal`: the inference
/// worker's job lookups, the projector's positions) hold any text: each value comes back from
/// PostgreSQL exactly as it went in, NULL-looking and array-syntax text included.
TEST(Injection, ArrayLiteralsCarryHostileTextUnchanged) {
  TestStack stack(TestStack::Options{3, {}, false});
  auto values = hostile_values();
  for (const char* more : {"", "NULL", "null", "{a,b}", "a,b", "\"\"", "}", "{"}) {
    values.emplace_back(more);
  }
  auto connection = stack.connect();
  pqxx::nontransaction read(*connection);
  auto rows = read.exec_params(
      "SELECT value, value IS NULL FROM unnest($1::text[]) WITH ORDINALITY AS v(value, n) "
      "ORDER BY n",
      infra::array_literal(values));
  ASSERT_EQ(rows.size(), values.size());
  for (std::size_t index = 0; index < values.size(); ++index) {
    const auto& row = rows[static_cast<pqxx::result::size_type>(index)];
    EXPECT_FALSE(row[1].as<bool>()) << shown(values[index]);
    EXPECT_EQ(row[0].c_str(), values[index]) << shown(values[index]);
  }
  note("array literal: " + std::to_string(values.size()) + " hostile values came back unchanged");
}

}  // namespace
}  // namespace tidemark::testing
