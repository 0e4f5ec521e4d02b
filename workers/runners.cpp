#include "workers/runners.h"

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <system_error>
#include <vector>

#include "domain/json.h"
#include "workers/media_decoding.h"
#include "workers/runner_support.h"

namespace tidemark::workers {

using domain::invalid;
using domain::Result;

namespace {

constexpr std::string_view kSummaryLocation = "builtin:summary";
constexpr std::string_view kFaceDetectionLocation = "builtin:face-detection";
constexpr std::string_view kOnnxScheme = "onnx:";
constexpr const char* kFaceCascade = "haarcascade_frontalface_default.xml";

std::string finish(const rapidjson::StringBuffer& buffer) {
  return {buffer.GetString(), buffer.GetSize()};
}

// ---------------------------------------------------------------------------------------------
// builtin:summary

/// `{"kind":"audio",…}`: format, duration, and RMS, peak and zero-crossing rate over every
/// sample of every channel.
Result<std::string> summarize_audio(std::string_view content) {
  auto parsed = parse_wav(content);
  if (!parsed) return parsed.error();
  const WavAudio& audio = *parsed;
  const std::size_t frames = audio.frames();
  const std::size_t channels = audio.channels();
  double sum_of_squares = 0;
  double peak = 0;
  std::size_t crossings = 0;
  for (std::size_t frame = 0; frame < frames; ++frame) {
    for (std::size_t channel = 0; channel < channels; ++channel) {
      double sample = audio.sample(frame, channel);
      sum_of_squares += sample * sample;
      peak = std::max(peak, std::abs(sample));
      if (frame > 0 && (sample >= 0) != (audio.sample(frame - 1, channel) >= 0)) ++crossings;
    }
  }
  const double samples = static_cast<double>(frames * channels);
  const double rms = frames == 0 ? 0.0 : std::sqrt(sum_of_squares / samples);
  const double zero_crossing_rate =
      frames < 2 ? 0.0
                 : static_cast<double>(crossings) /
                       (static_cast<double>(frames - 1) * static_cast<double>(channels));

  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("kind");
  writer.String("audio");
  writer.Key("encoding");
  writer.String(audio.encoding() == WavAudio::Encoding::ieee_float ? "float" : "pcm");
  writer.Key("bits_per_sample");
  writer.Uint(audio.bits_per_sample());
  writer.Key("sample_rate");
  writer.Uint(audio.sample_rate());
  writer.Key("channels");
  writer.Uint(audio.channels());
  writer.Key("frames");
  writer.Uint64(frames);
  writer.Key("duration_seconds");
  writer.Double(audio.duration_seconds());
  writer.Key("rms");
  bool finite = detail::write_finite(writer, rms);
  writer.Key("peak");
  finite = finite && detail::write_finite(writer, peak);
  writer.Key("zero_crossing_rate");
  writer.Double(zero_crossing_rate);
  writer.EndObject();
  if (!finite) return invalid("WAV float samples are too large to summarise");
  return finish(buffer);
}

/// `{"kind":"sensor","channels":{NAME:{"count","mean","std","min","max"}}}`, std being the
/// population standard deviation.
Result<std::string> summarize_sensor(std::string_view content) {
  auto channels = read_sensor_json(content);
  if (!channels) return channels.error();
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("kind");
  writer.String("sensor");
  writer.Key("channels");
  writer.StartObject();
  for (const auto& channel : *channels) {
    // Welford's running mean and sum of squared deviations.
    double mean = 0;
    double squared_deviations = 0;
    std::size_t count = 0;
    for (double value : channel.values) {
      ++count;
      double delta = value - mean;
      mean += delta / static_cast<double>(count);
      squared_deviations += delta * (value - mean);
    }
    const double std_deviation = std::sqrt(squared_deviations / static_cast<double>(count));
    const auto [low, high] = std::minmax_element(channel.values.begin(), channel.values.end());
    domain::write_string(writer, channel.name);
    writer.StartObject();
    writer.Key("count");
    writer.Uint64(count);
    writer.Key("mean");
    bool finite = detail::write_finite(writer, mean);
    writer.Key("std");
    finite = finite && detail::write_finite(writer, std_deviation);
    if (!finite) {
      return invalid("sensor channel '" + channel.name + "' has values too large to summarise");
    }
    writer.Key("min");
    writer.Double(*low);
    writer.Key("max");
    writer.Double(*high);
    writer.EndObject();
  }
  writer.EndObject();
  writer.EndObject();
  return finish(buffer);
}

class SummaryRunner final : public Runner {
 public:
  Result<std::string> run(const RecordingInput& input) override {
    return detail::guarded(kSummaryLocation, [&]() -> Result<std::string> {
      std::string type = media_type_essence(input.content_type);
      if (is_wav_media_type(type)) return summarize_audio(input.content);
      if (is_json_media_type(type)) return summarize_sensor(input.content);
      return invalid("builtin:summary reads audio/wav or application/json, not '" +
                     input.content_type + "'");
    });
  }
};

// ---------------------------------------------------------------------------------------------
// builtin:face-detection

/// Frontal faces found by OpenCV's Haar cascade, in pixels of the image as uploaded.
class FaceDetectionRunner final : public Runner {
 public:
  /// Images are scanned at most this wide and high (shrunk, keeping their aspect): the cascade's
  /// cost grows with the pixel count, and faces smaller than what remains are not sought.
  static constexpr int kMaxScanSide = 1024;
  /// The smallest face sought, in pixels of the scanned image.
  static constexpr int kMinFaceSide = 30;

