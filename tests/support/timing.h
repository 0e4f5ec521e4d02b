#pragma once

#include <chrono>
#include <string>

namespace tidemark::testing {

/// "took N ms" since `started`, for the line a test prints about what it did.
inline std::string took_since(std::chrono::steady_clock::time_point started) {
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return "took " + std::to_string(elapsed.count()) + " ms";
}

}  // namespace tidemark::testing
