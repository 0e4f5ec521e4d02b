#include "infra/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <sstream>

namespace tidemark::infra {

std::string SettingsSchema::flag_name(std::string_view name) {
  std::string flag = "--" + std::string(name);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

std::string SettingsSchema::environment_name(std::string_view name) {
  std::string variable = "TIDEMARK_" + std::string(name);
  std::transform(variable.begin(), variable.end(), variable.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return variable;
}

SettingsSchema& SettingsSchema::text(std::string name, std::string Settings::*field,
                                     std::string default_value, std::string description,
                                     bool secret) {
  entries_.push_back(
      {name, default_value, std::move(description), secret,
       [field](Settings& settings, const std::string& value) { settings.*field = value; }});
  readers_.push_back([field](const Settings& settings) { return settings.*field; });
  return *this;
}

SettingsSchema& SettingsSchema::integer(std::string name, std::int64_t Settings::*field,
                                        std::int64_t default_value, std::int64_t min,
                                        std::int64_t max, std::string description) {
  auto assign = [name, field, min, max](Settings& settings, const std::string& value) {
    std::int64_t number = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc{} || end != value.data() + value.size()) {
      throw ConfigError(name + " must be a whole number, got '" + value + "'");
    }
    if (number < min || number > max) {
      throw ConfigError(name + " must be between " + std::to_string(min) + " and " +
                        std::to_string(max) + ", got " + value);
    }
    settings.*field = number;
  };
  entries_.push_back({name, std::to_string(default_value),
                      description + " (" + std::to_string(min) + ".." + std::to_string(max) + ")",
                      false, assign});
  readers_.push_back([field](const Settings& settings) { return std::to_string(settings.*field); });
  return *this;
}

SettingsSchema& SettingsSchema::choice(std::string name, std::string Settings::*field,
                                       std::string default_value, std::vector<std::string> allowed,
                                       std::string description) {
  std::string listed;
  for (const auto& word : allowed) listed += (listed.empty() ? "" : ", ") + word;
  auto assign = [name, field, allowed, listed](Settings& settings, const std::string& value) {
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      throw ConfigError(name + " must be one of " + listed + ", got '" + value + "'");
    }
    settings.*field = value;
  };
  entries_.push_back({name, default_value, description + " (" + listed + ")", false, assign});
  readers_.push_back([field](const Settings& settings) { return settings.*field; });
  return *this;
}

Settings SettingsSchema::parse(const std::vector<std::string>& arguments,
                               const char* const* environment,
                               std::vector<std::string>* positional) const {
  std::map<std::string, std::string> environment_values;
  for (auto variable = environment; variable && *variable; ++variable) {
    std::string_view entry(*variable);
    auto equals = entry.find('=');
    if (equals != std::string_view::npos && entry.starts_with("TIDEMARK_")) {
      environment_values.emplace(entry.substr(0, equals), entry.substr(equals + 1));
    }
  }

  std::map<std::string, std::string> flag_values;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    if (!argument.starts_with("--")) {
      if (!positional) throw ConfigError("unexpected argument '" + argument + "'");
      positional->push_back(argument);
      continue;
    }
    auto equals = argument.find('=');
    std::string flag = argument.substr(0, equals);
    auto entry = std::find_if(entries_.begin(), entries_.end(),
                              [&](const Entry& e) { return flag_name(e.name) == flag; });
    if (entry == entries_.end()) {
      throw ConfigError("unknown option '" + flag + "' (see --help)");
    }
    if (equals != std::string::npos) {
      flag_values[entry->name] = argument.substr(equals + 1);
    } else if (i + 1 < arguments.size()) {
      flag_values[entry->name] = arguments[++i];
    } else {
      throw ConfigError("option '" + flag + "' needs a value");
    }
  }