  // OpenCV's classes share their implementation when copied.
  FaceDetectionRunner(const cv::CascadeClassifier& classifier, std::size_t max_pixels)
      : classifier_(classifier), max_pixels_(max_pixels) {}

  Result<std::string> run(const RecordingInput& input) override {
    return detail::guarded(kFaceDetectionLocation, [&]() -> Result<std::string> {
      if (!is_image_media_type(media_type_essence(input.content_type))) {
        return invalid("builtin:face-detection reads images (PNG, JPEG, BMP), not '" +
                       input.content_type + "'");
      }
      auto image = decode_image(input.content, max_pixels_);
      if (!image) return image.error();
      return detect(image.value());
    });
  }

 private:
  Result<std::string> detect(DecodedImage& image) {
    cv::Mat rgb(image.height, image.width, CV_8UC3, image.pixels.data());
    cv::Mat gray;
    cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
    const double scale =
        std::min(1.0, static_cast<double>(kMaxScanSide) / std::max(image.width, image.height));
    if (scale < 1.0) {
      cv::Mat shrunk;
      cv::resize(gray, shrunk, cv::Size(), scale, scale, cv::INTER_AREA);
      gray = shrunk;
    }
    cv::equalizeHist(gray, gray);
    std::vector<cv::Rect> faces;
    classifier_.detectMultiScale(gray, faces, /*scaleFactor=*/1.1, /*minNeighbors=*/5,
                                 /*flags=*/0, cv::Size(kMinFaceSide, kMinFaceSide));
    std::sort(faces.begin(), faces.end(), [](const cv::Rect& a, const cv::Rect& b) {
      return std::tie(a.y, a.x, a.width) < std::tie(b.y, b.x, b.width);
    });

    rapidjson::StringBuffer buffer;
    domain::JsonWriter writer(buffer);
    writer.StartObject();
    writer.Key("kind");
    writer.String("faces");
    writer.Key("width");
    writer.Int(image.width);
    writer.Key("height");
    writer.Int(image.height);
    writer.Key("faces");
    writer.StartArray();
    const cv::Rect bounds(0, 0, image.width, image.height);
    for (const auto& face : faces) {
      auto to_image = [&](int value) { return static_cast<int>(std::lround(value / scale)); };
      cv::Rect box = cv::Rect(to_image(face.x), to_image(face.y), to_image(face.width),
                              to_image(face.height)) &
                     bounds;
      writer.StartObject();
      writer.Key("x");
      writer.Int(box.x);
      writer.Key("y");
      writer.Int(box.y);
      writer.Key("width");
      writer.Int(box.width);
      writer.Key("height");
      writer.Int(box.height);
      writer.EndObject();
    }
    writer.EndArray();
    writer.Key("count");
    writer.Uint64(faces.size());
    writer.EndObject();
    return finish(buffer);
  }

  cv::CascadeClassifier classifier_;
  std::size_t max_pixels_;
};

Result<std::unique_ptr<Runner>> load_face_detection(const RunnerSettings& settings) {
  const std::filesystem::path path = settings.cascades_dir / kFaceCascade;
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return invalid("the face cascade " + path.string() +
                   " is missing (Debian package opencv-data)");
  }
  cv::CascadeClassifier classifier;
  try {
    if (!classifier.load(path.string()) || classifier.empty()) {
      return invalid("OpenCV cannot read the face cascade " + path.string());
    }
  } catch (const cv::Exception& failure) {
    return invalid("OpenCV cannot read the face cascade " + path.string() + ": " + failure.err);
  }
  return std::unique_ptr<Runner>(
      std::make_unique<FaceDetectionRunner>(classifier, settings.max_pixels));
}

Result<std::unique_ptr<Runner>> load_any(std::string_view location,
                                         const RunnerSettings& settings) {
  if (location == kSummaryLocation)
    return std::unique_ptr<Runner>(std::make_unique<SummaryRunner>());
  if (location == kFaceDetectionLocation) return load_face_detection(settings);
  if (location.starts_with("builtin:")) {
    return invalid(
        "there is no such builtin model (known: builtin:summary, "
        "builtin:face-detection)");
  }
  if (location.starts_with(kOnnxScheme)) {
    std::filesystem::path path(location.substr(kOnnxScheme.size()));
    if (path.empty()) return invalid("the onnx: location names no file");
    if (path.is_relative()) path = settings.models_dir / path;
    return detail::load_onnx_runner(path, settings);
  }
  return invalid("the location scheme is unknown (expected builtin:NAME or onnx:PATH)");
}

}  // namespace

Result<std::unique_ptr<Runner>> load_runner(std::string_view location,
                                            const RunnerSettings& settings) {
  Result<std::unique_ptr<Runner>> loaded = invalid("not loaded");
  try {
    loaded = load_any(location, settings);
  } catch (const std::exception& error) {
    loaded = invalid(error.what());
  }
  if (loaded) return loaded;
  return domain::Error{
      domain::ErrorKind::unavailable,
      "cannot load model '" + std::string(location) + "': " + loaded.error().message};
}

}  // namespace tidemark::workers
