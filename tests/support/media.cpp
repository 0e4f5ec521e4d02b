#include "tests/support/media.h"

// jpeglib.h uses size_t and FILE without including their headers.
#include <cstdio>
#include <jpeglib.h>
#include <png.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numbers>
#include <random>

namespace tidemark::testing {
namespace {

void append_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value & 0xff));
  out.push_back(static_cast<char>(value >> 8));
}

void append_u32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<char>((value >> shift) & 0xff));
}

}  // namespace

std::string bmp_file(int width, int height, const std::function<Rgb(int x, int y)>& pixel) {
  const int row_bytes = (width * 3 + 3) / 4 * 4;
  const auto image_bytes = static_cast<std::uint32_t>(row_bytes * height);
  std::string out = "BM";
  append_u32(out, 14 + 40 + image_bytes);
  append_u32(out, 0);
  append_u32(out, 14 + 40);
  append_u32(out, 40);  // BITMAPINFOHEADER
  append_u32(out, static_cast<std::uint32_t>(width));
  append_u32(out, static_cast<std::uint32_t>(height));  // positive: rows bottom-up
  append_u16(out, 1);
  append_u16(out, 24);
  append_u32(out, 0);  // BI_RGB
  append_u32(out, image_bytes);
  append_u32(out, 2835);
  append_u32(out, 2835);
  append_u32(out, 0);
  append_u32(out, 0);
  for (int y = height - 1; y >= 0; --y) {
    std::string row;
    for (int x = 0; x < width; ++x) {
      Rgb rgb = pixel(x, y);
      row.push_back(static_cast<char>(rgb[2]));
      row.push_back(static_cast<char>(rgb[1]));
      row.push_back(static_cast<char>(rgb[0]));
    }
    row.resize(static_cast<std::size_t>(row_bytes), '\0');
    out += row;
  }
  return out;
}

std::string plain_bmp(int width, int height, Rgb rgb) {
  return bmp_file(width, height, [&](int, int) { return rgb; });
}

std::string noise_bmp(int width, int height, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  return bmp_file(width, height, [&](int, int) {
    return Rgb{static_cast<std::uint8_t>(byte(random)), static_cast<std::uint8_t>(byte(random)),
               static_cast<std::uint8_t>(byte(random))};
  });
}

std::string jpeg_file(int width, int height, const std::function<Rgb(int x, int y)>& pixel,
                      int quality, bool progressive) {
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);  // exits the process on error: a test bug, not a case
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  if (progressive) jpeg_simple_progression(&info);
  jpeg_start_compress(&info, TRUE);
  std::vector<std::uint8_t> row(static_cast<std::size_t>(width) * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      Rgb rgb = pixel(x, y);
      std::memcpy(row.data() + static_cast<std::size_t>(x) * 3, rgb.data(), 3);
    }
    JSAMPROW row_pointer = row.data();
    jpeg_write_scanlines(&info, &row_pointer, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return out;
}

std::string rgba_png(int width, int height,
                     const std::function<std::array<std::uint8_t, 4>(int x, int y)>& pixel) {
  std::vector<std::uint8_t> pixels;
  pixels.reserve(static_cast<std::size_t>(width) * height * 4);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      auto rgba = pixel(x, y);
      pixels.insert(pixels.end(), rgba.begin(), rgba.end());
    }
  }
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr);
  std::string out(size, '\0');
  if (png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr) == 0) {
    return {};
  }
  out.resize(size);
  return out;
}

std::string wav_file(std::uint16_t format, std::uint16_t channels, std::uint32_t sample_rate,
                     std::uint16_t bits, const std::string& samples) {
  std::string out = "RIFF";
  append_u32(out, static_cast<std::uint32_t>(4 + 8 + 16 + 8 + samples.size()));
  out += "WAVEfmt ";
  append_u32(out, 16);
  append_u16(out, format);
  append_u16(out, channels);
  append_u32(out, sample_rate);
  append_u32(out, sample_rate * channels * bits / 8);
  append_u16(out, static_cast<std::uint16_t>(channels * bits / 8));
  append_u16(out, bits);
  out += "data";
  append_u32(out, static_cast<std::uint32_t>(samples.size()));
  return out + samples;
}

std::string sine_wav(double amplitude) {
  std::string samples;
  for (int i = 0; i < 16000; ++i) {
    double value = amplitude * std::sin(2 * std::numbers::pi * 440 * i / 16000.0);
    append_u16(samples, static_cast<std::uint16_t>(static_cast<std::int16_t>(value * 32767)));
  }
  return wav_file(1, 1, 16000, 16, samples);
}

}  // namespace tidemark::testing
