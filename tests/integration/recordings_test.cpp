// Seed 003's recordings over HTTP: the authorization matrix (owner, another user, analyst,
// admin), filters and paging, link rules against SSRF, and ETag / If-Match.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <pqxx/pqxx>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"
#include "tests/support/tally.h"

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
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  grant_role(admin, analyst, "analyst");

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
  EXPECT_EQ(owner
                .request("PUT", "/recordings/rec-1", recording("rec-1", "u-1", "face"),
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
    ASSERT_EQ(owner
                  .post("/recordings", recording("own-" + std::to_string(i), i % 2 ? "u-a" : "u-b",
                                                 i < 2 ? "face" : "audio"))
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
        "https://user:pass@example.com/x", "not a url", "gopher://example.com/x",
        "http://2130706433/x", "http://0x7f.1/x", "http://localhost./x"}) {
    auto refused = owner.post("/recordings", recording("bad-link", "u-a", "face", link));
    tally::attack(refused.status != 400);
    EXPECT_EQ(refused.status, 400) << link;
    EXPECT_NE(refused.body.find("recording_link"), std::string::npos) << refused.body;
  }
  EXPECT_EQ(
      owner.post("/recordings", recording("gs-link", "u-a", "face", "gs://bucket/r.wav")).status,
      201);
}

// A user's lists (recordings, event log) check their session inside the page's own statement;
// every way that check can fail must still refuse, and every caller it does not cover must
// still get the usual answer.
TEST(Recordings, ListsCheckedInTheirOwnStatementRefuseEndedSessionsAndServeEveryRole) {
  TestStack stack;
  HttpClient owner(stack.api_port());
  std::string token = sign_in(owner, "checked-one");
  HttpClient analyst(stack.api_port());
  sign_in(analyst, "checked-two");
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  auto entry = [](const std::string& user) {
    return R"({"user_id":")" + user + R"(","event_type":"tap","event_source":"ios"})";
  };
  for (const char* id : {"checked-a", "checked-b", "checked-c"}) {
    ASSERT_EQ(owner.post("/recordings", recording(id, "u-1", "face")).status, 201);
    ASSERT_EQ(owner.post("/events", entry("u-1")).status, 201);
  }
  ASSERT_EQ(analyst.post("/recordings", recording("checked-own", "u-2", "face")).status, 201);
  ASSERT_EQ(analyst.post("/events", entry("u-2")).status, 201);
  auto count = [](const HttpReply& reply) {
    EXPECT_EQ(reply.status, 200) << reply.body;
    return std::pair{static_cast<int>(parse(reply.body).Size()),
                     std::stoi(reply.header("x-total-count"))};
  };
  for (std::string list : {"/recordings", "/events"}) {
    SCOPED_TRACE(list);
    EXPECT_EQ(count(owner.get(list + "?size=2")), (std::pair{2, 3}));
    // An empty page cannot tell an ended session from no rows: it still counts.
    EXPECT_EQ(count(owner.get(list + "?size=2&page=5")), (std::pair{0, 3}));
    EXPECT_EQ(count(owner.get(list + "?user_id=nobody")), (std::pair{0, 0}));
    EXPECT_EQ(count(analyst.get(list)), (std::pair{1, 1}));
  }
  // Another role reads beyond its own rows: not the checked read's answer.
  grant_role(admin, analyst, "analyst");
  for (std::string list : {"/recordings", "/events"}) {
    SCOPED_TRACE(list);
    EXPECT_EQ(count(analyst.get(list)), (std::pair{4, 4}));
    EXPECT_EQ(count(admin.get(list + "?size=3")), (std::pair{3, 4}));
  }

  // An expired session (its row says so; the token itself is still valid) and a revoked one.
  {
    auto connection = stack.connect();
    pqxx::work expire(*connection);
    expire.exec("UPDATE sessions SET expires_at = now() - interval '1 second' "
                "WHERE user_id = (SELECT user_id FROM users WHERE username = 'checked-one')");
    expire.commit();
  }
  HttpClient again(stack.api_port());
  auto login = again.post("/auth/login", R"({"username":"checked-one","password":"test password"})");
  ASSERT_EQ(login.status, 200) << login.body;
  rapidjson::Document session = parse(login.body);
  std::string fresh = session["access_token"].GetString();
  ASSERT_NE(token, fresh);
  again.set_default_header("Authorization", "Bearer " + fresh);
  for (std::string list : {"/recordings", "/events"}) {
    auto expired = owner.get(list);
    tally::attack(expired.status != 401);
    EXPECT_EQ(expired.status, 401) << list << " " << expired.body;
    EXPECT_EQ(count(again.get(list)), (std::pair{3, 3})) << list;
  }
  auto revoked = again.post("/auth/logout", std::string(R"({"session-id":")") +
                                                session["session_id"].GetString() + "\"}");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  for (std::string list : {"/recordings", "/events"}) {
    auto after_logout = again.get(list);
    tally::attack(after_logout.status != 401);
    EXPECT_EQ(after_logout.status, 401) << list << " " << after_logout.body;
  }
}

