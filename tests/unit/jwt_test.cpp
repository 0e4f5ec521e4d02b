#include "infra/jwt.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "infra/cipher.h"
#include "infra/encoding.h"

using tidemark::domain::ErrorKind;
using tidemark::infra::base64url_decode;
using tidemark::infra::base64url_encode;
using tidemark::infra::hmac_sha256;
using tidemark::infra::JwtSigner;
using tidemark::infra::TokenClaims;

namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";  // exactly 32 bytes
const std::string kIssuer = "tidemark";
const std::string kAudience = "tidemark-app";
constexpr std::int64_t kNow = 1'700'000'500;

TokenClaims sample_claims() {
  TokenClaims claims;
  claims.subject = "user-1";
  claims.session_id = "session-1";
  claims.role = "user";
  claims.issued_at = kNow - 100;
  claims.not_before = kNow - 100;
  claims.expires_at = kNow + 800;
  claims.token_id = "token-1";
  return claims;
}

/// Claims JSON exactly as sample_claims() signs it, with aud, exp and nbf replaced by the given
/// JSON texts, or left out when empty.
std::string claims_json(const std::string& aud = "\"tidemark-app\"",
                        const std::string& exp = std::to_string(kNow + 800),
                        const std::string& nbf = std::to_string(kNow - 100)) {
  std::string json = R"({"sub":"user-1","sid":"session-1","role":"user","iss":"tidemark",)";
  if (!aud.empty()) json += R"("aud":)" + aud + ",";
  json += R"("iat":)" + std::to_string(kNow - 100) + ",";
  if (!nbf.empty()) json += R"("nbf":)" + nbf + ",";
  if (!exp.empty()) json += R"("exp":)" + exp + ",";
  json += R"("jti":"token-1"})";
  return json;
}

/// A token with the given header and claims and a valid HS256 MAC under `key`, whatever the
/// header claims the algorithm is.
std::string craft(const std::string& header, const std::string& claims,
                  const std::string& key = kKey) {
  std::string input = base64url_encode(header) + "." + base64url_encode(claims);
  return input + "." + base64url_encode(hmac_sha256(key, input));
}

const std::string kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::string error_of(const JwtSigner& signer, const std::string& token, std::int64_t now = kNow,
                     std::int64_t leeway = 30) {
  auto result = signer.verify(token, now, leeway);
  if (result.ok()) return "accepted";
  EXPECT_EQ(result.error().kind, ErrorKind::invalid);
  return result.error().message;
}

class JwtTest : public ::testing::Test {
 protected:
  JwtSigner signer_{kKey, kIssuer, kAudience};
};

}  // namespace

TEST_F(JwtTest, RoundTripsEveryClaim) {
  std::string token = signer_.sign(sample_claims());
  auto claims = signer_.verify(token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->subject, "user-1");
  EXPECT_EQ(claims->session_id, "session-1");
  EXPECT_EQ(claims->role, "user");
  EXPECT_EQ(claims->issuer, kIssuer);
  EXPECT_EQ(claims->audience, kAudience);
  EXPECT_EQ(claims->issued_at, kNow - 100);
  EXPECT_EQ(claims->not_before, kNow - 100);
  EXPECT_EQ(claims->expires_at, kNow + 800);
  EXPECT_EQ(claims->token_id, "token-1");
}

TEST_F(JwtTest, CarriesTheSessionPositionOnlyWhenGivenAndRefusesAnEmptyOne) {
  EXPECT_EQ(signer_.verify(signer_.sign(sample_claims()), kNow)->session_position, "");
  TokenClaims positioned = sample_claims();
  positioned.session_position = "2:41";
  auto claims = signer_.verify(signer_.sign(positioned), kNow);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->session_position, "2:41");
  std::string empty = claims_json();
  empty.insert(empty.size() - 1, R"(,"pos":"")");
  EXPECT_EQ(error_of(signer_, craft(kHeader, empty)),
            "token claim 'pos' must be a non-empty string");
}

