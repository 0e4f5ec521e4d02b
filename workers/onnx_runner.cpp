// The `onnx:` runner: a model OpenCV's dnn module imports, fed as its sidecar declares.
//
// Sidecar: the model's path with the extension replaced by `.json` (models/color/model.onnx ->
// models/color/model.json), one JSON object; unknown fields are errors. docs/adding-a-model.md
// describes it for model authors.
//
//   {
//     "input": INPUT,                 // how a recording becomes the model's input tensor
//     "labels": ["red", ...],         // one distinct name per output value, in output order
//     "output": "scores"              // "scores": the outputs are reported as they are (a model
//   }                                 //   ending in Softmax); "softmax": softmax is applied first
//
// INPUT is one of:
//   {"kind": "image",                 // image/* recordings (PNG, JPEG, BMP)
//    "width": 32, "height": 32,       // resized to exactly this (aspect not kept), 1..4096
//    "channels": 3,                   // 3 or 1
//    "color": "RGB",                  // channel order: "RGB" or "BGR" (3 channels), "GRAY" (1)
//    "layout": "NCHW",                // tensor [1,C,H,W], or "NHWC" for [1,H,W,C]
//    "scale": 0.00392156862745098,    // optional, default 1: value = (pixel * scale - mean) / std
//    "mean": [0, 0, 0],               // optional, one per channel, default 0
//    "std": [1, 1, 1]}                // optional, one per channel, non-zero, default 1
//   {"kind": "sensor",                // application/json sensor data (see read_sensor_json)
//    "length": 128,                   // values per channel: shorter series are padded with 0,
//                                     //   longer ones cut to their first `length` values
//    "channels": ["x", "y", "z"]}     // optional: the channels, in tensor order -> [1,C,length];
//                                     //   without it the data must have one channel -> [1,length]
//   {"kind": "audio",                 // audio/wav recordings
//    "length": 16000,                 // samples of the first channel, scaled to [-1,1], padded
//                                     //   with 0 or cut -> tensor [1,length]
//    "sample_rate": 16000}            // optional: recordings at another rate are refused

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>
#include <system_error>
#include <variant>
#include <vector>

#include "domain/json.h"
#include "workers/media_decoding.h"
#include "workers/runner_support.h"

namespace tidemark::workers::detail {

using domain::invalid;
using domain::Result;

namespace {

constexpr std::uintmax_t kMaxSidecarBytes = 1 << 20;
constexpr int kMaxImageSide = 4096;
constexpr long long kMaxSeriesLength = 10'000'000;
constexpr std::size_t kMaxLabels = 100'000;
constexpr std::size_t kMaxLabelBytes = 256;

struct ImageInput {
  enum class Color { rgb, bgr, gray };
  int width = 0;
  int height = 0;
  int channels = 3;
  Color color = Color::rgb;
  bool channels_first = true;  ///< NCHW rather than NHWC
  double scale = 1;
  std::vector<double> mean;
  std::vector<double> std;
};

struct SensorInput {
  int length = 0;
  std::vector<std::string> channels;  ///< empty: the data's only channel
};

struct AudioInput {
  int length = 0;
  std::optional<std::uint32_t> sample_rate;
};

struct Sidecar {
  std::variant<ImageInput, SensorInput, AudioInput> input;
  std::vector<std::string> labels;
  bool apply_softmax = false;
};

/// Reads one sidecar object's fields by name, remembering the first problem; fields never asked
/// for are reported as unknown by `finish`.
class FieldReader {
 public:
  FieldReader(const rapidjson::Value& object, std::string prefix)
      : object_(object), prefix_(std::move(prefix)) {}

  const rapidjson::Value* get(std::string_view name, bool required) {
    known_.emplace(name);
    auto member =
        object_.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
    if (member == object_.MemberEnd()) {
      if (required) fail("'" + path(name) + "' is required");
      return nullptr;
    }
    return &member->value;
  }

  std::optional<std::string> string(std::string_view name, bool required) {
    const rapidjson::Value* value = get(name, required);
    if (!value) return std::nullopt;
    if (!value->IsString()) return fail("'" + path(name) + "' must be a string");
    return std::string(value->GetString(), value->GetStringLength());
  }

  std::optional<double> number(std::string_view name, bool required) {
    const rapidjson::Value* value = get(name, required);
    if (!value) return std::nullopt;
    if (!value->IsNumber()) return fail("'" + path(name) + "' must be a number");
    return value->GetDouble();
  }

