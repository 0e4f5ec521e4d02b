#include "domain/url_policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "domain/recording.h"
#include "infra/address_resolution.h"

using tidemark::domain::check_url;
using tidemark::domain::default_link_policy;
using tidemark::domain::is_internal_ipv6;
using tidemark::domain::UrlPolicy;
using tidemark::infra::check_outbound_url;

TEST(UrlPolicy, AcceptsExternalUrlsOfTheAllowedSchemes) {
  for (const char* link : {"https://storage.example.com/a.wav", "http://cdn.example.org:8080/x",
                           "gs://bucket/path/r.wav", "s3://bucket/key", "HTTPS://Example.com/x",
                           "https://172.32.0.1/x", "https://8.8.8.8/x", "https://cafe.example/"}) {
    auto parts = check_url(link, "recording_link", default_link_policy());
    EXPECT_TRUE(parts.ok()) << link << ": " << parts.error().message;
  }
  auto parts = check_url("HTTPS://Example.com:8443/x", "link", default_link_policy());
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->scheme, "https");
  EXPECT_EQ(parts->host, "example.com");
}

TEST(UrlPolicy, RefusesInternalHostsOtherSchemesAndCredentials) {
  for (const char* link :
       {"http://127.0.0.1/x",      "http://127.1.2.3/x",        "http://localhost:8080/x",
        "http://localhost./",      "http://api.localhost/x",    "http://10.1.2.3/x",
        "http://172.16.0.1/x",     "http://172.31.9.9/x",       "http://192.168.0.1/x",
        "http://169.254.169.254/", "http://0.0.0.0/",           "http://[::1]/",
        "http://100.64.0.1/",      "http://metadata.internal/", "ftp://example.com/x",
        "file:///etc/passwd",      "https://u:p@example.com/",  "https:///nohost",
        "relative/path",           "https://exa mple.com/",     "http://2130706433/",
        "http://0x7f.1/",          "http://017700000001/"}) {
    EXPECT_FALSE(check_url(link, "recording_link", default_link_policy()).ok()) << link;
  }
}

TEST(UrlPolicy, MessagesNameTheFieldAndTheProblem) {
  auto refused = check_url("ftp://example.com/x", "callback_url", default_link_policy());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("'callback_url'"), std::string::npos);
  EXPECT_NE(refused.error().message.find("'ftp'"), std::string::npos);
}

TEST(UrlPolicy, ConfiguredSchemesAndHostsNarrowWhatIsAccepted) {
  auto policy = UrlPolicy::from_lists("https", "cdn.example.com, *.storage.example.org");
  EXPECT_TRUE(check_url("https://cdn.example.com/a", "l", policy).ok());
  EXPECT_TRUE(check_url("https://eu.storage.example.org/a", "l", policy).ok());
  EXPECT_FALSE(check_url("https://storage.example.org/a", "l", policy).ok());
  EXPECT_FALSE(check_url("https://evil-cdn.example.com/a", "l", policy).ok());
  EXPECT_FALSE(check_url("http://cdn.example.com/a", "l", policy).ok());
}

TEST(UrlPolicy, AllowInternalAcceptsLoopbackForClosedNetworks) {
  auto policy = UrlPolicy::from_lists("http", "", true);
  EXPECT_TRUE(check_url("http://127.0.0.1:9000/hook", "callback_url", policy).ok());
}

TEST(UrlPolicy, KnowsInternalIpv6Ranges) {
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  EXPECT_TRUE(is_internal_ipv6(loopback));
  std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  EXPECT_TRUE(is_internal_ipv6(mapped));
  std::array<std::uint8_t, 16> unique_local{0xfd, 0x12};
  EXPECT_TRUE(is_internal_ipv6(unique_local));
  std::array<std::uint8_t, 16> link_local{0xfe, 0x80};
  EXPECT_TRUE(is_internal_ipv6(link_local));
  std::array<std::uint8_t, 16> public_address{0x20, 0x01, 0x48, 0x60};
  EXPECT_FALSE(is_internal_ipv6(public_address));
}

TEST(OutboundUrl, RefusesNamesThatResolveToInternalAddresses) {
  // `localhost` is refused by name; its numeric forms only once resolved.
  auto policy = UrlPolicy::from_lists("http,https", "");
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  if (auto address = tidemark::infra::internal_address_of(host)) {
    auto refused =
        check_outbound_url(std::string("http://") + host + "/x", "recording_link", policy);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find(*address), std::string::npos) << refused.error().message;
  }
  EXPECT_EQ(tidemark::infra::internal_address_of("2130706433"), "127.0.0.1");
  EXPECT_EQ(tidemark::infra::internal_address_of("0x7f.1"), "127.0.0.1");
  EXPECT_EQ(tidemark::infra::internal_address_of("8.8.8.8"), std::nullopt);
  for (int twice = 0; twice < 2; ++twice) {  // the second answer comes from the cache
    EXPECT_EQ(tidemark::infra::cached_internal_address_of("0x7f.0.0.2"), "127.0.0.2");
  }
  EXPECT_EQ(tidemark::infra::internal_address_of("name.that.does.not.resolve.invalid"),
            std::nullopt);
  EXPECT_FALSE(check_outbound_url("s3://bucket/key", "recording_link", policy).ok());
  EXPECT_TRUE(check_outbound_url("gs://bucket/key", "recording_link", default_link_policy()).ok());
}
