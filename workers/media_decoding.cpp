#include "workers/media_decoding.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>

namespace tidemark::workers {

using domain::invalid;
using domain::Result;

std::string media_type_essence(std::string_view content_type) {
  std::string_view essence = content_type.substr(0, content_type.find(';'));
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!essence.empty() && is_space(essence.front())) essence.remove_prefix(1);
  while (!essence.empty() && is_space(essence.back())) essence.remove_suffix(1);
  std::string lowered(essence);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered;
}

bool is_wav_media_type(std::string_view essence) {
  return essence == "audio/wav" || essence == "audio/x-wav" || essence == "audio/wave" ||
         essence == "audio/vnd.wave";
}

bool is_json_media_type(std::string_view essence) {
  return essence == "application/json" ||
         (essence.starts_with("application/") && essence.ends_with("+json"));
}

bool is_image_media_type(std::string_view essence) {
  return essence.starts_with("image/");
}

// ---------------------------------------------------------------------------------------------
// WAV

namespace {

constexpr std::uint16_t kWaveFormatPcm = 0x0001;
constexpr std::uint16_t kWaveFormatIeeeFloat = 0x0003;
constexpr std::uint16_t kWaveFormatExtensible = 0xFFFE;
constexpr std::uint16_t kMaxWavChannels = 1024;
constexpr std::uint32_t kMaxWavSampleRate = 10'000'000;

std::uint16_t read_u16(std::string_view bytes, std::size_t offset) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[offset + i]); };
  return static_cast<std::uint16_t>(byte(0) | (byte(1) << 8));
}

std::uint32_t read_u32(std::string_view bytes, std::size_t offset) {
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[offset + i]));
  };
  return byte(0) | (byte(1) << 8) | (byte(2) << 16) | (byte(3) << 24);
}

std::uint64_t read_u64(std::string_view bytes, std::size_t offset) {
  return read_u32(bytes, offset) | (static_cast<std::uint64_t>(read_u32(bytes, offset + 4)) << 32);
}

/// A chunk id for messages: printable ASCII kept, anything else shown as '?'.
std::string printable_id(std::string_view id) {
  std::string shown(id);
  for (char& c : shown) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return shown;
}

struct WavFormat {
  std::uint16_t format_tag = 0;
  std::uint16_t channels = 0;
  std::uint32_t sample_rate = 0;
  std::uint16_t block_align = 0;
  std::uint16_t bits_per_sample = 0;
};

Result<WavFormat> parse_fmt_chunk(std::string_view chunk) {
  if (chunk.size() < 16) {
    return invalid("WAV 'fmt ' chunk has " + std::to_string(chunk.size()) +
                   " bytes, fewer than the 16 it needs");
  }
  WavFormat format;
  format.format_tag = read_u16(chunk, 0);
  format.channels = read_u16(chunk, 2);
  format.sample_rate = read_u32(chunk, 4);
  format.block_align = read_u16(chunk, 12);
  format.bits_per_sample = read_u16(chunk, 14);
  if (format.format_tag == kWaveFormatExtensible) {
    // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) then the sub-format GUID,
    // whose first two bytes are the format code.
    if (chunk.size() < 40) {
      return invalid("WAV 'fmt ' chunk says WAVE_FORMAT_EXTENSIBLE but has only " +
                     std::to_string(chunk.size()) + " bytes, fewer than 40");
    }
    format.format_tag = read_u16(chunk, 24);
  }
  return format;
}

}  // namespace

