#include "app/roles.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <pqxx/pqxx>
#include <thread>

#include "api/accounts.h"
#include "api/http_server.h"
#include "api/rate_limiter.h"
#include "api/routes.h"
#include "app/command_support.h"
#include "domain/account.h"
#include "domain/algorithm.h"
#include "domain/json.h"
#include "infra/checkpoint_watcher.h"
#include "infra/config.h"
#include "infra/database.h"
#include "infra/ids.h"
#include "infra/jwt.h"
#include "infra/kafka.h"
#include "infra/keyring.h"
#include "infra/local_postgres.h"
#include "infra/log.h"
#include "infra/notification_watcher.h"
#include "infra/password_hasher.h"
#include "infra/tls.h"
#include "projections/jobs.h"
#include "projections/migrations.h"
#include "projections/read_models.h"
#include "workers/inference.h"
#include "workers/mailer.h"
#include "workers/projector.h"
#include "workers/webhooks.h"

namespace tidemark::app {
namespace {

namespace fs = std::filesystem;
using infra::ConfigError;
using infra::Settings;
using infra::SettingsSchema;

/// "a, b,c" → {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) items.push_back(item);
    start = end + 1;
  }
  return items;
}

int wait_for_stop_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  infra::log_info("stopping", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  return received;
}

void apply_migrations(const std::string& url) {
  auto connection = infra::connect(url);
  projections::Migrator migrator(
      projections::load_migrations(projections::embedded_migration_files()));
  migrator.up(*connection);
}

/// Webhook callbacks: web URLs on any host that is not internal (unless allowed).
domain::UrlPolicy callback_policy(const Settings& settings) {
  return domain::UrlPolicy::from_lists("https,http", "", settings.allow_internal_urls == "true");
}

/// Where `onnx:` models are: the setting, or the `models` folder the build writes beside the
/// executable's folder (build/app/tidemark → build/models; /opt/tidemark/bin →
/// /opt/tidemark/models).
fs::path models_dir(const Settings& settings) {
  if (!settings.models_dir.empty()) return settings.models_dir;
  std::error_code error;
  fs::path executable = fs::read_symlink("/proc/self/exe", error);
  return executable.parent_path().parent_path() / "models";
}

/// Where the npm packages of `/docs` and `/redoc` are: the setting, or `web/node_modules` of the
/// source tree two folders above the executable (build/app/tidemark).
std::string web_dir(const Settings& settings) {
  if (!settings.web_dir.empty()) return settings.web_dir;
  std::error_code error;
  fs::path executable = fs::read_symlink("/proc/self/exe", error);
  return (executable.parent_path().parent_path().parent_path() / "web" / "node_modules").string();
}

/// The inference worker and the webhook dispatcher, each on its own thread.
class InferenceRole {
 public:
  InferenceRole(const Settings& settings, const std::string& url, const std::string& bootstrap,
                bool create_secrets) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    workers::InferenceWorker::Options worker{url,
                                             bootstrap,
                                             settings.events_topic,
                                             settings.dead_letter_topic,
                                             settings.inference_group,
                                             std::string(host) + ":" + std::to_string(getpid()),
                                             workers::RunnerSettings{models_dir(settings)},
                                             static_cast<int>(settings.job_attempts),
                                             std::chrono::milliseconds(settings.job_backoff_ms),
                                             std::chrono::milliseconds(settings.job_time_limit_ms),
                                             settings.max_job_input_bytes,
                                             static_cast<std::size_t>(
                                                 settings.inference_batch_size)};
    worker.kafka_security = infra::kafka_security(settings);
    worker_ = std::make_unique<workers::InferenceWorker>(std::move(worker));
    workers::WebhookDispatcher::Options webhooks;
    webhooks.database_url = url;
    webhooks.signing_key = load_secret(settings, settings.webhook_signing_key, kWebhookKeyFile,
                                       "webhook_signing_key", create_secrets);
    webhooks.callback_policy = callback_policy(settings);
    webhooks.max_attempts = static_cast<int>(settings.webhook_attempts);
    webhooks.first_backoff = std::chrono::milliseconds(settings.webhook_backoff_ms);
    dispatcher_ = std::make_unique<workers::WebhookDispatcher>(std::move(webhooks));
    worker_thread_ = std::thread([this] { worker_->run(stopping_); });
    dispatcher_thread_ = std::thread([this] { dispatcher_->run(stopping_); });
    infra::log_info("inference worker started", {{"models_dir", models_dir(settings).string()},
                                                 {"group", settings.inference_group}});
  }

  ~InferenceRole() { stop(); }

  void stop() {
    stopping_ = true;
    if (worker_thread_.joinable()) worker_thread_.join();
    if (dispatcher_thread_.joinable()) dispatcher_thread_.join();
  }

 private:
  std::atomic<bool> stopping_{false};
  std::unique_ptr<workers::InferenceWorker> worker_;
  std::unique_ptr<workers::WebhookDispatcher> dispatcher_;
  std::thread worker_thread_;
  std::thread dispatcher_thread_;
};

