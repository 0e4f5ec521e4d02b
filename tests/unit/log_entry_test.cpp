#include "domain/log_entry.h"

#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using tidemark::domain::decode_log_entry_payload;
using tidemark::domain::encode_log_entry_payload;
using tidemark::domain::ErrorKind;
using tidemark::domain::kLogEntryRecordedV1;
using tidemark::domain::LogEntry;
using tidemark::domain::LogEntryQuery;
using tidemark::domain::parse_log_entry_query;
using tidemark::domain::parse_log_entry_request;
using tidemark::domain::parse_timestamp;
using tidemark::domain::QueryParameters;
using tidemark::domain::Result;
using tidemark::domain::Timestamp;
using tidemark::domain::Uuid;

namespace {

const Uuid kEventId = *Uuid::parse("3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b");
const Timestamp kNow = *parse_timestamp("2025-01-02T03:04:05.678901Z");

Result<LogEntry> parse(std::string_view body) {
  return parse_log_entry_request(body, kEventId, kNow);
}

/// Expects an `invalid` error whose message contains every fragment.
::testing::AssertionResult fails_with(const Result<LogEntry>& result,
                                      std::vector<std::string_view> fragments) {
  if (result.ok()) return ::testing::AssertionFailure() << "parsed successfully";
  if (result.error().kind != ErrorKind::invalid) {
    return ::testing::AssertionFailure() << "kind is not invalid: " << result.error().message;
  }
  for (auto fragment : fragments) {
    if (result.error().message.find(fragment) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "message '" << result.error().message << "' lacks '" << fragment << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult query_fails_with(const Result<LogEntryQuery>& result,
                                            std::string_view fragment) {
  if (result.ok()) return ::testing::AssertionFailure() << "parsed successfully";
  if (result.error().kind != ErrorKind::invalid) {
    return ::testing::AssertionFailure() << "kind is not invalid: " << result.error().message;
  }
  if (result.error().message.find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message '" << result.error().message << "' lacks '" << fragment << "'";
  }
  return ::testing::AssertionSuccess();
}

Result<LogEntryQuery> query(const QueryParameters& parameters,
                            const std::vector<std::string_view>& also_allowed = {}) {
  return parse_log_entry_query(parameters, also_allowed);
}

}  // namespace

// --- parse_log_entry_request ---------------------------------------------------------------

TEST(ParseLogEntryRequest, AcceptsFullValidBody) {
  auto result = parse(R"({
    "user_id": "user-1",
    "session_id": "session-9",
    "event_type": "screen_view",
    "event_data": {"screen": "home", "nested": {"list": [1, 2.5, true, null]}},
    "event_source": "ios",
    "log_level": "warning",
    "ts": "2024-12-07T10:55:15.972101+07:00"
  })");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const LogEntry& entry = *result;
  EXPECT_EQ(entry.event_id, kEventId);
  EXPECT_EQ(entry.user_id, "user-1");
  EXPECT_EQ(entry.session_id, "session-9");
  EXPECT_EQ(entry.event_type, "screen_view");
  EXPECT_EQ(entry.event_data_json, R"({"screen":"home","nested":{"list":[1,2.5,true,null]}})");
  EXPECT_EQ(entry.event_source, "ios");
  EXPECT_EQ(entry.log_level, "warning");
  EXPECT_EQ(entry.ts, parse_timestamp("2024-12-07T03:55:15.972101Z"));
}

TEST(ParseLogEntryRequest, AppliesDefaultsForOptionalFields) {
  auto result = parse(R"({"user_id": "u", "event_type": "t", "event_source": "s"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->log_level, "info");
  EXPECT_EQ(result->ts, kNow);
  EXPECT_EQ(result->event_data_json, "{}");
  EXPECT_EQ(result->session_id, std::nullopt);
}

TEST(ParseLogEntryRequest, TreatsExplicitNullsAsAbsent) {
  auto result = parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                          "session_id": null, "event_data": null, "log_level": null,
                          "ts": null})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->session_id, std::nullopt);
  EXPECT_EQ(result->event_data_json, "{}");
  EXPECT_EQ(result->log_level, "info");
  EXPECT_EQ(result->ts, kNow);
}