TEST_F(JwtTest, SignsAStandardHeaderAndOurClaimNames) {
  std::string token = signer_.sign(sample_claims());
  std::size_t first = token.find('.');
  std::size_t second = token.find('.', first + 1);
  EXPECT_EQ(base64url_decode(token.substr(0, first)), kHeader);
  EXPECT_EQ(base64url_decode(token.substr(first + 1, second - first - 1)), claims_json());
  EXPECT_EQ(token, craft(kHeader, claims_json()));
  EXPECT_EQ(token.find('='), std::string::npos);
}

TEST_F(JwtTest, RejectsATamperedPayload) {
  std::string token = signer_.sign(sample_claims());
  std::size_t first = token.find('.');
  std::size_t second = token.find('.', first + 1);
  std::string claims = *base64url_decode(token.substr(first + 1, second - first - 1));
  std::size_t role = claims.find(R"("role":"user")");
  ASSERT_NE(role, std::string::npos);
  claims.replace(role, 13, R"("role":"admin")");
  std::string forged = token.substr(0, first + 1) + base64url_encode(claims) + token.substr(second);
  EXPECT_EQ(error_of(signer_, forged), "token signature does not match");
}

TEST_F(JwtTest, RejectsATamperedSignature) {
  std::string token = signer_.sign(sample_claims());
  std::size_t signature_at = token.rfind('.') + 1;
  for (std::size_t at : {signature_at, signature_at + 10, token.size() - 2}) {
    std::string forged = token;
    forged[at] = forged[at] == 'A' ? 'B' : 'A';
    EXPECT_EQ(error_of(signer_, forged), "token signature does not match") << at;
  }
  // The last character of a 32-byte MAC carries 2 unused bits: changing them is no disguise.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string low_bit = token;
  low_bit.back() = alphabet[alphabet.find(token.back()) + 1];
  EXPECT_NE(error_of(signer_, low_bit), "accepted");
  EXPECT_EQ(error_of(signer_, token.substr(0, signature_at)), "token signature does not match");
  EXPECT_NE(error_of(signer_, token.substr(0, token.size() - 1)), "accepted");
  EXPECT_NE(error_of(signer_, token + "A"), "accepted");
}

TEST_F(JwtTest, RejectsAlgorithmNone) {
  std::string unsigned_token = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                               base64url_encode(claims_json()) + ".";
  EXPECT_EQ(error_of(signer_, unsigned_token), "token algorithm 'none' is not accepted");
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":"none"})", claims_json())),
            "token algorithm 'none' is not accepted");
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":"None"})", claims_json())),
            "token algorithm 'None' is not accepted");
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":""})", claims_json())),
            "token algorithm '' is not accepted");
}

TEST_F(JwtTest, RejectsOtherAlgorithmsEvenWithAValidHs256Mac) {
  for (const char* alg : {"HS512", "HS384", "RS256", "ES256", "PS256", "hs256", "HS256 "}) {
    std::string header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
    EXPECT_EQ(error_of(signer_, craft(header, claims_json())),
              std::string("token algorithm '") + alg + "' is not accepted");
  }
}

TEST_F(JwtTest, ChecksTheRestOfTheHeader) {
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":"HS256"})", claims_json())), "accepted");
  EXPECT_EQ(error_of(signer_, craft(R"({"typ":"JWT"})", claims_json())),
            "token header has no 'alg'");
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":["HS256"]})", claims_json())),
            "token header field 'alg' must be a string");
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":"HS256","typ":"JWE"})", claims_json())),
            "token type 'JWE' is not accepted");
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":"HS256","typ":null})", claims_json())),
            "token header field 'typ' must be a string");
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":"HS256","crit":["exp"]})", claims_json())),
            "token header has critical extensions");
  EXPECT_EQ(error_of(signer_, craft(R"({"alg":"HS256","alg":"none"})", claims_json())),
            "repeated field 'alg' in token header");
  EXPECT_NE(error_of(signer_, craft(R"(["HS256"])", claims_json())), "accepted");
  EXPECT_NE(error_of(signer_, craft("not json", claims_json())), "accepted");
}