/// The algorithms the out-of-the-box stack answers with, registered by `tidemark dev` once
/// (an admin may replace them): face detection, audio and sensor summaries, and the colour
/// classifier ONNX model the build generates.
void register_builtin_algorithms(const Settings& settings, const std::string& url,
                                 const std::string& bootstrap) {
  const domain::Algorithm builtins[] = {
      {"face-detection", "face", "builtin:face-detection", "1"},
      {"audio-summary", "audio", "builtin:summary", "1"},
      {"sensor-summary", "sensor", "builtin:summary", "1"},
      {"colour-classifier", "image", "onnx:color/model.onnx", "1"},
  };
  auto connection = infra::connect(url);
  infra::EventProducer producer(infra::EventProducer::Options{bootstrap, "tidemark-dev", 10000,
                                                              infra::kafka_security(settings)});
  for (const auto& algorithm : builtins) {
    if (!api::claim_client_id(*connection, "algorithm", algorithm.algo_id)) continue;
    auto event = infra::new_event("/tidemark/dev", domain::kAlgorithmRegisteredV1,
                                  algorithm.algo_id, "algos/" + algorithm.algo_id,
                                  domain::encode_algorithm(algorithm), "", "tidemark-dev");
    auto appended =
        producer.append_and_wait(settings.events_topic, event.key, event.payload, event.headers());
    if (!appended)
      throw std::runtime_error("cannot register " + algorithm.algo_id + ": " +
                               appended.error().message);
    infra::log_info("algorithm registered",
                    {{"algo_id", algorithm.algo_id}, {"location", algorithm.location}});
  }
}

/// The HTTP API and what it needs, started and stopped as one.
class ApiRole {
 public:
  ApiRole(const Settings& settings, const std::string& url, const std::string& bootstrap,
          bool create_secrets)
      : settings_(settings),
        producer_(infra::EventProducer::Options{bootstrap, "tidemark-api",
                                                settings.produce_timeout_ms,
                                                infra::kafka_security(settings)}),
        watcher_(url, projections::kReadModelsProjection, settings.events_topic),
        job_watcher_(url, projections::kJobsChannel),
        database_(url, static_cast<std::size_t>(settings.db_pool_size),
                  static_cast<std::size_t>(settings.db_queue_limit)),
        hasher_(static_cast<std::size_t>(settings.hash_threads),
                static_cast<std::size_t>(settings.hash_queue_limit)),
        signer_(load_secret(settings, settings.token_signing_key, kTokenKeyFile,
                            "token_signing_key", create_secrets),
                settings.token_issuer, settings.token_audience),
        keyring_(load_secret(settings, settings.master_key, kMasterKeyFile, "master_key",
                             create_secrets)),
        login_failures_per_account_(static_cast<std::size_t>(settings.login_failures_per_account),
                                    std::chrono::seconds(settings.rate_limit_window_s)),
        login_attempts_per_address_(static_cast<std::size_t>(settings.login_attempts_per_address),
                                    std::chrono::seconds(settings.rate_limit_window_s)),
        registrations_per_address_(static_cast<std::size_t>(settings.registrations_per_address),
                                   std::chrono::seconds(settings.rate_limit_window_s)) {
    api::AuthSettings auth{std::chrono::seconds(settings.access_token_ttl_s),
                           std::chrono::seconds(settings.session_ttl_s),
                           std::chrono::seconds(settings.refresh_reuse_grace_s),
                           settings.auth_cookie_name,
                           settings.cookie_secure == "true" || !settings.tls_cert_file.empty(),
                           settings.login_error_style == "seed001",
                           static_cast<std::size_t>(settings.min_password_length)};
    auto context = std::make_shared<api::ApiContext>(api::ApiContext{
        producer_, watcher_, database_, settings.events_topic,
        std::chrono::milliseconds(settings.projection_wait_ms), hasher_, signer_, keyring_, auth,
        login_failures_per_account_, login_attempts_per_address_, registrations_per_address_,
        infra::hash_password("not a password anyone has"),
        domain::UrlPolicy::from_lists(settings.link_schemes, settings.link_hosts,
                                      settings.allow_internal_urls == "true"),
        callback_policy(settings), job_watcher_, web_dir(settings)});
    server_ = std::make_unique<api::HttpServer>(
        api::HttpServer::Options{settings.http_host, static_cast<std::uint16_t>(settings.http_port),
                                 static_cast<int>(settings.http_threads),
                                 static_cast<std::size_t>(settings.max_body_bytes),
                                 static_cast<std::size_t>(settings.max_upload_bytes),
                                 split_list(settings.cors_origins), settings.tls_cert_file,
                                 settings.tls_key_file},
        api::make_router(context));
  }

