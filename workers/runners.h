#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "domain/result.h"

namespace tidemark::workers {

/// A recording's bytes as the worker hands them to a model.
struct RecordingInput {
  std::string recording_type;
  /// Media type as uploaded, e.g. "image/png", "audio/wav", "application/json"; parameters
  /// (`; charset=utf-8`) and letter case do not matter.
  std::string content_type;
  std::string_view content;
};

struct RunnerSettings {
  std::filesystem::path models_dir;  ///< where `onnx:` locations are looked up (relative paths)
  std::filesystem::path cascades_dir = "/usr/share/opencv4/haarcascades";
  std::size_t max_pixels = 40'000'000;  ///< decoded images larger than this are refused
};

/// One loaded model; `run` is called for one job at a time (no concurrent calls on one instance).
class Runner {
 public:
  virtual ~Runner() = default;
  /// The output as the text of a JSON object, or an error (kind invalid) naming what is wrong with
  /// the input. Never throws.
  virtual domain::Result<std::string> run(const RecordingInput& input) = 0;
};

/// Picks the runner for an algorithm's `location`: `builtin:summary`, `builtin:face-detection`,
/// `onnx:PATH` (PATH relative to models_dir, or absolute). Loading failure (missing file,
/// unsupported model, unknown location scheme) is an error of kind unavailable whose message says
/// which location and why; never throws, never crashes. See docs/adding-a-model.md.
domain::Result<std::unique_ptr<Runner>> load_runner(std::string_view location,
                                                    const RunnerSettings& settings);

}  // namespace tidemark::workers
