#pragma once

#include <cmath>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "domain/json.h"
#include "domain/result.h"
#include "workers/runners.h"

// Shared by the runner implementations; not part of the workers' public interface.
namespace tidemark::workers::detail {

/// Writes a finite number; false (and nothing written) for NaN or infinity, which JSON cannot hold.
inline bool write_finite(domain::JsonWriter& writer, double value) {
  if (!std::isfinite(value)) return false;
  writer.Double(value);
  return true;
}

/// Runs `body`, turning an escaping exception (an OpenCV failure, exhausted memory) into an
/// `invalid` error prefixed with `what`, so that `Runner::run` never throws.
template <typename Body>
domain::Result<std::string> guarded(std::string_view what, Body&& body) {
  try {
    return body();
  } catch (const std::exception& error) {
    return domain::invalid(std::string(what) + " failed: " + error.what());
  }
}

/// The `onnx:` runner for the model at `model_path` and its sidecar; the error says why not
/// (load_runner adds the location).
domain::Result<std::unique_ptr<Runner>> load_onnx_runner(const std::filesystem::path& model_path,
                                                         const RunnerSettings& settings);

}  // namespace tidemark::workers::detail