  std::uint16_t start() {
    std::uint16_t port = server_->start();
    infra::log_info("API listening",
                    {{"host", settings_.http_host}, {"port", std::to_string(port)}});
    // Measured (bench/login_bench.sh): with every core hashing, PostgreSQL's backends contend
    // and GET /me's p99 during a login storm rises from ~2 ms to 120-200 ms.
    unsigned cores = std::thread::hardware_concurrency();
    if (cores > 0 && settings_.hash_threads >= static_cast<std::int64_t>(cores)) {
      infra::log_warning("hash_threads leaves no core for requests during a login storm; "
                         "fewer than the cores keeps other requests fast",
                         {{"hash_threads", std::to_string(settings_.hash_threads)},
                          {"cores", std::to_string(cores)}});
    }
    return port;
  }

  void stop() {
    server_->drain_and_stop(std::chrono::milliseconds(settings_.drain_timeout_ms));
    watcher_.stop();
    job_watcher_.stop();
    hasher_.stop();
    database_.stop();
    producer_.flush(std::chrono::milliseconds(5000));
  }

 private:
  Settings settings_;
  infra::EventProducer producer_;
  infra::CheckpointWatcher watcher_;
  infra::NotificationWatcher job_watcher_;
  infra::DatabasePool database_;
  infra::PasswordHasher hasher_;
  infra::JwtSigner signer_;
  infra::Keyring keyring_;
  api::RateLimiter login_failures_per_account_;
  api::RateLimiter login_attempts_per_address_;
  api::RateLimiter registrations_per_address_;
  std::unique_ptr<api::HttpServer> server_;
};

/// A projector (read models, or the mailer) on its own thread.
class ProjectorRole {
 public:
  /// The read models, from the events topic into PostgreSQL.
  static std::unique_ptr<ProjectorRole> read_models(const Settings& settings,
                                                    const std::string& url,
                                                    const std::string& bootstrap,
                                                    bool create_secrets) {
    auto role = std::unique_ptr<ProjectorRole>(new ProjectorRole(settings, create_secrets));
    const infra::Keyring& keyring = role->keyring_;
    role->start({url, bootstrap, settings.events_topic, settings.dead_letter_topic,
                 settings.projector_group, static_cast<std::size_t>(settings.projector_batch_size),
                 projections::kReadModelsProjection, projections::read_model_batches(keyring),
                 infra::kafka_security(settings)});
    return role;
  }

  /// The mailer: delivers the mail account events carry, to the outbox file.
  static std::unique_ptr<ProjectorRole> mailer(const Settings& settings, const std::string& url,
                                               const std::string& bootstrap, bool create_secrets) {
    auto role = std::unique_ptr<ProjectorRole>(new ProjectorRole(settings, create_secrets));
    fs::path outbox = settings.mail_outbox.empty() ? fs::path(settings.data_dir) / "outbox.jsonl"
                                                   : fs::path(settings.mail_outbox);
    if (settings.smtp_url.empty()) {
      role->sender_ = std::make_unique<workers::OutboxFileSender>(outbox);
      infra::log_info("mailer writing to the outbox file", {{"path", outbox.string()}});
    } else {
      role->sender_ = std::make_unique<workers::SmtpSender>(workers::SmtpSender::Options{
          settings.smtp_url, settings.smtp_from, settings.smtp_username, settings.smtp_password});
      infra::log_info("mailer sending over SMTP",
                      {{"url", infra::mask_url_password(settings.smtp_url)}});
    }
    role->start({url, bootstrap, settings.events_topic, "", settings.mailer_group,
                 static_cast<std::size_t>(settings.projector_batch_size),
                 workers::kMailerProjection,
                 projections::each_record(workers::mail_applier(role->keyring_, *role->sender_)),
                 infra::kafka_security(settings), workers::kMailerFetchWait});
    return role;
  }

