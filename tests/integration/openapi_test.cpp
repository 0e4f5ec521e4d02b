// The OpenAPI document (api/openapi.json, compiled in and served at /openapi.json) against the
// API itself: it names exactly the routes the router registers, the running binary serves every
// documented operation, and real answers of every operation have a documented status and match
// its schema. Then /docs and /redoc in Debian's headless Chromium (tests/browser/docs_test.mjs).
// Schemas are checked by the small JSON Schema subset of tests/support/openapi.h; the document
// must keep to it.
#include "tests/support/openapi.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "api/routes.h"
#include "tests/support/http_client.h"
#include "tests/support/media.h"
#include "tests/support/stack.h"

namespace tidemark::api {
extern const std::string_view kOpenApiDocument;
}  // namespace tidemark::api

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string field(const HttpReply& reply, const char* name) {
  auto document = parse_json(reply.body);
  if (!document.IsObject() || !document.HasMember(name) || !document[name].IsString()) {
    ADD_FAILURE() << "no string '" << name << "' in " << reply.body;
    return "";
  }
  return document[name].GetString();
}

/// The document, and which of its operations a test has seen answer as documented.
class DocumentCheck {
 public:
  DocumentCheck() : document_(parse_json(api::kOpenApiDocument)), validator_(document_) {
    if (!document_.IsObject() || !document_.HasMember("paths")) {
      throw std::runtime_error("the OpenAPI document does not parse");
    }
  }

  const rapidjson::Document& document() const { return document_; }
  const SchemaValidator& validator() const { return validator_; }

  /// Every documented operation as `METHOD /template`.
  std::set<std::string> operations() const {
    std::set<std::string> listed;
    for (const auto& path : document_["paths"].GetObject()) {
      for (const auto& method : openapi_methods()) {
        if (path.value.HasMember(method.c_str())) {
          listed.insert(upper(method) + " " + path.name.GetString());
        }
      }
    }
    return listed;
  }

  /// Sends the request, expects one of `statuses`, and checks the answer against the document.
  HttpReply call(HttpClient& client, const std::string& method, const std::string& path_template,
                 const std::string& target, std::set<int> statuses, const std::string& body = "",
                 const std::map<std::string, std::string>& headers = {}) {
    HttpReply reply = client.request(method, target, body, headers);
    EXPECT_TRUE(statuses.count(reply.status))
        << method << " " << target << " answered " << reply.status << ": " << reply.body;
    conforms(method, path_template, target, reply);
    return reply;
  }
  HttpReply call(HttpClient& client, const std::string& method, const std::string& path, int status,
                 const std::string& body = "",
                 const std::map<std::string, std::string>& headers = {}) {
    return call(client, method, path, path, {status}, body, headers);
  }

  /// The answer's status is documented for the operation, and its body matches that schema.
  void conforms(const std::string& method, const std::string& path_template,
                const std::string& target, const HttpReply& reply) {
    std::string name = method + " " + path_template + " (" + target + " answered " +
                       std::to_string(reply.status) + ")";
    auto problems = response_problems(document_, validator_, method, path_template, reply);
    for (const auto& problem : problems) ADD_FAILURE() << name << ": " << problem;
    if (!problems.empty()) {
      ADD_FAILURE() << name << ": the body was " << reply.body;
      return;
    }
    checked_.insert(method + " " + path_template);
  }

  const std::set<std::string>& checked() const { return checked_; }

 private:
  rapidjson::Document document_;
  SchemaValidator validator_;
  std::set<std::string> checked_;
};

/// A concrete path for a template: each `{name}` becomes a value of the right shape.
std::string instantiate(const std::string& path_template) {
  static const std::regex parameter("\\{[^}]+\\}");
  return std::regex_replace(path_template, parameter, "0b6f3c5e-8a0e-4d4f-9a53-2f5cfb7c1e10");
}

std::set<std::string> router_operations() {
  // Registration only stores handlers; none is called, so the routes need no context.
  auto router = api::make_router(nullptr);
  std::set<std::string> listed;
  for (const auto& route : router->routes()) {
    EXPECT_TRUE(listed.insert(route.method + " " + route.pattern).second)
        << "registered twice: " << route.method << " " << route.pattern;
  }
  return listed;
}

TEST(OpenApi, DocumentsExactlyTheRoutesTheRouterRegisters) {
  DocumentCheck check;
  auto documented = check.operations();
  auto served = router_operations();
  for (const auto& operation : served) {
    EXPECT_TRUE(documented.count(operation)) << "served but not documented: " << operation;
  }
  for (const auto& operation : documented) {
    EXPECT_TRUE(served.count(operation)) << "documented but not served: " << operation;
  }
  EXPECT_GE(served.size(), 50u);
}

