#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace tidemark::workers {

/// The media type without parameters, in lower case: "Audio/WAV; rate=8000" gives "audio/wav".
std::string media_type_essence(std::string_view content_type);

/// True for audio/wav, audio/x-wav, audio/wave and audio/vnd.wave.
bool is_wav_media_type(std::string_view essence);
/// True for application/json and the `+json` suffix types.
bool is_json_media_type(std::string_view essence);
/// True for image/*.
bool is_image_media_type(std::string_view essence);

/// A RIFF/WAVE file's format and sample bytes, read in place: it holds a view into the input.
class WavAudio {
 public:
  enum class Encoding { pcm_integer, ieee_float };

  std::uint32_t sample_rate() const { return sample_rate_; }
  std::uint16_t channels() const { return channels_; }
  std::uint16_t bits_per_sample() const { return bits_per_sample_; }
  Encoding encoding() const { return encoding_; }
  /// Whole frames (one sample per channel); a partial frame at the end is ignored.
  std::size_t frames() const { return frames_; }
  double duration_seconds() const { return static_cast<double>(frames_) / sample_rate_; }

  /// One sample scaled to [-1, 1] (integers: divided by 2^(bits-1); floats as stored, finite).
  /// Requires frame < frames() and channel < channels().
  double sample(std::size_t frame, std::size_t channel) const;

 private:
  friend domain::Result<WavAudio> parse_wav(std::string_view bytes);
  WavAudio() = default;

  std::string_view data_;
  std::uint32_t sample_rate_ = 0;
  std::uint16_t channels_ = 0;
  std::uint16_t bits_per_sample_ = 0;
  std::uint16_t bytes_per_sample_ = 0;
  Encoding encoding_ = Encoding::pcm_integer;
  std::size_t frames_ = 0;
};

/// Parses a RIFF/WAVE file: PCM integer 8/16/24/32-bit, IEEE float 32/64-bit (also inside
/// WAVE_FORMAT_EXTENSIBLE), any channel count up to 1024. Sizes that point beyond the input, a
/// missing `fmt ` or `data` chunk, an unsupported encoding and non-finite float samples are
/// `invalid` errors. The result refers to `bytes`, which must outlive it.
domain::Result<WavAudio> parse_wav(std::string_view bytes);

/// Decoded pixels, rows top to bottom, interleaved 8-bit channels (3 = R, G, B).
struct DecodedImage {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::vector<std::uint8_t> pixels;
};

/// Decodes a PNG (libpng), JPEG (libjpeg-turbo) or BMP (uncompressed 24/32-bit) from memory into
/// 8-bit RGB; transparent PNG pixels are composited onto black. Images with more than
/// `max_pixels` pixels are refused from their header, before any pixel is decoded; undecodable
/// or truncated bytes are `invalid` errors naming the reason (image_decoding.cpp).
domain::Result<DecodedImage> decode_image(std::string_view bytes, std::size_t max_pixels);

/// One named series of readings.
struct SensorChannel {
  std::string name;
  std::vector<double> values;
};

/// Reads sensor data from JSON, in one of three shapes:
/// - an array of numbers: one channel named "value";
/// - an object whose members are arrays of numbers: one channel per member, in document order;
/// - an array of objects of numbers (rows): one channel per key, in order of first appearance;
///   a row may leave out a key.
/// Every value must be a finite number; every channel needs at least one value; at most 1024
/// channels.
domain::Result<std::vector<SensorChannel>> read_sensor_json(std::string_view text);

}  // namespace tidemark::workers