TEST(ParseLogEntryRequest, KeepsEmptyEventDataObject) {
  auto result = parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                          "event_data": {}})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->event_data_json, "{}");
}

TEST(ParseLogEntryRequest, NamesEachMissingRequiredField) {
  EXPECT_TRUE(
      fails_with(parse(R"({"event_type": "t", "event_source": "s"})"), {"'user_id'", "required"}));
  EXPECT_TRUE(
      fails_with(parse(R"({"user_id": "u", "event_source": "s"})"), {"'event_type'", "required"}));
  EXPECT_TRUE(
      fails_with(parse(R"({"user_id": "u", "event_type": "t"})"), {"'event_source'", "required"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": null, "event_type": "t", "event_source": "s"})"),
                         {"'user_id'", "required"}));
  EXPECT_TRUE(fails_with(parse("{}"), {"'user_id'", "required"}));  // the first one wins
}

TEST(ParseLogEntryRequest, NamesFieldsOfTheWrongType) {
  EXPECT_TRUE(fails_with(parse(R"({"user_id": 42, "event_type": "t", "event_source": "s"})"),
                         {"'user_id'", "must be a string"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": true, "event_source": "s"})"),
                         {"'event_type'", "must be a string"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                          "session_id": {"a": 1}})"),
                         {"'session_id'", "must be a string"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "event_data": [1, 2]})"),
                         {"'event_data'", "must be a JSON object"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "event_data": "{\"a\": 1}"})"),
                         {"'event_data'", "must be a JSON object"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "ts": 1733543715})"),
                         {"'ts'", "must be a string"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "log_level": 3})"),
                         {"'log_level'", "must be a string"}));
}

TEST(ParseLogEntryRequest, NamesUnknownField) {
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "evnet_data": {}})"),
                         {"unknown field 'evnet_data'"}));
  // event_id is chosen by the server, so a client may not send one.
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "event_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b"})"),
                         {"unknown field 'event_id'"}));
}

TEST(ParseLogEntryRequest, RejectsEmptyStrings) {
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "", "event_type": "t", "event_source": "s"})"),
                         {"'user_id'", "must not be empty"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "session_id": ""})"),
                         {"'session_id'", "must not be empty"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "ts": ""})"),
                         {"'ts'", "must not be empty"}));
}

TEST(ParseLogEntryRequest, LimitsIdentifiersTo128Bytes) {
  const std::string ok(128, 'a');
  const std::string too_long(129, 'a');
  auto body = [](const std::string& field, const std::string& value) {
    std::string json =
        R"({"user_id": "u", "event_type": "t", "event_source": "s", "session_id": "x")";
    auto at = json.find("\"" + field + "\": \"");
    auto start = at + field.size() + 5;
    json.replace(start, json.find('"', start) - start, value);
    return json + "}";
  };
  for (const std::string field : {"user_id", "session_id", "event_type", "event_source"}) {
    EXPECT_TRUE(parse(body(field, ok)).ok()) << field;
    EXPECT_TRUE(fails_with(parse(body(field, too_long)), {"'" + field + "'", "at most 128 bytes"}))
        << field;
  }
}

TEST(ParseLogEntryRequest, CountsIdentifierLengthInBytesNotCharacters) {
  std::string two_byte_64;  // 64 x U+00E9 = 128 bytes
  for (int i = 0; i < 64; ++i) two_byte_64 += "\xC3\xA9";
  auto ok =
      parse(R"({"user_id": ")" + two_byte_64 + R"(", "event_type": "t", "event_source": "s"})");
  EXPECT_TRUE(ok.ok());
  auto too_long = parse(R"({"user_id": ")" + two_byte_64 + "\xC3\xA9" +
                        R"(", "event_type": "t", "event_source": "s"})");
  EXPECT_TRUE(fails_with(too_long, {"'user_id'", "at most 128 bytes"}));
}

TEST(ParseLogEntryRequest, LimitsEventDataSize) {
  std::string big(64 * 1024, 'x');
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "event_data": {"blob": ")" +
                               big + R"("}})"),
                         {"'event_data'", "65536 bytes"}));
  std::string fits(64 * 1024 - 11, 'x');  // {"blob":"..."} is 11 bytes of framing
  auto result = parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                          "event_data": {"blob": ")" +
                      fits + R"("}})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->event_data_json.size(), 64u * 1024u);
}

