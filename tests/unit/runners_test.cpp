#include "workers/runners.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/media.h"

using tidemark::domain::ErrorKind;
using tidemark::testing::bmp_file;
using tidemark::testing::jpeg_file;
using tidemark::testing::Rgb;
using tidemark::testing::rgba_png;
using tidemark::testing::noise_bmp;
using tidemark::testing::plain_bmp;
using tidemark::workers::load_runner;
using tidemark::workers::RecordingInput;
using tidemark::workers::Runner;
using tidemark::workers::RunnerSettings;

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tidemark-runners-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream file(path, std::ios::binary);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(file.good()) << path;
}

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

constexpr const char* kFetchPhotos = TIDEMARK_TEST_IMAGES_DIR
    "/astronaut.png is missing: run scripts/fetch-test-images.sh " TIDEMARK_TEST_IMAGES_DIR
    " (it takes the photo from Debian's python3-skimage package)";

RunnerSettings settings() {
  RunnerSettings settings;
  settings.models_dir = TIDEMARK_MODELS_DIR;
  return settings;
}

std::unique_ptr<Runner> load(std::string_view location, const RunnerSettings& with = settings()) {
  auto runner = load_runner(location, with);
  EXPECT_TRUE(runner.ok()) << runner.error().message;
  if (!runner) return nullptr;
  return std::move(runner).value();
}

/// Runs and parses the output, which must be a JSON object.
rapidjson::Document run_ok(Runner& runner, std::string content_type, std::string_view content) {
  auto output = runner.run({"test", std::move(content_type), content});
  rapidjson::Document document;
  EXPECT_TRUE(output.ok()) << output.error().message;
  if (!output) return document;
  document.Parse(output->c_str());
  EXPECT_FALSE(document.HasParseError()) << *output;
  EXPECT_TRUE(document.IsObject()) << *output;
  return document;
}

/// Runs, expecting an `invalid` error; returns its message.
std::string run_invalid(Runner& runner, std::string content_type, std::string_view content) {
  auto output = runner.run({"test", std::move(content_type), content});
  EXPECT_FALSE(output.ok()) << "unexpected output: " << (output.ok() ? *output : "");
  if (output) return "";
  EXPECT_EQ(output.error().kind, ErrorKind::invalid);
  return output.error().message;
}

/// Runs on a heap copy of exactly `bytes`, so that AddressSanitizer sees any read beyond the end;
/// the result must be an output or an `invalid` error.
void run_exact(Runner& runner, std::string content_type, std::string_view bytes) {
  auto copy = std::make_unique<char[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), copy.get());
  auto output =
      runner.run({"test", std::move(content_type), std::string_view(copy.get(), bytes.size())});
  if (!output) {
    EXPECT_EQ(output.error().kind, ErrorKind::invalid);
  }
}

/// Loads, expecting an `unavailable` error; returns its message.
std::string load_error(std::string_view location, const RunnerSettings& with = settings()) {
  auto runner = load_runner(location, with);
  EXPECT_FALSE(runner.ok()) << location << " loaded";
  if (runner) return "";
  EXPECT_EQ(runner.error().kind, ErrorKind::unavailable);
  EXPECT_NE(runner.error().message.find(location), std::string::npos) << runner.error().message;
  return runner.error().message;
}