  std::optional<long long> integer(std::string_view name, bool required, long long min,
                                   long long max) {
    const rapidjson::Value* value = get(name, required);
    if (!value) return std::nullopt;
    if (!value->IsInt64() || value->GetInt64() < min || value->GetInt64() > max) {
      return fail("'" + path(name) + "' must be an integer from " + std::to_string(min) + " to " +
                  std::to_string(max));
    }
    return value->GetInt64();
  }

  std::optional<std::vector<double>> numbers(std::string_view name, bool required) {
    const rapidjson::Value* value = get(name, required);
    if (!value) return std::nullopt;
    std::vector<double> numbers;
    if (value->IsArray()) {
      for (const auto& item : value->GetArray()) {
        if (!item.IsNumber()) break;
        numbers.push_back(item.GetDouble());
      }
    }
    if (!value->IsArray() || numbers.size() != value->Size()) {
      return fail("'" + path(name) + "' must be an array of numbers");
    }
    return numbers;
  }

  std::optional<std::vector<std::string>> strings(std::string_view name, bool required) {
    const rapidjson::Value* value = get(name, required);
    if (!value) return std::nullopt;
    std::vector<std::string> strings;
    if (value->IsArray()) {
      for (const auto& item : value->GetArray()) {
        if (!item.IsString()) break;
        strings.emplace_back(item.GetString(), item.GetStringLength());
      }
    }
    if (!value->IsArray() || strings.size() != value->Size()) {
      return fail("'" + path(name) + "' must be an array of strings");
    }
    return strings;
  }

  /// Records a problem with the sidecar (the first one wins); returns nothing for convenience.
  std::nullopt_t fail(std::string message) {
    if (!error_) error_ = std::move(message);
    return std::nullopt;
  }

  std::string path(std::string_view name) const {
    return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
  }

  /// The first problem, or the first field no call asked for.
  std::optional<std::string> finish() const {
    if (error_) return error_;
    for (const auto& member : object_.GetObject()) {
      std::string_view name(member.name.GetString(), member.name.GetStringLength());
      if (!known_.contains(name)) return "unknown field '" + path(name) + "'";
    }
    return std::nullopt;
  }

