#include "domain/recording.h"

#include <gtest/gtest.h>

using tidemark::domain::decode_recording;
using tidemark::domain::encode_recording;
using tidemark::domain::is_media_type;
using tidemark::domain::parse_recording_request;
using tidemark::domain::Recording;
using tidemark::domain::Uuid;

TEST(ParseRecordingRequest, ReadsSeed003BodyAndChecksThePathId) {
  const std::string body =
      R"({"recording_id":"r1","recording_link":"https://x.example.com/r","recording_type":"face",)"
      R"("user_id":"u1","created_session_id":"s1"})";
  auto parsed = parse_recording_request(body, std::nullopt);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->recording_id, "r1");
  EXPECT_EQ(parsed->created_session_id, "s1");
  EXPECT_TRUE(parse_recording_request(body, std::string("r1")).ok());
  EXPECT_FALSE(parse_recording_request(body, std::string("r2")).ok());
  EXPECT_FALSE(parse_recording_request(R"({"recording_id":"r1"})", std::nullopt).ok());
}

TEST(IsMediaType, TakesTypeSubtypeAndParametersInPrintableAscii) {
  for (const char* text : {"audio/wav", "image/jpeg; q=1", "application/json; charset=utf-8",
                           "image/svg+xml", "text/plain; name=\"a b\""}) {
    EXPECT_TRUE(is_media_type(text)) << text;
  }
  // Bytes beyond ASCII in a parameter once reached the events, which the projector refused.
  for (const char* text : {"", "image", "image/", "/png", "image /png", "image/bmp; name=\xFF",
                           "image/bmp; name=\xC3\xA9", "image/bmp;\x01", "image/bmp\x7F"}) {
    EXPECT_FALSE(is_media_type(text)) << text;
  }
  EXPECT_FALSE(is_media_type("image/" + std::string(122, 'x')));
}

TEST(RecordingPayload, RoundTripsWithOwnerAndExpectedRevision) {
  Recording recording{"r1", "gs://b/r", "audio", "u1", std::nullopt};
  Uuid owner = *Uuid::parse("0e0f7a9c-1b2d-4c3e-8f40-5a6b7c8d9e0f");
  auto decoded = decode_recording(encode_recording({recording, owner, 4}));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->recording.recording_link, "gs://b/r");
  EXPECT_EQ(decoded->recording.created_session_id, std::nullopt);
  EXPECT_EQ(decoded->owner_id, owner);
  EXPECT_EQ(decoded->expected_revision, 4);
}
