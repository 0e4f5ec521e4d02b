#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tidemark::infra {

/// Label names and values of one series, e.g. {{"route", "/jobs/{job_id}"}, {"status", "2xx"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// A value that only goes up.
class Counter {
 public:
  void add(double amount = 1);
  double value() const;

 private:
  std::atomic<double> value_{0};
};

/// Observations counted into cumulative buckets, as Prometheus histograms are.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  /// Cumulative counts per bucket (the last is +Inf), the sum and the count.
  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative;
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> counts_;  ///< per bucket, not cumulative; last is +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

/// Seconds buckets for request and call latencies: 1 ms to 10 s.
std::vector<double> latency_buckets();

/// The process's metrics, written in the Prometheus text format (version 0.0.4). Series are
/// created on first use and live as long as the registry; label sets must stay few (routes,
/// statuses, partitions: never ids).
class MetricsRegistry {
 public:
  static MetricsRegistry& global();

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const Labels& labels = {},
                       std::vector<double> upper_bounds = latency_buckets());

  /// A family whose samples are read when scraped (gauges of state kept elsewhere: consumer
  /// lag, jobs by state). `collect` appends exposition lines for `name` (without HELP/TYPE).
  void collector(const std::string& name, const std::string& help, const std::string& type,
                 std::function<void(std::string& out)> collect);

  std::string exposition() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;  ///< by rendered labels
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
    std::function<void(std::string&)> collect;
  };
  Family& family(const std::string& name, const std::string& help, const std::string& type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

/// `{a="1",b="x\"y"}`, escaped as the text format requires; empty for no labels.
std::string render_labels(const Labels& labels);

}  // namespace tidemark::infra