  Settings settings;
  for (const auto& entry : entries_) {
    std::string value = entry.default_value;
    if (auto from_environment = environment_values.find(environment_name(entry.name));
        from_environment != environment_values.end()) {
      value = from_environment->second;
    }
    if (auto from_flag = flag_values.find(entry.name); from_flag != flag_values.end()) {
      value = from_flag->second;
    }
    entry.assign(settings, value);
  }
  return settings;
}

std::string SettingsSchema::help(std::string_view command, std::string_view summary) const {
  std::ostringstream out;
  out << "usage: tidemark " << command << " [options]\n\n" << summary << "\n\n";
  out << "Every option can also be set by its environment variable; a flag wins.\n\n";
  for (const auto& entry : entries_) {
    out << "  " << flag_name(entry.name) << " VALUE  (env " << environment_name(entry.name)
        << ")\n      " << entry.description
        << "\n      default: " << (entry.default_value.empty() ? "(empty)" : entry.default_value)
        << "\n";
  }
  out << "  --help\n      print this help and exit\n";
  return out.str();
}

std::string SettingsSchema::describe(const Settings& settings) const {
  std::ostringstream out;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    std::string value = readers_[i](settings);
    if (entries_[i].secret && !value.empty()) {
      // A URL keeps its shape with the password masked; a key is hidden whole.
      value = value.find("://") != std::string::npos ? mask_url_password(value) : "****";
    }
    out << entries_[i].name << " = " << value << "\n";
  }
  return out.str();
}

namespace {

/// A query parameter's name as libpq reads it: `%XX` decoded (case is kept by libpq, but a
/// mask errs on the safe side).
std::string lower_percent_decoded(std::string_view text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      c = static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
    decoded.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return decoded;
}

}  // namespace

std::string mask_url_password(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  std::string masked(url);
  // libpq also takes the password as a query parameter (`?password=…`), and the client key's
  // as `sslpassword`: mask their values too.
  auto query = masked.find('?', scheme + 3);
  if (query != std::string::npos) {
    std::size_t start = query + 1;
    while (start <= masked.size()) {
      auto end = masked.find('&', start);
      if (end == std::string::npos) end = masked.size();
      auto equals = masked.find('=', start);
      if (equals < end) {
        std::string name = lower_percent_decoded({masked.data() + start, equals - start});
        if (name == "password" || name == "sslpassword") {
          masked.replace(equals + 1, end - equals - 1, "****");
          end = equals + 5;
        }
      }
      start = end + 1;
    }
  }
  auto authority_start = scheme + 3;
  auto authority_end = masked.find_first_of("/?#", authority_start);
  auto at = masked.find('@', authority_start);
  if (at == std::string::npos || at > authority_end) return masked;
  auto colon = masked.find(':', authority_start);
  if (colon == std::string::npos || colon > at) return masked;
  return masked.substr(0, colon + 1) + "****" + masked.substr(at);
}

