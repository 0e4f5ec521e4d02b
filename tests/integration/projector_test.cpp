// The projector's positions live with the read models: killed at any moment and restarted,
// it neither loses nor repeats an event; records it can never apply go to the dead-letter topic.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <random>

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
