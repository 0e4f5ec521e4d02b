#include "app/command_support.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "infra/database.h"
#include "infra/keyring.h"
#include "infra/log.h"

namespace tidemark::app {

namespace fs = std::filesystem;
using infra::ConfigError;
using infra::Settings;
using infra::SettingsSchema;

/// Parses a role's settings, or prints help / the error. Returns nullopt when the caller
/// should exit with `exit_code`.
std::optional<Settings> parse_settings(const SettingsSchema& schema, std::string_view command,
                                       std::string_view summary,
                                       const std::vector<std::string>& arguments,
                                       const char* const* environment, int& exit_code,
                                       std::vector<std::string>* positional) {
  if (std::find(arguments.begin(), arguments.end(), "--help") != arguments.end() ||
      std::find(arguments.begin(), arguments.end(), "-h") != arguments.end()) {
    std::cout << schema.help(command, summary);
    exit_code = 0;
    return std::nullopt;
  }
  try {
    Settings settings = schema.parse(arguments, environment, positional);
    infra::set_log_level(settings.log_level);
    return settings;
  } catch (const ConfigError& error) {
    std::cerr << "tidemark " << command << ": " << error.what() << "\n";
    exit_code = 2;
    return std::nullopt;
  }
}

std::string read_stack_file(const Settings& settings, const char* name) {
  std::ifstream in(fs::path(settings.data_dir) / name);
  std::string value;
  std::getline(in, value);
  return value;
}

void write_stack_file(const Settings& settings, const char* name, const std::string& value) {
  fs::create_directories(settings.data_dir);
  fs::path path = fs::path(settings.data_dir) / name;
  fs::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary);
    out << value << "\n";
  }
  fs::rename(temporary, path);
}

/// The configured database URL, or the one `tidemark dev` left in the data folder.
std::string database_url(const Settings& settings) {
  std::string url = settings.database_url.empty() ? read_stack_file(settings, kDatabaseUrlFile)
                                                  : settings.database_url;
  if (url.empty()) {
    throw ConfigError(
        "no database: set --database-url (TIDEMARK_DATABASE_URL) or run `tidemark "
        "dev` with data folder " +
        settings.data_dir);
  }
  return infra::with_database_tls(url, settings.database_sslmode, settings.database_sslrootcert);
}

/// The configured Kafka bootstrap servers, or the embedded broker's address in the data folder.
std::string bootstrap_servers(const Settings& settings) {
  if (!settings.kafka_bootstrap_servers.empty()) return settings.kafka_bootstrap_servers;
  std::string address = read_stack_file(settings, kBrokerAddressFile);
  if (address.empty()) {
    throw ConfigError(
        "no Kafka: set --kafka-bootstrap-servers (TIDEMARK_KAFKA_BOOTSTRAP_SERVERS) "
        "or run `tidemark broker` or `tidemark dev` with data folder " +
        settings.data_dir);
  }
  return address;
}

/// A 32-byte secret from its setting, else from DATA_DIR/`file`. `tidemark dev` creates the
/// file (mode 0600) on first run; other roles require one or the other.
std::string load_secret(const Settings& settings, const std::string& value, const char* file,
                        const char* setting, bool create_if_missing) {
  if (!value.empty()) return infra::decode_secret(value, setting);
  fs::path path = fs::path(settings.data_dir) / file;
  if (!fs::exists(path) && create_if_missing) {
    write_stack_file(settings, file, infra::generate_secret());
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  }
  std::string stored = read_stack_file(settings, file);
  if (stored.empty()) {
    throw ConfigError(std::string("no ") + setting + ": set --" +
                      SettingsSchema::flag_name(setting).substr(2) + " (" +
                      SettingsSchema::environment_name(setting) + ") or run `tidemark dev` with " +
                      "data folder " + settings.data_dir);
  }
  return infra::decode_secret(stored, std::string(setting) + " in " + path.string());
}

int guarded(std::string_view command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& error) {
    std::cerr << "tidemark " << command << ": " << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    infra::log_error("fatal", {{"command", command}, {"error", error.what()}});
    return 1;
  }
}

}  // namespace tidemark::app