void append_u16(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>(value & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
}
void append_u32(std::string& out, std::uint32_t value) {
  append_u16(out, value & 0xffff);
  append_u16(out, value >> 16);
}

// ---------------------------------------------------------------------------------------------
// WAV

constexpr std::uint16_t kPcm = 1;
constexpr std::uint16_t kFloat = 3;

/// A canonical RIFF/WAVE file around `data` (sample bytes, interleaved).
std::string wav_file(std::uint16_t format, std::uint16_t channels, std::uint32_t rate,
                     std::uint16_t bits, const std::string& data) {
  std::string out = "RIFF";
  append_u32(out, static_cast<std::uint32_t>(4 + 8 + 16 + 8 + data.size()));
  out += "WAVEfmt ";
  append_u32(out, 16);
  append_u16(out, format);
  append_u16(out, channels);
  append_u32(out, rate);
  append_u32(out, rate * channels * bits / 8);
  append_u16(out, channels * bits / 8);
  append_u16(out, bits);
  out += "data";
  append_u32(out, static_cast<std::uint32_t>(data.size()));
  return out + data;
}

/// Samples in [-1, 1] encoded as `bits`-bit PCM (8 unsigned, others signed) or 32-bit float.
std::string encode_samples(const std::vector<double>& samples, std::uint16_t format,
                           std::uint16_t bits) {
  std::string data;
  for (double sample : samples) {
    if (format == kFloat) {
      auto value = std::bit_cast<std::uint32_t>(static_cast<float>(sample));
      append_u32(data, value);
    } else if (bits == 8) {
      data.push_back(static_cast<char>(std::lround(sample * 127) + 128));
    } else {
      const double full = std::ldexp(1.0, bits - 1) - 1;
      auto value =
          static_cast<std::uint32_t>(static_cast<std::int32_t>(std::lround(sample * full)));
      for (int byte = 0; byte < bits / 8; ++byte) {
        data.push_back(static_cast<char>((value >> (8 * byte)) & 0xff));
      }
    }
  }
  return data;
}

std::vector<double> sine(double amplitude, double frequency, std::uint32_t rate,
                         std::size_t frames) {
  std::vector<double> samples(frames);
  for (std::size_t i = 0; i < frames; ++i) {
    samples[i] =
        amplitude * std::sin(2 * std::numbers::pi * frequency * static_cast<double>(i) / rate);
  }
  return samples;
}

std::string sine_wav(std::uint16_t format, std::uint16_t bits, double amplitude = 0.5) {
  return wav_file(format, 1, 16000, bits,
                  encode_samples(sine(amplitude, 440, 16000, 16000), format, bits));
}

// ---------------------------------------------------------------------------------------------
// Images

// ---------------------------------------------------------------------------------------------
// Hand-made ONNX models (protobuf written field by field), for the sensor and audio inputs.

void append_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}
std::string field_varint(int number, std::uint64_t value) {
  std::string out;
  append_varint(out, static_cast<std::uint64_t>(number) << 3);
  append_varint(out, value);
  return out;
}
std::string field_bytes(int number, const std::string& bytes) {
  std::string out;
  append_varint(out, (static_cast<std::uint64_t>(number) << 3) | 2);
  append_varint(out, bytes.size());
  return out + bytes;
}

/// ValueInfoProto: a float tensor with a fixed shape.
std::string tensor_info(const std::string& name, std::initializer_list<int> shape) {
  std::string dims;
  for (int dim : shape) dims += field_bytes(1, field_varint(1, static_cast<std::uint64_t>(dim)));
  std::string tensor_type = field_varint(1, 1) + field_bytes(2, dims);  // FLOAT, shape
  return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type));
}

/// A model "x" (shape `input`) -> Flatten(axis=1) [-> Softmax(axis=1)] -> "y" [1, `classes`].
std::string flatten_model(std::initializer_list<int> input, int classes, bool softmax) {
  auto attribute_axis = field_bytes(1, "axis") + field_varint(3, 1) + field_varint(20, 2);
  std::string graph =
      field_bytes(1, field_bytes(1, "x") + field_bytes(2, softmax ? "flat" : "y") +
                         field_bytes(4, "Flatten") + field_bytes(5, attribute_axis));
  if (softmax) {
    graph += field_bytes(1, field_bytes(1, "flat") + field_bytes(2, "y") +
                                field_bytes(4, "Softmax") + field_bytes(5, attribute_axis));
  }
  graph += field_bytes(2, "test") + field_bytes(11, tensor_info("x", input)) +
           field_bytes(12, tensor_info("y", {1, classes}));
  return field_varint(1, 7) + field_bytes(2, "tidemark-test") + field_bytes(7, graph) +
         field_bytes(8, field_varint(2, 13));
}

/// Writes model.onnx and model.json into `dir`; returns the `onnx:` location (absolute).
std::string install_model(const fs::path& dir, const std::string& model, const std::string& sidecar,
                          const std::string& name = "model") {
  write_file(dir / (name + ".onnx"), model);
  write_file(dir / (name + ".json"), sidecar);
  return "onnx:" + (dir / (name + ".onnx")).string();
}

}  // namespace

// =============================================================================================
// Loading

TEST(RunnerLoad, UnknownLocationsAreRefusedByName) {
  EXPECT_NE(load_error("ftp://models/x").find("unknown"), std::string::npos);
  EXPECT_NE(load_error("").find("unknown"), std::string::npos);
  EXPECT_NE(load_error("builtin:nope").find("builtin:summary"), std::string::npos);
  EXPECT_NE(load_error("onnx:").find("names no file"), std::string::npos);
}

TEST(RunnerLoad, MissingOnnxFileIsAnError) {
  auto message = load_error("onnx:nowhere/model.onnx");
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  EXPECT_NE(message.find(std::string(TIDEMARK_MODELS_DIR) + "/nowhere/model.onnx"),
            std::string::npos)
      << message;
}

