// Accounts and sessions over HTTP against the real processes: every seed's register and login
// bodies, tokens and their attacks, refresh rotation and reuse, logout, and deletion by
// crypto-shredding with a rebuild that must find nothing of the deleted user.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <pqxx/pqxx>
#include <thread>

#include "infra/encoding.h"
#include "infra/jwt.h"
#include "tests/support/http_client.h"
#include "tests/support/stack.h"
#include "tests/support/tally.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  EXPECT_FALSE(document.HasParseError()) << body;
  return document;
}

std::string field(const HttpReply& reply, const char* name) {
  auto document = parse(reply.body);
  if (!document.IsObject() || !document.HasMember(name) || !document[name].IsString()) {
    return "<no " + std::string(name) + " in " + reply.body + ">";
  }
  return document[name].GetString();
}

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

TEST(Accounts, Seed000RegisterAnswersASessionAndTokensThatWork) {
  TestStack stack;
  HttpClient client(stack.api_port());
  auto registered = client.post(
      "/auth/register",
      R"({"username":"example","email":"Example@Example.com","password":"examplePass"})");
  ASSERT_EQ(registered.status, 201) << registered.body;
  EXPECT_EQ(field(registered, "message"), "User successfully registered");
  EXPECT_EQ(field(registered, "token_type"), "bearer");
  EXPECT_EQ(field(registered, "session_id").size(), 36u);
  EXPECT_TRUE(domain::parse_timestamp(field(registered, "expires_at")));
  std::string cookie = registered.header("set-cookie");
  EXPECT_NE(cookie.find("X-LIVENESS-TOKEN="), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite"), std::string::npos) << cookie;

  auto me = client.request("GET", "/me", "", bearer(field(registered, "access_token")));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(field(me, "username"), "example");
  EXPECT_EQ(field(me, "email"), "example@example.com");
  EXPECT_EQ(field(me, "role"), "user");

  auto login = client.post("/auth/login", R"({"username":"example","password":"examplePass"})");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(field(login, "message"), "Login successfully");
  EXPECT_NE(field(login, "session_id"), field(registered, "session_id"));

  // Seed 000's GET /users/{session_id}: the owner sees it.
  auto by_session = client.request("GET", "/users/" + field(login, "session_id"), "",
                                   bearer(field(login, "access_token")));
  ASSERT_EQ(by_session.status, 200) << by_session.body;
  auto document = parse(by_session.body);
  EXPECT_EQ(std::string(document["status"].GetString()), "success");
  EXPECT_EQ(std::string(document["data"]["username"].GetString()), "example");
}

TEST(Accounts, Seed001CookieClientRegistersLogsInIsGreetedAndLogsOut) {
  TestStack stack;
  HttpClient client(stack.api_port());
  auto registered = client.post(
      "/auth/register", R"({"fullname":"Full Name","username":"username","password":"password"})");
  ASSERT_EQ(registered.status, 201) << registered.body;
  auto missing = client.post("/auth/register", R"({"username":"username2"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("'password' is required"), std::string::npos) << missing.body;

  auto login = client.post("/auth/login", R"({"username":"username","password":"password"})");
  ASSERT_EQ(login.status, 200);
  std::string cookie = login.header("set-cookie");
  std::string token_cookie = cookie.substr(0, cookie.find(';'));
  auto home = client.request("GET", "/home", "", {{"Cookie", token_cookie}});
  ASSERT_EQ(home.status, 200) << home.body;
  EXPECT_EQ(field(home, "message"), "Hello Full Name");

  auto anonymous = client.get("/home");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(field(anonymous, "message"), "Unauthorized users");

  auto logout = client.request("DELETE", "/auth/logout", "", {{"Cookie", token_cookie}});
  ASSERT_EQ(logout.status, 200) << logout.body;
  EXPECT_NE(logout.header("set-cookie").find("Max-Age=0"), std::string::npos);
  // The revocation was projected before the answer: the token stops working at once.
  EXPECT_EQ(client.request("GET", "/home", "", {{"Cookie", token_cookie}}).status, 401);
}

TEST(Accounts, Seed004RegisterAndLoginByEmailAtTheirOwnPaths) {
  TestStack stack;
  HttpClient client(stack.api_port());
  auto registered = client.post(
      "/register", R"({"user":"seed4user","email":"four@example.com","password":"p4ssword!"})");
  ASSERT_EQ(registered.status, 201) << registered.body;
  auto login = client.post("/login", R"({"email":"FOUR@example.com","password":"p4ssword!"})");
  ASSERT_EQ(login.status, 200) << login.body;
  auto me = client.request("GET", "/me", "", bearer(field(login, "access_token")));
  EXPECT_EQ(field(me, "username"), "seed4user");
}

TEST(Accounts, RegistrationValidationNamesTheFieldAndDuplicatesAre409) {
  TestStack stack;
  HttpClient client(stack.api_port());
  const std::pair<const char*, const char*> cases[] = {
      {R"({"username":"someone"})", "'password' is required"},
      {R"({"username":"someone","password":"short"})", "'password' must be at least 8"},
      {R"({"username":"abc","password":"long enough"})", "'username' must be at least 5"},
      {R"({"email":"not-an-email","password":"long enough"})", "'email' must be an email"},
      {R"({"password":"long enough"})", "'username' or 'email' is required"},
      {R"({"username":"someone","password":"long enough","admin":true})", "unknown field 'admin'"},
      {R"({"username":"someone","password":"long enough","role":"admin"})", "unknown field 'role'"},
      {R"({"username":42,"password":"long enough"})", "'username' must be a string"},
      {R"(not json)", "not valid JSON"},
  };
  for (const auto& [body, expected] : cases) {
    auto reply = client.post("/auth/register", body);
    EXPECT_EQ(reply.status, 400) << body;
    EXPECT_NE(reply.body.find(expected), std::string::npos) << body << " -> " << reply.body;
  }
  ASSERT_EQ(client
                .post("/auth/register",
                      R"({"username":"taken1","email":"a@b.co","password":"long enough"})")
                .status,
            201);
  auto same_name =
      client.post("/auth/register", R"({"username":"taken1","password":"long enough"})");
  EXPECT_EQ(same_name.status, 409);
  EXPECT_NE(same_name.body.find("username is already taken"), std::string::npos);
  auto same_email = client.post(
      "/auth/register", R"({"username":"other1","email":"A@B.CO","password":"long enough"})");
  EXPECT_EQ(same_email.status, 409);
  EXPECT_NE(same_email.body.find("email is already registered"), std::string::npos);
  // SQL metacharacters are data like any other.
  auto sql = client.post(
      "/auth/register", R"({"username":"robert'); DROP TABLE users;--","password":"long enough"})");
  EXPECT_EQ(sql.status, 201) << sql.body;
  auto login = client.post(
      "/auth/login", R"({"username":"robert'); DROP TABLE users;--","password":"long enough"})");
  EXPECT_EQ(login.status, 200) << login.body;
}

TEST(Accounts, Seed001LoginMessagesWhenConfigured) {
  TestStack stack(TestStack::Options{3, {"--login-error-style", "seed001"}, true});
  HttpClient client(stack.api_port());
  ASSERT_EQ(client
                .post("/auth/register",
                      R"({"fullname":"Full Name","username":"username","password":"password"})")
                .status,
            201);
  auto missing = client.post("/auth/login", R"({"username":"username"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(field(missing, "message"), "Username and Password is required");
  auto no_user = client.post("/auth/login", R"({"username":"someone","password":"password"})");
  EXPECT_EQ(no_user.status, 400);
  EXPECT_EQ(field(no_user, "message"), "Username not found!");
  auto bad_password =
      client.post("/auth/login", R"({"username":"username","password":"wrongpass"})");
  EXPECT_EQ(bad_password.status, 400);
  EXPECT_EQ(field(bad_password, "message"), "Password is incorrect!");
}

TEST(Accounts, SqlMetacharactersInEveryFieldAreJustData) {
  TestStack stack;
  HttpClient client(stack.api_port());
  auto registered =
      client.post("/auth/register", R"({"username":"o'brien\"--","email":"o'brien@example.com",)"
                                    R"("full_name":"x'); DELETE FROM users; --\" OR 1=1 /*",)"
                                    R"("password":"pa'ss\"word; DROP TABLE sessions;--"})");
  ASSERT_EQ(registered.status, 201) << registered.body;
  auto login = client.post(
      "/login",
      R"({"email":"o'brien@example.com","password":"pa'ss\"word; DROP TABLE sessions;--"})");
  ASSERT_EQ(login.status, 200) << login.body;
  auto me = client.request("GET", "/me", "", bearer(field(login, "access_token")));
  EXPECT_EQ(field(me, "full_name"), R"(x'); DELETE FROM users; --" OR 1=1 /*)");
  EXPECT_EQ(field(me, "username"), R"(o'brien"--)");
  auto lookup =
      client.post("/auth/login", R"({"username":"' OR '1'='1","password":"' OR '1'='1"})");
  EXPECT_EQ(lookup.status, 401);
  auto listed = client.request("GET", "/events?user_id=%27%20OR%20%271%27%3D%271", "",
                               bearer(field(login, "access_token")));
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.header("x-total-count"), "0");
}

TEST(Accounts, RacingRegistrationsOfOneNameGiveExactlyOne201) {
  TestStack stack;
  const int kRacers = 8;
  std::atomic<int> created{0}, conflicts{0}, other{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&] {
      HttpClient client(stack.api_port());
      int status =
          client.post("/auth/register", R"({"username":"racer","password":"long enough"})").status;
      (status == 201 ? created : status == 409 ? conflicts : other)++;
    });
  }
  for (auto& racer : racers) racer.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, kRacers - 1);
  EXPECT_EQ(other, 0);
}

TEST(Accounts, BadCredentialsLookTheSameAndRepeatedFailuresGet429) {
  TestStack stack;
  HttpClient client(stack.api_port());
  ASSERT_EQ(
      client.post("/auth/register", R"({"username":"victim","password":"right password"})").status,
      201);
  auto wrong_password =
      client.post("/auth/login", R"({"username":"victim","password":"wrong password"})");
  auto unknown_user =
      client.post("/auth/login", R"({"username":"nobody-here","password":"wrong password"})");
  EXPECT_EQ(wrong_password.status, 401);
  EXPECT_EQ(unknown_user.status, 401);
  EXPECT_EQ(wrong_password.body, unknown_user.body);
  int first_429 = 0;
  for (int attempt = 2; attempt <= 20 && first_429 == 0; ++attempt) {
    auto reply = client.post("/auth/login", R"({"username":"victim","password":"wrong password"})");
    if (reply.status == 429) {
      first_429 = attempt;
      EXPECT_FALSE(reply.header("retry-after").empty());
    } else {
      EXPECT_EQ(reply.status, 401);
    }
  }
  EXPECT_GT(first_429, 0) << "20 wrong passwords in a row were never answered 429";
  EXPECT_LE(first_429, 20);
  // The right password is refused too while the account is locked out.
  EXPECT_EQ(
      client.post("/auth/login", R"({"username":"victim","password":"right password"})").status,
      429);
}

TEST(Accounts, ForgedTamperedExpiredAndAlgNoneTokensAreRefused) {
  TestStack stack;
  HttpClient client(stack.api_port());
  auto registered =
      client.post("/auth/register", R"({"username":"tokenuser","password":"long enough"})");
  ASSERT_EQ(registered.status, 201);
  std::string token = field(registered, "access_token");
  ASSERT_EQ(client.request("GET", "/me", "", bearer(token)).status, 200);

  auto first_dot = token.find('.');
  auto second_dot = token.find('.', first_dot + 1);
  std::string header = token.substr(0, first_dot);
  std::string payload =
      *infra::base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  std::string signature = token.substr(second_dot + 1);

  std::string admin_payload = payload;
  admin_payload.replace(admin_payload.find("\"role\":\"user\""), 13, "\"role\":\"admin\"");
  std::string tampered = header + "." + infra::base64url_encode(admin_payload) + "." + signature;
  std::string alg_none = infra::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                         infra::base64url_encode(payload) + ".";
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  infra::JwtSigner real(*infra::base64url_decode(stack.token_signing_key()), "tidemark",
                        "tidemark-api");
  rapidjson::Document claims = parse(payload);
  infra::TokenClaims base{claims["sub"].GetString(),
                          claims["sid"].GetString(),
                          "user",
                          "tidemark",
                          "tidemark-api",
                          now,
                          now,
                          now + 600,
                          "t",
                          ""};
  auto expired_claims = base;
  expired_claims.issued_at = now - 3600;
  expired_claims.not_before = now - 3600;
  expired_claims.expires_at = now - 1800;
  auto future_claims = base;
  future_claims.not_before = now + 3600;
  std::string other_key =
      infra::JwtSigner(std::string(32, 'k'), "tidemark", "tidemark-api").sign(base);
  auto wrong_audience = base;
  wrong_audience.audience = "someone-else";

  const std::pair<std::string, const char*> attacks[] = {
      {tampered, "signature"},
      {alg_none, "none"},
      {other_key, ""},
      {real.sign(expired_claims), "expired"},
      {real.sign(future_claims), ""},
      {infra::JwtSigner(*infra::base64url_decode(stack.token_signing_key()), "tidemark",
                        "someone-else")
           .sign(wrong_audience),
       ""},
      {"not.a.token", ""},
      {"", ""},
  };
  for (const auto& [forged, reason] : attacks) {
    auto reply = client.request("GET", "/me", "", bearer(forged));
    tally::attack(reply.status != 401);
    EXPECT_EQ(reply.status, 401) << forged;
    EXPECT_NE(reply.body.find(reason), std::string::npos) << forged << " -> " << reply.body;
  }
  // The same claims signed properly do work: the refusals above were for the attacks.
  EXPECT_EQ(client.request("GET", "/me", "", bearer(real.sign(base))).status, 200);
}

TEST(Accounts, RefreshRotatesAndReuseAfterGraceRevokesTheSession) {
  TestStack stack(TestStack::Options{3, {"--refresh-reuse-grace-s", "1"}, true});
  HttpClient client(stack.api_port());
  auto registered =
      client.post("/auth/register", R"({"username":"rotator","password":"long enough"})");
  ASSERT_EQ(registered.status, 201);
  std::string first = field(registered, "refresh_token");
  auto rotated = client.post("/auth/refresh", R"({"refresh_token":")" + first + R"("})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string second = field(rotated, "refresh_token");
  EXPECT_NE(second, first);
  EXPECT_EQ(field(rotated, "session_id"), field(registered, "session_id"));
  EXPECT_EQ(client.request("GET", "/me", "", bearer(field(rotated, "access_token"))).status, 200);

  // A mobile retry within the grace window rotates again instead of revoking.
  auto retried = client.post("/auth/refresh", R"({"refresh_token":")" + first + R"("})");
  ASSERT_EQ(retried.status, 200) << retried.body;
  std::string third = field(retried, "refresh_token");

  std::this_thread::sleep_for(2500ms);
  auto reused = client.post("/auth/refresh", R"({"refresh_token":")" + second + R"("})");
  tally::attack(reused.status != 401);
  EXPECT_EQ(reused.status, 401);
  EXPECT_NE(reused.body.find("reuse detected"), std::string::npos) << reused.body;
  // The whole session is gone: its newest refresh token and its access tokens.
  for (const auto& attempt :
       {client.post("/auth/refresh", R"({"refresh_token":")" + third + R"("})"),
        client.request("GET", "/me", "", bearer(field(retried, "access_token"))),
        client.post("/auth/refresh", R"({"refresh_token":"garbage"})")}) {
    tally::attack(attempt.status != 401);
    EXPECT_EQ(attempt.status, 401) << attempt.body;
  }
}

TEST(Accounts, ALoginAnsweredBeforeItsSessionWasProjectedGivesATokenThatWaitsForIt) {
  TestStack stack(TestStack::Options{3, {"--projection-wait-ms", "1500"}, true});
  HttpClient client(stack.api_port());
  ASSERT_EQ(
      client.post("/auth/register", R"({"username":"laggard","password":"long enough"})").status,
      201);
  // Holding the projector's positions table stops the projection from committing, as a
  // projector far behind would.
  auto blocker = stack.connect();
  pqxx::work pause(*blocker);
  pause.exec("LOCK TABLE projection_offsets IN EXCLUSIVE MODE");
  auto login = client.post("/auth/login", R"({"username":"laggard","password":"long enough"})");
  ASSERT_EQ(login.status, 200) << login.body;
  std::string token = field(login, "access_token");
  std::thread resume([&] {
    std::this_thread::sleep_for(300ms);
    pause.commit();
  });
  auto me = client.request("GET", "/me", "", bearer(token));
  resume.join();
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(field(me, "username"), "laggard");
}

TEST(Accounts, SessionsAreListedAndRevokedOneOrAllAndLogoutBySessionIdIsSeed000s) {
  TestStack stack;
  HttpClient client(stack.api_port());
  auto registered =
      client.post("/auth/register", R"({"username":"sessions","password":"long enough"})");
  auto second = client.post("/auth/login", R"({"username":"sessions","password":"long enough"})");
  auto third = client.post("/auth/login", R"({"username":"sessions","password":"long enough"})");
  std::string token = field(third, "access_token");
  auto listed = client.request("GET", "/auth/sessions", "", bearer(token));
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(parse(listed.body).Size(), 3u);

  auto logout =
      client.post("/auth/logout", R"({"session-id":")" + field(second, "session_id") + R"("})");
  EXPECT_EQ(logout.status, 200) << logout.body;
  EXPECT_EQ(field(logout, "message"), "Logged out successfully");
  EXPECT_EQ(
      client.post("/auth/logout", R"({"session-id":")" + field(second, "session_id") + R"("})")
          .status,
      404);
  EXPECT_EQ(client.post("/auth/logout", R"({"session-id":"not-a-session"})").status, 404);
  auto logged_out = client.request("GET", "/me", "", bearer(field(second, "access_token")));
  tally::attack(logged_out.status != 401);
  EXPECT_EQ(logged_out.status, 401);

  // Another user cannot see or revoke these sessions.
  auto intruder =
      client.post("/auth/register", R"({"username":"intruder","password":"long enough"})");
  std::string intruder_token = field(intruder, "access_token");
  for (const auto& attempt :
       {client.request("GET", "/users/" + field(third, "session_id"), "", bearer(intruder_token)),
        client.request("DELETE", "/auth/sessions/" + field(third, "session_id"), "",
                       bearer(intruder_token))}) {
    tally::attack(attempt.status != 404);
    EXPECT_EQ(attempt.status, 404) << attempt.body;
  }

  auto all = client.request("DELETE", "/auth/sessions", "", bearer(token));
  EXPECT_EQ(all.status, 200) << all.body;
  for (const auto& revoked : {token, field(registered, "access_token")}) {
    auto reply = client.request("GET", "/me", "", bearer(revoked));
    tally::attack(reply.status != 401);
    EXPECT_EQ(reply.status, 401);
  }
  EXPECT_EQ(client.request("GET", "/me", "", bearer(intruder_token)).status, 200);
}

TEST(Accounts, DeletionShredsThePersonSoNoReplayRebuildsThem) {
  TestStack stack;
  HttpClient client(stack.api_port());
  const std::string secret_name = "Zebediah Quintessence";
  const std::string secret_email = "zebediah.q@example.org";
  const std::string password = "unguessable passphrase 42";
  auto doomed = client.post("/auth/register", R"({"username":"zebediah","email":")" + secret_email +
                                                  R"(","full_name":")" + secret_name +
                                                  R"(","password":")" + password + R"("})");
  ASSERT_EQ(doomed.status, 201) << doomed.body;
  auto survivor =
      client.post("/auth/register", R"({"username":"survivor","password":"long enough"})");
  ASSERT_EQ(survivor.status, 201);

  // Personal data is never in clear text in the log, before or after deletion.
  std::string log = stack.dump_log();
  for (const std::string& secret : {secret_name, secret_email, password, std::string("zebediah")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " is readable in the log";
  }
  EXPECT_EQ(stack.api().output().find(password), std::string::npos);

  std::string token = field(doomed, "access_token");
  auto deleted = client.request("DELETE", "/user/delete", "", bearer(token));
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(field(deleted, "message"), "Successfully deleted user!");
  auto after_deletion = client.request("GET", "/me", "", bearer(token));
  tally::attack(after_deletion.status != 401);
  EXPECT_EQ(after_deletion.status, 401);
  EXPECT_EQ(
      client.post("/auth/login", R"({"username":"zebediah","password":")" + password + R"("})")
          .status,
      401);

  // Rebuild every read model from offset 0: the survivor comes back, the deleted user does not.
  stack.stop_projector();
  {
    auto connection = stack.connect();
    pqxx::work reset(*connection);
    reset.exec("TRUNCATE users, sessions, event_log, projection_offsets");
    reset.commit();
  }
  stack.start_projector();
  ASSERT_TRUE(stack.wait_until_projected(30s));
  auto connection = stack.connect();
  pqxx::nontransaction sql(*connection);
  EXPECT_EQ(sql.exec1("SELECT count(*) FROM users WHERE username = 'survivor'")[0].as<int>(), 1);
  EXPECT_EQ(sql.exec1("SELECT count(*) FROM users")[0].as<int>(), 1);
  EXPECT_EQ(sql.exec_params1("SELECT count(*) FROM sessions WHERE user_id = $1::uuid",
                             field(doomed, "user_id"))[0]
                .as<int>(),
            0);
  EXPECT_EQ(sql.exec_params1("SELECT count(*) FROM user_keys WHERE user_id = $1::uuid",
                             field(doomed, "user_id"))[0]
                .as<int>(),
            0);
  // The name is free again.
  EXPECT_EQ(
      client.post("/auth/register", R"({"username":"zebediah","password":"long enough"})").status,
      201);
}

TEST(Accounts, ProfilesChangeOnlyForTheirOwnerAndTheNewPasswordAndNameWork) {
  TestStack stack;
  HttpClient client(stack.api_port());
  auto alice = client.post(
      "/auth/register",
      R"({"username":"alice","email":"alice@example.com","password":"first password"})");
  auto mallory =
      client.post("/auth/register", R"({"username":"mallory","password":"long enough"})");
  ASSERT_EQ(alice.status, 201);
  std::string token = field(alice, "access_token");
  std::string alice_id = field(alice, "user_id");

  auto own = client.request("GET", "/profile/" + alice_id, "", bearer(token));
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(field(own, "email"), "alice@example.com");
  // Another user's id answers 404, as if it did not exist; so does privilege escalation.
  std::string mallory_token = field(mallory, "access_token");
  for (const auto& attempt :
       {client.request("GET", "/profile/" + alice_id, "", bearer(mallory_token)),
        client.request("PUT", "/profile/" + alice_id, R"({"full_name":"Owned"})",
                       bearer(mallory_token))}) {
    tally::attack(attempt.status != 404);
    EXPECT_EQ(attempt.status, 404) << attempt.body;
  }
  auto escalate =
      client.request("PATCH", "/user/update", R"({"role":"admin"})", bearer(mallory_token));
  tally::attack(escalate.status != 400);
  EXPECT_EQ(escalate.status, 400);
  EXPECT_NE(escalate.body.find("unknown field 'role'"), std::string::npos) << escalate.body;

  // Seed 002's PATCH /user/update.
  auto renamed = client.request("PATCH", "/user/update",
                                R"({"name":"Alice Pleasance","username":"alice2"})", bearer(token));
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(field(renamed, "full_name"), "Alice Pleasance");
  EXPECT_EQ(field(renamed, "username"), "alice2");
  EXPECT_EQ(
      client.request("PATCH", "/user/update", R"({"username":"mallory"})", bearer(token)).status,
      409);
  // Seed 004's PUT /profile/{id} with {user, email, password}.
  auto changed = client.request(
      "PUT", "/profile/" + alice_id,
      R"({"user":"alice3","email":"new@example.com","password":"second password"})", bearer(token));
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(field(changed, "email"), "new@example.com");
  EXPECT_EQ(
      client.post("/login", R"({"email":"new@example.com","password":"second password"})").status,
      200);
  EXPECT_EQ(
      client.post("/login", R"({"email":"new@example.com","password":"first password"})").status,
      401);
  // The old name and email are free again.
  EXPECT_EQ(
      client
          .post("/auth/register",
                R"({"username":"alice","email":"alice@example.com","password":"long enough"})")
          .status,
      201);
  EXPECT_EQ(
      client.post("/auth/register", R"({"username":"ALICE3","password":"long enough"})").status,
      409);
}

TEST(Accounts, CreateAdminListsUsersAndGrantsRolesWhichUsersCannot) {
  TestStack stack;
  HttpClient client(stack.api_port());
  auto [code, output] =
      run_command({TIDEMARK_BINARY, "create-admin", "--username", "rootadmin", "--email",
                   "root@example.com", "--password", "admin password", "--database-url",
                   stack.database_url(), "--kafka-bootstrap-servers", stack.bootstrap_servers(),
                   "--master-key", stack.master_key(), "--data-dir", stack.folder().string()});
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("admin rootadmin created"), std::string::npos) << output;
  auto [again, again_output] = run_command(
      {TIDEMARK_BINARY, "create-admin", "--username", "rootadmin", "--password", "admin password",
       "--database-url", stack.database_url(), "--kafka-bootstrap-servers",
       stack.bootstrap_servers(), "--master-key", stack.master_key()});
  EXPECT_EQ(again, 2);
  EXPECT_NE(again_output.find("username is already taken"), std::string::npos) << again_output;

  // The password may come on standard input, out of the shell history and the process list.
  auto [piped, piped_output] = run_command(
      {"sh", "-c",
       "printf 'piped password\\n' | \"$0\" create-admin --username pipedadmin "
       "--database-url \"$1\" --kafka-bootstrap-servers \"$2\" --master-key \"$3\"",
       TIDEMARK_BINARY, stack.database_url(), stack.bootstrap_servers(), stack.master_key()});
  ASSERT_EQ(piped, 0) << piped_output;
  EXPECT_EQ(
      client.post("/auth/login", R"({"username":"pipedadmin","password":"piped password"})").status,
      200);

  auto admin =
      client.post("/auth/login", R"({"username":"rootadmin","password":"admin password"})");
  ASSERT_EQ(admin.status, 200) << admin.body;
  std::string admin_token = field(admin, "access_token");
  auto user = client.post("/auth/register", R"({"username":"plainuser","password":"long enough"})");
  std::string user_token = field(user, "access_token");

  auto listed = client.request("GET", "/admin/users?size=1&page=2", "", bearer(admin_token));
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.header("x-total-count"), "3");
  EXPECT_EQ(parse(listed.body)["data"].Size(), 1u);
  auto user_lists = client.request("GET", "/admin/users", "", bearer(user_token));
  tally::attack(user_lists.status != 403);
  EXPECT_EQ(user_lists.status, 403);
  EXPECT_EQ(client.request("GET", "/admin/users?size=101", "", bearer(admin_token)).status, 400);
  EXPECT_EQ(
      client.request("GET", "/profile/" + field(user, "user_id"), "", bearer(admin_token)).status,
      200);

  auto user_grants = client.request("PUT", "/admin/users/" + field(user, "user_id") + "/role",
                                    R"({"role":"admin"})", bearer(user_token));
  tally::attack(user_grants.status != 403);
  EXPECT_EQ(user_grants.status, 403);
  auto granted = client.request("PUT", "/admin/users/" + field(user, "user_id") + "/role",
                                R"({"role":"analyst"})", bearer(admin_token));
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(field(granted, "role"), "analyst");
  // The role is read per request, so the user's existing token carries the new role at once.
  EXPECT_EQ(field(client.request("GET", "/me", "", bearer(user_token)), "role"), "analyst");
  EXPECT_EQ(client
                .request("PUT", "/admin/users/" + field(user, "user_id") + "/role",
                         R"({"role":"emperor"})", bearer(admin_token))
                .status,
            400);
}

/// The code in a mailed body ("… code is: CODE\n…").
std::string code_in(const std::string& mail_line) {
  rapidjson::Document mail = parse(mail_line);
  std::string body = mail["body"].GetString();
  auto start = body.find("is: ") + 4;
  return body.substr(start, body.find('\n', start) - start);
}

TEST(Accounts, EmailVerificationMailsASingleUseCode) {
  TestStack stack;
  stack.start_mailer();
  HttpClient client(stack.api_port());
  auto registered = client.post(
      "/auth/register",
      R"({"username":"verifier","email":"verify@example.com","password":"long enough"})");
  std::string token = field(registered, "access_token");
  auto requested = client.request("POST", "/auth/verify-email/request", "", bearer(token));
  ASSERT_EQ(requested.status, 202) << requested.body;
  auto mails = stack.wait_for_mail(1, 30s);
  ASSERT_EQ(mails.size(), 1u);
  rapidjson::Document mail = parse(mails[0]);
  EXPECT_EQ(std::string(mail["to"].GetString()), "verify@example.com");
  std::string code = code_in(mails[0]);
  // The code travels sealed: the log holds neither it nor the address.
  std::string log = stack.dump_log();
  EXPECT_EQ(log.find(code), std::string::npos);
  EXPECT_EQ(log.find("verify@example.com"), std::string::npos);
  ASSERT_TRUE(stack.wait_until_projected(30s));

  auto verified = client.post("/auth/verify-email", R"({"token":")" + code + R"("})");
  ASSERT_EQ(verified.status, 200) << verified.body;
  auto again = client.post("/auth/verify-email", R"({"token":")" + code + R"("})");
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("already used"), std::string::npos) << again.body;
  EXPECT_EQ(client.post("/auth/verify-email", R"({"token":"made-up"})").status, 400);
  auto connection = stack.connect();
  EXPECT_FALSE(pqxx::nontransaction(*connection)
                   .exec1("SELECT email_verified_at FROM users WHERE username = 'verifier'")[0]
                   .is_null());
}

TEST(Accounts, MailGoesOverSmtpWhenConfigured) {
  TestStack stack;
  // A real SMTP peer: Python's debugging SMTP server prints every message it receives.
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  std::string port = std::to_string(ntohs(address.sin_port));
  ::close(probe);
  ChildProcess smtp({"/usr/bin/python3", "-u", "-W", "ignore", "-m", "smtpd", "-n", "-c",
                     "DebuggingServer", "127.0.0.1:" + port},
                    stack.folder() / "smtp.log");
  std::this_thread::sleep_for(500ms);
  stack.start_mailer(
      {"--smtp-url", "smtp://127.0.0.1:" + port, "--smtp-from", "noreply@tidemark.test"});
  HttpClient client(stack.api_port());
  auto registered =
      client.post("/auth/register",
                  R"({"username":"smtpuser","email":"smtp@example.com","password":"long enough"})");
  auto requested = client.request("POST", "/auth/verify-email/request", "",
                                  bearer(field(registered, "access_token")));
  ASSERT_EQ(requested.status, 202);
  ASSERT_TRUE(smtp.wait_for_output("Subject: Verify your email address", 30s)) << smtp.output();
  std::string received = smtp.output();
  EXPECT_NE(received.find("To: <smtp@example.com>"), std::string::npos) << received;
  EXPECT_NE(received.find("From: <noreply@tidemark.test>"), std::string::npos) << received;
  EXPECT_NE(received.find("Your email verification code is: "), std::string::npos) << received;
  EXPECT_FALSE(std::filesystem::exists(stack.outbox()));
}

TEST(Accounts, PasswordResetByMailedCodeEndsEverySession) {
  TestStack stack;
  stack.start_mailer();
  HttpClient client(stack.api_port());
  auto registered = client.post(
      "/auth/register",
      R"({"username":"forgetful","email":"forget@example.com","password":"old password"})");
  std::string old_token = field(registered, "access_token");
  auto unknown = client.post("/auth/password-reset/request", R"({"email":"nobody@example.com"})");
  auto known = client.post("/auth/password-reset/request", R"({"email":"FORGET@example.com"})");
  EXPECT_EQ(unknown.status, 202);
  EXPECT_EQ(known.status, 202);
  EXPECT_EQ(unknown.body, known.body);  // nothing learnt about who is registered
  auto mails = stack.wait_for_mail(1, 30s);
  ASSERT_EQ(mails.size(), 1u);
  std::string code = code_in(mails[0]);
  ASSERT_TRUE(stack.wait_until_projected(30s));

  auto too_short =
      client.post("/auth/password-reset", R"({"token":")" + code + R"(","password":"short"})");
  EXPECT_EQ(too_short.status, 400);
  auto reset = client.post("/auth/password-reset",
                           R"({"token":")" + code + R"(","password":"new password"})");
  ASSERT_EQ(reset.status, 200) << reset.body;
  auto after_reset = client.request("GET", "/me", "", bearer(old_token));
  tally::attack(after_reset.status != 401);
  EXPECT_EQ(after_reset.status, 401);
  EXPECT_EQ(
      client.post("/auth/login", R"({"username":"forgetful","password":"old password"})").status,
      401);
  EXPECT_EQ(
      client.post("/auth/login", R"({"username":"forgetful","password":"new password"})").status,
      200);
  EXPECT_EQ(client
                .post("/auth/password-reset",
                      R"({"token":")" + code + R"(","password":"third password"})")
                .status,
            400);
  // The unknown address got no mail: only the one code was ever sent.
  EXPECT_EQ(stack.wait_for_mail(2, 200ms).size(), 1u);
}

}  // namespace
}  // namespace tidemark::testing
