#include "api/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "api/http.h"
#include "domain/result.h"

using tidemark::api::error_response;
using tidemark::api::HttpRequest;
using tidemark::api::HttpResponse;
using tidemark::api::PathParameters;
using tidemark::api::percent_decode;
using tidemark::api::Respond;
using tidemark::api::Router;
using tidemark::api::unavailable_response;
using tidemark::domain::Error;
using tidemark::domain::ErrorKind;

namespace {

/// A router whose handlers answer with their own name and record the path parameters.
class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [method, pattern] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/"},
             {"GET", "/healthz"},
             {"POST", "/events"},
             {"GET", "/events"},
             {"GET", "/events/{event_id}"},
             {"DELETE", "/users/{user_id}/sessions/{session_id}"}}) {
      std::string name = method + " " + pattern;
      router_.add(
          method, pattern,
          [this, name](const HttpRequest&, const PathParameters& parameters, Respond respond) {
            parameters_ = parameters;
            respond(HttpResponse{200, name, "text/plain", {}});
          });
    }
  }

  HttpResponse dispatch(std::string method, std::string path) {
    HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    std::optional<HttpResponse> response;
    int calls = 0;
    router_.dispatch(request, [&](HttpResponse answer) {
      ++calls;
      response = std::move(answer);
    });
    EXPECT_EQ(calls, 1) << "respond must be called exactly once";
    return response.value_or(HttpResponse{-1, "", "", {}});
  }

  static std::optional<std::string> header(const HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }

  Router router_;
  PathParameters parameters_;
};

}  // namespace

TEST_F(RouterTest, DispatchesToTheHandlerOfMethodAndPath) {
  EXPECT_EQ(dispatch("GET", "/").body, "GET /");
  EXPECT_EQ(dispatch("GET", "/healthz").body, "GET /healthz");
  EXPECT_EQ(dispatch("POST", "/events").body, "POST /events");
  EXPECT_EQ(dispatch("GET", "/events").body, "GET /events");
  EXPECT_TRUE(parameters_.empty());
}

TEST_F(RouterTest, PassesPathParameters) {
  HttpResponse response = dispatch("GET", "/events/3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "GET /events/{event_id}");
  EXPECT_EQ(parameters_, (PathParameters{{"event_id", "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b"}}));
}

TEST_F(RouterTest, PassesSeveralPathParameters) {
  HttpResponse response = dispatch("DELETE", "/users/u1/sessions/s2");
  EXPECT_EQ(response.body, "DELETE /users/{user_id}/sessions/{session_id}");
  EXPECT_EQ(parameters_, (PathParameters{{"user_id", "u1"}, {"session_id", "s2"}}));
}

TEST_F(RouterTest, PercentDecodesPathParameters) {
  dispatch("GET", "/events/a%20b%2Fc%41");
  EXPECT_EQ(parameters_, (PathParameters{{"event_id", "a b/cA"}}));
}

TEST_F(RouterTest, BrokenEscapeInParameterIsNotFound) {
  HttpResponse response = dispatch("GET", "/events/a%zz");
  EXPECT_EQ(response.status, 404);
}

TEST_F(RouterTest, ParametersOrQueryValuesThatAreNotUtf8TextAre400BeforeAnyHandler) {
  parameters_.clear();
  for (const char* path : {"/events/%FF", "/events/%C3%28", "/events/%C0%AF", "/events/%ED%A0%80",
                           "/events/%F4%90%80%80", "/events/%E2%82", "/events/rec%00x"}) {
    HttpResponse response = dispatch("GET", path);
    EXPECT_EQ(response.status, 400) << path;
    EXPECT_EQ(response.body,
              R"({"detail":"path parameter 'event_id' must be UTF-8 text without NUL characters"})")
        << path;
  }
  EXPECT_TRUE(parameters_.empty()) << "a handler ran";
  HttpRequest request;
  request.method = "GET";
  request.path = "/events";
  request.query = {{"user_id", "a\xff"}};
  int status = 0;
  std::string body;
  router_.dispatch(request, [&](HttpResponse response) {
    status = response.status;
    body = response.body;
  });
  EXPECT_EQ(status, 400);
  EXPECT_NE(body.find("query parameter 'user_id'"), std::string::npos) << body;
  // Text that is UTF-8 passes, however hostile.
  EXPECT_EQ(dispatch("GET", "/events/%27%20OR%20%271%27%3D%271%20%C3%BC%F0%9F%9A%80").status, 200);
  EXPECT_EQ(parameters_, (PathParameters{{"event_id", "' OR '1'='1 \xc3\xbc\xf0\x9f\x9a\x80"}}));
}

TEST(Utf8Text, AcceptsWellFormedUtf8AndRefusesEverythingElse) {
  using tidemark::api::is_utf8_text;
  for (const char* good : {"", "plain", "\xc3\xbc", "\xe2\x82\xac", "\xf0\x9f\x9a\x80",
                           "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf", "\x7f"}) {
    EXPECT_TRUE(is_utf8_text(good)) << good;
  }
  for (std::string bad :
       {"\xff", "\xc3\x28", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\x80", "a\xc3"}) {
    EXPECT_FALSE(is_utf8_text(bad)) << bad;
  }
  EXPECT_FALSE(is_utf8_text(std::string("a\0b", 3)));
}

TEST(PercentEncode, EscapesAllButUnreservedCharactersAndDecodesBack) {
  using tidemark::api::percent_encode;
  EXPECT_EQ(percent_encode("rec-1_A.b~"), "rec-1_A.b~");
  EXPECT_EQ(percent_encode("' OR 1=1\r\nSet-Cookie: x/\xc3\xbc%"),
            "%27%20OR%201%3D1%0D%0ASet-Cookie%3A%20x%2F%C3%BC%25");
  const std::string hostile = "a b/c?d#e%f\r\n\"'\\\xf0\x9f\x9a\x80";
  EXPECT_EQ(percent_decode(percent_encode(hostile), false), hostile);
}

TEST_F(RouterTest, LiteralSegmentsAreNotDecoded) {
  EXPECT_EQ(dispatch("GET", "/%65vents").status, 404);  // %65 is 'e'
}

TEST_F(RouterTest, UnknownPathIs404JsonWithDetail) {
  HttpResponse response = dispatch("GET", "/nope");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"detail":"no route for GET /nope"})");
  EXPECT_EQ(header(response, "Allow"), std::nullopt);
}