TEST(RunnerLoad, SidecarProblemsAreErrors) {
  TempDir dir;
  const std::string model = read_file(fs::path(TIDEMARK_MODELS_DIR) / "color/model.onnx");
  ASSERT_FALSE(model.empty());
  const std::string good = read_file(fs::path(TIDEMARK_MODELS_DIR) / "color/model.json");
  EXPECT_TRUE(load_runner(install_model(dir.path(), model, good), settings()).ok());

  write_file(dir.path() / "lonely.onnx", model);
  EXPECT_NE(load_error("onnx:" + (dir.path() / "lonely.onnx").string()).find("sidecar"),
            std::string::npos);

  struct Case {
    std::string sidecar;
    std::string expected;
  };
  const std::string input = R"("input":{"kind":"image","width":32,"height":32,"channels":3})";
  std::vector<Case> cases = {
      {"{", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"labels":["red","green","blue"],"output":"scores"})", "'input' is required"},
      {"{" + input + R"(,"labels":["red","green","blue"],"output":"logits"})", "'output'"},
      {"{" + input + R"(,"labels":["red","green","blue"],"output":"scores","extra":1})",
       "unknown field 'extra'"},
      {"{" + input + R"(,"labels":["red","red","blue"],"output":"scores"})", "appears twice"},
      {"{" + input + R"(,"labels":[],"output":"scores"})", "'labels'"},
      {R"({"input":{"kind":"video"},"labels":["a"],"output":"scores"})", "'input.kind'"},
      {R"({"input":{"kind":"image","width":0,"height":32,"channels":3},"labels":["a"],)"
       R"("output":"scores"})",
       "'input.width'"},
      {R"({"input":{"kind":"image","width":32,"height":32,"channels":3,"mean":[0]},)"
       R"("labels":["a","b","c"],"output":"scores"})",
       "one value per channel"},
      {R"({"input":{"kind":"image","width":32,"height":32,"channels":3,"colour":"RGB"},)"
       R"("labels":["a","b","c"],"output":"scores"})",
       "unknown field 'input.colour'"},
      // Valid sidecars that do not fit the model: the trial run finds out at load.
      {"{" + input + R"(,"labels":["red","green"],"output":"scores"})", "2 labels"},
      {R"({"input":{"kind":"sensor","length":5},"labels":["a","b","c"],"output":"scores"})",
       "cannot run"},
  };
  for (const auto& [sidecar, expected] : cases) {
    auto message = load_error(install_model(dir.path(), model, sidecar));
    EXPECT_NE(message.find(expected), std::string::npos) << sidecar << "\n" << message;
  }
}

TEST(RunnerLoad, CorruptOnnxBytesAreAnError) {
  TempDir dir;
  const std::string sidecar = read_file(fs::path(TIDEMARK_MODELS_DIR) / "color/model.json");
  const std::string model = read_file(fs::path(TIDEMARK_MODELS_DIR) / "color/model.onnx");
  for (const std::string& bytes :
       {std::string("not an onnx model"), std::string(), model.substr(0, model.size() / 2)}) {
    auto message = load_error(install_model(dir.path(), bytes, sidecar));
    EXPECT_NE(message.find("OpenCV cannot"), std::string::npos) << message;
  }
}

TEST(RunnerLoad, MissingFaceCascadeIsAnError) {
  RunnerSettings without_cascades = settings();
  without_cascades.cascades_dir = "/nonexistent/cascades";
  auto message = load_error("builtin:face-detection", without_cascades);
  EXPECT_NE(message.find("haarcascade_frontalface_default.xml"), std::string::npos) << message;

  TempDir dir;
  write_file(dir.path() / "haarcascade_frontalface_default.xml", "<opencv_storage><broken");
  without_cascades.cascades_dir = dir.path();
  message = load_error("builtin:face-detection", without_cascades);
  EXPECT_NE(message.find("haarcascade_frontalface_default.xml"), std::string::npos) << message;
}

// =============================================================================================
// builtin:summary, audio

TEST(WavSummary, SixteenBitSine) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  auto out = run_ok(*runner, "audio/wav", sine_wav(kPcm, 16));
  EXPECT_STREQ(out["kind"].GetString(), "audio");
  EXPECT_STREQ(out["encoding"].GetString(), "pcm");
  EXPECT_EQ(out["bits_per_sample"].GetInt(), 16);
  EXPECT_EQ(out["sample_rate"].GetInt(), 16000);
  EXPECT_EQ(out["channels"].GetInt(), 1);
  EXPECT_EQ(out["frames"].GetInt(), 16000);
  EXPECT_DOUBLE_EQ(out["duration_seconds"].GetDouble(), 1.0);
  EXPECT_NEAR(out["rms"].GetDouble(), 0.5 / std::sqrt(2.0), 1e-4);
  EXPECT_NEAR(out["peak"].GetDouble(), 0.5, 1e-4);
  EXPECT_NEAR(out["zero_crossing_rate"].GetDouble(), 2 * 440.0 / 16000, 1e-3);
}

