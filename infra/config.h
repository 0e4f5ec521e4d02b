#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tidemark::infra {

/// A configuration that cannot be used; the message names the setting and the problem.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Every setting of every role. A role reads only those its schema names.
/// Each setting `name_like_this` is the flag `--name-like-this` and the environment variable
/// `TIDEMARK_NAME_LIKE_THIS`; a flag wins over the environment, which wins over the default.
struct Settings {
  std::string data_dir;
  std::string database_url;
  std::string kafka_bootstrap_servers;
  std::string events_topic;
  std::string dead_letter_topic;
  std::int64_t topic_partitions = 0;
  std::int64_t broker_port = 0;
  std::int64_t postgres_port = 0;
  std::string http_host;
  std::int64_t http_port = 0;
  std::int64_t http_threads = 0;
  std::int64_t max_body_bytes = 0;
  std::int64_t max_upload_bytes = 0;
  std::int64_t produce_timeout_ms = 0;
  std::int64_t projection_wait_ms = 0;
  std::int64_t db_pool_size = 0;
  std::int64_t db_queue_limit = 0;
  std::int64_t drain_timeout_ms = 0;
  std::string cors_origins;
  std::string web_dir;
  std::string link_schemes;
  std::string link_hosts;
  std::string allow_internal_urls;
  std::string projector_group;
  std::int64_t projector_batch_size = 0;
  std::string log_level;
  // TLS of the API, the Kafka clients and the PostgreSQL connections.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string kafka_security_protocol;
  std::string kafka_ssl_ca_file;
  std::string kafka_ssl_cert_file;
  std::string kafka_ssl_key_file;
  std::string database_sslmode;
  std::string database_sslrootcert;
  // Accounts and tokens.
  std::string master_key;
  std::string token_signing_key;
  std::string token_issuer;
  std::string token_audience;
  std::int64_t access_token_ttl_s = 0;
  std::int64_t session_ttl_s = 0;
  std::int64_t refresh_reuse_grace_s = 0;
  std::string auth_cookie_name;
  std::string cookie_secure;
  std::string login_error_style;
  std::int64_t min_password_length = 0;
  std::int64_t hash_threads = 0;
  std::int64_t hash_queue_limit = 0;
  std::int64_t rate_limit_window_s = 0;
  std::int64_t login_failures_per_account = 0;
  std::int64_t login_attempts_per_address = 0;
  std::int64_t registrations_per_address = 0;
  // Operations on the log and the read models.
  std::int64_t rebuild_batch_size = 0;
  std::string verify;
  std::string swap_when_different;
  std::string schema;
  std::string event_types;
  std::string from_time;
  std::string to_time;
  std::string from_position;
  std::string user;
  std::string format;
  std::string decrypt;
  std::string output;
  // Inference.
  std::string inference_group;
  std::int64_t inference_batch_size = 0;
  std::string models_dir;
  std::int64_t job_attempts = 0;
  std::int64_t job_backoff_ms = 0;
  std::int64_t job_time_limit_ms = 0;
  std::int64_t max_job_input_bytes = 0;
  std::string webhook_signing_key;
  std::int64_t webhook_attempts = 0;
  std::int64_t webhook_backoff_ms = 0;
  std::string mail_outbox;
  std::string mailer_group;
  std::string smtp_url;
  std::string smtp_from;
  std::string smtp_username;
  std::string smtp_password;
  // `tidemark create-admin`.
  std::string username;
  std::string email;
  std::string full_name;
  std::string password;
};

/// The settings one role accepts, with defaults, bounds and descriptions for `--help`.
class SettingsSchema {
 public:
  struct Entry {
    std::string name;
    std::string default_value;
    std::string description;
    bool secret = false;
    std::function<void(Settings&, const std::string& value)> assign;  // throws ConfigError
  };

  SettingsSchema& text(std::string name, std::string Settings::*field, std::string default_value,
                       std::string description, bool secret = false);
  SettingsSchema& integer(std::string name, std::int64_t Settings::*field,
                          std::int64_t default_value, std::int64_t min, std::int64_t max,
                          std::string description);
  /// One of a fixed set of words.
  SettingsSchema& choice(std::string name, std::string Settings::*field, std::string default_value,
                         std::vector<std::string> allowed, std::string description);

  /// Reads `--name value` / `--name=value` flags and `TIDEMARK_*` variables. Unknown flags,
  /// bad values and stray arguments are ConfigErrors. `positional` receives bare arguments
  /// when given; otherwise they are errors.
  Settings parse(const std::vector<std::string>& arguments, const char* const* environment,
                 std::vector<std::string>* positional = nullptr) const;

  /// The `--help` table: flag, environment variable, default and description per setting.
  std::string help(std::string_view command, std::string_view summary) const;
  /// `name = value` lines with secrets masked, for `tidemark config`.
  std::string describe(const Settings& settings) const;

  const std::vector<Entry>& entries() const { return entries_; }

  static std::string flag_name(std::string_view name);
  static std::string environment_name(std::string_view name);

 private:
  std::vector<Entry> entries_;
  std::vector<std::function<std::string(const Settings&)>> readers_;
};

/// The schemas of the roles, built from shared groups so a setting means the same everywhere.
SettingsSchema broker_schema();
SettingsSchema migrate_schema();
SettingsSchema api_schema();
SettingsSchema projector_schema();
SettingsSchema inference_schema();
SettingsSchema dev_schema();
SettingsSchema rebuild_schema();
SettingsSchema checksum_schema();
SettingsSchema replay_schema();
SettingsSchema export_schema();
SettingsSchema create_admin_schema();
SettingsSchema mailer_schema();

/// Every command that takes settings, with its schema: what `tidemark config COMMAND` prints
/// and what the README's configuration table must name (tests/unit/docs_test.cpp).
struct CommandSchema {
  std::string_view command;  ///< as typed after `tidemark` (`events` for `events export`)
  SettingsSchema (*make)();
};
const std::vector<CommandSchema>& command_schemas();

/// Masks the password of a URL for logs and `--help`: in the authority
/// (`postgresql://user:password@host/db`, `smtp://user:password@host`) and in the query
/// parameters `password` and `sslpassword` that libpq also reads.
std::string mask_url_password(std::string_view url);

}  // namespace tidemark::infra
