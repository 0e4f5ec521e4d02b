// GET /metrics reflects a known load, and the compose dashboard only charts series the API
// serves.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

/// The value of one series line, e.g. `name{a="b"} 3`, or -1 when absent.
double series_value(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(Metrics, ReflectAKnownLoadInThePrometheusFormat) {
  TestStack stack;
  HttpClient client(stack.api_port());
  sign_in(client, "metered");
  for (int i = 0; i < 25; ++i) ASSERT_EQ(client.get("/healthz").status, 200);
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(
        client.post("/events", R"({"user_id":"u","event_type":"tap","event_source":"ios"})").status,
        201);
  }
  ASSERT_EQ(client.get("/no/such/route").status, 404);
  ASSERT_TRUE(stack.wait_until_projected(std::chrono::seconds(30)));

  HttpClient scraper(stack.api_port());
  auto scraped = scraper.get("/metrics");
  ASSERT_EQ(scraped.status, 200);
  EXPECT_EQ(scraped.header("content-type").rfind("text/plain", 0), 0u);
  const std::string& text = "\n" + scraped.body;
  EXPECT_EQ(
      series_value(text,
                   R"(tidemark_http_requests_total{method="GET",route="/healthz",status="200"})"),
      25);
  EXPECT_EQ(
      series_value(text,
                   R"(tidemark_http_requests_total{method="POST",route="/events",status="201"})"),
      7);
  EXPECT_EQ(
      series_value(text,
                   R"(tidemark_http_requests_total{method="GET",route="unmatched",status="404"})"),
      1);
  EXPECT_EQ(
      series_value(
          text, R"(tidemark_http_request_duration_seconds_count{method="GET",route="/healthz"})"),
      25);
  // Seven entries, one registration and one session: every append was acknowledged.
  EXPECT_GE(
      series_value(text, R"(tidemark_produce_duration_seconds_count{topic="tidemark.events"})"), 9);
  EXPECT_NE(text.find("\ntidemark_consumer_lag_events{projection=\"read_models\",partition=\""),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("tidemark_consumer_lag_events{projection=\"read_models\",partition=\"0\"} 1"),
            std::string::npos)
      << "lag after the projection caught up";
  EXPECT_EQ(series_value(text, R"(tidemark_jobs{status="succeeded"})"), 0);
  EXPECT_EQ(series_value(text, "tidemark_job_runtime_seconds_count"), 0);

  // Every series the compose dashboard charts is served.
  std::ifstream dashboard(std::string(TIDEMARK_SOURCE_DIR) +
                          "/compose/grafana/dashboards/tidemark.json");
  std::stringstream content;
  content << dashboard.rdbuf();
  std::string json = content.str();
  ASSERT_FALSE(json.empty());
  std::set<std::string> charted;
  std::regex name(R"(tidemark_[a-z_]+)");
  for (std::sregex_iterator it(json.begin(), json.end(), name), end; it != end; ++it) {
    std::string metric = it->str();
    for (const char* suffix : {"_bucket", "_count", "_sum"}) {
      if (metric.ends_with(suffix)) metric.resize(metric.size() - std::string(suffix).size());
    }
    charted.insert(metric);
  }
  EXPECT_GE(charted.size(), 8u);
  for (const auto& metric : charted) {
    EXPECT_NE(text.find("# TYPE " + metric + " "), std::string::npos) << metric;
  }
}

}  // namespace
}  // namespace tidemark::testing