TEST(WavSummary, OtherEncodingsGiveTheSameSummary) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  struct Case {
    std::uint16_t format;
    std::uint16_t bits;
    double tolerance;
  };
  for (auto [format, bits, tolerance] :
       {Case{kPcm, 8, 1e-2}, Case{kPcm, 24, 1e-6}, Case{kPcm, 32, 1e-6}, Case{kFloat, 32, 1e-6}}) {
    SCOPED_TRACE("format " + std::to_string(format) + ", " + std::to_string(bits) + " bits");
    for (const char* type : {"audio/wav", "audio/x-wav", "Audio/WAVE; codecs=1"}) {
      auto out = run_ok(*runner, type, sine_wav(format, bits));
      EXPECT_EQ(out["bits_per_sample"].GetInt(), bits);
      EXPECT_STREQ(out["encoding"].GetString(), format == kFloat ? "float" : "pcm");
      EXPECT_DOUBLE_EQ(out["duration_seconds"].GetDouble(), 1.0);
      EXPECT_NEAR(out["rms"].GetDouble(), 0.5 / std::sqrt(2.0), tolerance);
      EXPECT_NEAR(out["peak"].GetDouble(), 0.5, tolerance);
    }
  }
}

TEST(WavSummary, FullScaleValuesMapToPlusMinusOne) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  // The most negative 16-bit value is exactly -1; 8-bit 0 is -1 as well.
  auto out16 =
      run_ok(*runner, "audio/wav", wav_file(kPcm, 1, 8000, 16, std::string("\x00\x80", 2)));
  EXPECT_DOUBLE_EQ(out16["peak"].GetDouble(), 1.0);
  auto out8 = run_ok(*runner, "audio/wav", wav_file(kPcm, 1, 8000, 8, std::string("\x00\x80", 2)));
  EXPECT_DOUBLE_EQ(out8["peak"].GetDouble(), 1.0);
  EXPECT_DOUBLE_EQ(out8["rms"].GetDouble(), std::sqrt(0.5));
  // 24-bit -0.5: 0xC00000.
  auto out24 =
      run_ok(*runner, "audio/wav", wav_file(kPcm, 1, 8000, 24, std::string("\x00\x00\xc0", 3)));
  EXPECT_DOUBLE_EQ(out24["peak"].GetDouble(), 0.5);
}

TEST(WavSummary, StereoFloat) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  // Left: a 0.5 sine; right: constant -0.25. 4410 frames at 44.1 kHz: 0.1 s.
  auto left = sine(0.5, 1000, 44100, 4410);
  std::vector<double> interleaved;
  for (double sample : left) {
    interleaved.push_back(sample);
    interleaved.push_back(-0.25);
  }
  auto out = run_ok(*runner, "audio/wave",
                    wav_file(kFloat, 2, 44100, 32, encode_samples(interleaved, kFloat, 32)));
  EXPECT_EQ(out["channels"].GetInt(), 2);
  EXPECT_EQ(out["frames"].GetInt(), 4410);
  EXPECT_NEAR(out["duration_seconds"].GetDouble(), 0.1, 1e-12);
  EXPECT_NEAR(out["peak"].GetDouble(), 0.5, 1e-4);
  // Mean square over both channels: (0.125 + 0.0625) / 2.
  EXPECT_NEAR(out["rms"].GetDouble(), std::sqrt((0.125 + 0.0625) / 2), 1e-4);
  // Only the left channel crosses zero: 2000 times a second, over half the sample pairs.
  EXPECT_NEAR(out["zero_crossing_rate"].GetDouble(), 2 * 1000.0 / 44100 / 2, 1e-3);
}

TEST(WavSummary, SkipsUnknownChunksAndAcceptsExtensibleFormat) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  std::string data = encode_samples({0.5, -0.5, 0.5, -0.5}, kPcm, 16);
  std::string fmt;
  append_u16(fmt, 0xFFFE);
  append_u16(fmt, 1);
  append_u32(fmt, 8000);
  append_u32(fmt, 16000);
  append_u16(fmt, 2);
  append_u16(fmt, 16);
  append_u16(fmt, 22);  // cbSize
  append_u16(fmt, 16);  // valid bits
  append_u32(fmt, 4);   // channel mask
  append_u16(fmt, kPcm);
  fmt += std::string("\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71", 14);
  std::string body = "WAVE";
  body += "LIST";
  append_u32(body, 3);
  body += std::string("abc\0", 4);  // odd size, padded
  body += "fmt ";
  append_u32(body, static_cast<std::uint32_t>(fmt.size()));
  body += fmt + "data";
  append_u32(body, static_cast<std::uint32_t>(data.size()));
  body += data;
  std::string file = "RIFF";
  append_u32(file, static_cast<std::uint32_t>(body.size()));
  auto out = run_ok(*runner, "audio/wav", file + body);
  EXPECT_EQ(out["frames"].GetInt(), 4);
  EXPECT_NEAR(out["peak"].GetDouble(), 0.5, 1e-4);
  EXPECT_DOUBLE_EQ(out["zero_crossing_rate"].GetDouble(), 1.0);
}