namespace {

void add_common(SettingsSchema& schema) {
  schema.text("data_dir", &Settings::data_dir, ".tidemark",
              "folder of the local stack: PostgreSQL data, broker address, database URL");
  schema.choice("log_level", &Settings::log_level, "info", {"debug", "info", "warning", "error"},
                "lowest level of log line written to stderr as JSON");
}

void add_database(SettingsSchema& schema) {
  schema.text("database_url", &Settings::database_url, "",
              "PostgreSQL URL; empty means the one `tidemark dev` wrote to DATA_DIR/database.url",
              true);
  schema.choice("database_sslmode", &Settings::database_sslmode, "prefer",
                {"disable", "prefer", "require", "verify-ca", "verify-full"},
                "TLS to PostgreSQL (libpq sslmode); verify-full also checks the server's name. "
                "prefer, libpq's default, leaves an sslmode in database_url alone");
  schema.text("database_sslrootcert", &Settings::database_sslrootcert, "",
              "PEM file of the CA certificates that verify PostgreSQL's certificate (libpq "
              "sslrootcert); empty means libpq's ~/.postgresql/root.crt");
}

void add_events_topic(SettingsSchema& schema) {
  schema.text("events_topic", &Settings::events_topic, "tidemark.events",
              "topic that holds the event log");
}

void add_kafka(SettingsSchema& schema) {
  schema.text("kafka_bootstrap_servers", &Settings::kafka_bootstrap_servers, "",
              "Kafka bootstrap servers; empty means the embedded broker's address in "
              "DATA_DIR/broker.address");
  schema.choice("kafka_security_protocol", &Settings::kafka_security_protocol, "plaintext",
                {"plaintext", "ssl"},
                "how every Kafka client reaches the brokers; ssl verifies their certificates "
                "and host names");
  schema.text("kafka_ssl_ca_file", &Settings::kafka_ssl_ca_file, "",
              "PEM file of the CA certificates that verify the brokers (ssl only); empty means "
              "OpenSSL's default CA store");
  schema.text("kafka_ssl_cert_file", &Settings::kafka_ssl_cert_file, "",
              "PEM client certificate for brokers that authenticate clients (ssl only; with "
              "kafka_ssl_key_file)");
  schema.text("kafka_ssl_key_file", &Settings::kafka_ssl_key_file, "",
              "PEM unencrypted private key of kafka_ssl_cert_file");
  add_events_topic(schema);
}

void add_dead_letter(SettingsSchema& schema) {
  schema.text("dead_letter_topic", &Settings::dead_letter_topic, "tidemark.events.dlq",
              "topic that receives records the projector cannot apply");
}

void add_broker(SettingsSchema& schema) {
  schema.integer("broker_port", &Settings::broker_port, 19092, 0, 65535,
                 "loopback port of the embedded broker; 0 picks a free one");
  // Two, for the two cores a development machine can give a stack: librdkafka's mock walks a
  // partition's message sets from the oldest on every fetch, and fewer, fuller partitions made
  // creates about a quarter faster (bench/README.md).
  schema.integer("topic_partitions", &Settings::topic_partitions, 2, 1, 1024,
                 "partitions of each topic the embedded broker creates (a data folder's "
                 "journal keeps the partitions it has: they can grow, never shrink)");
}

void add_allow_internal_urls(SettingsSchema& schema) {
  schema.choice("allow_internal_urls", &Settings::allow_internal_urls, "false", {"false", "true"},
                "accept links and callback URLs that name or resolve to loopback and private "
                "addresses (tests, closed networks); never on a public deployment");
}

void add_outbound_urls(SettingsSchema& schema) {
  schema.text("link_schemes", &Settings::link_schemes, "https,http,gs,s3",
              "comma-separated URL schemes accepted in recording links");
  schema.text("link_hosts", &Settings::link_hosts, "",
              "comma-separated hosts accepted in recording links (`*.example.com` for "
              "subdomains); empty accepts any host that is not internal");
  add_allow_internal_urls(schema);
}

void add_inference(SettingsSchema& schema) {
  schema.text("inference_group", &Settings::inference_group, "tidemark-inference",
              "consumer group the inference workers share");
  schema.integer("inference_batch_size", &Settings::inference_batch_size, 64, 1, 10000,
                 "records a worker takes per transaction (its position is stored after each "
                 "batch's outcomes are acknowledged; a crash runs at most this many jobs again)");
  schema.text("models_dir", &Settings::models_dir, "",
              "folder of the `onnx:` models; empty means the `models` folder the build made "
              "beside the executable's folder");
  schema.integer("job_attempts", &Settings::job_attempts, 3, 1, 20,
                 "attempts per job before it fails for good and goes to the dead-letter topic");
  schema.integer("job_backoff_ms", &Settings::job_backoff_ms, 200, 0, 600000,
                 "wait after a failed attempt, doubled after each one");
  schema.integer("job_time_limit_ms", &Settings::job_time_limit_ms, 30000, 10, 3600000,
                 "longest a model may run on one attempt");
  schema.integer("max_job_input_bytes", &Settings::max_job_input_bytes, 64 << 20, 1, 1LL << 32,
                 "largest recording a worker runs a model on");
  schema.text("webhook_signing_key", &Settings::webhook_signing_key, "",
              "key (base64url) that signs webhook calls (HMAC-SHA256); empty means "
              "DATA_DIR/webhook.key, which `tidemark dev` creates",
              true);
  schema.integer("webhook_attempts", &Settings::webhook_attempts, 6, 1, 50,
                 "attempts per webhook call before it is abandoned");
  schema.integer("webhook_backoff_ms", &Settings::webhook_backoff_ms, 1000, 10, 3600000,
                 "wait after a failed webhook call, doubled after each one");
}

void add_api(SettingsSchema& schema) {
  schema.text("http_host", &Settings::http_host, "127.0.0.1", "address the HTTP API listens on");
  schema.integer("http_port", &Settings::http_port, 8080, 0, 65535,
                 "port the HTTP API listens on; 0 picks a free one");
  schema.integer("http_threads", &Settings::http_threads, 2, 1, 64,
                 "HTTP reactor threads (connections are spread over them)");
  schema.text("tls_cert_file", &Settings::tls_cert_file, "",
              "PEM certificate (chain, leaf first) to serve HTTPS instead of HTTP, with "
              "tls_key_file; it also marks the token cookie Secure and adds HSTS");
  schema.text("tls_key_file", &Settings::tls_key_file, "",
              "PEM unencrypted private key of tls_cert_file");
  schema.integer("max_body_bytes", &Settings::max_body_bytes, 1 << 20, 1024, 1LL << 30,
                 "largest JSON request body accepted; larger ones get 413");
  schema.integer("max_upload_bytes", &Settings::max_upload_bytes, 16 << 20, 1024, 1LL << 31,
                 "largest uploaded recording (PUT /recordings/{id}/content); larger get 413");
  schema.integer("produce_timeout_ms", &Settings::produce_timeout_ms, 5000, 100, 300000,
                 "how long a write waits for the broker's acknowledgement before 503");
  schema.integer("projection_wait_ms", &Settings::projection_wait_ms, 5000, 0, 60000,
                 "how long a write or a read with a position waits for the projection");
  schema.integer("db_pool_size", &Settings::db_pool_size, 4, 1, 256,
                 "PostgreSQL connections (and threads) serving reads");
  schema.integer("db_queue_limit", &Settings::db_queue_limit, 4096, 1, 1000000,
                 "queued database tasks beyond which requests get 503");
  schema.integer("drain_timeout_ms", &Settings::drain_timeout_ms, 10000, 0, 600000,
                 "on SIGTERM, how long in-flight requests may take to finish");
  schema.text("cors_origins", &Settings::cors_origins, "",
              "comma-separated browser origins allowed to call the API, e.g. "
              "https://app.example.com; empty allows none");
  schema.text("web_dir", &Settings::web_dir, "",
              "folder of the npm packages /docs and /redoc serve (scripts/install-web.sh); empty "
              "means web/node_modules two folders above the executable's folder");
  add_outbound_urls(schema);
}

void add_master_key(SettingsSchema& schema) {
  schema.text("master_key", &Settings::master_key, "",
              "32-byte key (base64url) that wraps each user's data key; empty means "
              "DATA_DIR/master.key, which `tidemark dev` creates",
              true);
}

void add_accounts(SettingsSchema& schema) {
  schema.text("token_signing_key", &Settings::token_signing_key, "",
              "32-byte HS256 key (base64url) for access tokens; empty means DATA_DIR/token.key, "
              "which `tidemark dev` creates",
              true);
  schema.text("token_issuer", &Settings::token_issuer, "tidemark", "the `iss` of access tokens");
  schema.text("token_audience", &Settings::token_audience, "tidemark-api",
              "the `aud` of access tokens");
  schema.integer("access_token_ttl_s", &Settings::access_token_ttl_s, 900, 30, 86400,
                 "lifetime of an access token (and of the token cookie)");
  schema.integer("session_ttl_s", &Settings::session_ttl_s, 30 * 86400, 300, 365 * 86400,
                 "lifetime of a session and its refresh tokens");
  schema.integer("refresh_reuse_grace_s", &Settings::refresh_reuse_grace_s, 10, 0, 10,
                 "a rotated refresh token used again within this time rotates again (a mobile "
                 "retry); later, it revokes the session");
  schema.text("auth_cookie_name", &Settings::auth_cookie_name, "X-LIVENESS-TOKEN",
              "cookie that carries the access token for cookie clients (seed 001)");
  schema.choice("cookie_secure", &Settings::cookie_secure, "false", {"false", "true"},
                "mark the token cookie Secure (set true behind HTTPS)");
  schema.choice("login_error_style", &Settings::login_error_style, "generic",
                {"generic", "seed001"},
                "generic: one 401 for any bad credentials; seed001: 400 'Username not found!' / "
                "'Password is incorrect!' as seed 001 answered (tells attackers which was wrong)");
  schema.integer("min_password_length", &Settings::min_password_length, 8, 5, 128,
                 "shortest password accepted at registration");
  schema.integer("hash_threads", &Settings::hash_threads, 1, 1, 64,
                 "threads that hash passwords (argon2id), apart from the HTTP threads");
  schema.integer("hash_queue_limit", &Settings::hash_queue_limit, 256, 1, 100000,
                 "queued password hashes beyond which logins get 503");
  schema.integer("rate_limit_window_s", &Settings::rate_limit_window_s, 900, 1, 86400,
                 "window of the login and registration limits");
  schema.integer("login_failures_per_account", &Settings::login_failures_per_account, 10, 1, 100000,
                 "failed logins per account per window before 429");
  schema.integer("login_attempts_per_address", &Settings::login_attempts_per_address, 100, 1,
                 1000000, "login attempts per client address per window before 429");
  schema.integer("registrations_per_address", &Settings::registrations_per_address, 20, 1, 1000000,
                 "registrations per client address per window before 429");
}

void add_mailer(SettingsSchema& schema) {
  schema.text("mail_outbox", &Settings::mail_outbox, "",
              "file the mailer appends each mail to as a JSON line; empty means "
              "DATA_DIR/outbox.jsonl");
  schema.text("mailer_group", &Settings::mailer_group, "tidemark-mailer",
              "consumer group the mailers share");
  schema.text("smtp_url", &Settings::smtp_url, "",
              "send mail over SMTP instead of to the outbox file: smtp://HOST:PORT (STARTTLS "
              "when offered) or smtps://HOST:PORT; credentials written in it are masked like "
              "smtp_password",
              true);
  schema.text("smtp_from", &Settings::smtp_from, "tidemark@localhost", "sender address of mail");
  schema.text("smtp_username", &Settings::smtp_username, "",
              "SMTP login, when the server needs one");
  schema.text("smtp_password", &Settings::smtp_password, "", "SMTP password", true);
}

void add_projector(SettingsSchema& schema) {
  schema.text("projector_group", &Settings::projector_group, "tidemark-projector",
              "consumer group the projectors share");
  schema.integer("projector_batch_size", &Settings::projector_batch_size, 500, 1, 100000,
                 "most events applied in one PostgreSQL transaction");
}

}  // namespace

