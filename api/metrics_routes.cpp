// `GET /metrics`: the API process's own series (requests per route, their latency, broker
// appends) and, read from PostgreSQL and the broker at scrape time, the state every role
// shares: projection positions and lag, jobs by state, runner latency, webhook outbox.
#include <pqxx/pqxx>

#include "api/routes.h"
#include "infra/kafka.h"
#include "infra/metrics.h"
#include "projections/read_models.h"

namespace tidemark::api {
namespace {

void family(std::string& out, const std::string& name, const std::string& type,
            const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void sample(std::string& out, const std::string& name, const infra::Labels& labels, double value) {
  out += name + infra::render_labels(labels) + " " + std::to_string(value) + "\n";
}

/// Positions and lag of every consumer whose positions PostgreSQL keeps.
void write_positions(std::string& out, pqxx::nontransaction& read, const ApiContext& context) {
  auto ends = context.producer.end_offsets(context.events_topic, std::chrono::seconds(2));
  auto rows = read.exec_params(
      "SELECT o.projection, o.log_partition, o.next_offset, "
      "extract(epoch FROM now() - e.time) "
      "FROM projection_offsets o LEFT JOIN domain_events e ON o.projection = 'read_models' "
      "AND e.log_partition = o.log_partition AND e.log_offset = o.next_offset - 1 "
      "WHERE o.topic = $1 ORDER BY 1, 2",
      context.events_topic);
  family(out, "tidemark_projection_next_offset", "gauge",
         "Next offset each projection applies, per partition; its rate is the apply rate.");
  for (const auto& row : rows) {
    sample(out, "tidemark_projection_next_offset",
           {{"projection", row[0].c_str()}, {"partition", row[1].c_str()}}, row[2].as<double>());
  }
  if (!ends) return;
  family(out, "tidemark_consumer_lag_events", "gauge",
         "Records in the log not yet applied, per projection and partition.");
  for (const auto& row : rows) {
    auto end = ends->find(row[1].as<std::int32_t>());
    double lag =
        end == ends->end() ? 0 : static_cast<double>(end->second - row[2].as<std::int64_t>());
    sample(out, "tidemark_consumer_lag_events",
           {{"projection", row[0].c_str()}, {"partition", row[1].c_str()}}, std::max(0.0, lag));
  }
  family(out, "tidemark_consumer_lag_seconds", "gauge",
         "Age of the last applied event while records wait, per partition (read models).");
  for (const auto& row : rows) {
    if (std::string_view(row[0].c_str()) != projections::kReadModelsProjection) continue;
    auto end = ends->find(row[1].as<std::int32_t>());
    bool waiting = end != ends->end() && end->second > row[2].as<std::int64_t>();
    double age = waiting && !row[3].is_null() ? row[3].as<double>() : 0;
    sample(out, "tidemark_consumer_lag_seconds",
           {{"projection", row[0].c_str()}, {"partition", row[1].c_str()}}, age);
  }
}

void write_jobs(std::string& out, pqxx::nontransaction& read) {
  family(out, "tidemark_jobs", "gauge", "Inference jobs by state.");
  auto states = read.exec(
      "SELECT s, count(j.job_id) FROM unnest(ARRAY['queued', 'running', "
      "'succeeded', 'failed']) s LEFT JOIN jobs j ON j.status = s GROUP BY s "
      "ORDER BY s");
  for (const auto& row : states) {
    sample(out, "tidemark_jobs", {{"status", row[0].c_str()}}, row[1].as<double>());
  }
  // Runner latency as a histogram over the finished jobs the read model holds.
  auto buckets = infra::latency_buckets();
  std::string columns;
  for (double bound : buckets) {
    columns += "count(*) FILTER (WHERE runtime_ms <= " + std::to_string(bound * 1000) + "), ";
  }
  auto row = read.exec1("SELECT " + columns +
                        "count(*), coalesce(sum(runtime_ms), 0) / 1000 FROM jobs "
                        "WHERE runtime_ms IS NOT NULL");
  family(out, "tidemark_job_runtime_seconds", "histogram",
         "Time the model ran, per succeeded job in the read model.");
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    out += "tidemark_job_runtime_seconds_bucket{le=\"" + std::to_string(buckets[i]) + "\"} " +
           row[static_cast<int>(i)].c_str() + "\n";
  }
  auto count = static_cast<int>(buckets.size());
  out += std::string("tidemark_job_runtime_seconds_bucket{le=\"+Inf\"} ") + row[count].c_str() +
         "\ntidemark_job_runtime_seconds_sum " + row[count + 1].c_str() +
         "\ntidemark_job_runtime_seconds_count " + row[count].c_str() + "\n";
  family(out, "tidemark_webhook_deliveries", "gauge", "Webhook calls by state.");
  auto deliveries = read.exec1(
      "SELECT count(*) FILTER (WHERE delivered_at IS NULL AND abandoned_at IS NULL), "
      "count(*) FILTER (WHERE delivered_at IS NOT NULL), "
      "count(*) FILTER (WHERE abandoned_at IS NOT NULL) FROM webhook_deliveries");
  const char* states_names[] = {"pending", "delivered", "abandoned"};
  for (int i = 0; i < 3; ++i) {
    sample(out, "tidemark_webhook_deliveries", {{"state", states_names[i]}},
           deliveries[i].as<double>());
  }
}

}  // namespace

void add_metrics_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add("GET", "/metrics",
             [context](const HttpRequest& request, const PathParameters&, Respond respond) {
               with_database(
                   *context, request, std::move(respond), [context](pqxx::connection& connection) {
                     std::string text = infra::MetricsRegistry::global().exposition();
                     pqxx::nontransaction read(connection);
                     write_positions(text, read, *context);
                     write_jobs(text, read);
                     return HttpResponse{200, std::move(text), "text/plain; version=0.0.4", {}};
                   });
             });
}

}  // namespace tidemark::api