TEST(WavSummary, MalformedFilesAreInvalid) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  const std::string good = sine_wav(kPcm, 16);
  // Every truncation, including inside the header and the data.
  for (std::size_t length :
       {std::size_t{0}, std::size_t{4}, std::size_t{11}, std::size_t{12}, std::size_t{20},
        std::size_t{36}, std::size_t{43}, std::size_t{44}, std::size_t{100}, good.size() - 1}) {
    SCOPED_TRACE(length);
    run_invalid(*runner, "audio/wav", std::string_view(good).substr(0, length));
  }
  for (std::size_t length = 0; length < 200; ++length) {
    run_exact(*runner, "audio/wav", std::string_view(good).substr(0, length));
  }

  auto with_u32 = [&](std::size_t offset, std::uint32_t value) {
    std::string copy = good;
    std::string bytes;
    append_u32(bytes, value);
    copy.replace(offset, 4, bytes);
    return copy;
  };
  EXPECT_NE(run_invalid(*runner, "audio/wav", with_u32(40, 0xFFFFFFF0)).find("declares"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "audio/wav", with_u32(4, 0xFFFFFFF0)).find("truncated"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "audio/wav", with_u32(16, 0xFFFFFFF0)).find("declares"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "audio/wav", with_u32(24, 0)).find("sample rate"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "audio/wav", wav_file(kPcm, 0, 8000, 16, "")).find("channels"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "audio/wav", wav_file(kPcm, 1, 8000, 12, "ab")).find("12 bits"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "audio/wav", wav_file(2, 1, 8000, 4, "ab")).find("encoding 2"),
            std::string::npos);
  const std::string nan = encode_samples({std::nan("")}, kFloat, 32);
  EXPECT_NE(run_invalid(*runner, "audio/wav", wav_file(kFloat, 1, 8000, 32, nan)).find("finite"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "audio/wav", "garbage that is not a wav file").find("RIFF"),
            std::string::npos);

  // Random corruption of the header must never crash or read out of range (run under ASan too).
  std::mt19937 random(7);
  for (int round = 0; round < 5000; ++round) {
    std::string copy = good.substr(0, 44 + 64);
    for (int flips = 0; flips < 3; ++flips) {
      copy[random() % 44] = static_cast<char>(random());
    }
    run_exact(*runner, "audio/wav", copy);
  }
}

TEST(WavSummary, OtherContentTypesAreNamed) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  auto message = run_invalid(*runner, "text/plain", "hello");
  EXPECT_NE(message.find("text/plain"), std::string::npos) << message;
}

// =============================================================================================
// builtin:summary, sensor JSON

namespace {

void expect_stats(const rapidjson::Value& channels, const char* name, int count, double mean,
                  double std_deviation, double min, double max) {
  SCOPED_TRACE(name);
  ASSERT_TRUE(channels.HasMember(name));
  const auto& stats = channels[name];
  EXPECT_EQ(stats["count"].GetInt(), count);
  EXPECT_NEAR(stats["mean"].GetDouble(), mean, 1e-12);
  EXPECT_NEAR(stats["std"].GetDouble(), std_deviation, 1e-12);
  EXPECT_DOUBLE_EQ(stats["min"].GetDouble(), min);
  EXPECT_DOUBLE_EQ(stats["max"].GetDouble(), max);
}

}  // namespace

TEST(SensorSummary, ArrayOfNumbers) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  auto out = run_ok(*runner, "application/json", "[1, 2, 3, 4]");
  EXPECT_STREQ(out["kind"].GetString(), "sensor");
  ASSERT_EQ(out["channels"].MemberCount(), 1u);
  expect_stats(out["channels"], "value", 4, 2.5, std::sqrt(1.25), 1, 4);
}

TEST(SensorSummary, ObjectOfArrays) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  auto out = run_ok(*runner, "application/json; charset=utf-8",
                    R"({"x": [1, 2, 3], "y": [-1, -1, -1], "z": [1e6]})");
  ASSERT_EQ(out["channels"].MemberCount(), 3u);
  EXPECT_STREQ(out["channels"].MemberBegin()->name.GetString(), "x");  // document order
  expect_stats(out["channels"], "x", 3, 2, std::sqrt(2.0 / 3), 1, 3);
  expect_stats(out["channels"], "y", 3, -1, 0, -1, -1);
  expect_stats(out["channels"], "z", 1, 1e6, 0, 1e6, 1e6);
}