SettingsSchema broker_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_events_topic(schema);
  add_dead_letter(schema);
  add_broker(schema);
  return schema;
}

SettingsSchema migrate_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  return schema;
}

SettingsSchema api_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  add_kafka(schema);
  add_api(schema);
  add_master_key(schema);
  add_accounts(schema);
  return schema;
}

SettingsSchema projector_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  add_kafka(schema);
  add_dead_letter(schema);
  add_projector(schema);
  add_master_key(schema);
  return schema;
}

SettingsSchema inference_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  add_kafka(schema);
  add_dead_letter(schema);
  add_inference(schema);
  add_allow_internal_urls(schema);
  return schema;
}

SettingsSchema mailer_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  add_kafka(schema);
  add_master_key(schema);
  add_mailer(schema);
  schema.integer("projector_batch_size", &Settings::projector_batch_size, 500, 1, 100000,
                 "most events handled in one PostgreSQL transaction");
  return schema;
}

SettingsSchema create_admin_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  add_kafka(schema);
  add_master_key(schema);
  schema.text("username", &Settings::username, "", "the admin's username (required)");
  schema.text("email", &Settings::email, "", "the admin's email address");
  schema.text("full_name", &Settings::full_name, "", "the admin's full name");
  schema.text("password", &Settings::password, "",
              "the admin's password; empty means read one line from standard input", true);
  schema.integer("min_password_length", &Settings::min_password_length, 8, 5, 128,
                 "shortest password accepted");
  return schema;
}

