#include "domain/json.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

using tidemark::domain::ErrorKind;
using tidemark::domain::JsonFieldReader;
using tidemark::domain::parse_json_object;
using tidemark::domain::to_json;

namespace {

rapidjson::Document object(const char* text) {
  auto result = parse_json_object(text, "test object");
  EXPECT_TRUE(result.ok()) << result.error().message;
  return std::move(result).value();
}

}  // namespace

TEST(JsonFieldReader, ReadsStringsAndObjects) {
  auto document = object(R"({"a": "x", "o": {"k": [1, 2]}})");
  JsonFieldReader reader(document);
  EXPECT_EQ(reader.string("a", true, 10), "x");
  EXPECT_EQ(reader.object_text("o", true, 100), R"({"k":[1,2]})");
  EXPECT_EQ(reader.finish(), std::nullopt);
}

TEST(JsonFieldReader, FirstErrorWins) {
  auto document = object(R"({"a": 1, "b": "", "c": []})");
  JsonFieldReader reader(document);
  EXPECT_EQ(reader.string("missing", true, 10), std::nullopt);
  EXPECT_EQ(reader.string("a", true, 10), std::nullopt);
  EXPECT_EQ(reader.string("b", true, 10), std::nullopt);
  EXPECT_EQ(reader.object_text("c", true, 10), std::nullopt);
  auto error = reader.finish();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, ErrorKind::invalid);
  EXPECT_EQ(error->message, "field 'missing' is required");
}

TEST(JsonFieldReader, LaterCallsStillReturnValuesAfterAnError) {
  auto document = object(R"({"a": 1, "b": "ok"})");
  JsonFieldReader reader(document);
  EXPECT_EQ(reader.string("a", true, 10), std::nullopt);
  EXPECT_EQ(reader.string("b", true, 10), "ok");
  ASSERT_TRUE(reader.finish());
  EXPECT_EQ(reader.finish()->message, "field 'a' must be a string");
}

TEST(JsonFieldReader, NullCountsAsAbsent) {
  auto document = object(R"({"s": null, "o": null})");
  JsonFieldReader optional_reader(document);
  EXPECT_EQ(optional_reader.string("s", false, 10), std::nullopt);
  EXPECT_EQ(optional_reader.object_text("o", false, 10), std::nullopt);
  EXPECT_EQ(optional_reader.finish(), std::nullopt);  // null optional fields are not errors

  JsonFieldReader required_reader(document);
  EXPECT_EQ(required_reader.string("s", true, 10), std::nullopt);
  ASSERT_TRUE(required_reader.finish());
  EXPECT_EQ(required_reader.finish()->message, "field 's' is required");

  JsonFieldReader required_object(document);
  required_object.string("s", false, 10);
  EXPECT_EQ(required_object.object_text("o", true, 10), std::nullopt);
  ASSERT_TRUE(required_object.finish());
  EXPECT_EQ(required_object.finish()->message, "field 'o' is required");
}

TEST(JsonFieldReader, UnknownFieldReportedOnlyAfterKnownFieldChecksPass) {
  auto document = object(R"({"unknown": 1, "a": 5})");
  JsonFieldReader reader(document);
  reader.string("a", true, 10);
  ASSERT_TRUE(reader.finish());
  EXPECT_EQ(reader.finish()->message, "field 'a' must be a string");

  auto clean = object(R"({"unknown": 1, "a": "x"})");
  JsonFieldReader clean_reader(clean);
  EXPECT_EQ(clean_reader.string("a", true, 10), "x");
  auto error = clean_reader.finish();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, ErrorKind::invalid);
  EXPECT_EQ(error->message, "unknown field 'unknown'");
}

TEST(JsonFieldReader, FieldAskedForButAbsentIsNotUnknown) {
  auto document = object(R"({"b": "x"})");
  JsonFieldReader reader(document);
  EXPECT_EQ(reader.string("a", false, 10), std::nullopt);
  EXPECT_EQ(reader.string("b", false, 10), "x");
  EXPECT_EQ(reader.finish(), std::nullopt);
}

TEST(JsonFieldReader, FieldNamesAreCaseSensitive) {
  auto document = object(R"({"User_Id": "x"})");
  JsonFieldReader reader(document);
  EXPECT_EQ(reader.string("user_id", false, 10), std::nullopt);
  ASSERT_TRUE(reader.finish());
  EXPECT_EQ(reader.finish()->message, "unknown field 'User_Id'");
}

TEST(JsonFieldReader, EnforcesStringLengthInclusive) {
  auto document = object(R"({"a": "12345", "b": "123456"})");
  JsonFieldReader reader(document);
  EXPECT_EQ(reader.string("a", true, 5), "12345");
  EXPECT_EQ(reader.string("b", true, 5), std::nullopt);
  ASSERT_TRUE(reader.finish());
  EXPECT_EQ(reader.finish()->message, "field 'b' must be at most 5 bytes");
}

TEST(JsonFieldReader, EnforcesObjectSizeOnCompactSerialisation) {
  // Whitespace in the input does not count: the compact form {"k":1} is 7 bytes.
  auto document = object(R"({"o": {  "k" :   1  }})");
  JsonFieldReader fits(document);
  EXPECT_EQ(fits.object_text("o", true, 7), R"({"k":1})");
  EXPECT_EQ(fits.finish(), std::nullopt);
  JsonFieldReader too_big(document);
  EXPECT_EQ(too_big.object_text("o", true, 6), std::nullopt);
  ASSERT_TRUE(too_big.finish());
  EXPECT_EQ(too_big.finish()->message, "field 'o' must be at most 6 bytes of JSON");
}

// PostgreSQL cannot store NUL in text or jsonb, so it is refused at the door with a name.
TEST(JsonFieldReader, RefusesStringsWithEmbeddedNul) {
  auto document = object(R"({"a": "x\u0000y", "o": {"k\u0000": 1}})");
  JsonFieldReader reader(document);
  EXPECT_EQ(reader.string("a", true, 10), std::nullopt);
  EXPECT_EQ(reader.object_text("o", true, 100), std::nullopt);
  ASSERT_TRUE(reader.finish());
  EXPECT_EQ(reader.finish()->message, "field 'a' must not contain a NUL character");
}

TEST(ParseJsonObject, NamesWhatWasParsedAndWhere) {
  auto result = parse_json_object("{\"a\": }", "request body");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::invalid);
  EXPECT_NE(result.error().message.find("request body is not valid JSON"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("(at byte 6)"), std::string::npos)
      << result.error().message;
}

TEST(ToJson, SerialisesCompactly) {
  auto document = object(R"({ "a" : [ 1 , "two" , null ] , "b" : { } })");
  EXPECT_EQ(to_json(document), R"({"a":[1,"two",null],"b":{}})");
}