Result<WavAudio> parse_wav(std::string_view bytes) {
  if (bytes.size() < 12 || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WAVE") {
    return invalid("not a WAV file: it does not start with a RIFF/WAVE header");
  }
  std::uint64_t riff_size = read_u32(bytes, 4);
  if (riff_size < 4)
    return invalid("WAV RIFF header declares a size of " + std::to_string(riff_size) +
                   " bytes, too small");
  if (riff_size + 8 > bytes.size()) {
    return invalid("WAV file is truncated: its RIFF header declares " +
                   std::to_string(riff_size + 8) + " bytes but there are " +
                   std::to_string(bytes.size()));
  }
  const std::size_t end = static_cast<std::size_t>(riff_size) + 8;

  std::optional<WavFormat> format;
  std::optional<std::string_view> data;
  std::size_t offset = 12;
  while (end - offset >= 8) {
    std::string_view id = bytes.substr(offset, 4);
    std::size_t size = read_u32(bytes, offset + 4);
    std::size_t available = end - offset - 8;
    if (size > available) {
      return invalid("WAV chunk '" + printable_id(id) + "' at byte " + std::to_string(offset) +
                     " declares " + std::to_string(size) + " bytes but only " +
                     std::to_string(available) + " follow");
    }
    std::string_view body = bytes.substr(offset + 8, size);
    if (id == "fmt ") {
      if (format) return invalid("WAV file has more than one 'fmt ' chunk");
      auto parsed = parse_fmt_chunk(body);
      if (!parsed) return parsed.error();
      format = *parsed;
    } else if (id == "data") {
      if (data) return invalid("WAV file has more than one 'data' chunk");
      data = body;
    }
    // Chunks are padded to an even size; a missing pad byte after the last chunk is tolerated.
    offset += 8 + size;
    if (size % 2 == 1 && offset < end) ++offset;
  }
  if (!format) return invalid("WAV file has no 'fmt ' chunk");
  if (!data) return invalid("WAV file has no 'data' chunk");

  WavAudio audio;
  if (format->channels == 0 || format->channels > kMaxWavChannels) {
    return invalid("WAV file declares " + std::to_string(format->channels) + " channels; 1 to " +
                   std::to_string(kMaxWavChannels) + " are supported");
  }
  if (format->sample_rate == 0 || format->sample_rate > kMaxWavSampleRate) {
    return invalid("WAV file declares a sample rate of " + std::to_string(format->sample_rate) +
                   " Hz; 1 to " + std::to_string(kMaxWavSampleRate) + " are supported");
  }
  const std::uint16_t bits = format->bits_per_sample;
  if (format->format_tag == kWaveFormatPcm) {
    if (bits != 8 && bits != 16 && bits != 24 && bits != 32) {
      return invalid("WAV PCM with " + std::to_string(bits) +
                     " bits per sample is not supported (8, 16, 24 or 32)");
    }
    audio.encoding_ = WavAudio::Encoding::pcm_integer;
  } else if (format->format_tag == kWaveFormatIeeeFloat) {
    if (bits != 32 && bits != 64) {
      return invalid("WAV float with " + std::to_string(bits) +
                     " bits per sample is not supported (32 or 64)");
    }
    audio.encoding_ = WavAudio::Encoding::ieee_float;
  } else {
    return invalid("WAV encoding " + std::to_string(format->format_tag) +
                   " is not supported (PCM integer or IEEE float)");
  }
  audio.bytes_per_sample_ = static_cast<std::uint16_t>(bits / 8);
  const std::size_t frame_bytes =
      static_cast<std::size_t>(audio.bytes_per_sample_) * format->channels;
  if (format->block_align != frame_bytes) {
    return invalid("WAV block alignment " + std::to_string(format->block_align) +
                   " does not match " + std::to_string(format->channels) + " channels of " +
                   std::to_string(bits) + " bits");
  }
  audio.data_ = *data;
  audio.sample_rate_ = format->sample_rate;
  audio.channels_ = format->channels;
  audio.bits_per_sample_ = bits;
  audio.frames_ = data->size() / frame_bytes;

  if (audio.encoding_ == WavAudio::Encoding::ieee_float) {
    const std::size_t samples = audio.frames_ * audio.channels_;
    for (std::size_t i = 0; i < samples; ++i) {
      if (!std::isfinite(audio.sample(i / audio.channels_, i % audio.channels_))) {
        return invalid("WAV float sample " + std::to_string(i) + " is not a finite number");
      }
    }
  }
  return audio;
}

double WavAudio::sample(std::size_t frame, std::size_t channel) const {
  const std::size_t offset = (frame * channels_ + channel) * bytes_per_sample_;
  if (encoding_ == Encoding::ieee_float) {
    if (bytes_per_sample_ == 4) return std::bit_cast<float>(read_u32(data_, offset));
    return std::bit_cast<double>(read_u64(data_, offset));
  }
  switch (bytes_per_sample_) {
    case 1:
      return (static_cast<int>(static_cast<std::uint8_t>(data_[offset])) - 128) / 128.0;
    case 2:
      return static_cast<std::int16_t>(read_u16(data_, offset)) / 32768.0;
    case 3: {
      std::uint32_t raw =
          static_cast<std::uint32_t>(read_u16(data_, offset)) |
          (static_cast<std::uint32_t>(static_cast<std::uint8_t>(data_[offset + 2])) << 16);
      // Sign-extend the 24-bit value through the top byte of a 32-bit one.
      return static_cast<std::int32_t>(raw << 8) / 2147483648.0;
    }
    default:
      return static_cast<std::int32_t>(read_u32(data_, offset)) / 2147483648.0;
  }
}

// ---------------------------------------------------------------------------------------------
// Sensor JSON