TEST(SensorSummary, ArrayOfRows) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  auto out = run_ok(*runner, "application/json",
                    R"([{"t": 0, "x": 1, "y": 2}, {"t": 1, "x": 3, "y": 4}, {"t": 2, "x": 5}])");
  ASSERT_EQ(out["channels"].MemberCount(), 3u);
  expect_stats(out["channels"], "t", 3, 1, std::sqrt(2.0 / 3), 0, 2);
  expect_stats(out["channels"], "x", 3, 3, std::sqrt(8.0 / 3), 1, 5);
  expect_stats(out["channels"], "y", 2, 3, 1, 2, 4);
}

TEST(SensorSummary, MalformedDataIsInvalid) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  struct Case {
    std::string json;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"[1, 2", "not valid JSON"},
      {"", "not valid JSON"},
      {"[]", "empty array"},
      {"{}", "no channels"},
      {"5", "must be an array"},
      {R"(["a"])", "must be an array"},
      {R"([1, "a"])", "element 1 is not a number"},
      {R"([1, {}])", "element 1 is not a number"},
      {R"({"x": [1, "a"]})", "'x' element 1"},
      {R"({"x": 1})", "'x' is not an array"},
      {R"({"x": []})", "'x' has no values"},
      {R"({"x": [1], "x": [2]})", "appears twice"},
      {R"([{"x": "a"}])", "field 'x' is not a number"},
      {R"([{"x": 1}, 2])", "row 1 is not an object"},
      {R"([{"x": 1, "x": 2}])", "twice"},
      {R"([{}])", "no channels"},
      {"[1e400]", "not valid JSON"},
      {std::string("[1, 2]\0", 7), "NUL"},
      {std::string(100000, '[') + std::string(100000, ']'), "must be an array"},
  };
  for (const auto& [json, expected] : cases) {
    auto message = run_invalid(*runner, "application/json", json);
    EXPECT_NE(message.find(expected), std::string::npos) << json.substr(0, 40) << "\n" << message;
  }
}

TEST(SensorSummary, HugeValuesDoNotBreakTheJson) {
  auto runner = load("builtin:summary");
  ASSERT_TRUE(runner);
  run_invalid(*runner, "application/json", "[1.7e308, -1.7e308]");
}

// =============================================================================================
// onnx:

TEST(OnnxRunner, ColorModelNamesTheDominantColour) {
  auto runner = load("onnx:color/model.onnx");
  ASSERT_TRUE(runner);
  struct Case {
    std::array<std::uint8_t, 3> rgb;
    const char* label;
  };
  for (auto [rgb, label] : {Case{{255, 0, 0}, "red"}, Case{{0, 255, 0}, "green"},
                            Case{{0, 0, 255}, "blue"}, Case{{200, 30, 40}, "red"}}) {
    SCOPED_TRACE(label);
    auto out = run_ok(*runner, "image/bmp", plain_bmp(32, 32, rgb));
    EXPECT_STREQ(out["kind"].GetString(), "classification");
    EXPECT_STREQ(out["label"].GetString(), label);
    EXPECT_GT(out["score"].GetDouble(), 0.9);
    ASSERT_EQ(out["scores"].MemberCount(), 3u);
    double sum = 0;
    for (const auto& score : out["scores"].GetObject()) sum += score.value.GetDouble();
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(OnnxRunner, MostlyBlueImageOfAnotherSizeIsBlue) {
  auto runner = load("onnx:color/model.onnx");
  ASSERT_TRUE(runner);
  // 80x60, the left quarter red: resized to 32x32 first.
  auto image = bmp_file(80, 60, [](int x, int) {
    return x < 20 ? std::array<std::uint8_t, 3>{255, 0, 0} : std::array<std::uint8_t, 3>{0, 0, 255};
  });
  auto out = run_ok(*runner, "image/bmp", image);
  EXPECT_STREQ(out["label"].GetString(), "blue");
  EXPECT_GT(out["score"].GetDouble(), 0.9);
  EXPECT_GT(out["scores"]["red"].GetDouble(), out["scores"]["green"].GetDouble());
}

TEST(OnnxRunner, RefusesWhatItCannotRead) {
  auto runner = load("onnx:color/model.onnx");
  ASSERT_TRUE(runner);
  EXPECT_NE(run_invalid(*runner, "audio/wav", sine_wav(kPcm, 16)).find("audio/wav"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "image/png", "not a png").find("PNG, JPEG or BMP"),
            std::string::npos);
  // An image cut anywhere, in its header or its pixels, is refused, without reading beyond it.
  const std::string image = plain_bmp(16, 16, {1, 2, 3});
  for (std::size_t length = 0; length < image.size(); ++length) {
    run_invalid(*runner, "image/bmp", std::string_view(image).substr(0, length));
  }
  EXPECT_NE(run_invalid(*runner, "image/bmp", std::string_view(image).substr(0, 100))
                .find("BMP: pixel data of 16x16 is cut short"),
            std::string::npos);
  const std::string jpeg = jpeg_file(16, 16, [](int, int) { return Rgb{200, 10, 10}; });
  for (std::size_t length = 0; length < jpeg.size(); length += 5) {
    run_exact(*runner, "image/jpeg", std::string_view(jpeg).substr(0, length));
  }
  RunnerSettings small = settings();
  small.max_pixels = 1000;
  auto limited = load("onnx:color/model.onnx", small);
  ASSERT_TRUE(limited);
  auto message = run_invalid(*limited, "image/bmp", plain_bmp(40, 30, {0, 0, 0}));
  EXPECT_NE(message.find("40x30 = 1200 pixels exceeds the limit of 1000"), std::string::npos)
      << message;
}

TEST(OnnxRunner, ReadsJpegAndPng) {
  auto runner = load("onnx:color/model.onnx");
  ASSERT_TRUE(runner);
  for (bool progressive : {false, true}) {
    SCOPED_TRACE(progressive ? "progressive" : "baseline");
    auto jpeg = jpeg_file(
        48, 40, [](int x, int) { return x < 8 ? Rgb{0, 200, 0} : Rgb{230, 20, 20}; }, 85,
        progressive);
    auto out = run_ok(*runner, "image/jpeg", jpeg);
    EXPECT_STREQ(out["label"].GetString(), "red");
  }
  // Transparent pixels count as black: a blue half and a transparent half is blue.
  auto png = rgba_png(32, 32, [](int x, int) {
    return x < 16 ? std::array<std::uint8_t, 4>{0, 0, 255, 255}
                  : std::array<std::uint8_t, 4>{0, 255, 0, 0};
  });
  auto out = run_ok(*runner, "image/png", png);
  EXPECT_STREQ(out["label"].GetString(), "blue");
  EXPECT_LT(out["scores"]["green"].GetDouble(), 0.1);

  RunnerSettings small = settings();
  small.max_pixels = 1000;
  auto limited = load("onnx:color/model.onnx", small);
  ASSERT_TRUE(limited);
  auto big = jpeg_file(50, 30, [](int, int) { return Rgb{0, 0, 0}; });
  EXPECT_NE(run_invalid(*limited, "image/jpeg", big).find("50x30 = 1500 pixels exceeds"),
            std::string::npos);
}

TEST(OnnxRunner, CorruptPngNeverCrashes) {
  const fs::path photo = fs::path(TIDEMARK_TEST_IMAGES_DIR) / "astronaut.png";
  ASSERT_TRUE(fs::exists(photo)) << kFetchPhotos;
  const std::string png = read_file(photo);
  auto runner = load("onnx:color/model.onnx");
  ASSERT_TRUE(runner);
  run_ok(*runner, "image/png", png);
  for (std::size_t length : {8, 16, 33, 60, 1000, 100000}) {
    run_exact(*runner, "image/png", std::string_view(png).substr(0, length));
  }
  std::mt19937 random(11);
  for (int round = 0; round < 100; ++round) {
    std::string copy = png.substr(0, 4096);
    copy[random() % copy.size()] = static_cast<char>(random());
    run_exact(*runner, "image/png", copy);
  }
}

TEST(OnnxRunner, SensorInput) {
  TempDir dir;
  auto location = install_model(
      dir.path(), flatten_model({1, 4}, 4, true),
      R"({"input":{"kind":"sensor","length":4},"labels":["a","b","c","d"],"output":"scores"})");
  auto runner = load(location);
  ASSERT_TRUE(runner);
  auto out = run_ok(*runner, "application/json", "[0, 0, 9]");  // padded with one 0
  EXPECT_STREQ(out["label"].GetString(), "c");
  EXPECT_GT(out["score"].GetDouble(), 0.99);
  out = run_ok(*runner, "application/json", R"({"only": [0, 9, 0, 0, 50]})");  // cut to 4
  EXPECT_STREQ(out["label"].GetString(), "b");
  EXPECT_NE(run_invalid(*runner, "application/json", R"({"x": [1], "y": [2]})").find("one sensor"),
            std::string::npos);

  // Named channels, in the sidecar's order: tensor [1, 2, 2] flattened to x0 x1 z0 z1.
  auto named = install_model(
      dir.path(), flatten_model({1, 2, 2}, 4, false),
      R"({"input":{"kind":"sensor","length":2,"channels":["x","z"]},"labels":["x0","x1","z0","z1"],)"
      R"("output":"softmax"})",
      "named");
  runner = load(named);
  ASSERT_TRUE(runner);
  out = run_ok(*runner, "application/json", R"([{"z": 1, "x": 0}, {"z": 8, "x": 2, "y": 99}])");
  EXPECT_STREQ(out["label"].GetString(), "z1");
  EXPECT_NEAR(out["score"].GetDouble(), std::exp(8) / (1 + std::exp(2) + std::exp(1) + std::exp(8)),
              1e-5);
  EXPECT_NE(run_invalid(*runner, "application/json", R"({"x": [1]})").find("no channel 'z'"),
            std::string::npos);
}

TEST(OnnxRunner, AudioInput) {
  TempDir dir;
  auto location = install_model(
      dir.path(), flatten_model({1, 3}, 3, false),
      R"({"input":{"kind":"audio","length":3,"sample_rate":8000},"labels":["first","second","third"],)"
      R"("output":"softmax"})");
  auto runner = load(location);
  ASSERT_TRUE(runner);
  // Stereo: only the first channel is read.
  auto wav = wav_file(kPcm, 2, 8000, 16, encode_samples({0.1, 0.9, 0.9, 0.0, 0.2, 0.0}, kPcm, 16));
  auto out = run_ok(*runner, "audio/wav", wav);
  EXPECT_STREQ(out["label"].GetString(), "second");
  auto other_rate = wav_file(kPcm, 1, 16000, 16, encode_samples({0.1}, kPcm, 16));
  EXPECT_NE(run_invalid(*runner, "audio/wav", other_rate).find("16000 Hz"), std::string::npos);
}

// =============================================================================================
// builtin:face-detection

TEST(FaceDetection, NoFacesInPlainOrNoiseImages) {
  auto runner = load("builtin:face-detection");
  ASSERT_TRUE(runner);
  auto out = run_ok(*runner, "image/bmp", plain_bmp(200, 150, {128, 128, 128}));
  EXPECT_STREQ(out["kind"].GetString(), "faces");
  EXPECT_EQ(out["width"].GetInt(), 200);
  EXPECT_EQ(out["height"].GetInt(), 150);
  EXPECT_EQ(out["count"].GetInt(), 0);
  EXPECT_EQ(out["faces"].Size(), 0u);
  for (unsigned seed : {1u, 2u, 3u}) {
    out = run_ok(*runner, "image/bmp", noise_bmp(320, 240, seed));
    EXPECT_EQ(out["count"].GetInt(), 0) << "seed " << seed;
  }
}

TEST(FaceDetection, FindsTheAstronautsFace) {
  const fs::path photo = fs::path(TIDEMARK_TEST_IMAGES_DIR) / "astronaut.png";
  ASSERT_TRUE(fs::exists(photo)) << kFetchPhotos;
  auto runner = load("builtin:face-detection");
  ASSERT_TRUE(runner);
  auto out = run_ok(*runner, "image/png", read_file(photo));
  EXPECT_EQ(out["width"].GetInt(), 512);
  EXPECT_EQ(out["height"].GetInt(), 512);
  ASSERT_EQ(out["count"].GetInt(), 1);
  ASSERT_EQ(out["faces"].Size(), 1u);
  const auto& face = out["faces"][0];
  // Her face is in the upper half, left of centre, roughly 100 pixels across.
  EXPECT_GT(face["width"].GetInt(), 60);
  EXPECT_LT(face["width"].GetInt(), 200);
  const int center_x = face["x"].GetInt() + face["width"].GetInt() / 2;
  const int center_y = face["y"].GetInt() + face["height"].GetInt() / 2;
  EXPECT_GT(center_x, 120);
  EXPECT_LT(center_x, 300);
  EXPECT_GT(center_y, 40);
  EXPECT_LT(center_y, 256);
}

TEST(FaceDetection, RefusesWhatItCannotRead) {
  auto runner = load("builtin:face-detection");
  ASSERT_TRUE(runner);
  EXPECT_NE(run_invalid(*runner, "application/json", "[1]").find("application/json"),
            std::string::npos);
  EXPECT_NE(run_invalid(*runner, "image/jpeg", "\xff\xd8\xff garbage").find("PNG, JPEG or BMP"),
            std::string::npos);
  RunnerSettings small = settings();
  small.max_pixels = 100;
  auto limited = load("builtin:face-detection", small);
  ASSERT_TRUE(limited);
  EXPECT_NE(run_invalid(*limited, "image/bmp", plain_bmp(11, 10, {0, 0, 0})).find("exceeds"),
            std::string::npos);
}
