#pragma once

#include <string>
#include <vector>

namespace tidemark::app {

/// Operators' and analysts' commands on the log and the read models.
int run_rebuild(const std::vector<std::string>& arguments, const char* const* environment);
int run_checksum(const std::vector<std::string>& arguments, const char* const* environment);
int run_replay(const std::vector<std::string>& arguments, const char* const* environment);
int run_events(const std::vector<std::string>& arguments, const char* const* environment);

}  // namespace tidemark::app