TEST_F(RouterTest, WrongSegmentCountIs404) {
  EXPECT_EQ(dispatch("GET", "/events/a/b").status, 404);
  EXPECT_EQ(dispatch("DELETE", "/users/u1/sessions").status, 404);
  EXPECT_EQ(dispatch("GET", "/healthz/x").status, 404);
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  HttpResponse response = dispatch("PUT", "/events");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(header(response, "Allow"), "POST, GET");
  EXPECT_EQ(response.body,
            R"({"detail":"method PUT is not allowed on /events; allowed: POST, GET"})");
}

TEST_F(RouterTest, MethodMatchIsCaseSensitive) {
  HttpResponse response = dispatch("get", "/healthz");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(header(response, "Allow"), "GET");
}

TEST_F(RouterTest, ParameterisedPathWithOtherMethodIs405) {
  HttpResponse response = dispatch("POST", "/events/abc");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(header(response, "Allow"), "GET");
}

// Documented behaviour: empty segments are dropped when splitting, so a trailing slash (or a
// doubled slash) reaches the same handler as the path without it.
TEST_F(RouterTest, TrailingAndDoubledSlashesAreIgnored) {
  EXPECT_EQ(dispatch("GET", "/healthz/").body, "GET /healthz");
  EXPECT_EQ(dispatch("GET", "//healthz").body, "GET /healthz");
  HttpResponse response = dispatch("GET", "/events//abc/");
  EXPECT_EQ(response.body, "GET /events/{event_id}");
  EXPECT_EQ(parameters_, (PathParameters{{"event_id", "abc"}}));
  EXPECT_EQ(dispatch("GET", "").body, "GET /");
}

TEST_F(RouterTest, FirstMatchingRouteWins) {
  router_.add("GET", "/events/{other}",
              [](const HttpRequest&, const PathParameters&, Respond respond) {
                respond(HttpResponse{200, "shadowed", "text/plain", {}});
              });
  EXPECT_EQ(dispatch("GET", "/events/x").body, "GET /events/{event_id}");
}

TEST_F(RouterTest, HandlerReceivesTheRequest) {
  Router router;
  std::string seen_body;
  router.add("POST", "/echo",
             [&](const HttpRequest& request, const PathParameters&, Respond respond) {
               seen_body = request.body;
               respond(HttpResponse{});
             });
  HttpRequest request;
  request.method = "POST";
  request.path = "/echo";
  request.body = "payload";
  int status = 0;
  router.dispatch(request, [&](HttpResponse response) { status = response.status; });
  EXPECT_EQ(seen_body, "payload");
  EXPECT_EQ(status, 200);
}

