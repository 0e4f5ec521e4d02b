#include "infra/metrics.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace tidemark::infra {
namespace {

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::ostringstream out;
  out.precision(12);
  out << value;
  return out.str();
}

}  // namespace

void Counter::add(double amount) {
  double current = value_.load();
  while (!value_.compare_exchange_weak(current, current + amount)) {
  }
}

double Counter::value() const {
  return value_.load();
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {
  std::sort(upper_bounds_.begin(), upper_bounds_.end());
}

void Histogram::observe(double value) {
  auto bucket = static_cast<std::size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  std::lock_guard lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  std::lock_guard lock(mutex_);
  Snapshot snapshot{upper_bounds_, {}, sum_, count_};
  std::uint64_t running = 0;
  for (auto count : counts_) {
    running += count;
    snapshot.cumulative.push_back(running);
  }
  return snapshot;
}

std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out + "}";
}

MetricsRegistry& MetricsRegistry::global() {
  static MetricsRegistry registry;
  return registry;
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 const std::string& type) {
  auto& found = families_[name];
  if (found.type.empty()) {
    found.help = help;
    found.type = type;
  }
  return found;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& series = family(name, help, "counter").counters[render_labels(labels)];
  if (!series) series = std::make_unique<Counter>();
  return *series;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const Labels& labels, std::vector<double> upper_bounds) {
  std::lock_guard lock(mutex_);
  auto& series = family(name, help, "histogram").histograms[render_labels(labels)];
  if (!series) series = std::make_unique<Histogram>(std::move(upper_bounds));
  return *series;
}

void MetricsRegistry::collector(const std::string& name, const std::string& help,
                                const std::string& type,
                                std::function<void(std::string& out)> collect) {
  std::lock_guard lock(mutex_);
  family(name, help, type).collect = std::move(collect);
}

std::string MetricsRegistry::exposition() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n# TYPE " + name + " " + family.type + "\n";
    for (const auto& [labels, counter] : family.counters) {
      out += name + labels + " " + number(counter->value()) + "\n";
    }
    for (const auto& [rendered, histogram] : family.histograms) {
      auto snapshot = histogram->snapshot();
      // The bucket label goes inside the series' braces.
      std::string base = rendered.empty() ? "" : rendered.substr(1, rendered.size() - 2);
      for (std::size_t i = 0; i < snapshot.cumulative.size(); ++i) {
        std::string le =
            i < snapshot.upper_bounds.size() ? number(snapshot.upper_bounds[i]) : "+Inf";
        out += name + "_bucket{" + base + (base.empty() ? "" : ",") + "le=\"" + le + "\"} " +
               std::to_string(snapshot.cumulative[i]) + "\n";
      }
      out += name + "_sum" + rendered + " " + number(snapshot.sum) + "\n";
      out += name + "_count" + rendered + " " + std::to_string(snapshot.count) + "\n";
    }
    if (family.collect) family.collect(out);
  }
  return out;
}

}  // namespace tidemark::infra
