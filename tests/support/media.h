#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tidemark::testing {

/// Recordings made in the test, whose right answers are known.
using Rgb = std::array<std::uint8_t, 3>;

/// A 24-bit uncompressed BMP; `pixel(x, y)` gives its colour.
std::string bmp_file(int width, int height, const std::function<Rgb(int x, int y)>& pixel);
std::string plain_bmp(int width, int height, Rgb rgb);
std::string noise_bmp(int width, int height, unsigned seed);
/// A baseline (or progressive) JPEG written by libjpeg at `quality` (1..100).
std::string jpeg_file(int width, int height, const std::function<Rgb(int x, int y)>& pixel,
                      int quality = 90, bool progressive = false);
/// An 8-bit RGBA PNG written by libpng; `pixel(x, y)` gives red, green, blue and alpha.
std::string rgba_png(int width, int height,
                     const std::function<std::array<std::uint8_t, 4>(int x, int y)>& pixel);

/// A RIFF/WAVE file: `format` 1 (PCM) or 3 (IEEE float), `samples` already encoded.
std::string wav_file(std::uint16_t format, std::uint16_t channels, std::uint32_t sample_rate,
                     std::uint16_t bits, const std::string& samples);
/// One second of 16-bit mono PCM at 16 kHz: a 440 Hz sine of `amplitude` (0..1).
std::string sine_wav(double amplitude);

}  // namespace tidemark::testing
