#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infra/config.h"

namespace tidemark::app {

/// Files `tidemark dev` leaves in the data folder so that every other command run from there
/// finds the same stack with no flags.
inline constexpr const char* kDatabaseUrlFile = "database.url";
inline constexpr const char* kBrokerAddressFile = "broker.address";
/// The embedded broker keeps its log here between runs (the mock cluster is memory-only).
inline constexpr const char* kBrokerJournalFile = "broker.journal";
inline constexpr const char* kMasterKeyFile = "master.key";
inline constexpr const char* kTokenKeyFile = "token.key";
inline constexpr const char* kWebhookKeyFile = "webhook.key";

/// Parses a command's settings, or prints help / the error. Returns nullopt when the caller
/// should exit with `exit_code`.
std::optional<infra::Settings> parse_settings(const infra::SettingsSchema& schema,
                                              std::string_view command, std::string_view summary,
                                              const std::vector<std::string>& arguments,
                                              const char* const* environment, int& exit_code,
                                              std::vector<std::string>* positional = nullptr);

std::string read_stack_file(const infra::Settings& settings, const char* name);
void write_stack_file(const infra::Settings& settings, const char* name, const std::string& value);

/// The configured database URL, or the one `tidemark dev` left in the data folder, with the
/// database_ssl* settings added (infra::with_database_tls).
std::string database_url(const infra::Settings& settings);
/// The configured Kafka bootstrap servers, or the embedded broker's address in the data folder.
std::string bootstrap_servers(const infra::Settings& settings);

/// A 32-byte secret from its setting, else from DATA_DIR/`file`. `tidemark dev` creates the
/// file (mode 0600) on first run; other commands require one or the other.
std::string load_secret(const infra::Settings& settings, const std::string& value, const char* file,
                        const char* setting, bool create_if_missing);

/// Runs a command's body: a configuration error prints its message and gives exit code 2, any
/// other failure is logged and gives 1.
int guarded(std::string_view command, const std::function<int()>& body);

}  // namespace tidemark::app