TEST_F(JwtTest, RejectsExpiredTokens) {
  TokenClaims claims = sample_claims();
  claims.expires_at = kNow - 31;
  EXPECT_EQ(error_of(signer_, signer_.sign(claims)), "token has expired");
  claims.expires_at = kNow - 30;  // exp must be later than now - leeway
  EXPECT_EQ(error_of(signer_, signer_.sign(claims)), "token has expired");
  claims.expires_at = kNow - 29;
  EXPECT_EQ(error_of(signer_, signer_.sign(claims)), "accepted");
  claims.expires_at = kNow;
  EXPECT_EQ(error_of(signer_, signer_.sign(claims), kNow, 0), "token has expired");
  EXPECT_EQ(error_of(signer_, signer_.sign(claims), kNow, -100), "token has expired");
  claims.expires_at = kNow + 1;
  EXPECT_EQ(error_of(signer_, signer_.sign(claims), kNow, 0), "accepted");
}

TEST_F(JwtTest, RejectsTokensNotYetValid) {
  TokenClaims claims = sample_claims();
  claims.not_before = kNow + 31;
  EXPECT_EQ(error_of(signer_, signer_.sign(claims)), "token is not yet valid");
  claims.not_before = kNow + 30;
  EXPECT_EQ(error_of(signer_, signer_.sign(claims)), "accepted");
  EXPECT_EQ(error_of(signer_, signer_.sign(claims), kNow, 0), "token is not yet valid");
}

TEST_F(JwtTest, SurvivesExtremeTimes) {
  TokenClaims claims = sample_claims();
  claims.not_before = std::numeric_limits<std::int64_t>::min();
  claims.expires_at = std::numeric_limits<std::int64_t>::max();
  std::string token = signer_.sign(claims);
  EXPECT_EQ(error_of(signer_, token, std::numeric_limits<std::int64_t>::min(),
                     std::numeric_limits<std::int64_t>::max()),
            "accepted");
  EXPECT_EQ(error_of(signer_, token, std::numeric_limits<std::int64_t>::max(),
                     std::numeric_limits<std::int64_t>::max()),
            "accepted");
}

TEST_F(JwtTest, RejectsAnotherIssuerOrAudience) {
  JwtSigner other_issuer(kKey, "someone-else", kAudience);
  JwtSigner other_audience(kKey, kIssuer, "admin-console");
  EXPECT_EQ(error_of(signer_, other_issuer.sign(sample_claims())), "token issuer does not match");
  EXPECT_EQ(error_of(signer_, other_audience.sign(sample_claims())),
            "token audience does not match");
}

TEST_F(JwtTest, AcceptsAnAudienceArrayThatContainsOurs) {
  auto claims = signer_.verify(craft(kHeader, claims_json(R"(["admin","tidemark-app"])")), kNow);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->audience, kAudience);
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(R"(["admin","other"])"))),
            "token audience does not match");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json("[]"))), "token audience does not match");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(R"(["tidemark-app",1])"))),
            "token claim 'aud' must be a string or an array of strings");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json("7"))),
            "token claim 'aud' must be a string or an array of strings");
}

TEST_F(JwtTest, RejectsMissingOrMistypedClaims) {
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(R"("tidemark-app")", ""))),
            "token claim 'exp' is required");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(R"("tidemark-app")",
                                                         std::to_string(kNow + 800), ""))),
            "token claim 'nbf' is required");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(""))), "token claim 'aud' is required");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(R"("tidemark-app")", "\"1700001300\""))),
            "token claim 'exp' must be an integer");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(R"("tidemark-app")", "1700001300.5"))),
            "token claim 'exp' must be an integer");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(R"("tidemark-app")", "null"))),
            "token claim 'exp' must be an integer");

  std::string no_subject = claims_json();
  no_subject.replace(no_subject.find(R"("sub":"user-1",)"), 15, "");
  EXPECT_EQ(error_of(signer_, craft(kHeader, no_subject)), "token claim 'sub' is required");
  std::string numeric_role = claims_json();
  numeric_role.replace(numeric_role.find(R"("role":"user")"), 13, R"("role":1)");
  EXPECT_EQ(error_of(signer_, craft(kHeader, numeric_role)),
            "token claim 'role' must be a non-empty string");
  std::string empty_jti = claims_json();
  empty_jti.replace(empty_jti.find(R"("jti":"token-1")"), 15, R"("jti":"")");
  EXPECT_EQ(error_of(signer_, craft(kHeader, empty_jti)),
            "token claim 'jti' must be a non-empty string");
  std::string repeated = claims_json();
  repeated.insert(1, R"("role":"admin",)");
  EXPECT_EQ(error_of(signer_, craft(kHeader, repeated)), "repeated field 'role' in token claims");
  EXPECT_NE(error_of(signer_, craft(kHeader, "[]")), "accepted");
  EXPECT_NE(error_of(signer_, craft(kHeader, "{")), "accepted");
}