TEST(Recordings, IdempotencyKeyReplaysTheFirstAnswerAndAppendsNothingNew) {
  TestStack stack;
  HttpClient client(stack.api_port());
  sign_in(client, "retrier");
  HttpClient other(stack.api_port());
  sign_in(other, "other-caller");
  const std::map<std::string, std::string> key{{"Idempotency-Key", "create-rec-7"}};
  auto first = client.post("/recordings", recording("rec-7", "u-1", "face"), key);
  ASSERT_EQ(first.status, 201) << first.body;
  std::int64_t log_size = stack.dump_log().size();
  auto retry = client.post("/recordings", recording("rec-7", "u-1", "face"), key);
  EXPECT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(retry.header("idempotent-replayed"), "true");
  EXPECT_EQ(retry.header("location"), "/recordings/rec-7");
  EXPECT_EQ(static_cast<std::int64_t>(stack.dump_log().size()), log_size);  // nothing appended
  auto changed = client.post("/recordings", recording("rec-7", "u-1", "audio"), key);
  EXPECT_EQ(changed.status, 422) << changed.body;
  // Another caller's key is their own: here it creates nothing of ours and conflicts on the id.
  EXPECT_EQ(other.post("/recordings", recording("rec-7", "u-1", "face"), key).status, 409);
  // A refused request is not kept: fixed and retried with the same key, it runs.
  const std::map<std::string, std::string> key2{{"Idempotency-Key", "create-rec-8"}};
  EXPECT_EQ(client.post("/recordings", recording("rec-8", "u-1", "face", "ftp://x/y"), key2).status,
            400);
  EXPECT_EQ(client.post("/recordings", recording("rec-8", "u-1", "face", "ftp://x/y"), key2).status,
            400);
  EXPECT_EQ(client
                .post("/recordings", recording("rec-8", "u-1", "face"),
                      {{"Idempotency-Key", "create-rec-8b"}})
                .status,
            201);
  EXPECT_EQ(client.get("/recordings").header("x-total-count"), "2");

  // Prefer: respond-async answers at the broker's acknowledgement, with the position a read
  // can wait for.
  auto async =
      client.post("/recordings", recording("rec-9", "u-1", "face"), {{"Prefer", "respond-async"}});
  EXPECT_EQ(async.status, 202) << async.body;
  EXPECT_EQ(async.header("location"), "/recordings/rec-9");
  std::string position = async.header("x-tidemark-position");
  ASSERT_FALSE(position.empty());
  EXPECT_EQ(
      client.request("GET", "/recordings/rec-9", "", {{"X-Tidemark-Position", position}}).status,
      200);
}

TEST(Recordings, UploadedContentIsStoredOnceAndStreamsBackToItsOwner) {
  TestStack stack(TestStack::Options{3, {"--max-upload-bytes", "65536"}, true});
  HttpClient owner(stack.api_port());
  HttpClient other(stack.api_port());
  sign_in(owner, "uploader");
  sign_in(other, "not-the-owner");
  ASSERT_EQ(owner.post("/recordings", recording("clip-1", "u-1", "audio")).status, 201);
  ASSERT_EQ(owner.post("/recordings", recording("clip-2", "u-1", "audio")).status, 201);
  EXPECT_EQ(owner.get("/recordings/clip-1/content").status, 404);

  std::string bytes;
  for (int i = 0; i < 40000; ++i) bytes.push_back(static_cast<char>((i * 7919) % 256));
  auto uploaded =
      owner.request("PUT", "/recordings/clip-1/content", bytes, {{"Content-Type", "audio/wav"}});
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  auto reply = parse(uploaded.body);  // owns what `content` views
  auto content = reply["content"].GetObject();
  EXPECT_EQ(content["size"].GetInt64(), 40000);
  EXPECT_EQ(std::string(content["content_type"].GetString()), "audio/wav");
  std::string sha256 = content["sha256"].GetString();
  EXPECT_EQ(sha256.size(), 64u);

  auto downloaded = owner.get("/recordings/clip-1/content");
  ASSERT_EQ(downloaded.status, 200);
  EXPECT_EQ(downloaded.header("content-type"), "audio/wav");
  EXPECT_TRUE(downloaded.body == bytes) << "the bytes came back different";
  EXPECT_EQ(other.get("/recordings/clip-1/content").status, 404);
  EXPECT_EQ(
      other.request("PUT", "/recordings/clip-1/content", bytes, {{"Content-Type", "audio/wav"}})
          .status,
      404);

  // The same bytes for another recording are stored once.
  ASSERT_EQ(
      owner.request("PUT", "/recordings/clip-2/content", bytes, {{"Content-Type", "audio/wav"}})
          .status,
      200);
  auto connection = stack.connect();
  pqxx::nontransaction sql(*connection);
  EXPECT_EQ(sql.exec1("SELECT count(*) FROM content_blobs")[0].as<int>(), 1);

  std::string at_limit(65536, 'a');
  EXPECT_EQ(owner
                .request("PUT", "/recordings/clip-2/content", at_limit,
                         {{"Content-Type", "application/octet-stream"}})
                .status,
            200);
  auto over = owner.request("PUT", "/recordings/clip-2/content", at_limit + "b",
                            {{"Content-Type", "application/octet-stream"}});
  EXPECT_EQ(over.status, 413);
  EXPECT_NE(over.body.find("limit is 65536"), std::string::npos) << over.body;
  // Pistache itself refuses a Content-Type that is no media type, before our handler runs.
  EXPECT_EQ(owner.request("PUT", "/recordings/clip-2/content", "x", {{"Content-Type", "nonsense"}})
                .status,
            415);
  auto empty =
      owner.request("PUT", "/recordings/clip-2/content", "", {{"Content-Type", "audio/wav"}});
  EXPECT_EQ(empty.status, 400) << empty.body;
  EXPECT_EQ(
      owner.request("PUT", "/recordings/nope/content", "x", {{"Content-Type", "audio/wav"}}).status,
      404);
  // Deleting the account removes its uploads too: they may be faces and voices.
  ASSERT_EQ(owner.request("DELETE", "/user/delete").status, 200);
  EXPECT_EQ(sql.exec1("SELECT count(*) FROM content_blobs")[0].as<int>(), 0);
  EXPECT_EQ(sql.exec1("SELECT count(*) FROM recordings")[0].as<int>(), 0);
}