 private:
  const rapidjson::Value& object_;
  std::string prefix_;
  std::set<std::string, std::less<>> known_;
  std::optional<std::string> error_;
};

/// Reads "mean" or "std": one value per channel, or the default for each when absent.
std::vector<double> per_channel(FieldReader& fields, std::string_view name, int channels,
                                double fallback) {
  auto values = fields.numbers(name, false);
  if (!values) return std::vector<double>(channels, fallback);
  if (values->size() != static_cast<std::size_t>(channels)) {
    fields.fail("'" + fields.path(name) + "' must have one value per channel (" +
                std::to_string(channels) + ")");
  }
  return *values;
}

ImageInput read_image_input(FieldReader& fields) {
  ImageInput image;
  image.width = static_cast<int>(fields.integer("width", true, 1, kMaxImageSide).value_or(1));
  image.height = static_cast<int>(fields.integer("height", true, 1, kMaxImageSide).value_or(1));
  image.channels = static_cast<int>(fields.integer("channels", true, 1, 3).value_or(3));
  if (image.channels == 2) fields.fail("'input.channels' must be 1 or 3");
  auto color = fields.string("color", false).value_or(image.channels == 1 ? "GRAY" : "RGB");
  if (color == "RGB") {
    image.color = ImageInput::Color::rgb;
  } else if (color == "BGR") {
    image.color = ImageInput::Color::bgr;
  } else if (color == "GRAY") {
    image.color = ImageInput::Color::gray;
  } else {
    fields.fail("'input.color' must be \"RGB\", \"BGR\" or \"GRAY\"");
  }
  if ((image.color == ImageInput::Color::gray) != (image.channels == 1)) {
    fields.fail("'input.color' \"GRAY\" goes with 1 channel, \"RGB\" and \"BGR\" with 3");
  }
  auto layout = fields.string("layout", false).value_or("NCHW");
  if (layout != "NCHW" && layout != "NHWC") {
    fields.fail("'input.layout' must be \"NCHW\" or \"NHWC\"");
  }
  image.channels_first = layout == "NCHW";
  image.scale = fields.number("scale", false).value_or(1.0);
  image.mean = per_channel(fields, "mean", image.channels, 0.0);
  image.std = per_channel(fields, "std", image.channels, 1.0);
  if (std::find(image.std.begin(), image.std.end(), 0.0) != image.std.end()) {
    fields.fail("'input.std' values must not be 0");
  }
  return image;
}

SensorInput read_sensor_input(FieldReader& fields) {
  SensorInput sensor;
  sensor.length = static_cast<int>(fields.integer("length", true, 1, kMaxSeriesLength).value_or(1));
  sensor.channels = fields.strings("channels", false).value_or(std::vector<std::string>{});
  if (fields.get("channels", false) && sensor.channels.empty()) {
    fields.fail("'input.channels' must name at least one channel");
  }
  return sensor;
}

AudioInput read_audio_input(FieldReader& fields) {
  AudioInput audio;
  audio.length = static_cast<int>(fields.integer("length", true, 1, kMaxSeriesLength).value_or(1));
  if (auto rate = fields.integer("sample_rate", false, 1, 10'000'000)) {
    audio.sample_rate = static_cast<std::uint32_t>(*rate);
  }
  return audio;
}

Result<std::string> read_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  if (error) return invalid("cannot read " + path.string() + ": " + error.message());
  if (size > max_bytes) {
    return invalid(path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::ifstream file(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!file) return invalid("cannot read " + path.string());
  return text;
}

Result<Sidecar> read_sidecar(const std::filesystem::path& path) {
  std::error_code exists_error;
  if (!std::filesystem::is_regular_file(path, exists_error)) {
    return invalid("its sidecar " + path.string() +
                   " is missing (every onnx: model needs one; see docs/adding-a-model.md)");
  }
  auto text = read_file(path, kMaxSidecarBytes);
  if (!text) return text.error();
  auto document = domain::parse_json_object(*text, "the sidecar " + path.string());
  if (!document) return document.error();

  auto problem = [&](const std::string& message) {
    return invalid("the sidecar " + path.string() + " is wrong: " + message);
  };
  Sidecar sidecar;
  FieldReader fields(*document, "");
  if (const rapidjson::Value* input = fields.get("input", true)) {
    if (!input->IsObject()) return problem("'input' must be an object");
    FieldReader input_fields(*input, "input");
    auto kind = input_fields.string("kind", true);
    if (kind == "image") {
      sidecar.input = read_image_input(input_fields);
    } else if (kind == "sensor") {
      sidecar.input = read_sensor_input(input_fields);
    } else if (kind == "audio") {
      sidecar.input = read_audio_input(input_fields);
    } else if (kind) {
      input_fields.fail("'input.kind' must be \"image\", \"sensor\" or \"audio\"");
    }
    if (auto error = input_fields.finish()) return problem(*error);
  }
  sidecar.labels = fields.strings("labels", true).value_or(std::vector<std::string>{});
  std::set<std::string> distinct;
  for (const auto& label : sidecar.labels) {
    if (label.empty() || label.size() > kMaxLabelBytes || label.find('\0') != std::string::npos) {
      fields.fail("each label must have 1 to " + std::to_string(kMaxLabelBytes) +
                  " bytes and no NUL character");
    }
    if (!distinct.insert(label).second) fields.fail("label '" + label + "' appears twice");
  }
  if (fields.get("labels", false) &&
      (sidecar.labels.empty() || sidecar.labels.size() > kMaxLabels)) {
    fields.fail("'labels' must list 1 to " + std::to_string(kMaxLabels) + " names");
  }
  auto output = fields.string("output", true);
  if (output == "softmax") {
    sidecar.apply_softmax = true;
  } else if (output && output != "scores") {
    fields.fail("'output' must be \"scores\" or \"softmax\"");
  }
  if (auto error = fields.finish()) return problem(*error);
  return sidecar;
}

/// Shapes the tensor for one input declaration, zero-filled.
cv::Mat make_input_tensor(const Sidecar& sidecar) {
  return std::visit(
      [](const auto& input) -> cv::Mat {
        using Input = std::decay_t<decltype(input)>;
        if constexpr (std::is_same_v<Input, ImageInput>) {
          std::vector<int> shape =
              input.channels_first ? std::vector<int>{1, input.channels, input.height, input.width}
                                   : std::vector<int>{1, input.height, input.width, input.channels};
          return cv::Mat(shape, CV_32F, cv::Scalar(0));
        } else if constexpr (std::is_same_v<Input, SensorInput>) {
          if (input.channels.empty()) return cv::Mat(1, input.length, CV_32F, cv::Scalar(0));
          return cv::Mat(std::vector<int>{1, static_cast<int>(input.channels.size()), input.length},
                         CV_32F, cv::Scalar(0));
        } else {
          return cv::Mat(1, input.length, CV_32F, cv::Scalar(0));
        }
      },
      sidecar.input);
}

/// Writes the float shortest-round-trip, so that 0.97f prints as 0.97.
void write_float(domain::JsonWriter& writer, float value) {
  char text[32];
  auto [end, error] = std::to_chars(std::begin(text), std::end(text), value);
  writer.RawValue(text, static_cast<std::size_t>(end - text), rapidjson::kNumberType);
}

class OnnxRunner final : public Runner {
 public:
  // OpenCV's classes share their implementation when copied.
  OnnxRunner(const cv::dnn::Net& net, Sidecar sidecar, std::string name, std::size_t max_pixels)
      : net_(net), sidecar_(std::move(sidecar)), name_(std::move(name)), max_pixels_(max_pixels) {}

  Result<std::string> run(const RecordingInput& input) override {
    return guarded(name_, [&]() -> Result<std::string> {
      cv::Mat tensor = make_input_tensor(sidecar_);
      auto filled = std::visit([&](const auto& declared) { return fill(declared, input, tensor); },
                               sidecar_.input);
      if (filled) return *filled;
      auto scores = infer(tensor);
      if (!scores) return scores.error();
      return render(*scores);
    });
  }

  /// Runs the model on `tensor`: its scores, as many as there are labels.
  Result<std::vector<float>> infer(const cv::Mat& tensor) {
    net_.setInput(tensor);
    cv::Mat output = net_.forward();
    if (output.type() != CV_32F) return invalid("the model's output is not float32");
    if (output.total() != sidecar_.labels.size()) {
      return invalid("the model gives " + std::to_string(output.total()) +
                     " output values but the sidecar lists " +
                     std::to_string(sidecar_.labels.size()) + " labels");
    }
    cv::Mat contiguous = output.isContinuous() ? output : output.clone();
    const auto* values = contiguous.ptr<float>();
    std::vector<float> scores(values, values + contiguous.total());
    if (sidecar_.apply_softmax) {
      const float top = *std::max_element(scores.begin(), scores.end());
      double sum = 0;
      for (float& score : scores) {
        score = std::exp(score - top);
        sum += score;
      }
      for (float& score : scores) score = static_cast<float>(score / sum);
    }
    for (float score : scores) {
      if (!std::isfinite(score)) return invalid("the model gave a score that is not a number");
    }
    return scores;
  }

 private:
  std::optional<domain::Error> fill(const ImageInput& declared, const RecordingInput& input,
                                    cv::Mat& tensor) const {
    if (!is_image_media_type(media_type_essence(input.content_type))) {
      return invalid("this model reads images (PNG, JPEG, BMP), not '" + input.content_type + "'");
    }
    auto decoded = decode_image(input.content, max_pixels_);
    if (!decoded) return decoded.error();
    DecodedImage& image = decoded.value();
    cv::Mat pixels(image.height, image.width, CV_8UC3, image.pixels.data());
    if (declared.color == ImageInput::Color::gray) {
      cv::cvtColor(pixels, pixels, cv::COLOR_RGB2GRAY);
    } else if (declared.color == ImageInput::Color::bgr) {
      cv::cvtColor(pixels, pixels, cv::COLOR_RGB2BGR);
    }
    const cv::Size size(declared.width, declared.height);
    if (pixels.size() != size) {
      const bool shrinking = pixels.cols > size.width || pixels.rows > size.height;
      cv::resize(pixels, pixels, size, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
    }
    float* out = tensor.ptr<float>();
    const int channels = declared.channels;
    for (int y = 0; y < declared.height; ++y) {
      const std::uint8_t* row = pixels.ptr<std::uint8_t>(y);
      for (int x = 0; x < declared.width; ++x) {
        for (int c = 0; c < channels; ++c) {
          const double value =
              (row[x * channels + c] * declared.scale - declared.mean[c]) / declared.std[c];
          const std::size_t index =
              declared.channels_first
                  ? (static_cast<std::size_t>(c) * declared.height + y) * declared.width + x
                  : (static_cast<std::size_t>(y) * declared.width + x) * channels + c;
          out[index] = static_cast<float>(value);
        }
      }
    }
    return std::nullopt;
  }

  std::optional<domain::Error> fill(const SensorInput& declared, const RecordingInput& input,
                                    cv::Mat& tensor) const {
    if (!is_json_media_type(media_type_essence(input.content_type))) {
      return invalid("this model reads sensor data as application/json, not '" +
                     input.content_type + "'");
    }
    auto channels = read_sensor_json(input.content);
    if (!channels) return channels.error();
    std::vector<const SensorChannel*> chosen;
    if (declared.channels.empty()) {
      if (channels->size() != 1) {
        return invalid("this model reads one sensor channel, the data has " +
                       std::to_string(channels->size()));
      }
      chosen.push_back(&channels->front());
    }
    for (const auto& name : declared.channels) {
      auto found = std::find_if(channels->begin(), channels->end(),
                                [&](const SensorChannel& channel) { return channel.name == name; });
      if (found == channels->end()) return invalid("the sensor data has no channel '" + name + "'");
      chosen.push_back(&*found);
    }
    float* out = tensor.ptr<float>();
    for (std::size_t c = 0; c < chosen.size(); ++c) {
      const auto& values = chosen[c]->values;
      const std::size_t used = std::min(values.size(), static_cast<std::size_t>(declared.length));
      for (std::size_t i = 0; i < used; ++i) {
        out[c * declared.length + i] = static_cast<float>(values[i]);
      }
    }
    return std::nullopt;
  }

  std::optional<domain::Error> fill(const AudioInput& declared, const RecordingInput& input,
                                    cv::Mat& tensor) const {
    if (!is_wav_media_type(media_type_essence(input.content_type))) {
      return invalid("this model reads audio/wav, not '" + input.content_type + "'");
    }
    auto audio = parse_wav(input.content);
    if (!audio) return audio.error();
    if (declared.sample_rate && audio->sample_rate() != *declared.sample_rate) {
      return invalid("this model reads audio at " + std::to_string(*declared.sample_rate) +
                     " Hz, the recording is at " + std::to_string(audio->sample_rate()) + " Hz");
    }
    float* out = tensor.ptr<float>();
    const std::size_t used = std::min(audio->frames(), static_cast<std::size_t>(declared.length));
    for (std::size_t i = 0; i < used; ++i) out[i] = static_cast<float>(audio->sample(i, 0));
    return std::nullopt;
  }

  Result<std::string> render(const std::vector<float>& scores) const {
    const auto best = static_cast<std::size_t>(
        std::distance(scores.begin(), std::max_element(scores.begin(), scores.end())));
    rapidjson::StringBuffer buffer;
    domain::JsonWriter writer(buffer);
    writer.StartObject();
    writer.Key("kind");
    writer.String("classification");
    writer.Key("label");
    domain::write_string(writer, sidecar_.labels[best]);
    writer.Key("score");
    write_float(writer, scores[best]);
    writer.Key("scores");
    writer.StartObject();
    for (std::size_t i = 0; i < scores.size(); ++i) {
      domain::write_string(writer, sidecar_.labels[i]);
      write_float(writer, scores[i]);
    }
    writer.EndObject();
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  cv::dnn::Net net_;
  Sidecar sidecar_;
  std::string name_;
  std::size_t max_pixels_;
};

}  // namespace

Result<std::unique_ptr<Runner>> load_onnx_runner(const std::filesystem::path& model_path,
                                                 const RunnerSettings& settings) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(model_path, error)) {
    return invalid("the model file " + model_path.string() + " does not exist");
  }
  std::filesystem::path sidecar_path = model_path;
  sidecar_path.replace_extension(".json");
  if (sidecar_path == model_path) {
    return invalid("the model file must not end in .json (that name is its sidecar's)");
  }
  auto sidecar = read_sidecar(sidecar_path);
  if (!sidecar) return sidecar.error();

  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(model_path.string());
  } catch (const cv::Exception& failure) {
    return invalid("OpenCV cannot import " + model_path.string() + ": " + failure.err);
  }
  if (net.empty()) return invalid("OpenCV imported no layers from " + model_path.string());
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);

  cv::Mat trial_input = make_input_tensor(*sidecar);
  auto runner = std::make_unique<OnnxRunner>(net, std::move(sidecar).value(),
                                             "onnx:" + model_path.string(), settings.max_pixels);
  // One run on a zero input proves that OpenCV can execute the model on the declared input shape
  // and that it gives one score per label, before any recording depends on it.
  try {
    auto scores = runner->infer(trial_input);
    if (!scores) return invalid("a trial run failed: " + scores.error().message);
  } catch (const cv::Exception& failure) {
    return invalid("OpenCV cannot run " + model_path.string() +
                   " on the input the sidecar "
                   "declares: " +
                   failure.err);
  }
  return std::unique_ptr<Runner>(std::move(runner));
}

}  // namespace tidemark::workers::detail