TEST(ParseLogEntryRequest, LogLevelIsCaseInsensitiveAndStoredLowerCase) {
  for (const char* level : {"debug", "INFO", "Warning", "ERROR", "CrItIcAl"}) {
    auto result = parse(std::string(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                        "log_level": ")") +
                        level + R"("})");
    ASSERT_TRUE(result.ok()) << level << ": " << result.error().message;
    std::string lowered = level;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(result->log_level, lowered);
  }
}

TEST(ParseLogEntryRequest, RejectsUnknownLogLevel) {
  for (const char* level : {"verbose", "warn", "fatal", "info "}) {
    EXPECT_TRUE(fails_with(parse(std::string(R"({"user_id": "u", "event_type": "t",
                                                 "event_source": "s", "log_level": ")") +
                                 level + R"("})"),
                           {"'log_level'", "debug, info, warning, error, critical"}))
        << level;
  }
}

TEST(ParseLogEntryRequest, RejectsBadTimestampQuotingTheValue) {
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "ts": "2023-02-29T00:00:00Z"})"),
                         {"'ts'", "RFC 3339", "'2023-02-29T00:00:00Z'"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                   "ts": "yesterday"})"),
                         {"'ts'", "'yesterday'"}));
}

TEST(ParseLogEntryRequest, AcceptsNaiveAndDateOnlyTimestamps) {
  auto naive = parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                         "ts": "2024-05-06T07:08:09"})");
  ASSERT_TRUE(naive.ok()) << naive.error().message;
  EXPECT_EQ(naive->ts, parse_timestamp("2024-05-06T07:08:09Z"));
  auto date = parse(R"({"user_id": "u", "event_type": "t", "event_source": "s",
                        "ts": "2024-05-06"})");
  ASSERT_TRUE(date.ok()) << date.error().message;
  EXPECT_EQ(date->ts, parse_timestamp("2024-05-06T00:00:00Z"));
}

TEST(ParseLogEntryRequest, RejectsInvalidJson) {
  EXPECT_TRUE(fails_with(parse(""), {"request body", "not valid JSON"}));
  EXPECT_TRUE(fails_with(parse("{"), {"request body", "not valid JSON"}));
  EXPECT_TRUE(fails_with(parse(R"({"user_id": "u",})"), {"not valid JSON"}));
  EXPECT_TRUE(fails_with(parse("{'user_id': 'u'}"), {"not valid JSON"}));
  EXPECT_TRUE(fails_with(parse("user_id=u"), {"not valid JSON"}));
}

TEST(ParseLogEntryRequest, RejectsNonObjectJson) {
  EXPECT_TRUE(fails_with(parse("[]"), {"request body must be a JSON object"}));
  EXPECT_TRUE(fails_with(parse(R"([{"user_id": "u", "event_type": "t", "event_source": "s"}])"),
                         {"must be a JSON object"}));
  EXPECT_TRUE(fails_with(parse(R"("a string")"), {"must be a JSON object"}));
  EXPECT_TRUE(fails_with(parse("42"), {"must be a JSON object"}));
  EXPECT_TRUE(fails_with(parse("null"), {"must be a JSON object"}));
}

TEST(ParseLogEntryRequest, RejectsTrailingGarbageAfterTheObject) {
  const std::string valid = R"({"user_id": "u", "event_type": "t", "event_source": "s"})";
  EXPECT_TRUE(parse(valid + " \n\t").ok());  // trailing whitespace is fine
  EXPECT_TRUE(fails_with(parse(valid + "x"), {"not valid JSON"}));
  EXPECT_TRUE(fails_with(parse(valid + " {}"), {"not valid JSON"}));
  EXPECT_TRUE(fails_with(parse(valid + valid), {"not valid JSON"}));
  EXPECT_TRUE(fails_with(parse(valid + ","), {"not valid JSON"}));
}

TEST(ParseLogEntryRequest, ReadsOnlyTheGivenLengthOfTheBuffer) {
  // The body is a string_view into a larger buffer: bytes past its end must not be parsed.
  const std::string buffer = R"({"user_id": "u", "event_type": "t", "event_source": "s"}garbage)";
  std::string_view body(buffer.data(), buffer.find("garbage"));
  EXPECT_TRUE(parse(body).ok());
}

