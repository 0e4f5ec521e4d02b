// Uploaded recordings as the inference workers decode them. The first byte picks the mode:
//   a  BYTES                  a WAV file, then every sample read as the audio runners read them;
//   b  BYTES                  a PNG, JPEG or BMP;
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

void image(std::string_view bytes) {
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