SettingsSchema dev_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  add_kafka(schema);
  add_dead_letter(schema);
  add_broker(schema);
  schema.integer("postgres_port", &Settings::postgres_port, 0, 0, 65535,
                 "port of the local PostgreSQL that dev starts; 0 picks a free one");
  add_api(schema);
  add_projector(schema);
  add_master_key(schema);
  add_accounts(schema);
  add_mailer(schema);
  add_inference(schema);
  return schema;
}

namespace {

void add_log_filters(SettingsSchema& schema) {
  schema.text("event_types", &Settings::event_types, "",
              "comma-separated event types to keep, e.g. tidemark.recording.created.v1; empty "
              "keeps all");
  schema.text("from_time", &Settings::from_time, "", "keep events at or after this RFC 3339 time");
  schema.text("to_time", &Settings::to_time, "", "keep events at or before this RFC 3339 time");
  schema.text("from_position", &Settings::from_position, "",
              "start each named partition at an offset: PARTITION:OFFSET[,PARTITION:OFFSET…]");
}

}  // namespace

SettingsSchema rebuild_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  add_kafka(schema);
  add_master_key(schema);
  schema.integer("rebuild_batch_size", &Settings::rebuild_batch_size, 2000, 1, 1000000,
                 "events applied per PostgreSQL transaction while rebuilding");
  schema.choice("verify", &Settings::verify, "true", {"true", "false"},
                "before swapping, compare every rebuilt table with the live one (checksums)");
  schema.choice("swap_when_different", &Settings::swap_when_different, "false", {"false", "true"},
                "swap in rebuilt tables even when they differ from the live ones");
  return schema;
}

