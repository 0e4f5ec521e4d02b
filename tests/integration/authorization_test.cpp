// The authorization matrix of seed 003's data API: for every route with an id, what the owner,
// another user, an analyst, an admin and an anonymous caller get. Someone else's resource
// answers 404 (never 403, which would confirm it exists); analysts read everything and change
// nothing (403); admins do everything; no token is 401.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"
#include "tests/support/tally.h"

namespace tidemark::testing {
namespace {

enum Caller { kOwner, kOther, kAnalyst, kAdmin, kAnonymous };
constexpr const char* kCallerNames[] = {"owner", "other user", "analyst", "admin", "anonymous"};

struct Route {
  std::string method;
  std::string path;
  std::string body;
  std::string content_type;
  std::vector<int> expected;  ///< by Caller
};

std::string parse_string(const std::string& body, const char* field) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  if (!document.IsObject() || !document.HasMember(field)) return "";
  return document[field].GetString();
}

TEST(Authorization, EveryRouteWithAnIdAnswersEachCallerAsDocumented) {
  TestStack stack;
  HttpClient owner(stack.api_port()), other(stack.api_port()), analyst(stack.api_port()),
      admin(stack.api_port()), anonymous(stack.api_port());
  sign_in(owner, "matrix-owner");
  sign_in(other, "matrix-other");
  sign_in(analyst, "matrix-analyst");
  sign_in_admin(stack, admin);
  grant_role(admin, analyst, "analyst");
  HttpClient* clients[] = {&owner, &other, &analyst, &admin, &anonymous};

  ASSERT_EQ(admin
                .post("/algos", R"({"algo_id":"sum","recording_type":"sensor",)"
                                R"("location":"builtin:summary","version":"1"})")
                .status,
            201);
  auto entry = owner.post("/events", R"({"user_id":"u","event_type":"tap","event_source":"ios"})");
  ASSERT_EQ(entry.status, 201) << entry.body;
  std::string event_id = parse_string(entry.body, "event_id");
  ASSERT_EQ(owner
                .post("/recordings", R"({"recording_id":"rec","recording_link":)"
                                     R"("https://cdn.example.com/r","recording_type":"sensor",)"
                                     R"("user_id":"u"})")
                .status,
            201);
  auto content = owner.request("PUT", "/recordings/rec/content", "[1,2]",
                               {{"Content-Type", "application/json"}});
  ASSERT_EQ(content.status, 200) << content.body;
  rapidjson::Document recording;
  recording.Parse(content.body.c_str());
  std::string job_id = recording["job"]["job_id"].GetString();
  const std::string app_user = R"({"user_id":"app-1","firebase_data":{"email":"a@example.com",)"
                               R"("display_name":"A"},"body_data":{"height":1.8,"weight":70}})";
  ASSERT_EQ(owner.post("/users", app_user).status, 201);

  const std::string json = "application/json";
  const std::string entry_body = R"({"user_id":"u","event_type":"tap2","event_source":"ios"})";
  const std::string recording_body =
      R"({"recording_link":"https://cdn.example.com/r2","recording_type":"sensor","user_id":"u"})";
  std::vector<Route> routes = {
      {"GET", "/events/" + event_id, "", json, {200, 404, 200, 200, 401}},
      {"PUT", "/events/" + event_id, entry_body, json, {200, 404, 403, 200, 401}},
      {"GET", "/recordings/rec", "", json, {200, 404, 200, 200, 401}},
      {"PUT", "/recordings/rec", recording_body, json, {200, 404, 403, 200, 401}},
      {"GET", "/recordings/rec/content", "", json, {200, 404, 200, 200, 401}},
      {"PUT", "/recordings/rec/content", "[3]", json, {200, 404, 403, 200, 401}},
      {"POST", "/recordings/rec/jobs", "", json, {202, 404, 403, 202, 401}},
      {"GET", "/jobs/" + job_id, "", json, {200, 404, 200, 200, 401}},
      {"GET", "/users/app-1", "", json, {200, 404, 200, 200, 401}},
      {"PUT", "/users/app-1", app_user, json, {200, 404, 403, 200, 401}},
      {"GET", "/algos/sum", "", json, {200, 200, 200, 200, 401}},
      {"PUT",
       "/algos/sum",
       R"({"recording_type":"sensor","location":"builtin:summary","version":"2"})",
       json,
       {403, 403, 403, 200, 401}},
      {"POST",
       "/algos",
       R"({"algo_id":"new","recording_type":"x","location":"builtin:summary","version":"1"})",
       json,
       {403, 403, 403, 201, 401}},
      {"POST", "/predict?recording_type=sensor&wait=0", "[1]", json, {202, 202, 403, 202, 401}},
      // Deletions last; the owner's comes after everyone else's was refused.
      {"DELETE", "/events/" + event_id, "", json, {204, 404, 403, -1, 401}},
      {"DELETE", "/users/app-1", "", json, {204, 404, 403, -1, 401}},
      {"DELETE", "/recordings/rec", "", json, {204, 404, 403, -1, 401}},
  };
  for (const auto& route : routes) {
    // Refused callers first, so a refusal is never explained by an earlier deletion.
    for (Caller caller : {kAnonymous, kOther, kAnalyst, kAdmin, kOwner}) {
      int expected = route.expected[caller];
      if (expected < 0) continue;
      auto reply = clients[caller]->request(route.method, route.path, route.body,
                                            {{"Content-Type", route.content_type}});
      // A caller the route refuses is an attack; answered otherwise, it got in.
      if (expected >= 400) tally::attack(reply.status != expected);
      EXPECT_EQ(reply.status, expected) << route.method << " " << route.path << " as "
                                        << kCallerNames[caller] << ": " << reply.body;
      if (reply.status >= 400) {
        EXPECT_NE(reply.body.find("detail"), std::string::npos)
            << route.method << " " << route.path << " as " << kCallerNames[caller];
      }
    }
  }

  // Lists: each user sees their own, analysts and admins everyone's.
  ASSERT_EQ(owner.post("/events", entry_body).status, 201);
  ASSERT_EQ(other.post("/events", entry_body).status, 201);
  for (HttpClient* user : {&owner, &other}) {
    auto count = user->get("/events").header("x-total-count");
    tally::attack(count != "1");
    EXPECT_EQ(count, "1");
  }
  EXPECT_EQ(analyst.get("/events").header("x-total-count"), "2");
  EXPECT_EQ(admin.get("/events").header("x-total-count"), "2");
  auto anonymous_list = anonymous.get("/events").status;
  tally::attack(anonymous_list != 401);
  EXPECT_EQ(anonymous_list, 401);

  // Role and owner fields in bodies are refused, not obeyed (no escalation through a body).
  auto foreign_owner = owner
                           .post("/events", R"({"user_id":"u","event_type":"t","event_source":"s",)"
                                            R"("owner_id":"00000000-0000-4000-8000-000000000000"})")
                           .status;
  tally::attack(foreign_owner != 400);
  EXPECT_EQ(foreign_owner, 400);
  auto own_role = owner.request("PATCH", "/user/update", R"({"role":"admin"})").status;
  tally::attack(own_role != 400);
  EXPECT_EQ(own_role, 400);
  std::string owner_id = parse_string(owner.get("/me").body, "user_id");
  auto granted_by_user =
      owner.request("PUT", "/admin/users/" + owner_id + "/role", R"({"role":"admin"})").status;
  tally::attack(granted_by_user != 403);
  EXPECT_EQ(granted_by_user, 403) << "a user must not grant roles, not even to themselves";
  auto granted_by_analyst =
      analyst.request("PUT", "/admin/users/" + owner_id + "/role", R"({"role":"admin"})").status;
  tally::attack(granted_by_analyst != 403);
  EXPECT_EQ(granted_by_analyst, 403);
}

}  // namespace
}  // namespace tidemark::testing
