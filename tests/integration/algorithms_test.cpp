// Seed 003's algorithm registry over HTTP: admins manage it, everyone signed in reads it,
// filters and paging as the seed documents, and ETag / If-Match against lost updates.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  return document;
}

std::string algorithm(const std::string& id, const std::string& type, const std::string& version) {
  return R"({"algo_id":")" + id + R"(","recording_type":")" + type + R"(","location":"builtin:)" +
         id + R"(","version":")" + version + R"("})";
}

TEST(Algorithms, AdminsManageTheRegistryAndEveryoneReadsIt) {
  TestStack stack;
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin, "registrar");
  HttpClient user(stack.api_port());
  sign_in(user, "reader");
  HttpClient anonymous(stack.api_port());

  auto created = admin.post("/algos", algorithm("face-v1", "face", "1.0.0"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.header("location"), "/algos/face-v1");
  EXPECT_EQ(created.header("etag"), "W/\"1\"");
  EXPECT_EQ(admin.post("/algos", algorithm("face-v1", "face", "2.0.0")).status, 409);
  EXPECT_EQ(admin.post("/algos", algorithm("FACE-V1", "face", "2.0.0")).status, 409);
  EXPECT_EQ(user.post("/algos", algorithm("mine", "face", "1")).status, 403);
  EXPECT_EQ(anonymous.get("/algos").status, 401);

  auto read = user.get("/algos/face-v1");
  ASSERT_EQ(read.status, 200);
  auto body = parse(read.body);
  EXPECT_EQ(std::string(body["location"].GetString()), "builtin:face-v1");
  EXPECT_EQ(user.get("/algos/nothing").status, 404);

  for (const auto& [body_text, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"algo_id":"x","recording_type":"t","location":"l"})", "'version' is required"},
           {R"({"algo_id":"x","recording_type":"t","location":"l","version":1})",
            "'version' must be a string"},
           {R"({"algo_id":"x","recording_type":"t","location":"l","version":"1","extra":1})",
            "unknown field 'extra'"}}) {
    auto refused = admin.post("/algos", body_text);
    EXPECT_EQ(refused.status, 400) << body_text;
    EXPECT_NE(refused.body.find(expected), std::string::npos) << refused.body;
  }

  auto updated = admin.request("PUT", "/algos/face-v1", algorithm("face-v1", "face", "1.1.0"),
                               {{"If-Match", "W/\"1\""}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.header("etag"), "W/\"2\"");
  EXPECT_EQ(std::string(parse(updated.body)["version"].GetString()), "1.1.0");
  auto stale = admin.request("PUT", "/algos/face-v1", algorithm("face-v1", "face", "9.9.9"),
                             {{"If-Match", "W/\"1\""}});
  EXPECT_EQ(stale.status, 412);
  auto mismatch = admin.request("PUT", "/algos/face-v1", algorithm("other", "face", "1"));
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(user.request("DELETE", "/algos/face-v1").status, 403);
  EXPECT_EQ(admin.request("DELETE", "/algos/face-v1", "", {{"If-Match", "W/\"1\""}}).status, 412);
  EXPECT_EQ(admin.request("DELETE", "/algos/face-v1", "", {{"If-Match", "W/\"2\""}}).status, 204);
  EXPECT_EQ(user.get("/algos/face-v1").status, 404);
  // A deleted id may be registered again.
  EXPECT_EQ(admin.post("/algos", algorithm("face-v1", "face", "3.0.0")).status, 201);
}

TEST(Algorithms, ListFiltersByTypeAndVersionAndPages) {
  TestStack stack;
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin, "registrar");
  for (int i = 0; i < 7; ++i) {
    auto created = admin.post("/algos", algorithm("algo-" + std::to_string(i),
                                                  i % 2 ? "audio" : "face", i < 3 ? "1.0" : "2.0"));
    ASSERT_EQ(created.status, 201) << created.body;
  }
  auto count = [&](const std::string& query) {
    auto reply = admin.get("/algos" + query);
    EXPECT_EQ(reply.status, 200) << query << " " << reply.body;
    return std::pair{static_cast<int>(parse(reply.body).Size()),
                     std::stoi(reply.header("x-total-count"))};
  };
  EXPECT_EQ(count(""), (std::pair{7, 7}));
  EXPECT_EQ(count("?recording_type=face"), (std::pair{4, 4}));
  EXPECT_EQ(count("?version=1.0"), (std::pair{3, 3}));
  EXPECT_EQ(count("?recording_type=audio&version=2.0"), (std::pair{2, 2}));
  EXPECT_EQ(count("?size=3&page=3"), (std::pair{1, 7}));
  EXPECT_EQ(count("?size=3&page=4"), (std::pair{0, 7}));
  for (const char* bad : {"?page=0", "?size=101", "?flavour=x", "?version="}) {
    EXPECT_EQ(admin.get(std::string("/algos") + bad).status, 400) << bad;
  }
}

TEST(Algorithms, ConcurrentUpdatesOfOneRevisionLetExactlyOneWin) {
  TestStack stack;
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin, "registrar");
  ASSERT_EQ(admin.post("/algos", algorithm("contested", "face", "1")).status, 201);
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> writers;
  const std::string authorization =
      "Bearer " +
      std::string(
          parse(admin.post("/auth/login", R"({"username":"registrar","password":"admin password"})")
                    .body)["access_token"]
              .GetString());
  for (int i = 0; i < 4; ++i) {
    writers.emplace_back([&, i] {
      HttpClient writer(stack.api_port());
      auto reply = writer.request("PUT", "/algos/contested",
                                  algorithm("contested", "face", "writer-" + std::to_string(i)),
                                  {{"If-Match", "W/\"1\""}, {"Authorization", authorization}});
      (reply.status == 200 ? won : reply.status == 412 ? lost : won)++;
      EXPECT_TRUE(reply.status == 200 || reply.status == 412) << reply.status << reply.body;
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, 3);
  EXPECT_EQ(admin.get("/algos/contested").header("etag"), "W/\"2\"");
}

}  // namespace
}  // namespace tidemark::testing
