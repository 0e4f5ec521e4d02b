#include "infra/webhook_signature.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <limits>
#include <string>

using tidemark::infra::verify_webhook_signature;
using tidemark::infra::webhook_signature_header;

namespace {

constexpr std::int64_t kTime = 1700000000;
const std::string kBody = R"({"a":1})";
// printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
const std::string kMac = "49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686";
// printf '%s' '1700000000.' | openssl dgst -sha256 -hmac secret
const std::string kEmptyBodyMac =
    "4bc5f74d868b97888288889c5d9d65df02526f94c1592a79fdf4fe8b26e311e5";

}  // namespace

TEST(WebhookSignature, MatchesAnIndependentlyComputedVector) {
  EXPECT_EQ(webhook_signature_header("secret", kTime, kBody), "t=1700000000,v1=" + kMac);
  EXPECT_EQ(webhook_signature_header("secret", kTime, ""), "t=1700000000,v1=" + kEmptyBodyMac);
}

TEST(WebhookSignature, VerifiesWhatItSigns) {
  std::string header = webhook_signature_header("secret", kTime, kBody);
  EXPECT_TRUE(verify_webhook_signature("secret", header, kBody, kTime));
  EXPECT_TRUE(verify_webhook_signature("secret", "t=1700000000,v1=" + kEmptyBodyMac, "", kTime));
  std::string binary_key("\x00\xff\x10key", 6);
  EXPECT_TRUE(verify_webhook_signature(
      binary_key, webhook_signature_header(binary_key, kTime, kBody), kBody, kTime));
}

TEST(WebhookSignature, AcceptsItemsInAnyOrderAndAnyMatchingV1) {
  std::string other(64, '0');
  EXPECT_TRUE(verify_webhook_signature("secret", "v1=" + kMac + ",t=1700000000", kBody, kTime));
  EXPECT_TRUE(
      verify_webhook_signature("secret", "t=1700000000,v1=" + other + ",v1=" + kMac, kBody, kTime));
  EXPECT_TRUE(verify_webhook_signature("secret", "t=1700000000, v0=abc, v1=" + kMac, kBody, kTime));
  std::string upper = kMac;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verify_webhook_signature("secret", "t=1700000000,v1=" + upper, kBody, kTime));
}

TEST(WebhookSignature, AcceptsTimestampsWithinTheTolerance) {
  std::string header = "t=1700000000,v1=" + kMac;
  EXPECT_TRUE(verify_webhook_signature("secret", header, kBody, kTime + 300));
  EXPECT_TRUE(verify_webhook_signature("secret", header, kBody, kTime - 300));
  EXPECT_TRUE(verify_webhook_signature("secret", header, kBody, kTime + 10, 10));
}

TEST(WebhookSignature, RejectsStaleAndFutureTimestamps) {
  std::string header = "t=1700000000,v1=" + kMac;
  EXPECT_FALSE(verify_webhook_signature("secret", header, kBody, kTime + 301));
  EXPECT_FALSE(verify_webhook_signature("secret", header, kBody, kTime - 301));
  EXPECT_FALSE(verify_webhook_signature("secret", header, kBody, kTime + 11, 10));
  EXPECT_FALSE(verify_webhook_signature("secret", header, kBody, kTime, -1));
  EXPECT_FALSE(
      verify_webhook_signature("secret", header, kBody, std::numeric_limits<std::int64_t>::min()));
  EXPECT_FALSE(
      verify_webhook_signature("secret", header, kBody, std::numeric_limits<std::int64_t>::max()));
}

TEST(WebhookSignature, RejectsAWrongKeyOrAChangedBody) {
  std::string header = "t=1700000000,v1=" + kMac;
  EXPECT_FALSE(verify_webhook_signature("Secret", header, kBody, kTime));
  EXPECT_FALSE(verify_webhook_signature("", header, kBody, kTime));
  EXPECT_FALSE(verify_webhook_signature("secret", header, R"({"a":2})", kTime));
  EXPECT_FALSE(verify_webhook_signature("secret", header, kBody + " ", kTime));
  EXPECT_FALSE(verify_webhook_signature("secret", header, "", kTime));
}

TEST(WebhookSignature, RejectsAMovedTimestamp) {
  // The MAC covers the timestamp: the same v1 with another t does not verify.
  EXPECT_FALSE(verify_webhook_signature("secret", "t=1700000001,v1=" + kMac, kBody, kTime));
  EXPECT_FALSE(verify_webhook_signature("secret", "t=01700000000,v1=" + kMac, kBody, kTime));
}

TEST(WebhookSignature, RejectsMalformedHeaders) {
  std::string flipped = kMac;
  flipped.back() = flipped.back() == '6' ? '7' : '6';
  for (const std::string& header : {
           std::string(),
           std::string("t=1700000000"),
           "v1=" + kMac,
           "t=1700000000,v1=" + flipped,
           "t=1700000000,v1=" + kMac.substr(1),
           "t=1700000000,v1=" + kMac + "00",
           "t=1700000000,v1=" + kMac.substr(0, 63) + "g",
           std::string("t=1700000000,v1="),
           "t=1700000000,t=1700000000,v1=" + kMac,
           "t=,v1=" + kMac,
           "t=+1700000000,v1=" + kMac,
           "t=-1700000000,v1=" + kMac,
           "t=1700000000x,v1=" + kMac,
           "t=1.7e9,v1=" + kMac,
           "t=99999999999999999999,v1=" + kMac,
           "t=1700000000;v1=" + kMac,
           "t=1700000000,,v1=" + kMac,
           "t=1700000000,v1=" + kMac + ",",
           "t=1700000000,=x,v1=" + kMac,
           "t=1700000000,garbage,v1=" + kMac,
           "T=1700000000,v1=" + kMac,
           "t=1700000000,V1=" + kMac,
           "t=1700000000 v1=" + kMac,
       }) {
    EXPECT_FALSE(verify_webhook_signature("secret", header, kBody, kTime)) << header;
  }
}