TEST(OpenApi, OperationsAreCompleteAndExamplesMatchTheirSchemas) {
  DocumentCheck check;
  const auto& document = check.document();
  EXPECT_EQ(std::string(document["openapi"].GetString()), "3.1.0");
  const auto& schemes = document["components"]["securitySchemes"];
  EXPECT_EQ(std::string(schemes["bearerAuth"]["scheme"].GetString()), "bearer");
  EXPECT_EQ(std::string(schemes["cookieAuth"]["in"].GetString()), "cookie");
  EXPECT_EQ(std::string(schemes["cookieAuth"]["name"].GetString()), "X-LIVENESS-TOKEN");
  std::set<std::string> operation_ids;
  int examples = 0;
  auto check_examples = [&](const rapidjson::Value& content, const std::string& where) {
    for (const auto& media : content.GetObject()) {
      if (!media.value.HasMember("schema")) continue;
      std::vector<const rapidjson::Value*> values;
      if (media.value.HasMember("example")) values.push_back(&media.value["example"]);
      if (media.value.HasMember("examples")) {
        for (const auto& named : media.value["examples"].GetObject()) {
          values.push_back(&named.value["value"]);
        }
      }
      for (const auto* value : values) {
        if (value->IsString() && std::string(media.name.GetString()) != "application/json") {
          continue;
        }
        ++examples;
        for (const auto& problem : check.validator().problems(*value, media.value["schema"])) {
          ADD_FAILURE() << where << " example: " << problem;
        }
      }
    }
  };
  for (const auto& path : document["paths"].GetObject()) {
    std::set<std::string> in_template;
    std::string text = path.name.GetString();
    static const std::regex parameter("\\{([^}]+)\\}");
    for (std::sregex_iterator it(text.begin(), text.end(), parameter), end; it != end; ++it) {
      in_template.insert((*it)[1]);
    }
    for (const auto& method : openapi_methods()) {
      if (!path.value.HasMember(method.c_str())) continue;
      std::string where = upper(method) + " " + text;
      const auto& operation = path.value[method.c_str()];
      ASSERT_TRUE(operation.HasMember("operationId")) << where;
      EXPECT_TRUE(operation_ids.insert(operation["operationId"].GetString()).second) << where;
      EXPECT_TRUE(operation.HasMember("summary") && operation.HasMember("tags")) << where;
      std::set<std::string> in_parameters;
      if (operation.HasMember("parameters")) {
        for (const auto& listed : operation["parameters"].GetArray()) {
          const rapidjson::Value* parameter_value = &listed;
          if (listed.HasMember("$ref")) {
            parameter_value = rapidjson::Pointer(listed["$ref"].GetString() + 1).Get(document);
            ASSERT_NE(parameter_value, nullptr) << where;
          }
          if (std::string((*parameter_value)["in"].GetString()) == "path") {
            in_parameters.insert((*parameter_value)["name"].GetString());
          }
        }
      }
      EXPECT_EQ(in_parameters, in_template) << where << ": path parameters";
      bool has_error = false;
      for (const auto& response : operation["responses"].GetObject()) {
        std::string status = response.name.GetString();
        has_error = has_error || status[0] == '4' || status[0] == '5';
        const rapidjson::Value* resolved = &response.value;
        if (resolved->HasMember("$ref")) {
          resolved = rapidjson::Pointer((*resolved)["$ref"].GetString() + 1).Get(document);
          ASSERT_NE(resolved, nullptr) << where << " " << status;
        }
        if (resolved->HasMember("content")) {
          check_examples((*resolved)["content"], where + " " + status);
          if (status[0] == '4' || status[0] == '5') {
            EXPECT_TRUE((*resolved)["content"].HasMember("application/json"))
                << where << " " << status << ": errors are JSON";
          }
        }
      }
      EXPECT_TRUE(has_error) << where << ": no error answer documented";
      if (operation.HasMember("requestBody")) {
        check_examples(operation["requestBody"]["content"], where + " request");
      }
      // Public operations say so; the others need a token (the document's default) and say
      // what its absence answers.
      bool is_public = operation.HasMember("security") && operation["security"].Empty();
      EXPECT_TRUE(is_public || operation["responses"].HasMember("401"))
          << where << ": needs a token but documents no 401";
    }
  }
  EXPECT_GE(examples, 60);
}

