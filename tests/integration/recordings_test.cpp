// Seed 003's recordings over HTTP: the authorization matrix (owner, another user, analyst,
// admin), filters and paging, link rules against SSRF, and ETag / If-Match.
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

std::string recording(const std::string& id, const std::string& user, const std::string& type,
                      const std::string& link = "https://storage.example.com/r.wav") {
  return R"({"recording_id":")" + id + R"(","recording_link":")" + link +
         R"(","recording_type":")" + type + R"(","user_id":")" + user +
         R"(","created_session_id":"s-1"})";
}

TEST(Recordings, OwnersAnalystsAndAdminsEachSeeWhatTheyShould) {
  TestStack stack;
  HttpClient owner(stack.api_port());
  HttpClient other(stack.api_port());
  HttpClient analyst(stack.api_port());
  sign_in(owner, "owner-one");
  sign_in(other, "other-two");
  sign_in(analyst, "analyst-three");
  auto [code, output] = run_command(
      {TIDEMARK_BINARY, "create-admin", "--username", "the-admin", "--password", "admin password",
       "--database-url", stack.database_url(), "--kafka-bootstrap-servers",
       stack.bootstrap_servers(), "--master-key", stack.master_key()});
  ASSERT_EQ(code, 0) << output;
  HttpClient admin(stack.api_port());
  auto login = admin.post("/auth/login", R"({"username":"the-admin","password":"admin password"})");
  admin.set_default_header("Authorization",
                           "Bearer " + std::string(parse(login.body)["access_token"].GetString()));
  std::string analyst_id = parse(analyst.get("/me").body)["user_id"].GetString();
  ASSERT_EQ(admin.request("PUT", "/admin/users/" + analyst_id + "/role", R"({"role":"analyst"})")
                .status,
            200);

  auto created = owner.post("/recordings", recording("rec-1", "u-1", "face"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.header("location"), "/recordings/rec-1");
  EXPECT_EQ(created.header("etag"), "W/\"1\"");
  EXPECT_EQ(other.post("/recordings", recording("rec-1", "u-2", "face")).status, 409);
  EXPECT_EQ(analyst.post("/recordings", recording("rec-9", "u-9", "face")).status, 403);

  EXPECT_EQ(owner.get("/recordings/rec-1").status, 200);
  EXPECT_EQ(other.get("/recordings/rec-1").status, 404);
  EXPECT_EQ(analyst.get("/recordings/rec-1").status, 200);
  EXPECT_EQ(admin.get("/recordings/rec-1").status, 200);
  EXPECT_EQ(other.request("PUT", "/recordings/rec-1", recording("rec-1", "u-2", "face")).status,
            404);
  EXPECT_EQ(other.request("DELETE", "/recordings/rec-1").status, 404);
  EXPECT_EQ(analyst.request("DELETE", "/recordings/rec-1").status, 403);

  auto updated = owner.request("PUT", "/recordings/rec-1", recording("rec-1", "u-1", "audio"),
                               {{"If-Match", "W/\"1\""}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(std::string(parse(updated.body)["recording_type"].GetString()), "audio");
  EXPECT_EQ(owner.request("PUT", "/recordings/rec-1", recording("rec-1", "u-1", "face"),
                          {{"If-Match", "W/\"1\""}})
                .status,
            412);
  auto by_admin = admin.request("PUT", "/recordings/rec-1", recording("rec-1", "u-1", "image"));
  EXPECT_EQ(by_admin.status, 200) << by_admin.body;
  EXPECT_EQ(owner.request("DELETE", "/recordings/rec-1").status, 204);
  EXPECT_EQ(owner.get("/recordings/rec-1").status, 404);
}

TEST(Recordings, ListFiltersPagesAndLinksAreChecked) {
  TestStack stack;
  HttpClient owner(stack.api_port());
  HttpClient other(stack.api_port());
  sign_in(owner, "lister-one");
  sign_in(other, "lister-two");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(owner.post("/recordings", recording("own-" + std::to_string(i),
                                                  i % 2 ? "u-a" : "u-b", i < 2 ? "face" : "audio"))
                  .status,
              201);
  }
  ASSERT_EQ(other.post("/recordings", recording("theirs", "u-a", "face")).status, 201);
  auto count = [&](HttpClient& client, const std::string& query) {
    auto reply = client.get("/recordings" + query);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return std::pair{static_cast<int>(parse(reply.body).Size()),
                     std::stoi(reply.header("x-total-count"))};
  };
  EXPECT_EQ(count(owner, ""), (std::pair{5, 5}));  // not the other account's
  EXPECT_EQ(count(owner, "?user_id=u-a"), (std::pair{2, 2}));
  EXPECT_EQ(count(owner, "?recording_type=face"), (std::pair{2, 2}));
  EXPECT_EQ(count(owner, "?size=2&page=3"), (std::pair{1, 5}));
  EXPECT_EQ(count(owner, "?size=2&page=9"), (std::pair{0, 5}));
  EXPECT_EQ(count(other, ""), (std::pair{1, 1}));
  EXPECT_EQ(owner.get("/recordings?size=101").status, 400);
  EXPECT_EQ(owner.get("/recordings?colour=red").status, 400);

  for (const char* link :
       {"file:///etc/passwd", "http://127.0.0.1:8080/x", "http://localhost/x", "http://10.0.0.5/x",
        "http://192.168.1.1/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/x",
        "https://user:pass@example.com/x", "not a url", "gopher://example.com/x"}) {
    auto refused = owner.post("/recordings", recording("bad-link", "u-a", "face", link));
    EXPECT_EQ(refused.status, 400) << link;
    EXPECT_NE(refused.body.find("recording_link"), std::string::npos) << refused.body;
  }
  EXPECT_EQ(owner.post("/recordings", recording("gs-link", "u-a", "face", "gs://bucket/r.wav"))
                .status,
            201);
}

}  // namespace
}  // namespace tidemark::testing