  ~ProjectorRole() { stop(); }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  ProjectorRole(const Settings& settings, bool create_secrets)
      : keyring_(load_secret(settings, settings.master_key, kMasterKeyFile, "master_key",
                             create_secrets)) {}

  void start(workers::Projector::Options options) {
    projector_ = std::make_unique<workers::Projector>(std::move(options));
    thread_ = std::thread([this] { projector_->run(stopping_); });
  }

  std::atomic<bool> stopping_{false};
  infra::Keyring keyring_;
  std::unique_ptr<workers::MailSender> sender_;
  std::unique_ptr<workers::Projector> projector_;
  std::thread thread_;
};

}  // namespace

void block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that disconnects mid-response must not kill the server.
  std::signal(SIGPIPE, SIG_IGN);
}

int run_api(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(infra::api_schema(), "api", "Serve the HTTP API.", arguments,
                                 environment, exit_code);
  if (!settings) return exit_code;
  return guarded("api", [&] {
    bool tls = infra::check_api_tls(*settings);
    ApiRole api(*settings, database_url(*settings), bootstrap_servers(*settings), false);
    std::uint16_t port = api.start();
    std::cout << "Tidemark API on " << (tls ? "https" : "http") << "://" << settings->http_host
              << ":" << port << "/" << std::endl;
    wait_for_stop_signal();
    api.stop();
    return 0;
  });
}

int run_projector(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(infra::projector_schema(), "projector",
                                 "Apply the event log to the PostgreSQL read models, exactly once.",
                                 arguments, environment, exit_code);
  if (!settings) return exit_code;
  return guarded("projector", [&] {
    auto projector = ProjectorRole::read_models(*settings, database_url(*settings),
                                                bootstrap_servers(*settings), false);
    wait_for_stop_signal();
    projector->stop();
    return 0;
  });
}

int run_mailer(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(infra::mailer_schema(), "mailer",
                                 "Deliver the mail that account events carry (verification and "
                                 "password-reset codes), each once, to the outbox file.",
                                 arguments, environment, exit_code);
  if (!settings) return exit_code;
  return guarded("mailer", [&] {
    auto mailer = ProjectorRole::mailer(*settings, database_url(*settings),
                                        bootstrap_servers(*settings), false);
    wait_for_stop_signal();
    mailer->stop();
    return 0;
  });
}

int run_inference(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(
      infra::inference_schema(), "inference",
      "Run the algorithm pinned in each submitted job on the recording's content, append the "
      "outcome as events, and call the webhooks of finished jobs. Workers in one group share "
      "the partitions.",
      arguments, environment, exit_code);
  if (!settings) return exit_code;
  return guarded("inference", [&] {
    InferenceRole inference(*settings, database_url(*settings), bootstrap_servers(*settings),
                            false);
    wait_for_stop_signal();
    inference.stop();
    return 0;
  });
}

int run_broker(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(
      infra::broker_schema(), "broker",
      "Serve librdkafka's mock Kafka cluster on loopback, for development and tests. It keeps "
      "everything in memory: not for production.",
      arguments, environment, exit_code);
  if (!settings) return exit_code;
  return guarded("broker", [&] {
    fs::create_directories(settings->data_dir);
    infra::EmbeddedBroker broker(infra::EmbeddedBroker::Options{
        static_cast<std::uint16_t>(settings->broker_port),
        {settings->events_topic, settings->dead_letter_topic},
        static_cast<int>(settings->topic_partitions),
        (fs::path(settings->data_dir) / kBrokerJournalFile).string()});
    write_stack_file(*settings, kBrokerAddressFile, broker.bootstrap_servers());
    std::cout << "Tidemark broker on " << broker.bootstrap_servers() << " (" << broker.partitions()
              << " partitions per topic)" << std::endl;
    wait_for_stop_signal();
    fs::remove(fs::path(settings->data_dir) / kBrokerAddressFile);
    return 0;
  });
}