/// The document and the router agree: each documented operation, on a path of its shape,
/// is answered by the running API with its method among the allowed ones.
void expect_every_operation_served(std::uint16_t port, const DocumentCheck& check) {
  HttpClient client(port);
  std::map<std::string, std::set<std::string>> methods_by_path;
  for (const auto& operation : check.operations()) {
    auto space = operation.find(' ');
    methods_by_path[operation.substr(space + 1)].insert(operation.substr(0, space));
  }
  for (const auto& [path_template, methods] : methods_by_path) {
    auto reply = client.request("OPTIONS", instantiate(path_template));
    EXPECT_EQ(reply.status, 405) << path_template << ": " << reply.body;
    std::string allowed = ", " + reply.header("allow") + ",";
    for (const auto& method : methods) {
      EXPECT_NE(allowed.find(", " + method + ","), std::string::npos)
          << method << " " << path_template << " is not served (Allow: " << reply.header("allow")
          << ")";
    }
  }
}

std::string multipart(const std::string& metadata, const std::string& media_type,
                      const std::string& bytes) {
  return "--tidemark-boundary\r\nContent-Disposition: form-data; name=\"metadata\"\r\n"
         "Content-Type: application/json\r\n\r\n" +
         metadata +
         "\r\n--tidemark-boundary\r\nContent-Disposition: form-data; name=\"content\"; "
         "filename=\"face.bmp\"\r\nContent-Type: " +
         media_type + "\r\n\r\n" + bytes + "\r\n--tidemark-boundary--\r\n";
}

fs::path web_dir() {
  return fs::path(TIDEMARK_SOURCE_DIR) / "web" / "node_modules";
}