// --- encode / decode -----------------------------------------------------------------------

namespace {

void expect_same_entry(const LogEntry& actual, const LogEntry& expected) {
  EXPECT_EQ(actual.event_id, expected.event_id);
  EXPECT_EQ(actual.user_id, expected.user_id);
  EXPECT_EQ(actual.session_id, expected.session_id);
  EXPECT_EQ(actual.event_type, expected.event_type);
  EXPECT_EQ(actual.event_data_json, expected.event_data_json);
  EXPECT_EQ(actual.event_source, expected.event_source);
  EXPECT_EQ(actual.log_level, expected.log_level);
  EXPECT_EQ(actual.ts, expected.ts);
  EXPECT_EQ(actual.owner_id, expected.owner_id);
  EXPECT_EQ(actual.expected_revision, expected.expected_revision);
}

}  // namespace

TEST(LogEntryPayload, RoundTripsEveryField) {
  LogEntry entry{kEventId,
                 "user \"quoted\" \\ back\\slash \xE3\x83\xA6\xE3\x83\xBC\xE3\x82\xB6",
                 std::string("session\twith\ncontrol"),
                 "type/\xF0\x9F\x8C\x8A",
                 R"({"a":{"b":[1,"two",{"c":null}],"q":"say \"hi\"","u":")"
                 "\xC3\xA9"
                 R"("},"n":-1.5})",
                 "android",
                 "critical",
                 *parse_timestamp("2024-12-07T03:55:15.972101Z"),
                 Uuid::parse("0e0f7a9c-1b2d-4c3e-8f40-5a6b7c8d9e0f"),
                 std::int64_t{3}};
  std::string payload = encode_log_entry_payload(entry);
  auto decoded = decode_log_entry_payload(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << payload;
  expect_same_entry(*decoded, entry);
}

TEST(LogEntryPayload, RoundTripsAbsentSessionAsNull) {
  LogEntry entry{kEventId, "u",    std::nullopt, "t",          "{}",
                 "s",      "info", Timestamp{},  std::nullopt, std::nullopt};
  std::string payload = encode_log_entry_payload(entry);
  EXPECT_NE(payload.find(R"("session_id":null)"), std::string::npos) << payload;
  auto decoded = decode_log_entry_payload(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_same_entry(*decoded, entry);
}

TEST(LogEntryPayload, EncodesTheDocumentedShape) {
  LogEntry entry{
      kEventId,     "u",         std::string("s1"), "t",
      R"({"k":1})", "web",       "debug",           *parse_timestamp("2024-01-02T03:04:05.000006Z"),
      std::nullopt, std::nullopt};
  EXPECT_EQ(encode_log_entry_payload(entry),
            R"({"event_id":"3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b","user_id":"u",)"
            R"("session_id":"s1","event_type":"t","event_data":{"k":1},"event_source":"web",)"
            R"("log_level":"debug","ts":"2024-01-02T03:04:05.000006Z"})");
}

TEST(LogEntryPayload, RequestToPayloadToEntryKeepsEverything) {
  auto request = parse(R"({"user_id": "\u00fcser", "event_type": "t", "event_source": "s",
                           "event_data": {"x": [1, {"y": "z"}]}, "log_level": "ERROR"})");
  ASSERT_TRUE(request.ok()) << request.error().message;
  auto decoded = decode_log_entry_payload(encode_log_entry_payload(*request));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_same_entry(*decoded, *request);
}

TEST(LogEntryPayload, DecodeRequiresEventIdAndTs) {
  EXPECT_TRUE(fails_with(decode_log_entry_payload(
                             R"({"user_id": "u", "event_type": "t", "event_source": "s",
                                 "ts": "2024-01-01T00:00:00Z"})"),
                         {"'event_id'", "required"}));
  EXPECT_TRUE(fails_with(decode_log_entry_payload(
                             R"({"event_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b",
                                 "user_id": "u", "event_type": "t", "event_source": "s"})"),
                         {"'ts'", "required"}));
}

