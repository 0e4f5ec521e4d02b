// Seed 003's user records over HTTP: create, read, list, update, delete with the seed's bodies,
// ownership, the shared GET /users/{id} path with seed 000's sessions, and shredding.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  return document;
}

std::string record(const std::string& id, const std::string& email, double height) {
  return R"({"user_id":")" + id + R"(","firebase_data":{"email":")" + email +
         R"(","display_name":"Display )" + id + R"("},"body_data":{"height":)" +
         std::to_string(height) + R"(,"weight":70.5}})";
}

TEST(AppUsers, Seed003CrudWithOwnershipAndOneSharedPathForSessions) {
  TestStack stack;
  HttpClient owner(stack.api_port());
  HttpClient other(stack.api_port());
  std::string token = sign_in(owner, "record-keeper");
  sign_in(other, "someone-else");

  auto created = owner.post("/users", record("firebase-1", "one@example.com", 180));
  ASSERT_EQ(created.status, 201) << created.body;
  auto body = parse(created.body);
  EXPECT_EQ(std::string(body["firebase_data"]["email"].GetString()), "one@example.com");
  EXPECT_DOUBLE_EQ(body["body_data"]["height"].GetDouble(), 180);
  EXPECT_EQ(created.header("etag"), "W/\"1\"");
  EXPECT_EQ(other.post("/users", record("firebase-1", "x@example.com", 1)).status, 409);

  EXPECT_EQ(owner.get("/users/firebase-1").status, 200);
  EXPECT_EQ(other.get("/users/firebase-1").status, 404);
  EXPECT_EQ(other.request("DELETE", "/users/firebase-1").status, 404);
  EXPECT_EQ(owner.get("/users").header("x-total-count"), "1");
  EXPECT_EQ(other.get("/users").header("x-total-count"), "0");

  // The same path answers seed 000's user-by-session for the session's owner.
  std::string session_id =
      parse(owner.post("/auth/login", R"({"username":"record-keeper","password":"test password"})")
                .body)["session_id"]
          .GetString();
  auto by_session = owner.get("/users/" + session_id);
  ASSERT_EQ(by_session.status, 200) << by_session.body;
  EXPECT_EQ(std::string(parse(by_session.body)["data"]["username"].GetString()), "record-keeper");
  EXPECT_EQ(other.get("/users/" + session_id).status, 404);

  auto updated =
      owner.request("PUT", "/users/firebase-1", record("firebase-1", "new@example.com", 181),
                    {{"If-Match", "W/\"1\""}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(std::string(parse(updated.body)["firebase_data"]["email"].GetString()),
            "new@example.com");
  EXPECT_EQ(owner
                .request("PUT", "/users/firebase-1", record("firebase-1", "a@example.com", 1),
                         {{"If-Match", "W/\"1\""}})
                .status,
            412);
  for (const auto& [bad, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"user_id":"x","firebase_data":{"email":3}})",
            "'firebase_data.email' must be a string"},
           {R"({"user_id":"x","body_data":{"height":"tall"}})",
            "'body_data.height' must be a number"},
           {R"({"user_id":"x","body_data":{"height":-1}})",
            "'body_data.height' must be a number from 0"},
           {R"({"user_id":"x","firebase_data":{"phone":"1"}})",
            "unknown field 'firebase_data.phone'"},
           {R"({"firebase_data":{}})", "'user_id' is required"}}) {
    auto refused = owner.post("/users", bad);
    EXPECT_EQ(refused.status, 400) << bad;
    EXPECT_NE(refused.body.find(expected), std::string::npos) << refused.body;
  }

  // Personal fields never travel in clear text.
  std::string log = stack.dump_log();
  EXPECT_EQ(log.find("one@example.com"), std::string::npos);
  EXPECT_EQ(log.find("Display firebase-1"), std::string::npos);

  EXPECT_EQ(owner.request("DELETE", "/users/firebase-1").status, 204);
  EXPECT_EQ(owner.get("/users/firebase-1").status, 404);
  EXPECT_EQ(owner.post("/users", record("firebase-1", "again@example.com", 170)).status, 201);
  // Deleting the account takes its records with it.
  ASSERT_EQ(owner.request("DELETE", "/user/delete").status, 200);
  EXPECT_EQ(other.post("/users", record("firebase-1", "mine@example.com", 160)).status, 201);
}

}  // namespace
}  // namespace tidemark::testing