TEST(OpenApi, TheRunningApiServesEveryOperationAndAnswersAsDocumented) {
  TestStack stack(TestStack::Options{.api_flags = {"--web-dir", web_dir().string()}});
  stack.start_inference();
  DocumentCheck check;
  std::uint16_t port = stack.api_port();
  expect_every_operation_served(port, check);

  HttpClient anonymous(port);
  auto served = check.call(anonymous, "GET", "/openapi.json", 200);
  auto served_document = parse_json(served.body);
  auto source = parse_json(read_openapi_source());
  EXPECT_TRUE(served_document == source) << "/openapi.json is not api/openapi.json; rebuild";

  // Health.
  check.call(anonymous, "GET", "/", 200);
  check.call(anonymous, "GET", "/healthz", 200);
  check.call(anonymous, "GET", "/metrics", 200);
  check.call(anonymous, "GET", "/check", 200);
  check.call(anonymous, "GET", "/readyz", "/readyz", {200, 503});
  check.call(anonymous, "GET", "/", "/?a=%zz", {400});

  // Accounts: every seed's registration and login.
  HttpClient ada(port);
  check.call(ada, "POST", "/auth/register", 201,
             R"({"username":"ada-lovelace","email":"ada@example.com","password":"correct horse"})");
  HttpClient grace(port);
  check.call(grace, "POST", "/register", 201,
             R"({"user":"grace-hopper","email":"grace@example.com","password":"correct horse"})");
  HttpClient carol(port);
  check.call(carol, "POST", "/auth/register", 201,
             R"({"fullname":"Carol Shaw","username":"carol-shaw","password":"correct horse"})");
  check.call(
      anonymous, "POST", "/auth/register", 409,
      R"({"name":"Ada","username":"ada-lovelace","email":"x@example.com","password":"correct horse"})");
  check.call(anonymous, "POST", "/auth/register", 400, R"({"username":"ada"})");
  auto login = check.call(ada, "POST", "/auth/login", 200,
                          R"({"username":"ada-lovelace","password":"correct horse"})");
  ada.set_default_header("Authorization", "Bearer " + field(login, "access_token"));
  std::string ada_session = field(login, "session_id");
  std::string ada_id = field(login, "user_id");
  auto grace_login = check.call(grace, "POST", "/login", 200,
                                R"({"email":"grace@example.com","password":"correct horse"})");
  grace.set_default_header("Authorization", "Bearer " + field(grace_login, "access_token"));
  std::string grace_id = field(grace_login, "user_id");
  auto carol_login = check.call(carol, "POST", "/auth/login", 200,
                                R"({"username":"carol-shaw","password":"correct horse"})");
  carol.set_default_header("Cookie", "X-LIVENESS-TOKEN=" + field(carol_login, "access_token"));
  check.call(anonymous, "POST", "/auth/login", 401,
             R"({"username":"ada-lovelace","password":"wrong password"})");
  check.call(anonymous, "POST", "/auth/refresh", 200,
             R"({"refresh_token":")" + field(login, "refresh_token") + R"("})");
  check.call(anonymous, "POST", "/auth/refresh", 401, R"({"refresh_token":"not.a.token"})");

  check.call(ada, "GET", "/me", 200);
  check.call(carol, "GET", "/home", 200);
  check.call(anonymous, "GET", "/me", 401);
  check.call(ada, "GET", "/auth/sessions", 200);
  check.call(ada, "GET", "/profile/{id}", "/profile/" + ada_id, {200});
  check.call(ada, "GET", "/profile/{id}", "/profile/" + grace_id, {404});
  check.call(ada, "PATCH", "/user/update", 200, R"({"full_name":"Ada King"})");
  check.call(ada, "PATCH", "/user/update", 400, R"({"role":"admin"})");
  check.call(ada, "PUT", "/profile/{id}", "/profile/" + ada_id, {200},
             R"({"full_name":"Ada Lovelace"})");
  check.call(ada, "POST", "/auth/verify-email/request", 202);
  check.call(anonymous, "POST", "/auth/verify-email", 400, R"({"token":"not-a-code"})");
  check.call(anonymous, "POST", "/auth/password-reset/request", 202,
             R"({"email":"ada@example.com"})");
  check.call(anonymous, "POST", "/auth/password-reset", 400,
             R"({"token":"not-a-code","password":"a new long password"})");

  // Admin.
  HttpClient admin(port);
  sign_in_admin(stack, admin);
  check.call(admin, "GET", "/admin/users", 200);
  check.call(ada, "GET", "/admin/users", 403);
  check.call(admin, "PUT", "/admin/users/{user_id}/role", "/admin/users/" + grace_id + "/role",
             {200}, R"({"role":"analyst"})");
  check.call(admin, "GET", "/log", 200);
  check.call(ada, "GET", "/log", 403);

  // The event log.
  const std::string entry =
      R"({"user_id":"u1","session_id":"s-1","event_type":"screen_view","event_source":"ios",
          "event_data":{"screen":"home"},"log_level":"INFO","ts":"2026-01-31T12:00:00Z"})";
  auto created = check.call(ada, "POST", "/events", 201, entry, {{"Idempotency-Key", "one"}});
  std::string event_id = field(created, "event_id");
  auto replayed = check.call(ada, "POST", "/events", 201, entry, {{"Idempotency-Key", "one"}});
  EXPECT_EQ(replayed.header("idempotent-replayed"), "true");
  check.call(ada, "POST", "/events", 422, R"({"user_id":"u2","event_type":"t","event_source":"s"})",
             {{"Idempotency-Key", "one"}});
  check.call(ada, "POST", "/events", 202, R"({"user_id":"u1","event_type":"t","event_source":"s"})",
             {{"Prefer", "respond-async"}});
  check.call(ada, "POST", "/events", 400, R"({"user_id":"u1","colour":"red"})");
  check.call(ada, "GET", "/events", "/events?user_id=u1&size=5", {200});
  check.call(ada, "GET", "/events", "/events?size=101", {400});
  check.call(anonymous, "GET", "/events", 401);
  std::string entry_path = "/events/" + event_id;
  check.call(ada, "GET", "/events/{event_id}", entry_path, {200});
  check.call(ada, "GET", "/events/{event_id}", "/events/not-a-uuid", {400});
  check.call(carol, "GET", "/events/{event_id}", entry_path, {404});
  std::string etag = created.header("etag");
  check.call(ada, "PUT", "/events/{event_id}", entry_path, {200}, entry, {{"If-Match", etag}});
  check.call(ada, "PUT", "/events/{event_id}", entry_path, {412}, entry, {{"If-Match", etag}});
  check.call(grace, "PUT", "/events/{event_id}", entry_path, {403}, entry);
  check.call(ada, "DELETE", "/events/{event_id}", entry_path, {204});
  check.call(ada, "GET", "/events/{event_id}", entry_path, {404});

  // Algorithms.
  const std::string faces =
      R"({"algo_id":"faces","recording_type":"face","location":"builtin:face-detection","version":"1"})";
  etag = check.call(admin, "POST", "/algos", 201, faces).header("etag");
  check.call(admin, "POST", "/algos", 409, faces);
  check.call(ada, "POST", "/algos", 403, faces);
  check.call(ada, "GET", "/algos", "/algos?recording_type=face", {200});
  check.call(ada, "GET", "/algos/{algo_id}", "/algos/faces", {200});
  check.call(ada, "GET", "/algos/{algo_id}", "/algos/none", {404});
  const std::string faces_v2 =
      R"({"recording_type":"face","location":"builtin:face-detection","version":"2"})";
  check.call(admin, "PUT", "/algos/{algo_id}", "/algos/faces", {200}, faces_v2,
             {{"If-Match", etag}});
  check.call(admin, "PUT", "/algos/{algo_id}", "/algos/faces", {412}, faces_v2,
             {{"If-Match", etag}});
  check.call(
      admin, "POST", "/algos", 201,
      R"({"algo_id":"old","recording_type":"old","location":"builtin:summary","version":"1"})");
  check.call(admin, "DELETE", "/algos/{algo_id}", "/algos/old", {204});

  // Recordings, content and jobs (an inference worker runs them).
  const std::string bmp = plain_bmp(64, 64, {128, 128, 128});
  etag = check
             .call(ada, "POST", "/recordings", 201,
                   R"({"recording_id":"rec-1","recording_link":"https://storage.example.com/r.bmp",
                 "recording_type":"face","user_id":"u1","created_session_id":"s-1"})")
             .header("etag");
  check.call(carol, "POST", "/recordings", 409,
             R"({"recording_id":"rec-1","recording_link":"https://storage.example.com/r.bmp",
                 "recording_type":"face","user_id":"u1"})");
  check.call(grace, "POST", "/recordings", 403,
             R"({"recording_id":"rec-9","recording_link":"https://storage.example.com/r.bmp",
                 "recording_type":"face","user_id":"u1"})");
  check.call(ada, "POST", "/recordings", 201,
             multipart(R"({"recording_id":"rec-2","recording_type":"face","user_id":"u1"})",
                       "image/bmp", bmp),
             {{"Content-Type", "multipart/form-data; boundary=tidemark-boundary"}});
  check.call(ada, "GET", "/recordings", "/recordings?recording_type=face", {200});
  check.call(ada, "GET", "/recordings/{recording_id}", "/recordings/rec-2?wait=10", {200});
  check.call(carol, "GET", "/recordings/{recording_id}", "/recordings/rec-1", {404});
  check.call(ada, "PUT", "/recordings/{recording_id}", "/recordings/rec-1", {200},
             R"({"recording_link":"https://storage.example.com/r2.bmp","recording_type":"face",
                 "user_id":"u1"})",
             {{"If-Match", etag}});
  check.call(ada, "PUT", "/recordings/{recording_id}/content", "/recordings/rec-1/content", {200},
             bmp, {{"Content-Type", "image/bmp"}});
  check.call(ada, "GET", "/recordings/{recording_id}/content", "/recordings/rec-1/content", {200});
  auto job = check.call(ada, "POST", "/recordings/{recording_id}/jobs", "/recordings/rec-1/jobs",
                        {200, 202}, R"({"algo_id":"faces"})");
  check.call(ada, "POST", "/recordings/{recording_id}/jobs", "/recordings/rec-1/jobs", {404},
             R"({"algo_id":"none"})");
  check.call(ada, "GET", "/jobs/{job_id}", "/jobs/" + field(job, "job_id") + "?wait=10", {200});
  check.call(ada, "GET", "/jobs/{job_id}", "/jobs/" + field(job, "job_id") + "?wait=x", {400});
  check.call(ada, "GET", "/stream", "/stream?wait=0", {200});
  check.call(ada, "POST", "/predict", "/predict?recording_type=face&wait=10", {200, 202}, bmp,
             {{"Content-Type", "image/bmp"}});
  // Without a wait the answer comes before the submission is projected: still a whole job.
  check.call(ada, "POST", "/predict", "/predict?recording_type=face&wait=0", {200, 202}, bmp,
             {{"Content-Type", "image/bmp"}});
  check.call(ada, "POST", "/predict", "/predict?recording_type=smell", {409}, bmp,
             {{"Content-Type", "image/bmp"}});
  check.call(ada, "DELETE", "/recordings/{recording_id}", "/recordings/rec-2", {204});

  // Seed 003's user records, and seed 000's user by session on the same path.
  const std::string record =
      R"({"user_id":"app-user-1","firebase_data":{"email":"a@example.com","display_name":"Ada"},
          "body_data":{"height":171,"weight":62.5}})";
  check.call(ada, "POST", "/users", 201, record);
  check.call(carol, "POST", "/users", 409, record);
  check.call(ada, "GET", "/users", "/users?page=1&size=10", {200});
  check.call(ada, "GET", "/users/{id}", "/users/app-user-1", {200});
  check.call(ada, "GET", "/users/{id}", "/users/" + ada_session, {200});
  check.call(carol, "GET", "/users/{id}", "/users/app-user-1", {404});
  check.call(ada, "PUT", "/users/{id}", "/users/app-user-1", {200},
             R"({"firebase_data":{"email":"a@example.com","display_name":"Ada L."}})");
  check.call(ada, "DELETE", "/users/{id}", "/users/app-user-1", {204});

  // Sessions end.
  HttpClient second(port);
  auto another = check.call(second, "POST", "/auth/login", 200,
                            R"({"username":"ada-lovelace","password":"correct horse"})");
  check.call(ada, "DELETE", "/auth/sessions/{session_id}",
             "/auth/sessions/" + field(another, "session_id"), {200});
  check.call(ada, "DELETE", "/auth/sessions/{session_id}",
             "/auth/sessions/0b6f3c5e-8a0e-4d4f-9a53-2f5cfb7c1e10", {404});
  auto third = check.call(second, "POST", "/auth/login", 200,
                          R"({"username":"ada-lovelace","password":"correct horse"})");
  check.call(anonymous, "POST", "/auth/logout", 200,
             R"({"session-id":")" + field(third, "session_id") + R"("})");
  check.call(anonymous, "POST", "/auth/logout", 404,
             R"({"session-id":")" + field(third, "session_id") + R"("})");
  check.call(carol, "DELETE", "/auth/logout", 200);
  check.call(grace, "DELETE", "/auth/sessions", 200);
  check.call(ada, "DELETE", "/user/delete", 200);

  // The documentation itself.
  check.call(anonymous, "GET", "/docs", 200);
  check.call(anonymous, "GET", "/redoc", 200);
  auto css = check.call(anonymous, "GET", "/docs/{asset}", "/docs/swagger-ui.css", {200});
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.header("cache-control"), "public, max-age=3600, must-revalidate");
  EXPECT_FALSE(css.header("etag").empty());
  check.call(anonymous, "GET", "/docs/{asset}", "/docs/swagger-ui.css", {304}, "",
             {{"If-None-Match", css.header("etag")}});
  check.call(anonymous, "GET", "/docs/{asset}", "/docs/init.js", {200});
  check.call(anonymous, "GET", "/docs/{asset}", "/docs/%2e%2e%2fpackage.json", {404});
  check.call(anonymous, "GET", "/redoc/{asset}", "/redoc/redoc.standalone.js", {200});
  check.call(anonymous, "GET", "/redoc/{asset}", "/redoc/..%2f..%2fetc%2fpasswd", {404});
  EXPECT_EQ(anonymous.get("/docs/../../etc/passwd").status, 404);

  for (const auto& operation : check.operations()) {
    EXPECT_TRUE(check.checked().count(operation)) << "no answer of " << operation << " was checked";
  }
}