TEST(LogEntryPayload, DecodeRejectsBadEventId) {
  EXPECT_TRUE(fails_with(decode_log_entry_payload(
                             R"({"event_id": "not-a-uuid", "user_id": "u", "event_type": "t",
                                 "event_source": "s", "ts": "2024-01-01T00:00:00Z"})"),
                         {"'event_id'", "UUID"}));
}

TEST(LogEntryPayload, DecodeRejectsNonObjectAndNamesThePayload) {
  EXPECT_TRUE(fails_with(decode_log_entry_payload("[]"), {"log entry payload", "JSON object"}));
  EXPECT_TRUE(fails_with(decode_log_entry_payload("{"), {"log entry payload", "not valid JSON"}));
}

TEST(LogEntryPayload, EventTypeNameIsVersioned) {
  EXPECT_EQ(kLogEntryRecordedV1, "tidemark.log_entry.recorded.v1");
}

// --- parse_log_entry_query -----------------------------------------------------------------

TEST(ParseLogEntryQuery, DefaultsToFirstPageOfTen) {
  auto result = query({});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->page, 1);
  EXPECT_EQ(result->size, 10);
  EXPECT_EQ(result->user_id, std::nullopt);
  EXPECT_EQ(result->session_id, std::nullopt);
  EXPECT_EQ(result->event_type, std::nullopt);
  EXPECT_EQ(result->event_source, std::nullopt);
  EXPECT_EQ(result->ts_gte, std::nullopt);
  EXPECT_EQ(result->ts_lte, std::nullopt);
}

TEST(ParseLogEntryQuery, ReadsEveryFilter) {
  auto result = query({{"user_id", "u1"},
                       {"session_id", "s1"},
                       {"event_type", "click"},
                       {"event_source", "web"},
                       {"ts_gte", "2024-01-01T00:00:00Z"},
                       {"ts_lte", "2024-01-31T00:00:00+01:00"},
                       {"page", "3"},
                       {"size", "25"}});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->user_id, "u1");
  EXPECT_EQ(result->session_id, "s1");
  EXPECT_EQ(result->event_type, "click");
  EXPECT_EQ(result->event_source, "web");
  EXPECT_EQ(result->ts_gte, parse_timestamp("2024-01-01T00:00:00Z"));
  EXPECT_EQ(result->ts_lte, parse_timestamp("2024-01-30T23:00:00Z"));
  EXPECT_EQ(result->page, 3);
  EXPECT_EQ(result->size, 25);
}

TEST(ParseLogEntryQuery, RejectsPageBelowOneOrNotANumber) {
  for (const char* page :
       {"0", "-1", "x", "", "1.5", " 1", "1 ", "+1", "0x10", "99999999999999999999"}) {
    EXPECT_TRUE(query_fails_with(query({{"page", page}}), "'page'")) << "'" << page << "'";
  }
}

TEST(ParseLogEntryQuery, BoundsPageAtOneBillion) {
  auto max = query({{"page", "1000000000"}});
  ASSERT_TRUE(max.ok()) << max.error().message;
  EXPECT_EQ(max->page, 1'000'000'000);
  EXPECT_TRUE(query_fails_with(query({{"page", "1000000001"}}), "'page'"));
}

TEST(ParseLogEntryQuery, BoundsSizeFromOneToHundred) {
  EXPECT_TRUE(query_fails_with(query({{"size", "0"}}), "'size'"));
  EXPECT_TRUE(
      query_fails_with(query({{"size", "101"}}), "'size' must be an integer from 1 to 100"));
  EXPECT_TRUE(query_fails_with(query({{"size", "-5"}}), "'size'"));
  EXPECT_TRUE(query_fails_with(query({{"size", "ten"}}), "'size'"));
  auto hundred = query({{"size", "100"}});
  ASSERT_TRUE(hundred.ok()) << hundred.error().message;
  EXPECT_EQ(hundred->size, 100);
  auto one = query({{"size", "1"}});
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->size, 1);
}

