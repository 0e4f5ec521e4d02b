#include "domain/upcasters.h"

#include <gtest/gtest.h>

#include "domain/log_entry.h"

using tidemark::domain::decode_log_entry_payload;
using tidemark::domain::EventEnvelope;
using tidemark::domain::kLogEntryRecordedV0;
using tidemark::domain::kLogEntryRecordedV1;
using tidemark::domain::upcast;

namespace {

EventEnvelope envelope(std::string_view type, std::string payload) {
  EventEnvelope made;
  made.type = type;
  made.payload = std::move(payload);
  return made;
}

}  // namespace

TEST(Upcasters, CurrentVersionsPassUnchanged) {
  auto same = upcast(envelope("tidemark.recording.deleted.v1", R"({"recording_id":"r"})"));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->type, "tidemark.recording.deleted.v1");
  EXPECT_EQ(same->payload, R"({"recording_id":"r"})");
}

TEST(Upcasters, Seed003RowsBecomeCurrentLogEntries) {
  auto lifted = upcast(envelope(
      kLogEntryRecordedV0,
      R"({"event_id":"3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b","user_id":"u7","session_id":null,)"
      R"("event_type":"tap","event_data":"{\"screen\":\"home\"}","event_source":"android",)"
      R"("log_level":"warning","ts":"2024-05-01 10:20:30.5"})"));
  ASSERT_TRUE(lifted.ok()) << lifted.error().message;
  EXPECT_EQ(lifted->type, kLogEntryRecordedV1);
  auto entry = decode_log_entry_payload(lifted->payload);
  ASSERT_TRUE(entry.ok()) << entry.error().message << " " << lifted->payload;
  EXPECT_EQ(entry->event_id.to_string(), "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b");
  EXPECT_EQ(entry->event_data_json, R"({"screen":"home"})");
  EXPECT_EQ(tidemark::domain::format_timestamp(entry->ts), "2024-05-01T10:20:30.500000Z");
  EXPECT_EQ(entry->log_level, "warning");
  EXPECT_FALSE(entry->owner_id.has_value());
}

TEST(Upcasters, OldPayloadsThatCannotBeLiftedAreRefusedByName) {
  for (
      const char* payload :
      {R"({"event_id":"nope","user_id":"u","event_type":"t","event_source":"s","ts":"2024-01-01 00:00:00"})",
       R"({"event_id":"3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b","user_id":"u","event_type":"t",)"
       R"("event_source":"s","event_data":"[1]","ts":"2024-01-01 00:00:00"})",
       R"({"event_id":"3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b","user_id":"u","event_type":"t",)"
       R"("event_source":"s","ts":"yesterday"})"}) {
    auto lifted = upcast(envelope(kLogEntryRecordedV0, payload));
    EXPECT_FALSE(lifted.ok()) << payload;
    if (!lifted.ok()) {
      EXPECT_NE(lifted.error().message.find("log entry v0"), std::string::npos);
    }
  }
}
