#include "domain/envelope.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

using tidemark::domain::ErrorKind;
using tidemark::domain::EventEnvelope;
using tidemark::domain::Headers;
using tidemark::domain::parse_timestamp;
namespace header = tidemark::domain::header;

namespace {

EventEnvelope sample() {
  EventEnvelope envelope;
  envelope.id = "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b";
  envelope.type = "tidemark.log_entry.recorded.v1";
  envelope.source = "/tidemark/api";
  envelope.subject = "user-1";
  envelope.time = *parse_timestamp("2024-12-07T03:55:15.972101Z");
  envelope.correlation_id = "req-123";
  envelope.actor = "client-a";
  envelope.key = "user-1";
  envelope.payload = R"({"user_id":"user-1"})";
  return envelope;
}

std::optional<std::string> find(const Headers& headers, std::string_view name) {
  auto found = std::find_if(headers.begin(), headers.end(),
                            [&](const auto& pair) { return pair.first == name; });
  if (found == headers.end()) return std::nullopt;
  return found->second;
}

Headers without(Headers headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& pair) { return pair.first == name; });
  return headers;
}

Headers with(Headers headers, std::string_view name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (key == name) existing = value;
  }
  return headers;
}

::testing::AssertionResult rejected(const Headers& headers, std::string_view fragment) {
  auto result = EventEnvelope::from_record(headers, "key", "{}");
  if (result.ok()) return ::testing::AssertionFailure() << "record was accepted";
  if (result.error().kind != ErrorKind::invalid) {
    return ::testing::AssertionFailure() << "kind is not invalid: " << result.error().message;
  }
  if (result.error().message.find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message '" << result.error().message << "' lacks '" << fragment << "'";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(EventEnvelopeHeaders, ContainsEveryCloudEventsAttribute) {
  Headers headers = sample().headers();
  EXPECT_EQ(find(headers, "ce_specversion"), "1.0");
  EXPECT_EQ(find(headers, "ce_id"), "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b");
  EXPECT_EQ(find(headers, "ce_type"), "tidemark.log_entry.recorded.v1");
  EXPECT_EQ(find(headers, "ce_source"), "/tidemark/api");
  EXPECT_EQ(find(headers, "ce_time"), "2024-12-07T03:55:15.972101Z");
  EXPECT_EQ(find(headers, "ce_subject"), "user-1");
  EXPECT_EQ(find(headers, "content-type"), "application/json");
  EXPECT_EQ(find(headers, "tidemark_correlation_id"), "req-123");
  EXPECT_EQ(find(headers, "tidemark_actor"), "client-a");
}

TEST(EventEnvelopeHeaders, HeaderNameConstantsMatchTheKafkaBinding) {
  EXPECT_EQ(header::kSpecVersion, "ce_specversion");
  EXPECT_EQ(header::kId, "ce_id");
  EXPECT_EQ(header::kType, "ce_type");
  EXPECT_EQ(header::kSource, "ce_source");
  EXPECT_EQ(header::kTime, "ce_time");
  EXPECT_EQ(header::kSubject, "ce_subject");
  EXPECT_EQ(header::kContentType, "content-type");
}

TEST(EventEnvelopeHeaders, NamesEachHeaderOnce) {
  Headers headers = sample().headers();
  for (const auto& [name, value] : headers) {
    EXPECT_EQ(std::count_if(headers.begin(), headers.end(),
                            [&](const auto& pair) { return pair.first == name; }),
              1)
        << name;
  }
}

TEST(EventEnvelopeFromRecord, RoundTripsHeaders) {
  EventEnvelope original = sample();
  auto result = EventEnvelope::from_record(original.headers(), original.key, original.payload);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->id, original.id);
  EXPECT_EQ(result->type, original.type);
  EXPECT_EQ(result->source, original.source);
  EXPECT_EQ(result->subject, original.subject);
  EXPECT_EQ(result->time, original.time);
  EXPECT_EQ(result->correlation_id, original.correlation_id);
  EXPECT_EQ(result->actor, original.actor);
  EXPECT_EQ(result->key, original.key);
  EXPECT_EQ(result->payload, original.payload);
}

TEST(EventEnvelopeFromRecord, OptionalHeadersDefaultToEmpty) {
  Headers headers = sample().headers();
  headers = without(headers, "ce_subject");
  headers = without(headers, "tidemark_correlation_id");
  headers = without(headers, "tidemark_actor");
  auto result = EventEnvelope::from_record(headers, "k", "{}");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->subject, "");
  EXPECT_EQ(result->correlation_id, "");
  EXPECT_EQ(result->actor, "");
}

TEST(EventEnvelopeFromRecord, AcceptsMissingContentTypeAsJson) {
  auto result = EventEnvelope::from_record(without(sample().headers(), "content-type"), "k", "{}");
  EXPECT_TRUE(result.ok());
}

TEST(EventEnvelopeFromRecord, RejectsMissingOrEmptyId) {
  EXPECT_TRUE(rejected(without(sample().headers(), "ce_id"), "ce_id"));
  EXPECT_TRUE(rejected(with(sample().headers(), "ce_id", ""), "ce_id"));
}

TEST(EventEnvelopeFromRecord, RejectsMissingOrEmptyType) {
  EXPECT_TRUE(rejected(without(sample().headers(), "ce_type"), "ce_type"));
  EXPECT_TRUE(rejected(with(sample().headers(), "ce_type", ""), "ce_type"));
}

TEST(EventEnvelopeFromRecord, RejectsMissingOrEmptySource) {
  EXPECT_TRUE(rejected(without(sample().headers(), "ce_source"), "ce_source"));
  EXPECT_TRUE(rejected(with(sample().headers(), "ce_source", ""), "ce_source"));
}

TEST(EventEnvelopeFromRecord, RejectsMissingOrBadTime) {
  EXPECT_TRUE(rejected(without(sample().headers(), "ce_time"), "ce_time"));
  EXPECT_TRUE(rejected(with(sample().headers(), "ce_time", "yesterday"), "ce_time"));
  EXPECT_TRUE(rejected(with(sample().headers(), "ce_time", ""), "ce_time"));
  EXPECT_TRUE(rejected(with(sample().headers(), "ce_time", "2023-02-29T00:00:00Z"), "ce_time"));
}

TEST(EventEnvelopeFromRecord, RejectsOtherSpecVersions) {
  EXPECT_TRUE(rejected(with(sample().headers(), "ce_specversion", "0.3"), "CloudEvents 1.0"));
  EXPECT_TRUE(rejected(with(sample().headers(), "ce_specversion", "1.0.0"), "CloudEvents 1.0"));
  EXPECT_TRUE(rejected(without(sample().headers(), "ce_specversion"), "CloudEvents 1.0"));
}

TEST(EventEnvelopeFromRecord, RejectsNonJsonContentType) {
  EXPECT_TRUE(rejected(with(sample().headers(), "content-type", "text/plain"), "'text/plain'"));
  EXPECT_TRUE(rejected(with(sample().headers(), "content-type", "application/cloudevents+json"),
                       "content-type"));
}

TEST(EventEnvelopeFromRecord, AcceptsTimeWithOffsetAndNormalisesIt) {
  auto result = EventEnvelope::from_record(
      with(sample().headers(), "ce_time", "2024-12-07T10:55:15.972101+07:00"), "k", "{}");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->time, sample().time);
}