std::string multipart(const std::vector<std::pair<std::string, std::string>>& parts,
                      const std::string& content_type = "audio/wav") {
  std::string body;
  for (const auto& [name, bytes] : parts) {
    body += "--tidemark-test\r\nContent-Disposition: form-data; name=\"" + name + "\"" +
            (name == "content" ? "; filename=\"clip.wav\"\r\nContent-Type: " + content_type
                               : std::string("\r\nContent-Type: application/json")) +
            "\r\n\r\n" + bytes + "\r\n";
  }
  return body + "--tidemark-test--\r\n";
}

TEST(Recordings, MultipartCreateCarriesTheMetadataAndTheRecordingInOneRequest) {
  TestStack stack(TestStack::Options{3, {"--max-upload-bytes", "65536"}, true});
  HttpClient owner(stack.api_port());
  sign_in(owner, "uploader");
  const std::map<std::string, std::string> form{
      {"Content-Type", "multipart/form-data; boundary=tidemark-test"}};
  std::string bytes = "RIFF-and-some\r\n--tidemark-tes bytes";
  bytes.push_back('\0');

  // The link may be left out: the recording is its content.
  auto created = owner.post(
      "/recordings",
      multipart({{"metadata", R"({"recording_id":"mp-1","recording_type":"audio","user_id":"u"})"},
                 {"content", bytes}}),
      form);
  ASSERT_EQ(created.status, 201) << created.body;
  auto recording = parse(created.body);
  EXPECT_STREQ(recording["recording_link"].GetString(), "/recordings/mp-1/content");
  EXPECT_EQ(recording["content"]["size"].GetInt64(), static_cast<std::int64_t>(bytes.size()));
  EXPECT_STREQ(recording["content"]["content_type"].GetString(), "audio/wav");
  auto downloaded = owner.get("/recordings/mp-1/content");
  ASSERT_EQ(downloaded.status, 200);
  EXPECT_EQ(downloaded.body, bytes);

  // Every malformed upload is refused with a message, and nothing is written.
  for (const auto& body :
       {multipart({{"content", bytes}}),
        multipart({{"metadata", R"({"recording_id":"mp-2","recording_type":"a","user_id":"u"})"}}),
        multipart({{"metadata", "{not json"}, {"content", bytes}}),
        multipart({{"metadata", R"({"recording_id":"mp-2","recording_type":"a","user_id":"u"})"},
                   {"content", bytes},
                   {"extra", "x"}}),
        multipart({{"metadata", R"({"recording_id":"mp-2","recording_type":"a","user_id":"u"})"},
                   {"content", bytes}},
                  "not a type"),
        std::string("--tidemark-test\r\nno headers at all")}) {
    auto refused = owner.post("/recordings", body, form);
    EXPECT_EQ(refused.status, 400) << body.substr(0, 120);
    EXPECT_NE(refused.body.find("detail"), std::string::npos) << refused.body;
  }
  EXPECT_EQ(owner
                .post("/recordings", multipart({{"content", bytes}}),
                      {{"Content-Type", "multipart/form-data"}})
                .status,
            400);
  auto too_big = owner.post(
      "/recordings",
      multipart({{"metadata", R"({"recording_id":"mp-3","recording_type":"a","user_id":"u"})"},
                 {"content", std::string(70000, 'a')}}),
      form);
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(owner.get("/recordings/mp-2").status, 404);
  EXPECT_EQ(owner.get("/recordings/mp-3").status, 404);
  auto sql = stack.connect();
  pqxx::nontransaction read(*sql);
  EXPECT_EQ(read.exec1("SELECT count(*) FROM content_blobs")[0].as<int>(), 1);
}

}  // namespace
}  // namespace tidemark::testing