TEST(ErrorResponse, MapsEachErrorKindToItsStatus) {
  EXPECT_EQ(error_response(Error{ErrorKind::invalid, "m"}).status, 400);
  EXPECT_EQ(error_response(Error{ErrorKind::not_found, "m"}).status, 404);
  EXPECT_EQ(error_response(Error{ErrorKind::conflict, "m"}).status, 409);
  EXPECT_EQ(error_response(Error{ErrorKind::too_large, "m"}).status, 413);
  EXPECT_EQ(error_response(Error{ErrorKind::unavailable, "m"}).status, 503);
}

TEST(ErrorResponse, UnknownErrorKindIs500) {
  EXPECT_EQ(error_response(Error{static_cast<ErrorKind>(99), "m"}).status, 500);
}

TEST(ErrorResponse, BodyIsDetailJsonWithEscaping) {
  HttpResponse response = error_response(Error{ErrorKind::invalid, "bad \"x\"\n"});
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"detail":"bad \"x\"\n"})");
  EXPECT_TRUE(response.headers.empty());
}

TEST(ErrorResponse, UnavailableErrorCarriesRetryAfter) {
  HttpResponse response = error_response(Error{ErrorKind::unavailable, "later"});
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "Retry-After");
  EXPECT_EQ(response.headers[0].second, "1");
  EXPECT_EQ(response.body, R"({"detail":"later"})");
}

TEST(UnavailableResponse, Is503WithRetryAfter) {
  HttpResponse response = unavailable_response("busy", 7);
  EXPECT_EQ(response.status, 503);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0], (std::pair<std::string, std::string>{"Retry-After", "7"}));
  EXPECT_EQ(response.body, R"({"detail":"busy"})");
  EXPECT_EQ(unavailable_response("busy").headers[0].second, "1");
}

TEST(HttpRequestHeader, ReturnsValueOrEmpty) {
  HttpRequest request;
  request.headers["x-tidemark-position"] = "0:5";
  EXPECT_EQ(request.header("x-tidemark-position"), "0:5");
  EXPECT_EQ(request.header("absent"), "");
}

TEST(PercentDecode, DecodesEscapesInEitherCase) {
  EXPECT_EQ(percent_decode("%41"), "A");
  EXPECT_EQ(percent_decode("%2f%2F"), "//");
  EXPECT_EQ(percent_decode("a%20b%3Dc"), "a b=c");
  EXPECT_EQ(percent_decode("%E2%9C%93"), "\xE2\x9C\x93");
  EXPECT_EQ(percent_decode("%00"), std::string("\0", 1));
}

TEST(PercentDecode, PlusIsSpace) {
  EXPECT_EQ(percent_decode("a+b"), "a b");
  EXPECT_EQ(percent_decode("+"), " ");
  EXPECT_EQ(percent_decode("%2B"), "+");
}

TEST(PercentDecode, PassesPlainTextThrough) {
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("abc-_.~"), "abc-_.~");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  for (const char* text : {"%", "%4", "%zz", "%4z", "%z4", "a%", "a%4", "%%41", "%-1", "%+1"}) {
    EXPECT_EQ(percent_decode(text), std::nullopt) << text;
  }
}

TEST(PercentDecode, DoesNotDecodeTwice) {
  EXPECT_EQ(percent_decode("%2541"), "%41");
}

TEST(Router, PlusInPathParameterIsLiteral) {
  tidemark::api::Router router;
  std::string seen;
  router.add("GET", "/events/{event_id}",
             [&](const tidemark::api::HttpRequest&, const tidemark::api::PathParameters& parameters,
                 tidemark::api::Respond respond) {
               seen = parameters.at("event_id");
               respond(tidemark::api::HttpResponse{});
             });
  tidemark::api::HttpRequest request;
  request.method = "GET";
  request.path = "/events/a+b";
  router.dispatch(request, [](tidemark::api::HttpResponse) {});
  EXPECT_EQ(seen, "a+b");
}

TEST(Router, AllowHeaderListsEachMethodOnce) {
  tidemark::api::Router router;
  auto ok = [](const tidemark::api::HttpRequest&, const tidemark::api::PathParameters&,
               tidemark::api::Respond respond) { respond(tidemark::api::HttpResponse{}); };
  router.add("GET", "/events/{event_id}", ok);
  router.add("GET", "/events/latest", ok);
  tidemark::api::HttpRequest request;
  request.method = "POST";
  request.path = "/events/latest";
  std::optional<std::string> allow;
  router.dispatch(request, [&](tidemark::api::HttpResponse response) {
    for (const auto& [name, value] : response.headers) {
      if (name == "Allow") allow = value;
    }
  });
  EXPECT_EQ(allow, "GET");
}
