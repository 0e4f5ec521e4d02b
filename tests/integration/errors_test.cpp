// Every malformed request gets a JSON error that names the problem, and nothing is written;
// a broker or database that does not answer gives 503, never a 2xx or a hang.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <pqxx/pqxx>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;

std::string detail_of(const HttpReply& reply) {
  rapidjson::Document document;
  document.Parse(reply.body.c_str());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("detail")) {
    return "<no JSON detail in: " + reply.body + ">";
  }
  return document["detail"].GetString();
}

std::int64_t events_in_topic(const TestStack& stack) {
  infra::EventProducer probe(
      infra::EventProducer::Options{stack.bootstrap_servers(), "probe", 5000});
  auto ends = probe.end_offsets("tidemark.events", 5s);
  EXPECT_TRUE(ends.has_value());
  std::int64_t total = 0;
  for (const auto& [partition, end] : ends.value_or(std::map<std::int32_t, std::int64_t>{})) {
    total += end;
  }
  return total;
}

TEST(Errors, MalformedBodiesAreRefusedByNameAndWriteNothing) {
  TestStack stack(TestStack::Options{3, {"--max-body-bytes", "2048"}, true});
  HttpClient client(stack.api_port());
  sign_in(client);
  const std::string valid_tail = R"("event_type":"t","event_source":"s")";
  ASSERT_TRUE(stack.wait_until_projected(30s));
  const std::int64_t events_before = events_in_topic(stack);
  const std::pair<std::string, std::string> cases[] = {
      {"{not json", "not valid JSON"},
      {"", "not valid JSON"},
      {"[1,2]", "must be a JSON object"},
      {R"({"user_id":"u"} trailing)", "not valid JSON"},
      {R"({"event_type":"t","event_source":"s"})", "'user_id' is required"},
      {R"({"user_id":42,)" + valid_tail + "}", "'user_id' must be a string"},
      {R"({"user_id":"u",)" + valid_tail + R"(,"event_data":[1]})",
       "'event_data' must be a JSON object"},
      {R"({"user_id":"u",)" + valid_tail + R"(,"colour":"blue"})", "unknown field 'colour'"},
      {R"({"user_id":"",)" + valid_tail + "}", "'user_id' must not be empty"},
      {R"({"user_id":"u",)" + valid_tail + R"(,"ts":"yesterday"})", "'ts' must be an RFC 3339"},
      {R"({"user_id":"u",)" + valid_tail + R"(,"log_level":"loud"})", "'log_level' must be one of"},
      {R"({"user_id":")" + std::string(129, 'x') + R"(",)" + valid_tail + "}", "at most 128"},
  };
  for (const auto& [body, expected] : cases) {
    auto reply = client.post("/events", body);
    EXPECT_EQ(reply.status, 400) << body;
    EXPECT_NE(detail_of(reply).find(expected), std::string::npos)
        << "body " << body << " gave " << reply.body;
  }

  std::string oversized = R"({"user_id":"u",)" + valid_tail + R"(,"event_data":{"blob":")" +
                          std::string(4096, 'a') + R"("}})";
  auto too_large = client.post("/events", oversized);
  EXPECT_EQ(too_large.status, 413);
  EXPECT_NE(detail_of(too_large).find("limit is 2048"), std::string::npos) << too_large.body;

  EXPECT_EQ(events_in_topic(stack), events_before);
  auto connection = stack.connect();
  EXPECT_EQ(pqxx::nontransaction(*connection).exec1("SELECT count(*) FROM event_log")[0].as<int>(),
            0);

  auto accepted = client.post("/events", R"({"user_id":"u",)" + valid_tail + "}");
  EXPECT_EQ(accepted.status, 201) << accepted.body;
}

TEST(Errors, UnknownRoutesMethodsAndIdsAnswerJson) {
  TestStack stack;
  HttpClient client(stack.api_port());
  sign_in(client);
  auto missing = client.get("/no/such/route");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(detail_of(missing).find("/no/such/route"), std::string::npos);
  auto wrong_method = client.request("DELETE", "/healthz");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("allow"), "GET");
  EXPECT_EQ(wrong_method.header("content-type"), "application/json");
  auto unknown_event = client.get("/events/1c0d4730-eb6a-1549-8000-000000000000");
  EXPECT_EQ(unknown_event.status, 404);
  EXPECT_EQ(detail_of(unknown_event), "Event not found");
  auto not_uuid = client.get("/events/42");
  EXPECT_EQ(not_uuid.status, 400);
  EXPECT_NE(detail_of(not_uuid).find("UUID"), std::string::npos);
}

TEST(Errors, BrokerThatDoesNotAcknowledgeGives503WithRetryAfterNeverA2xx) {
  TestStack stack(TestStack::Options{3, {"--produce-timeout-ms", "1500"}, true});
  HttpClient client(stack.api_port());
  sign_in(client);
  ASSERT_EQ(client.post("/events", R"({"user_id":"u","event_type":"t","event_source":"s"})").status,
            201);
  stack.broker().set_down();
  auto started = std::chrono::steady_clock::now();
  auto refused = client.post("/events", R"({"user_id":"u","event_type":"t","event_source":"s"})");
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "1");
  EXPECT_NE(detail_of(refused).find("broker"), std::string::npos) << refused.body;
  EXPECT_LT(waited, 10s);
  stack.broker().set_up();
  // Once the broker is back, writes succeed again (the client retries as told).
  int status = 0;
  for (int attempt = 0; attempt < 20 && status != 201; ++attempt) {
    status =
        client.post("/events", R"({"user_id":"u","event_type":"t","event_source":"s"})").status;
    if (status != 201) std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(status, 201);
}

TEST(Errors, DatabaseDownGives503AndRecoversWhenItReturns) {
  TestStack stack;
  HttpClient client(stack.api_port());
  sign_in(client);
  ASSERT_EQ(client.get("/check").status, 200);
  stack.postgres().stop();
  for (const char* target : {"/check", "/events", "/readyz"}) {
    auto reply = client.get(target);
    EXPECT_EQ(reply.status, 503) << target << " " << reply.body;
    EXPECT_EQ(reply.header("retry-after"), "1") << target;
  }
  EXPECT_EQ(client.get("/healthz").status, 200);  // the process itself is fine
  stack.postgres().start();
  int status = 0;
  for (int attempt = 0; attempt < 40 && status != 200; ++attempt) {
    status = client.get("/check").status;
    if (status != 200) std::this_thread::sleep_for(250ms);
  }
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace tidemark::testing