int run_dev(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(
      infra::dev_schema(), "dev",
      "Run the whole stack in one process: a local PostgreSQL in DATA_DIR (unless "
      "--database-url is given), the embedded broker (unless --kafka-bootstrap-servers is given), "
      "migrations, the projector and the API.",
      arguments, environment, exit_code);
  if (!settings) return exit_code;
  return guarded("dev", [&] {
    settings->data_dir = fs::absolute(settings->data_dir).lexically_normal().string();
    fs::create_directories(settings->data_dir);
    bool tls = infra::check_api_tls(*settings);
    if (settings->kafka_bootstrap_servers.empty() &&
        settings->kafka_security_protocol != "plaintext") {
      throw ConfigError("the embedded broker speaks plaintext only: kafka_security_protocol=" +
                        settings->kafka_security_protocol +
                        " needs --kafka-bootstrap-servers of a cluster with TLS");
    }

    std::unique_ptr<infra::LocalPostgres> postgres;
    // dev's own PostgreSQL has no TLS: the database_ssl* settings apply to a given URL.
    std::string url = settings->database_url.empty() ? "" : database_url(*settings);
    if (url.empty()) {
      postgres = std::make_unique<infra::LocalPostgres>(
          infra::LocalPostgres::Options{fs::path(settings->data_dir) / "postgres",
                                        static_cast<std::uint16_t>(settings->postgres_port)});
      postgres->start();
      url = postgres->url();
      write_stack_file(*settings, kDatabaseUrlFile, url);
      infra::log_info("local PostgreSQL started", {{"port", std::to_string(postgres->port())}});
    }
    std::unique_ptr<infra::EmbeddedBroker> broker;
    std::string bootstrap = settings->kafka_bootstrap_servers;
    if (bootstrap.empty()) {
      broker = std::make_unique<infra::EmbeddedBroker>(infra::EmbeddedBroker::Options{
          static_cast<std::uint16_t>(settings->broker_port),
          {settings->events_topic, settings->dead_letter_topic},
          static_cast<int>(settings->topic_partitions),
          (fs::path(settings->data_dir) / kBrokerJournalFile).string()});
      bootstrap = broker->bootstrap_servers();
      write_stack_file(*settings, kBrokerAddressFile, bootstrap);
      infra::log_info(
          "embedded broker started",
          {{"bootstrap", bootstrap}, {"partitions", std::to_string(broker->partitions())}});
    }
    apply_migrations(url);
    auto projector = ProjectorRole::read_models(*settings, url, bootstrap, true);
    auto mailer = ProjectorRole::mailer(*settings, url, bootstrap, true);
    register_builtin_algorithms(*settings, url, bootstrap);
    InferenceRole inference(*settings, url, bootstrap, true);
    ApiRole api(*settings, url, bootstrap, true);
    std::uint16_t port = api.start();
    std::cout << "Tidemark is running: " << (tls ? "https" : "http") << "://" << settings->http_host
              << ":" << port << "/\n"
              << "  broker    " << bootstrap << "\n"
              << "  database  " << infra::mask_url_password(url) << "\n"
              << "Press Ctrl-C to stop." << std::endl;
    wait_for_stop_signal();
    api.stop();
    inference.stop();
    projector->stop();
    mailer->stop();
    if (broker) fs::remove(fs::path(settings->data_dir) / kBrokerAddressFile);
    if (postgres) {
      postgres->stop();
      fs::remove(fs::path(settings->data_dir) / kDatabaseUrlFile);
    }
    return 0;
  });
}

int run_migrate(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  std::vector<std::string> positional;
  auto settings = parse_settings(
      infra::migrate_schema(), "migrate [up [VERSION] | down [VERSION] | status]",
      "Apply pending migrations (up, the default), revert those above VERSION (down; without "
      "VERSION only the latest), or list them (status).",
      arguments, environment, exit_code, &positional);
  if (!settings) return exit_code;
  return guarded("migrate", [&] {
    std::string verb = positional.empty() ? "up" : positional[0];
    std::optional<int> target;
    if (positional.size() > 1) {
      try {
        target = std::stoi(positional[1]);
      } catch (const std::exception&) {
        throw ConfigError("VERSION must be a number, got '" + positional[1] + "'");
      }
    }
    if (positional.size() > 2 || (verb != "up" && verb != "down" && verb != "status")) {
      throw ConfigError("usage: tidemark migrate [up [VERSION] | down [VERSION] | status]");
    }
    auto connection = infra::connect(database_url(*settings));
    projections::Migrator migrator(
        projections::load_migrations(projections::embedded_migration_files()));
    if (verb == "status") {
      for (const auto& migration : migrator.status(*connection)) {
        std::printf("%04d %-30s %s\n", migration.version, migration.name.c_str(),
                    migration.applied ? "applied" : "pending");
      }
    } else if (verb == "up") {
      std::printf("applied %d migration(s)\n", migrator.up(*connection, target));
    } else {
      std::printf("reverted %d migration(s)\n", migrator.down(*connection, target));
    }
    return 0;
  });
}