TEST(ParseLogEntryQuery, RejectsUnknownParameterButAcceptsAlsoAllowed) {
  EXPECT_TRUE(query_fails_with(query({{"user", "u1"}}), "unknown query parameter 'user'"));
  EXPECT_TRUE(query_fails_with(query({{"position", "0:1"}}), "unknown query parameter 'position'"));
  auto allowed = query({{"position", "0:1"}, {"user_id", "u1"}}, {"position"});
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_EQ(allowed->user_id, "u1");
  EXPECT_TRUE(
      query_fails_with(query({{"other", "x"}}, {"position"}), "unknown query parameter 'other'"));
}

TEST(ParseLogEntryQuery, RejectsTsGteAfterTsLte) {
  EXPECT_TRUE(query_fails_with(
      query({{"ts_gte", "2024-02-01T00:00:00Z"}, {"ts_lte", "2024-01-01T00:00:00Z"}}),
      "'ts_gte' must not be after 'ts_lte'"));
  // Offsets are compared as instants: 00:30+01:00 is 23:30Z the day before.
  EXPECT_TRUE(query_fails_with(
      query({{"ts_gte", "2024-01-01T00:30:00+01:00"}, {"ts_lte", "2023-12-31T23:00:00Z"}}),
      "'ts_gte'"));
}

TEST(ParseLogEntryQuery, AcceptsEqualBounds) {
  auto result =
      query({{"ts_gte", "2024-01-01T00:00:00Z"}, {"ts_lte", "2024-01-01T01:00:00+01:00"}});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->ts_gte, result->ts_lte);
}

TEST(ParseLogEntryQuery, NamesBadTimestampParameterAndQuotesValue) {
  EXPECT_TRUE(
      query_fails_with(query({{"ts_gte", "soon"}}),
                       "query parameter 'ts_gte' must be an RFC 3339 date-time, got 'soon'"));
  EXPECT_TRUE(query_fails_with(query({{"ts_lte", "2023-02-29"}}), "'ts_lte'"));
  EXPECT_TRUE(query_fails_with(query({{"ts_lte", ""}}), "'ts_lte'"));
}

TEST(ParseLogEntryQuery, RejectsEmptyOrOverlongTextFilters) {
  for (const char* name : {"user_id", "session_id", "event_type", "event_source"}) {
    EXPECT_TRUE(query_fails_with(query({{name, ""}}), std::string("'") + name + "'")) << name;
    EXPECT_TRUE(query_fails_with(query({{name, std::string(129, 'a')}}), "1 to 128 bytes")) << name;
    EXPECT_TRUE(query({{name, std::string(128, 'a')}}).ok()) << name;
  }
}

TEST(ParseLogEntryRequest, RejectsNulCharacterInStrings) {
  EXPECT_FALSE(
      parse_log_entry_request(R"({"user_id": "a\u0000b", "event_type": "t", "event_source": "s"})",
                              kEventId, kNow)
          .ok());
  EXPECT_FALSE(parse_log_entry_request(R"({"user_id": "u", "event_type": "t",
                                           "event_source": "s", "event_data": {"k": "\u0000"}})",
                                       kEventId, kNow)
                   .ok());
}

TEST(ParseLogEntryRequest, RejectsInvalidUtf8) {
  EXPECT_FALSE(parse_log_entry_request(
                   "{\"user_id\": \"\xFF\xFE\", \"event_type\": \"t\", \"event_source\": \"s\"}",
                   kEventId, kNow)
                   .ok());
  EXPECT_FALSE(
      parse_log_entry_request("{\"user_id\": \"u\", \"event_type\": \"t\", "
                              "\"event_source\": \"s\", \"event_data\": {\"k\": \"\xC3\"}}",
                              kEventId, kNow)
          .ok());
}

TEST(ParseLogEntryRequest, RejectsGarbageAfterANulByte) {
  const std::string body =
      std::string(R"({"user_id": "u", "event_type": "t", "event_source": "s"})") +
      std::string("\0garbage", 8);
  EXPECT_FALSE(parse_log_entry_request(body, kEventId, kNow).ok());
}

TEST(LogEntryPayload, EdgeOfRangeTsIsRejectedOrDecodes) {
  auto entry = parse_log_entry_request(
      R"({"user_id": "u", "event_type": "t", "event_source": "s",
          "ts": "0001-01-01T00:00:00+01:00"})",
      kEventId, kNow);
  EXPECT_FALSE(entry.ok());
}
