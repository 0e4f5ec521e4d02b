#include "infra/metrics.h"

#include <gtest/gtest.h>

using tidemark::infra::Histogram;
using tidemark::infra::MetricsRegistry;
using tidemark::infra::render_labels;

TEST(Metrics, CountersAndHistogramsRenderInThePrometheusTextFormat) {
  MetricsRegistry registry;
  registry.counter("demo_requests_total", "Requests.", {{"route", "/a"}, {"status", "2xx"}}).add();
  registry.counter("demo_requests_total", "Requests.", {{"route", "/a"}, {"status", "2xx"}}).add(2);
  auto& latency = registry.histogram("demo_seconds", "Latency.", {{"route", "/a"}}, {0.1, 1.0});
  latency.observe(0.05);
  latency.observe(0.5);
  latency.observe(5);
  registry.collector("demo_lag", "Lag.", "gauge",
                     [](std::string& out) { out += "demo_lag{partition=\"0\"} 7\n"; });
  std::string text = registry.exposition();
  EXPECT_NE(text.find("# TYPE demo_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("demo_requests_total{route=\"/a\",status=\"2xx\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("demo_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("demo_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("demo_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("demo_seconds_sum{route=\"/a\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("demo_seconds_count{route=\"/a\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE demo_lag gauge\ndemo_lag{partition=\"0\"} 7\n"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(render_labels({{"path", "a\"b\\c\nd"}}), "{path=\"a\\\"b\\\\c\\nd\"}");
  EXPECT_EQ(render_labels({}), "");
}

TEST(Metrics, AnObservationOnABoundCountsInThatBucket) {
  Histogram histogram({0.1, 1.0});
  histogram.observe(0.1);
  auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.cumulative[0], 1u);
  EXPECT_EQ(snapshot.count, 1u);
}