TEST(Docs, WithoutTheWebPackagesTheViewersAnswer503) {
  TestStack stack(TestStack::Options{.api_flags = {"--web-dir", "/nonexistent/web/node_modules"}});
  DocumentCheck check;
  HttpClient client(stack.api_port());
  for (const char* path : {"/docs", "/redoc"}) {
    auto reply = check.call(client, "GET", path, 503);
    EXPECT_NE(reply.body.find("scripts/install-web.sh"), std::string::npos) << reply.body;
  }
  check.call(client, "GET", "/openapi.json", 200);
}

TEST(Docs, SwaggerUiAndRedocRenderInChromiumAndTryItOutCallsTheApi) {
  TestStack stack(TestStack::Options{.api_flags = {"--web-dir", web_dir().string()}});
  DocumentCheck check;
  fs::path screenshots = fs::path(TIDEMARK_BUILD_DIR);
  auto [code, output] = run_command(
      {"node", (fs::path(TIDEMARK_SOURCE_DIR) / "tests" / "browser" / "docs_test.mjs").string(),
       "http://127.0.0.1:" + std::to_string(stack.api_port()), web_dir().string(),
       (screenshots / "docs-screenshot.png").string(),
       (screenshots / "redoc-screenshot.png").string(), std::to_string(check.operations().size())},
      std::chrono::seconds(180));
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("docs-test: passed"), std::string::npos) << output;
  std::cout << output;
}

}  // namespace
}  // namespace tidemark::testing
