#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "app/operations.h"
#include "app/roles.h"

extern char** environ;

namespace {

constexpr const char* kUsage = R"(usage: tidemark COMMAND [options]

Tidemark: an event-sourced backend for machine-learning mobile apps.

Roles:
  api        serve the HTTP API
  projector  apply the event log to the PostgreSQL read models
  mailer     deliver verification and password-reset mail (to an outbox file)
  inference  run models on submitted recordings and call webhooks
  broker     serve an embedded Kafka-protocol broker on loopback, for development and tests
  dev        the whole stack in one process: local PostgreSQL, broker, projector, mailer, API

Administration:
  migrate    apply (up), revert (down [VERSION]) or list (status) schema migrations
  create-admin  make an administrator account (--username, --email, --password or stdin)
  config     print the effective configuration of a command, secrets masked

Operations:
  rebuild    rebuild the read models from the log into a fresh schema, compare, swap in
  checksum   print each read-model table's row count and digest
  replay     print a range of the event log as JSON Lines
  events export  export the event log (JSON Lines or CSV), decrypted for operators

Run `tidemark COMMAND --help` for the settings of each command.
)";

}  // namespace

int main(int argc, char** argv) {
  tidemark::app::block_stop_signals();
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h" ||
      std::string_view(argv[1]) == "help") {
    std::fputs(kUsage, stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  std::vector<std::string> arguments(argv + 2, argv + argc);
  using Role = int (*)(const std::vector<std::string>&, const char* const*);
  const std::pair<const char*, Role> roles[] = {
      {"api", tidemark::app::run_api},           {"projector", tidemark::app::run_projector},
      {"mailer", tidemark::app::run_mailer},     {"inference", tidemark::app::run_inference},
      {"broker", tidemark::app::run_broker},     {"dev", tidemark::app::run_dev},
      {"migrate", tidemark::app::run_migrate},   {"create-admin", tidemark::app::run_create_admin},
      {"config", tidemark::app::run_config},     {"rebuild", tidemark::app::run_rebuild},
      {"checksum", tidemark::app::run_checksum}, {"replay", tidemark::app::run_replay},
      {"events", tidemark::app::run_events},
  };
  for (const auto& [name, run] : roles) {
    if (command == name) return run(arguments, environ);
  }
  std::fprintf(stderr, "tidemark: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
