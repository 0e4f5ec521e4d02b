#pragma once

#include <string>
#include <vector>

namespace tidemark::app {

/// Each role's entry point: arguments after the subcommand, the environment; returns the
/// process exit code. Configuration errors are reported on stderr with exit code 2.
int run_api(const std::vector<std::string>& arguments, const char* const* environment);
int run_projector(const std::vector<std::string>& arguments, const char* const* environment);
int run_mailer(const std::vector<std::string>& arguments, const char* const* environment);
int run_inference(const std::vector<std::string>& arguments, const char* const* environment);
int run_broker(const std::vector<std::string>& arguments, const char* const* environment);
int run_dev(const std::vector<std::string>& arguments, const char* const* environment);
int run_migrate(const std::vector<std::string>& arguments, const char* const* environment);
int run_create_admin(const std::vector<std::string>& arguments, const char* const* environment);
int run_config(const std::vector<std::string>& arguments, const char* const* environment);

/// Blocks SIGINT and SIGTERM in this thread and every thread started after it, so that
/// `wait_for_stop_signal` alone receives them. Call first thing in main.
void block_stop_signals();

}  // namespace tidemark::app