int run_create_admin(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(
      infra::create_admin_schema(), "create-admin",
      "Make an administrator account. The password comes from --password or, when that is "
      "empty, from one line of standard input (keeps it out of the shell history).",
      arguments, environment, exit_code);
  if (!settings) return exit_code;
  return guarded("create-admin", [&] {
    std::string password = settings->password;
    if (password.empty()) std::getline(std::cin, password);
    // The same validation as POST /auth/register, fed the same JSON.
    rapidjson::StringBuffer buffer;
    domain::JsonWriter writer(buffer);
    writer.StartObject();
    for (auto [name, value] :
         {std::pair{"username", &settings->username}, std::pair{"email", &settings->email},
          std::pair{"full_name", &settings->full_name}, std::pair{"password", &password}}) {
      if (value->empty()) continue;
      writer.Key(name);
      domain::write_string(writer, *value);
    }
    writer.EndObject();
    auto registration =
        domain::parse_registration({buffer.GetString(), buffer.GetSize()},
                                   static_cast<std::size_t>(settings->min_password_length));
    if (!registration) throw ConfigError(registration.error().message);

    std::string url = database_url(*settings);
    infra::Keyring keyring(
        load_secret(*settings, settings->master_key, kMasterKeyFile, "master_key", false));
    auto connection = infra::connect(url);
    domain::Uuid user_id = infra::random_uuid();
    auto event = api::prepare_registration(*connection, keyring, *registration,
                                           infra::hash_password(password), domain::Role::admin,
                                           user_id, "create-admin");
    if (!event) throw ConfigError(event.error().message);
    infra::EventProducer producer(infra::EventProducer::Options{bootstrap_servers(*settings),
                                                                "tidemark-create-admin", 10000,
                                                                infra::kafka_security(*settings)});
    auto appended = producer.append_and_wait(settings->events_topic, event->key, event->payload,
                                             event->headers());
    if (!appended) {
      api::release_registration(*connection, user_id);
      throw std::runtime_error(appended.error().message);
    }
    infra::CheckpointWatcher watcher(url, projections::kReadModelsProjection,
                                     settings->events_topic);
    std::promise<bool> projected;
    watcher.wait_for(*appended, std::chrono::seconds(30),
                     [&projected](bool reached) { projected.set_value(reached); });
    bool visible = projected.get_future().get();
    std::cout << "admin " << registration->username << " created (user id " << user_id.to_string()
              << ")" << (visible ? "" : "; not yet projected: is a projector running?")
              << std::endl;
    return visible ? 0 : 1;
  });
}

int run_config(const std::vector<std::string>& arguments, const char* const* environment) {
  if (arguments.empty() || arguments[0] == "--help") {
    std::string commands;
    for (const auto& [command, make_schema] : infra::command_schemas()) {
      commands += (commands.empty() ? "" : ", ") + std::string(command);
    }
    std::cout << "usage: tidemark config COMMAND [options]\n\nPrint the effective settings of "
                 "COMMAND ("
              << commands << "), secrets masked.\n";
    return arguments.empty() ? 2 : 0;
  }
  for (const auto& [command, make_schema] : infra::command_schemas()) {
    if (arguments[0] != command) continue;
    SettingsSchema schema = make_schema();
    int exit_code = 0;
    auto settings = parse_settings(schema, "config", "", {arguments.begin() + 1, arguments.end()},
                                   environment, exit_code);
    if (!settings) return exit_code;
    std::cout << schema.describe(*settings);
    return 0;
  }
  std::cerr << "tidemark config: unknown command '" << arguments[0] << "'\n";
  return 2;
}

}  // namespace tidemark::app