namespace {

constexpr std::size_t kMaxSensorChannels = 1024;
constexpr const char* kSensorShapes =
    "sensor data must be an array of numbers, an object of arrays of numbers, or an array of "
    "objects of numbers";

std::string_view name_of(const rapidjson::Value& text) {
  return {text.GetString(), text.GetStringLength()};
}

/// Collects channels by name, in order of first appearance.
class ChannelSet {
 public:
  /// The index of the channel called `name`, created when new; an error when there would be too
  /// many or the name holds a NUL character.
  Result<std::size_t> find_or_add(std::string_view name) {
    auto found = index_.find(std::string(name));
    if (found != index_.end()) return found->second;
    if (name.find('\0') != std::string_view::npos) {
      return invalid("sensor channel names must not contain a NUL character");
    }
    if (channels_.size() == kMaxSensorChannels) {
      return invalid("sensor data has more than " + std::to_string(kMaxSensorChannels) +
                     " channels");
    }
    index_.emplace(std::string(name), channels_.size());
    channels_.push_back({std::string(name), {}});
    return channels_.size() - 1;
  }
  bool contains(std::string_view name) const { return index_.contains(std::string(name)); }
  std::vector<double>& values(std::size_t index) { return channels_[index].values; }
  std::vector<SensorChannel> take() && { return std::move(channels_); }

 private:
  std::vector<SensorChannel> channels_;
  std::unordered_map<std::string, std::size_t> index_;
};

Result<std::vector<double>> read_number_array(const rapidjson::Value& array,
                                              std::string_view what) {
  std::vector<double> values;
  values.reserve(array.Size());
  for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
    if (!array[i].IsNumber()) {
      return invalid(std::string(what) + " element " + std::to_string(i) + " is not a number");
    }
    // RapidJSON 1.1 reads a few out-of-range numbers with many digits as infinity.
    if (!std::isfinite(array[i].GetDouble())) {
      return invalid(std::string(what) + " element " + std::to_string(i) + " is out of range");
    }
    values.push_back(array[i].GetDouble());
  }
  return values;
}

Result<std::vector<SensorChannel>> read_rows(const rapidjson::Value& rows) {
  ChannelSet channels;
  // The last row each channel had a value in, to find a key repeated within one row.
  std::vector<std::size_t> last_row;
  for (rapidjson::SizeType row = 0; row < rows.Size(); ++row) {
    if (!rows[row].IsObject()) {
      return invalid("sensor row " + std::to_string(row) + " is not an object of numbers");
    }
    for (const auto& member : rows[row].GetObject()) {
      std::string_view name = name_of(member.name);
      if (!member.value.IsNumber()) {
        return invalid("sensor row " + std::to_string(row) + " field '" + std::string(name) +
                       "' is not a number");
      }
      if (!std::isfinite(member.value.GetDouble())) {
        return invalid("sensor row " + std::to_string(row) + " field '" + std::string(name) +
                       "' is out of range");
      }
      auto channel = channels.find_or_add(name);
      if (!channel) return channel.error();
      if (*channel == last_row.size()) last_row.push_back(SIZE_MAX);
      if (last_row[*channel] == row) {
        return invalid("sensor row " + std::to_string(row) + " has field '" + std::string(name) +
                       "' twice");
      }
      last_row[*channel] = row;
      channels.values(*channel).push_back(member.value.GetDouble());
    }
  }
  return std::move(channels).take();
}

}  // namespace

Result<std::vector<SensorChannel>> read_sensor_json(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return invalid("sensor data contains a NUL byte");
  }
  rapidjson::Document document;
  // Iterative parsing: deeply nested input cannot exhaust the stack.
  document.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(
      text.data(), text.size());
  if (document.HasParseError()) {
    return invalid(std::string("sensor data is not valid JSON: ") +
                   rapidjson::GetParseError_En(document.GetParseError()) + " (at byte " +
                   std::to_string(document.GetErrorOffset()) + ")");
  }

  std::vector<SensorChannel> channels;
  if (document.IsArray()) {
    if (document.Empty()) return invalid("sensor data is an empty array");
    if (document[0].IsObject()) {
      auto rows = read_rows(document);
      if (!rows) return rows.error();
      channels = std::move(rows).value();
    } else if (document[0].IsNumber()) {
      auto values = read_number_array(document, "sensor data");
      if (!values) return values.error();
      channels.push_back({"value", std::move(values).value()});
    } else {
      return invalid(kSensorShapes);
    }
  } else if (document.IsObject()) {
    ChannelSet set;
    for (const auto& member : document.GetObject()) {
      std::string name(name_of(member.name));
      if (!member.value.IsArray()) {
        return invalid("sensor channel '" + name + "' is not an array of numbers");
      }
      if (set.contains(name)) return invalid("sensor channel '" + name + "' appears twice");
      auto channel = set.find_or_add(name);
      if (!channel) return channel.error();
      auto values = read_number_array(member.value, "sensor channel '" + name + "'");
      if (!values) return values.error();
      set.values(*channel) = std::move(values).value();
    }
    channels = std::move(set).take();
  } else {
    return invalid(kSensorShapes);
  }

  if (channels.empty()) return invalid("sensor data has no channels");
  for (const auto& channel : channels) {
    if (channel.values.empty()) {
      return invalid("sensor channel '" + channel.name + "' has no values");
    }
  }
  return channels;
}

}  // namespace tidemark::workers
