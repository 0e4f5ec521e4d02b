// Uploaded recordings as the inference workers decode them. The first byte picks the mode:
//   a  BYTES                  a WAV file, then every sample read as the audio runners read them;
//   b  BYTES                  a PNG, JPEG or BMP through stb_image;
//   c  TEXT                   sensor readings in JSON;
//   d  CONTENT-TYPE\nBYTES    the media type picks the decoder, as the runners do.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_input.h"
#include "workers/media_decoding.h"

namespace tidemark::fuzz {
namespace {

using namespace tidemark::workers;

// Far below the workers' default, so that a few bytes declaring a huge image cannot make every
// run allocate hundreds of megabytes; the limit's check is the same code either way.
constexpr std::size_t kMaxPixels = 1 << 20;

void wav(std::string_view bytes) {
  auto audio = parse_wav(bytes);
  if (!audio) return;
  check(audio->channels() >= 1 && audio->sample_rate() >= 1, "accepted WAV without channels");
  check(audio->frames() * audio->channels() * audio->bits_per_sample() / 8 <= bytes.size(),
        "WAV has more samples than bytes");
  check(std::isfinite(audio->duration_seconds()), "WAV duration is not finite");
  for (std::size_t frame = 0; frame < audio->frames(); ++frame) {
    for (std::size_t channel = 0; channel < audio->channels(); ++channel) {
      double sample = audio->sample(frame, channel);
      check(std::isfinite(sample), "WAV sample is not finite");
      if (audio->encoding() == WavAudio::Encoding::pcm_integer) {
        check(sample >= -1.0 && sample <= 1.0, "integer WAV sample outside [-1, 1]");
      }
    }
  }
}

/// A known fault outside our code, reported and not yet worked around: stb_image 2.27 (Debian
/// 12's libstb-dev) builds a JPEG Huffman table (DHT) without checking that its 16 symbol counts
/// add up to at most 256, and writes past the table's arrays when they do not
/// (stbi__build_huffman; upstream checks since 2.28). This finds every DHT table stb could read,
/// walking the markers as stb does: junk before a marker and 0xFF fill bytes (even before SOI) are
/// skipped; after a
/// scan header (SOS), entropy-coded data runs to the first 0xFF followed by neither 0x00 (a
/// stuffed byte) nor a restart marker. It may find more tables than stb reads, never fewer.
bool jpeg_has_oversized_huffman_table(std::string_view bytes) {
  auto byte = [&](std::size_t at) {
    return at < bytes.size() ? static_cast<unsigned char>(bytes[at]) : 0u;
  };
  // SOI, after any number of fill bytes
  std::size_t at = 0;
  while (at < bytes.size() && byte(at) == 0xFF) ++at;
  if (at == 0 || byte(at) != 0xD8) return false;
  ++at;
  while (at < bytes.size()) {
    while (at < bytes.size() && byte(at) != 0xFF) ++at;
    while (at < bytes.size() && byte(at) == 0xFF) ++at;
    if (at >= bytes.size()) return false;
    unsigned marker = byte(at++);
    if (marker == 0xD9) return false;  // EOI
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;
    const std::size_t length = byte(at) << 8 | byte(at + 1);
    if (marker == 0xC4) {  // DHT: tables of 1 + 16 + (sum of the counts) bytes each
      std::size_t table = at + 2;
      for (long left = static_cast<long>(length) - 2; left > 0 && table < bytes.size();) {
        std::size_t symbols = 0;
        for (std::size_t i = 1; i <= 16; ++i) symbols += byte(table + i);
        if (symbols > 256) return true;
        table += 17 + symbols;
        left -= static_cast<long>(17 + symbols);
      }
    }
    at += length;
    if (marker == 0xDA) {  // SOS: skip the entropy-coded data
      while (at < bytes.size()) {
        if (byte(at) != 0xFF) {
          ++at;
          continue;
        }
        std::size_t next = at;
        while (next < bytes.size() && byte(next) == 0xFF) ++next;
        unsigned after = byte(next);
        if (next < bytes.size() && after != 0x00 && !(after >= 0xD0 && after <= 0xD7)) break;
        at = next + 1;
      }
    }
  }
  return false;
}

void image(std::string_view bytes) {
  if (jpeg_has_oversized_huffman_table(bytes)) return;
  auto decoded = decode_image(bytes, kMaxPixels);
  if (!decoded) return;
  check(decoded->width > 0 && decoded->height > 0, "decoded image without pixels");
  const auto pixels = static_cast<std::size_t>(decoded->width) * decoded->height;
  check(pixels <= kMaxPixels, "decoded an image over the pixel limit");
  check(decoded->channels == 3 && decoded->pixels.size() == pixels * 3,
        "decoded pixels do not match the size");
}

void sensor(std::string_view text) {
  auto channels = read_sensor_json(text);
  if (!channels) return;
  check(!channels->empty() && channels->size() <= 1024, "wrong number of sensor channels");
  for (const auto& channel : *channels) {
    check(!channel.values.empty(), "sensor channel without values", channel.name);
    for (double value : channel.values) check(std::isfinite(value), "sensor value not finite");
  }
}

void typed(FuzzInput& input) {
  std::string essence = media_type_essence(input.field());
  std::string_view bytes = input.rest();
  if (is_wav_media_type(essence)) {
    wav(bytes);
  } else if (is_image_media_type(essence)) {
    image(bytes);
  } else if (is_json_media_type(essence)) {
    sensor(bytes);
  }
}

}  // namespace
}  // namespace tidemark::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tidemark::fuzz::FuzzInput input(data, size);
  switch (input.choice(4)) {
    case 0:
      tidemark::fuzz::wav(input.rest());
      break;
    case 1:
      tidemark::fuzz::image(input.rest());
      break;
    case 2:
      tidemark::fuzz::sensor(input.rest());
      break;
    default:
      tidemark::fuzz::typed(input);
  }
  return 0;
}
