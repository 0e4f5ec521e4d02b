// Operations on the log and the read models: a rebuild while writes go on ends equal to the
// live read models and swaps in; exports of a range are exact and open personal data only
// for users who still exist; analysts read the domain events over HTTP.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <thread>

#include "domain/log_entry.h"
#include "domain/timestamp.h"
#include "domain/upcasters.h"
#include "infra/ids.h"
#include "infra/kafka.h"
#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;

std::string entry(const std::string& type) {
  return R"({"user_id":"u","event_type":")" + type + R"(","event_source":"ios"})";
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Signs `username` in on `client`, writes `count` event-log entries and waits for their
/// projection.
void write_projected_entries(TestStack& stack, HttpClient& client, const std::string& username,
                             int count) {
  sign_in(client, username);
  for (int i = 0; i < count; ++i) ASSERT_EQ(client.post("/events", entry("tap")).status, 201);
  ASSERT_TRUE(stack.wait_until_projected(30s));
}

/// Every index on the live tables, as PostgreSQL would recreate it.
std::set<std::string> live_index_definitions(const TestStack& stack) {
  return stack.text_column("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'");
}

TEST(Operations, RebuildWhileWritesContinueEndsEqualToTheLiveReadModels) {
  TestStack stack;
  const auto indexes_before = live_index_definitions(stack);
  HttpClient writer_setup(stack.api_port());
  std::string token = sign_in(writer_setup, "busy-writer");
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(writer_setup.post("/events", entry("tap")).status, 201);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    HttpClient client(stack.api_port());
    client.set_default_header("Authorization", "Bearer " + token);
    // Bounded: at most a few thousand writes whatever the rebuild's pace.
    for (int i = 0; i < 5000 && !stop; ++i) {
      if (client.post("/events", entry("swipe")).status == 201) ++written;
    }
  });
  auto [code, output] =
      stack.tidemark({"rebuild", "all", "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                      "--master-key", stack.master_key()});
  stop = true;
  writer.join();
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("equal to the live ones; swapped in"), std::string::npos) << output;
  EXPECT_NE(output.find("events/s"), std::string::npos) << output;
  EXPECT_GT(written.load(), 0) << "no write overlapped the rebuild";
  // The rebuild drops the fresh tables' secondary indexes for the load and builds them again
  // (on two connections): the swapped-in tables have every index the live ones had.
  EXPECT_EQ(live_index_definitions(stack), indexes_before);

  // Writes go on after the swap, and the swapped-in tables hold every acknowledged one.
  ASSERT_EQ(writer_setup.post("/events", entry("after")).status, 201);
  ASSERT_TRUE(stack.wait_until_projected(30s));
  EXPECT_EQ(writer_setup.get("/events").header("x-total-count"),
            std::to_string(150 + written.load() + 1));
  // A second rebuild finds the tables equal again: the first one lost and repeated nothing.
  auto [again, again_output] =
      stack.tidemark({"rebuild", "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                      "--master-key", stack.master_key()});
  EXPECT_EQ(again, 0) << again_output;
  EXPECT_EQ(again_output.find("DIFFERENT"), std::string::npos) << again_output;
  auto [checksum_code, checksums] = stack.tidemark({"checksum"});
  EXPECT_EQ(checksum_code, 0);
  EXPECT_NE(checksums.find("event_log " + std::to_string(150 + written.load() + 1) + " "),
            std::string::npos)
      << checksums;

  EXPECT_EQ(stack.tidemark({"rebuild", "mailer"}).first, 2) << "side-effect roles never replay";
  // Migrations that name an index (0014's down) still find it in the swapped-in tables.
  auto [down_code, down] = stack.tidemark({"migrate", "down", "13"});
  EXPECT_EQ(down_code, 0) << down;
  auto [up_code, up] = stack.tidemark({"migrate"});
  EXPECT_EQ(up_code, 0) << up;
}

TEST(Operations, ARebuildThatDiffersFromTheLiveTablesKeepsThemUnlessToldToSwap) {
  TestStack stack;
  HttpClient client(stack.api_port());
  write_projected_entries(stack, client, "tampered-with", 20);
  // A live row that no event explains, as a bug or a hand edit would leave it.
  pqxx::nontransaction(*stack.connect())
      .exec(
          "UPDATE event_log SET event_type = 'tampered' "
          "WHERE event_id = (SELECT event_id FROM event_log ORDER BY event_id LIMIT 1)");
  const std::string count_tampered =
      "SELECT count(*)::text FROM event_log "
      "WHERE event_type = 'tampered'";

  auto [code, output] =
      stack.tidemark({"rebuild", "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                      "--master-key", stack.master_key()});
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("event_log: live 20 rows"), std::string::npos) << output;
  EXPECT_NE(output.find("DIFFERENT"), std::string::npos) << output;
  EXPECT_NE(output.find("the live ones stay"), std::string::npos) << output;
  EXPECT_EQ(stack.text_column(count_tampered), std::set<std::string>{"1"});

  auto [forced, forced_output] =
      stack.tidemark({"rebuild", "--swap-when-different", "true", "--kafka-bootstrap-servers",
                      stack.bootstrap_servers(), "--master-key", stack.master_key()});
  EXPECT_EQ(forced, 0) << forced_output;
  EXPECT_NE(forced_output.find("DIFFERENT; swapped in"), std::string::npos) << forced_output;
  EXPECT_EQ(stack.text_column(count_tampered), std::set<std::string>{"0"});
  EXPECT_EQ(client.get("/events").header("x-total-count"), "20");
}

TEST(Operations, ADatabaseRebuiltWithGeneratedIndexNamesGetsItsNamesBack) {
  TestStack stack(TestStack::Options{1, {}, false});
  auto connection = stack.connect();
  // What a rebuild before 0015 left: PostgreSQL's generated names on the swapped-in tables.
  pqxx::nontransaction(*connection)
      .exec(
          "ALTER INDEX recordings_user_owner "
          "RENAME TO recordings_user_id_owner_id_created_at_recording_id_idx; "
          "ALTER INDEX users_username RENAME TO users_lower_idx");
  auto [down_code, down] = stack.tidemark({"migrate", "down", "14"});
  ASSERT_EQ(down_code, 0) << down;
  auto [up_code, up] = stack.tidemark({"migrate"});
  ASSERT_EQ(up_code, 0) << up;
  auto names = stack.text_column("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'");
  EXPECT_TRUE(names.contains("recordings_user_owner"));
  EXPECT_TRUE(names.contains("users_username"));
  EXPECT_FALSE(names.contains("users_lower_idx"));
  // And 0014's down, which names its indexes, works again.
  auto [again_code, again] = stack.tidemark({"migrate", "down", "13"});
  EXPECT_EQ(again_code, 0) << again;
}

TEST(Operations, ExportOfARangeIsExactAndOpensPersonalDataOnlyForThoseWhoRemain) {
  TestStack stack;
  HttpClient stays(stack.api_port()), leaves(stack.api_port());
  sign_in(stays, "stays-here");
  sign_in(leaves, "leaves-soon");
  std::string stays_id, leaves_id;
  {
    rapidjson::Document me;
    me.Parse(stays.get("/me").body.c_str());
    stays_id = me["user_id"].GetString();
    me.Parse(leaves.get("/me").body.c_str());
    leaves_id = me["user_id"].GetString();
  }
  for (int i = 0; i < 5; ++i) ASSERT_EQ(stays.post("/events", entry("early")).status, 201);
  std::this_thread::sleep_for(50ms);
  auto middle = std::chrono::system_clock::now();
  std::this_thread::sleep_for(50ms);
  for (int i = 0; i < 7; ++i) ASSERT_EQ(stays.post("/events", entry("late")).status, 201);
  ASSERT_EQ(leaves.request("DELETE", "/user/delete").status, 200);

  auto export_to = [&](const std::string& name, std::vector<std::string> flags) {
    auto path = stack.folder() / name;
    flags.insert(flags.begin(),
                 {"events", "export", "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                  "--master-key", stack.master_key(), "--output", path.string()});
    auto [code, output] = stack.tidemark(flags);
    EXPECT_EQ(code, 0) << output;
    return lines_of(path);
  };
  std::string middle_text =
      domain::format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(middle));
  auto late = export_to("late.jsonl", {"--event-types", "tidemark.log_entry.recorded.v1",
                                       "--from-time", middle_text});
  EXPECT_EQ(late.size(), 7u);
  for (const auto& line : late) EXPECT_NE(line.find("\"late\""), std::string::npos) << line;
  auto early = export_to("early.csv", {"--event-types", "tidemark.log_entry.recorded.v1",
                                       "--to-time", middle_text, "--format", "csv"});
  ASSERT_EQ(early.size(), 6u);  // the header and five rows
  EXPECT_EQ(early[0], "position,id,type,time,subject,key,actor,data");

  auto registrations = export_to(
      "people.jsonl", {"--event-types", "tidemark.user.registered.v1", "--decrypt", "true"});
  ASSERT_EQ(registrations.size(), 2u);
  std::string all = registrations[0] + registrations[1];
  EXPECT_NE(all.find("\"username\":\"stays-here\""), std::string::npos) << all;
  EXPECT_EQ(all.find("leaves-soon"), std::string::npos) << "a deleted user was decrypted";
  EXPECT_NE(all.find("\"[shredded]\""), std::string::npos) << all;
  EXPECT_EQ(all.find("password_hash"), std::string::npos) << "password hashes never leave";
  auto sealed = export_to("sealed.jsonl", {"--event-types", "tidemark.user.registered.v1"});
  ASSERT_EQ(sealed.size(), 2u);
  EXPECT_EQ((sealed[0] + sealed[1]).find("stays-here"), std::string::npos);

  auto about_one = export_to("one.jsonl", {"--user", stays_id});
  EXPECT_GE(about_one.size(), 13u);  // registration, session, twelve entries
  for (const auto& line : about_one) EXPECT_EQ(line.find(leaves_id), std::string::npos) << line;

  auto [bad, message] = stack.tidemark({"events", "export", "--from-time", "yesterday"});
  EXPECT_EQ(bad, 2);
  EXPECT_NE(message.find("from_time"), std::string::npos) << message;
  auto [misspelt, refusal] =
      stack.tidemark({"events", "export", "--event-types", "tidemark.user.registerd.v1"});
  EXPECT_EQ(misspelt, 2);
  EXPECT_NE(refusal.find("unknown event type 'tidemark.user.registerd.v1'"), std::string::npos)
      << refusal;
  auto [replayed, replay] =
      run_command({TIDEMARK_BINARY, "replay", "--kafka-bootstrap-servers",
                   stack.bootstrap_servers(), "--event-types", "tidemark.user.deleted.v1"});
  EXPECT_EQ(replayed, 0) << replay;
  EXPECT_NE(replay.find("\"type\":\"tidemark.user.deleted.v1\""), std::string::npos) << replay;
}

TEST(Operations, ThreeProjectorsThenOneProcessAStreamWithNoGapAndNoDuplicate) {
  TestStack stack(TestStack::Options{6, {}, true});
  auto& second = stack.add_projector();
  auto& third = stack.add_projector();
  HttpClient setup(stack.api_port());
  std::string token = sign_in(setup, "streamer");
  std::vector<std::string> acknowledged;
  std::mutex mutex;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    HttpClient client(stack.api_port());
    client.set_default_header("Authorization", "Bearer " + token);
    client.set_default_header("Prefer", "respond-async");  // do not wait for the projectors
    for (int i = 0; i < 3000 && !stop; ++i) {
      auto reply = client.post("/events", entry("step-" + std::to_string(i)));
      rapidjson::Document body;
      body.Parse(reply.body.c_str());
      if (reply.status / 100 == 2 && body.IsObject() && body.HasMember("event_id")) {
        std::lock_guard lock(mutex);
        acknowledged.push_back(body["event_id"].GetString());
      }
    }
  });
  std::this_thread::sleep_for(2s);
  // SIGTERM mid-stream: each finishes or abandons its batch atomically and leaves the group.
  second.send_signal(SIGTERM);
  EXPECT_EQ(second.wait(15s), 0) << second.output();
  std::this_thread::sleep_for(1s);
  third.send_signal(SIGTERM);
  EXPECT_EQ(third.wait(15s), 0) << third.output();
  std::this_thread::sleep_for(1s);
  stop = true;
  writer.join();
  ASSERT_GT(acknowledged.size(), 50u);
  ASSERT_TRUE(stack.wait_until_projected(60s));

  auto connection = stack.connect();
  pqxx::nontransaction read(*connection);
  auto rows = read.exec("SELECT event_id::text FROM event_log");
  std::set<std::string> projected;
  for (const auto& row : rows) projected.insert(row[0].c_str());
  EXPECT_EQ(rows.size(), projected.size()) << "an event was projected twice";
  std::set<std::string> expected(acknowledged.begin(), acknowledged.end());
  EXPECT_EQ(projected, expected) << "acknowledged " << expected.size() << ", projected "
                                 << projected.size();
}

// The rebuild writes the domain log on a connection of its own; when that connection fails,
// the rebuild fails and says so, and the live tables stay as they were.
TEST(Operations, ARebuildWhoseDomainLogConnectionFailsStopsAndSwapsNothing) {
  TestStack stack;
  HttpClient client(stack.api_port());
  write_projected_entries(stack, client, "domain-log", 30);
  auto [before_code, before] = stack.tidemark({"checksum"});
  ASSERT_EQ(before_code, 0) << before;

  // The rebuild's first batch opens the account's sealed fields, which reads `user_keys`:
  // holding that table stops the rebuild there, after its domain-log writer has connected.
  auto holder = stack.connect();
  pqxx::work hold(*holder);
  hold.exec("LOCK TABLE user_keys IN ACCESS EXCLUSIVE MODE");
  std::pair<int, std::string> rebuilt;
  std::thread rebuild([&] {
    rebuilt = stack.tidemark({"rebuild", "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                              "--master-key", stack.master_key(), "--rebuild-batch-size", "5"});
  });
  auto observer = stack.connect();
  bool held = false;
  for (int attempt = 0; attempt < 1000 && !held; ++attempt) {
    pqxx::nontransaction look(*observer);
    held = !look.exec(
                    "SELECT 1 FROM pg_locks WHERE NOT granted "
                    "AND relation = 'public.user_keys'::regclass")
                .empty();
    if (!held) std::this_thread::sleep_for(10ms);
  }
  int terminated = 0;
  if (held) {
    pqxx::nontransaction end(*observer);
    terminated = static_cast<int>(end.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                           "WHERE application_name = 'tidemark-rebuild-domain-log'")
                                      .size());
  }
  hold.abort();
  rebuild.join();
  ASSERT_TRUE(held) << "the rebuild never reached user_keys: " << rebuilt.second;
  ASSERT_EQ(terminated, 1) << "no domain-log connection to end";
  EXPECT_NE(rebuilt.first, 0) << rebuilt.second;
  EXPECT_NE(rebuilt.second.find("writing the domain log failed"), std::string::npos)
      << rebuilt.second;
  EXPECT_EQ(rebuilt.second.find("swapped in"), std::string::npos) << rebuilt.second;
  auto [after_code, after] = stack.tidemark({"checksum"});
  ASSERT_EQ(after_code, 0) << after;
  EXPECT_EQ(after, before) << "a failed rebuild changed the live tables";

  // Nothing is left in a state that stops the next rebuild.
  auto [again, again_output] =
      stack.tidemark({"rebuild", "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                      "--master-key", stack.master_key()});
  EXPECT_EQ(again, 0) << again_output;
  EXPECT_NE(again_output.find("equal to the live ones; swapped in"), std::string::npos)
      << again_output;
}

TEST(Operations, ARecordOfAnOldEventVersionStillProjects) {
  TestStack stack;
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  // Seed 003's own row, appended as a v0 record (the way history moves over from it).
  auto old = infra::new_event(
      "/seed003/import", domain::kLogEntryRecordedV0, "u-seed", "event_log/imported",
      R"({"event_id":"0e0f7a9c-1b2d-4c3e-8f40-5a6b7c8d9e0f","user_id":"u-seed",)"
      R"("session_id":null,"event_type":"legacy_tap","event_data":"{\"n\":1}",)"
      R"("event_source":"flask","log_level":"info","ts":"2023-03-04 05:06:07"})",
      "", "importer");
  infra::EventProducer producer(
      infra::EventProducer::Options{stack.bootstrap_servers(), "importer", 5000});
  ASSERT_TRUE(
      producer.append_and_wait("tidemark.events", old.key, old.payload, old.headers()).ok());
  ASSERT_TRUE(stack.wait_until_projected(30s));
  auto entry = admin.get("/events/0e0f7a9c-1b2d-4c3e-8f40-5a6b7c8d9e0f");
  ASSERT_EQ(entry.status, 200) << entry.body;
  rapidjson::Document body;
  body.Parse(entry.body.c_str());
  EXPECT_STREQ(body["event_type"].GetString(), "legacy_tap");
  EXPECT_EQ(body["event_data"]["n"].GetInt(), 1);
  EXPECT_STREQ(body["ts"].GetString(), "2023-03-04T05:06:07.000000Z");
  // The domain log keeps it as logged; a rebuild lifts it the same way again.
  EXPECT_EQ(admin.get("/log?type=tidemark.log_entry.recorded.v0").header("x-total-count"), "1");
  auto [code, output] =
      stack.tidemark({"rebuild", "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                      "--master-key", stack.master_key()});
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output.find("DIFFERENT"), std::string::npos) << output;
}

TEST(Operations, ReplayAndExportSkipRecordsWhosePayloadIsNotASafeJsonObject) {
  TestStack stack;
  HttpClient client(stack.api_port());
  sign_in(client, "exporter");
  ASSERT_EQ(client.post("/events", entry("good")).status, 201);
  // Records anyone with write access to the topic could append: CloudEvents headers, a known
  // type, and a payload that RapidJSON's recursive parser cannot take (nesting that exhausts the
  // stack) or takes wrongly (a number beyond a double, bytes that are not UTF-8, a lone
  // surrogate), which the writer would turn into lines that are not JSON.
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"nested 400,000 levels", std::string(400000, '[')},
      {"a number beyond a double", R"({"user_id":"u","n":1.7976931348623159e308})"},
      {"bytes that are not UTF-8", "{\"user_id\":\"\xff\xfe\"}"},
      {"a lone surrogate", R"({"user_id":"\udc00"})"},
  };
  infra::EventProducer producer(
      infra::EventProducer::Options{stack.bootstrap_servers(), "intruder", 10000});
  for (const auto& [what, payload] : hostile) {
    auto record = infra::new_event("/intruder", domain::kLogEntryRecordedV1, "u",
                                   "event_log/hostile", payload, "", "intruder");
    ASSERT_TRUE(
        producer.append_and_wait("tidemark.events", record.key, record.payload, record.headers())
            .ok())
        << what;
  }
  ASSERT_TRUE(stack.wait_until_projected(30s));  // the projector dead-letters them and goes on

  auto expect_only_json_lines = [](const std::string& what, const std::string& output) {
    int lines = 0, good = 0;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line.front() != '{') continue;  // progress and summary lines
      ++lines;
      rapidjson::Document parsed;
      parsed.Parse<rapidjson::kParseValidateEncodingFlag>(line.c_str(), line.size());
      EXPECT_FALSE(parsed.HasParseError()) << what << " wrote a line that is not JSON: " << line;
      if (line.find("\"good\"") != std::string::npos) ++good;
      EXPECT_EQ(line.find("\"actor\":\"intruder\""), std::string::npos)
          << what << " wrote " << line;
    }
    EXPECT_EQ(good, 1) << what << ": " << output;
    return lines;
  };
  auto [replayed, replay] = run_command({TIDEMARK_BINARY, "replay", "--kafka-bootstrap-servers",
                                         stack.bootstrap_servers(), "--event-types",
                                         std::string(domain::kLogEntryRecordedV1)});
  EXPECT_EQ(replayed, 0) << "replay crashed or failed: " << replay.substr(0, 2000);
  EXPECT_EQ(expect_only_json_lines("replay", replay), 1);
  auto path = stack.folder() / "export.jsonl";
  auto [exported, message] = stack.tidemark(
      {"events", "export", "--kafka-bootstrap-servers", stack.bootstrap_servers(), "--master-key",
       stack.master_key(), "--decrypt", "true", "--output", path.string()});
  EXPECT_EQ(exported, 0) << "export crashed or failed: " << message.substr(0, 2000);
  std::string all;
  for (const auto& line : lines_of(path)) all += line + "\n";
  EXPECT_GE(expect_only_json_lines("export", all), 3);  // registration, session, the entry
}

// A broker whose retention dropped the start of the log (the embedded one keeps the last 5 MiB
// of each partition): reading from the start would silently begin later, so it is refused.
TEST(Operations, ExportAndRebuildRefuseALogWhoseStartTheBrokerDropped) {
  TestStack stack;
  infra::EventProducer raw(infra::EventProducer::Options{stack.bootstrap_servers(), "raw", 10000});
  const std::string filler(64 * 1024, 'x');
  std::atomic<int> acknowledged{0};
  for (int i = 0; i < 120; ++i) {  // 7.5 MiB on the partition of one key
    raw.append("tidemark.events", "one-key", filler, {},
               [&](const domain::Result<domain::Position>& result) {
                 if (result) ++acknowledged;
               });
  }
  ASSERT_TRUE(raw.flush(30s));
  ASSERT_EQ(acknowledged.load(), 120);
  for (std::vector<std::string> command :
       {std::vector<std::string>{"events", "export"}, std::vector<std::string>{"rebuild"}}) {
    command.insert(command.end(), {"--kafka-bootstrap-servers", stack.bootstrap_servers(),
                                   "--master-key", stack.master_key()});
    auto [code, output] = stack.tidemark(command);
    EXPECT_NE(code, 0) << command[0];
    EXPECT_NE(output.find("the broker no longer holds offsets 0 to"), std::string::npos) << output;
  }
}

TEST(Operations, AnalystsReadTheDomainEventsAndUsersDoNot) {
  TestStack stack;
  HttpClient user(stack.api_port()), analyst(stack.api_port()), admin(stack.api_port());
  sign_in(user, "plain-user");
  sign_in(analyst, "the-analyst");
  sign_in_admin(stack, admin);
  grant_role(admin, analyst, "analyst");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(user.post("/events", entry("tap")).status, 201);

  EXPECT_EQ(user.get("/log").status, 403);
  auto recorded = analyst.get("/log?type=tidemark.log_entry.recorded.v1&size=2");
  ASSERT_EQ(recorded.status, 200) << recorded.body;
  EXPECT_EQ(recorded.header("x-total-count"), "3");
  rapidjson::Document page;
  page.Parse(recorded.body.c_str());
  ASSERT_TRUE(page.IsArray());
  ASSERT_EQ(page.Size(), 2u);
  EXPECT_STREQ(page[0]["type"].GetString(), "tidemark.log_entry.recorded.v1");
  EXPECT_TRUE(page[0]["data"].IsObject());
  EXPECT_EQ(analyst.get("/log?time_gte=soon").status, 400);
  EXPECT_EQ(analyst.get("/log?colour=red").status, 400);
  // Personal fields stay sealed for analysts.
  auto registered = analyst.get("/log?type=tidemark.user.registered.v1");
  EXPECT_EQ(registered.body.find("plain-user"), std::string::npos) << registered.body;
  EXPECT_EQ(admin.get("/log?subject=nothing").header("x-total-count"), "0");
}

}  // namespace
}  // namespace tidemark::testing
