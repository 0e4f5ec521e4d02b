// The projector's positions live with the read models: killed at any moment and restarted,
// it neither loses nor repeats an event; records it can never apply go to the dead-letter topic.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <random>

#include "domain/log_entry.h"
#include "infra/ids.h"
#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;

TEST(Projector, KilledMidStreamAndRestartedNeitherLosesNorDuplicates) {
  TestStack stack;
  HttpClient client(stack.api_port());
  sign_in(client);
  std::mt19937 random(20261122);
  const int kEvents = 600;
  int accepted = 0;
  for (int i = 0; i < kEvents; ++i) {
    auto reply =
        client.post("/events",
                    R"({"user_id":"user-)" + std::to_string(i % 7) +
                        R"(","event_type":"tap","event_source":"test","event_data":{"i":)" +
                        std::to_string(i) + "}}",
                    {{"Prefer", "respond-async"}});
    ASSERT_EQ(reply.status, 202) << reply.body;
    ++accepted;
    if (i % 150 == 75) {
      // A crash at a moment the projector is likely mid-batch.
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 50));
      stack.stop_projector();
      stack.start_projector();
    }
  }
  ASSERT_TRUE(stack.wait_until_projected(60s)) << stack.projector().output();
  auto connection = stack.connect();
  pqxx::nontransaction sql(*connection);
  EXPECT_EQ(sql.exec1("SELECT count(*) FROM event_log")[0].as<int>(), accepted);
  EXPECT_EQ(sql.exec1("SELECT count(DISTINCT (event_data->>'i')) FROM event_log")[0].as<int>(),
            accepted);
  // Each row sits at a distinct log position, and the stored positions match the rows.
  EXPECT_EQ(
      sql.exec1("SELECT count(DISTINCT (log_partition, log_offset)) FROM event_log")[0].as<int>(),
      accepted);
  // The stored positions are exactly the ends of the log (which also holds the sign-in).
  infra::EventProducer probe(
      infra::EventProducer::Options{stack.bootstrap_servers(), "probe", 5000});
  auto ends = probe.end_offsets("tidemark.events", 5s);
  ASSERT_TRUE(ends.has_value());
  std::int64_t log_end = 0;
  for (const auto& [partition, end] : *ends) log_end += end;
  EXPECT_EQ(sql.exec1("SELECT sum(next_offset) FROM projection_offsets "
                      "WHERE projection = 'read_models'")[0]
                .as<std::int64_t>(),
            log_end);
}

// The read-model projector writes appended rows with COPY at the end of a batch; an event that
// reads or changes them in the same batch must still see every event before it.
TEST(Projector, OneBatchAppliesItsEventsInLogOrder) {
  TestStack stack;
  stack.stop_projector();
  infra::EventProducer raw(infra::EventProducer::Options{stack.bootstrap_servers(), "raw", 5000});
  auto append = [&](std::string_view type, std::string payload) {
    // One key: one partition, so the log order is the order written here.
    auto envelope = infra::new_event("/test", type, "one-key", "", std::move(payload), "", "test");
    ASSERT_TRUE(raw.append_and_wait("tidemark.events", envelope.key, envelope.payload,
                                    envelope.headers()));
  };
  auto entry = [](const domain::Uuid& id, int version) {
    return domain::LogEntry{id,    "user-1",        std::nullopt,
                            "tap", R"({"v":)" + std::to_string(version) + "}",
                            "ios", "info",          domain::now_utc(),
                            std::nullopt, std::nullopt};
  };
  const domain::Uuid redacted = infra::random_uuid();
  const domain::Uuid corrected = infra::random_uuid();
  const domain::Uuid kept = infra::random_uuid();
  append(domain::kLogEntryRecordedV1, domain::encode_log_entry_payload(entry(redacted, 1)));
  // The same entry logged twice (a producer retry): the first one counts.
  append(domain::kLogEntryRecordedV1, domain::encode_log_entry_payload(entry(redacted, 2)));
  append(domain::kLogEntryRecordedV1, domain::encode_log_entry_payload(entry(corrected, 1)));
  append(domain::kLogEntryRedactedV1, domain::encode_log_entry_redacted(redacted));
  append(domain::kLogEntryCorrectedV1, domain::encode_log_entry_payload(entry(corrected, 3)));
  append(domain::kLogEntryRecordedV1, domain::encode_log_entry_payload(entry(kept, 1)));
  append(domain::kLogEntryRecordedV1, domain::encode_log_entry_payload(entry(kept, 2)));
  stack.start_projector();
  ASSERT_TRUE(stack.wait_until_projected(30s)) << stack.projector().output();

  auto connection = stack.connect();
  pqxx::nontransaction sql(*connection);
  auto version = [&](const domain::Uuid& id) {
    auto rows = sql.exec_params("SELECT event_data->>'v' FROM event_log WHERE event_id = $1",
                                id.to_string());
    return rows.empty() ? std::string("absent") : rows[0][0].as<std::string>();
  };
  EXPECT_EQ(version(redacted), "absent");
  EXPECT_EQ(version(corrected), "3");
  EXPECT_EQ(version(kept), "1");
  EXPECT_EQ(sql.exec1("SELECT count(*) FROM domain_events WHERE source = '/test'")[0].as<int>(),
            7);
}

TEST(Projector, PoisonRecordsGoToTheDeadLetterTopicAndTheStreamGoesOn) {
  TestStack stack;
  infra::EventProducer raw(infra::EventProducer::Options{stack.bootstrap_servers(), "raw", 5000});
  // Not CloudEvents at all; a known type with an undecodable payload; an unknown type.
  ASSERT_TRUE(raw.append_and_wait("tidemark.events", "k", "garbage{", {}));
  ASSERT_TRUE(raw.append_and_wait("tidemark.events", "k", "{\"user_id\":1}",
                                  {{"ce_specversion", "1.0"},
                                   {"ce_id", "bad-payload"},
                                   {"ce_type", "tidemark.log_entry.recorded.v1"},
                                   {"ce_source", "/test"},
                                   {"ce_time", "2024-01-01T00:00:00Z"}}));
  ASSERT_TRUE(raw.append_and_wait("tidemark.events", "k", "{}",
                                  {{"ce_specversion", "1.0"},
                                   {"ce_id", "unknown-type"},
                                   {"ce_type", "tidemark.nothing.v9"},
                                   {"ce_source", "/test"},
                                   {"ce_time", "2024-01-01T00:00:00Z"}}));
  HttpClient client(stack.api_port());
  sign_in(client);
  auto after = client.post("/events", R"({"user_id":"k","event_type":"t","event_source":"s"})");
  EXPECT_EQ(after.status, 201) << after.body;
  ASSERT_TRUE(stack.wait_until_projected(30s));

  auto [code, output] =
      run_command({"kcat", "-C", "-b", stack.bootstrap_servers(), "-t", "tidemark.events.dlq", "-o",
                   "beginning", "-e", "-q", "-f", "%s|%h\n"},
                  30s);
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("garbage{|tidemark_dlq_reason=record is not a CloudEvents 1.0 event"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("ce_id=bad-payload"), std::string::npos) << output;
  EXPECT_NE(output.find("undecodable tidemark.log_entry.recorded.v1 payload: field 'event_id' is "
                        "required"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("unknown event type 'tidemark.nothing.v9'"), std::string::npos) << output;
  EXPECT_NE(output.find("tidemark_dlq_source=tidemark.events:"), std::string::npos) << output;
}

}  // namespace
}  // namespace tidemark::testing