SettingsSchema checksum_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  schema.text("schema", &Settings::schema, "public", "PostgreSQL schema of the tables");
  return schema;
}

SettingsSchema replay_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_kafka(schema);
  add_log_filters(schema);
  return schema;
}

SettingsSchema export_schema() {
  SettingsSchema schema;
  add_common(schema);
  add_database(schema);
  add_kafka(schema);
  add_master_key(schema);
  add_log_filters(schema);
  schema.text("user", &Settings::user, "",
              "keep only events about this account or app user id (key, actor, user_id or "
              "owner_id)");
  schema.choice("format", &Settings::format, "jsonl", {"jsonl", "csv"}, "output format");
  schema.choice("decrypt", &Settings::decrypt, "false", {"false", "true"},
                "open sealed personal fields (needs the master key); deleted users stay "
                "shredded, password hashes are never written");
  schema.text("output", &Settings::output, "", "file to write; empty writes to stdout");
  return schema;
}

const std::vector<CommandSchema>& command_schemas() {
  static const std::vector<CommandSchema> commands = {
      {"api", api_schema},         {"projector", projector_schema},
      {"mailer", mailer_schema},   {"inference", inference_schema},
      {"broker", broker_schema},   {"dev", dev_schema},
      {"migrate", migrate_schema}, {"create-admin", create_admin_schema},
      {"rebuild", rebuild_schema}, {"checksum", checksum_schema},
      {"replay", replay_schema},   {"events", export_schema},
  };
  return commands;
}

}  // namespace tidemark::infra