TEST_F(JwtTest, RejectsTokensWithoutExactlyThreeParts) {
  std::string token = signer_.sign(sample_claims());
  std::string two = token.substr(0, token.rfind('.'));
  const std::string expected = "token must have 3 parts separated by '.'";
  EXPECT_EQ(error_of(signer_, two), expected);
  EXPECT_EQ(error_of(signer_, token + ".AAAA"), expected);
  EXPECT_EQ(error_of(signer_, token + "."), expected);
  EXPECT_EQ(error_of(signer_, ""), expected);
  EXPECT_EQ(error_of(signer_, "abc"), expected);
  // Three empty parts are three parts: refused later, for the empty header.
  EXPECT_NE(error_of(signer_, ".."), "accepted");
  EXPECT_NE(error_of(signer_, ".."), expected);
}

TEST_F(JwtTest, RejectsGarbageBase64) {
  std::string token = signer_.sign(sample_claims());
  std::size_t first = token.find('.');
  std::string header = token.substr(0, first);
  EXPECT_EQ(error_of(signer_, "!!!." + token.substr(first + 1)),
            "token header is not valid base64url");
  EXPECT_EQ(error_of(signer_, header + "=" + token.substr(first)),
            "token header is not valid base64url");
  EXPECT_EQ(error_of(signer_, token + "="), "token signature is not valid base64url");
  std::string plus_signature = token;
  plus_signature[token.rfind('.') + 1] = '+';
  EXPECT_EQ(error_of(signer_, plus_signature), "token signature is not valid base64url");
  // Claims are decoded only after the MAC matched, so give the garbage a valid MAC.
  std::string input = header + ".%%%";
  EXPECT_EQ(error_of(signer_, input + "." + base64url_encode(hmac_sha256(kKey, input))),
            "token claims are not valid base64url");
}

TEST_F(JwtTest, RejectsOversizedTokens) {
  TokenClaims claims = sample_claims();
  claims.role = std::string(9000, 'r');
  EXPECT_EQ(error_of(signer_, signer_.sign(claims)), "token is longer than 8192 bytes");
}

TEST_F(JwtTest, RejectsATokenSignedWithAnotherKey) {
  JwtSigner other("another key, also at least 32 bytes", kIssuer, kAudience);
  EXPECT_EQ(error_of(signer_, other.sign(sample_claims())), "token signature does not match");
  EXPECT_EQ(error_of(signer_, craft(kHeader, claims_json(), kKey + "x")),
            "token signature does not match");
}

TEST(JwtSigner, RefusesKeysShorterThan32Bytes) {
  EXPECT_THROW(JwtSigner(std::string(31, 'k'), kIssuer, kAudience), std::invalid_argument);
  EXPECT_THROW(JwtSigner("", kIssuer, kAudience), std::invalid_argument);
  EXPECT_NO_THROW(JwtSigner(std::string(32, 'k'), kIssuer, kAudience));
  EXPECT_THROW(JwtSigner(kKey, "", kAudience), std::invalid_argument);
  EXPECT_THROW(JwtSigner(kKey, kIssuer, ""), std::invalid_argument);
}

TEST_F(JwtTest, SignRefusesClaimsVerifyWouldReject) {
  TokenClaims claims = sample_claims();
  claims.subject.clear();
  EXPECT_THROW(signer_.sign(claims), std::invalid_argument);
  claims = sample_claims();
  claims.issuer = "someone-else";
  EXPECT_THROW(signer_.sign(claims), std::invalid_argument);
  claims = sample_claims();
  claims.issuer = kIssuer;
  claims.audience = kAudience;
  EXPECT_NO_THROW(signer_.sign(claims));
}
