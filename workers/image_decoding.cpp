// Image decoding for the runners: PNG through libpng's simplified API, JPEG through libjpeg-turbo,
// BMP by our own reader. These libraries are maintained against fuzzing (OSS-Fuzz). stb_image
// 2.27, which Debian 12 ships, read and wrote past its Huffman tables on crafted JPEG files, so
// that one upload could crash the inference worker; the inputs that showed it are kept as
// tests/fuzz/corpus/fuzz_media/regression_*_stb.

// jpeglib.h uses size_t and FILE without including their headers.
#include <cstdio>
#include <jpeglib.h>
#include <png.h>

#include <climits>
#include <csetjmp>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "workers/media_decoding.h"

namespace tidemark::workers {

using domain::invalid;
using domain::Result;

namespace {

constexpr std::string_view kPngSignature = "\x89PNG\r\n\x1a\n";
// A progressive JPEG may hold any number of scans, each a full pass over the coefficients; a
// crafted file with thousands of tiny scans costs minutes of CPU. Real encoders write about ten.
constexpr int kMaxJpegScans = 100;

std::string dimensions(std::size_t width, std::size_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

/// The refusal for an image whose header declares more than `max_pixels` pixels.
std::optional<std::string> too_many_pixels(std::size_t width, std::size_t height,
                                           std::size_t max_pixels) {
  if (width == 0 || height == 0) return "image has no pixels";
  const std::size_t pixels = width * height;  // both at most 2^31, so no overflow in 64 bits
  if (pixels <= max_pixels) return std::nullopt;
  return "image of " + dimensions(width, height) + " = " + std::to_string(pixels) +
         " pixels exceeds the limit of " + std::to_string(max_pixels) + " pixels";
}

domain::Error unreadable(std::string_view format, std::string_view reason) {
  return invalid("image is not a readable PNG, JPEG or BMP (" + std::string(format) + ": " +
                 std::string(reason) + ")");
}

// ---------------------------------------------------------------------------------------------
// PNG

Result<DecodedImage> decode_png(std::string_view bytes, std::size_t max_pixels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) == 0) {
    return unreadable("PNG", png.message);
  }
  if (auto refusal = too_many_pixels(png.width, png.height, max_pixels)) {
    png_image_free(&png);
    return invalid(*refusal);
  }
  png.format = PNG_FORMAT_RGB;
  DecodedImage image;
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  // Zeroed, so that transparent pixels are composited onto black.
  image.pixels.assign(PNG_IMAGE_SIZE(png), 0);
  if (png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr) == 0) {
    std::string reason = png.message;
    png_image_free(&png);
    return invalid("image could not be decoded (PNG: " + reason + ")");
  }
  return image;
}

// ---------------------------------------------------------------------------------------------
// JPEG

struct JpegErrors {
  jpeg_error_mgr manager;  // first, so that libjpeg's pointer to it is a pointer to this
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void stop_on_jpeg_error(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrors*>(info->err);
  errors->manager.format_message(info, errors->message);
  std::longjmp(errors->jump, 1);
}

void ignore_jpeg_warning(j_common_ptr, int) {}

void limit_jpeg_scans(j_common_ptr info) {
  auto* decompress = reinterpret_cast<j_decompress_ptr>(info);
  if (decompress->input_scan_number > kMaxJpegScans) {
    std::snprintf(reinterpret_cast<JpegErrors*>(info->err)->message, JMSG_LENGTH_MAX,
                  "more than %d progressive scans", kMaxJpegScans);
    std::longjmp(reinterpret_cast<JpegErrors*>(info->err)->jump, 2);
  }
}

/// The part of JPEG decoding between setjmp and longjmp: only trivially destructible locals, as
/// longjmp skips destructors. Fills `image` (whose storage the caller owns), or `refusal` and
/// `over_limit` when there are more pixels than `max_pixels`.
void decode_jpeg_into(std::string_view bytes, std::size_t max_pixels, DecodedImage& image,
                      std::string& refusal, bool& over_limit) {
  jpeg_decompress_struct info;
  JpegErrors errors;
  jpeg_progress_mgr progress;
  // Zeroed, so that jpeg_destroy_decompress is safe even if jpeg_create_decompress failed.
  std::memset(&info, 0, sizeof info);
  std::memset(&progress, 0, sizeof progress);
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = stop_on_jpeg_error;
  errors.manager.emit_message = ignore_jpeg_warning;
  errors.message[0] = '\0';
  if (setjmp(errors.jump) != 0) {
    refusal.assign(errors.message);
    jpeg_destroy_decompress(&info);
    return;
  }
  jpeg_create_decompress(&info);
  progress.progress_monitor = limit_jpeg_scans;
  info.progress = &progress;
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  if (auto too_many = too_many_pixels(info.image_width, info.image_height, max_pixels)) {
    refusal.assign(*too_many);
    over_limit = true;
    jpeg_destroy_decompress(&info);
    return;
  }
  info.out_color_space = JCS_RGB;
  jpeg_start_decompress(&info);
  image.width = static_cast<int>(info.output_width);
  image.height = static_cast<int>(info.output_height);
  const std::size_t row_bytes = static_cast<std::size_t>(info.output_width) * 3;
  image.pixels.assign(row_bytes * info.output_height, 0);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = image.pixels.data() + row_bytes * info.output_scanline;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
}

Result<DecodedImage> decode_jpeg(std::string_view bytes, std::size_t max_pixels) {
  if (bytes.size() > ULONG_MAX) return invalid("image is too large to decode");
  DecodedImage image;
  std::string refusal;
  bool over_limit = false;
  decode_jpeg_into(bytes, max_pixels, image, refusal, over_limit);
  if (over_limit) return invalid(refusal);
  if (!refusal.empty()) return unreadable("JPEG", refusal);
  return image;
}

// ---------------------------------------------------------------------------------------------
// BMP: uncompressed 24- and 32-bit (BI_RGB), rows bottom-up or top-down, any header version.

std::uint32_t read_le(std::string_view bytes, std::size_t at, int size) {
  std::uint32_t value = 0;
  for (int i = size - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<std::uint8_t>(bytes[at + static_cast<std::size_t>(i)]);
  }
  return value;
}

Result<DecodedImage> decode_bmp(std::string_view bytes, std::size_t max_pixels) {
  constexpr std::size_t kFileHeader = 14;
  if (bytes.size() < kFileHeader + 40) return unreadable("BMP", "header cut short");
  const std::uint32_t pixel_offset = read_le(bytes, 10, 4);
  const std::uint32_t header_size = read_le(bytes, 14, 4);
  if (header_size < 40 || header_size > bytes.size() - kFileHeader) {
    return unreadable("BMP", "unsupported header of " + std::to_string(header_size) + " bytes");
  }
  const auto width = static_cast<std::int32_t>(read_le(bytes, 18, 4));
  const auto signed_height = static_cast<std::int32_t>(read_le(bytes, 22, 4));
  const std::uint32_t bits = read_le(bytes, 28, 2);
  const std::uint32_t compression = read_le(bytes, 30, 4);
  if (compression != 0 || (bits != 24 && bits != 32)) {
    return unreadable("BMP", "only uncompressed 24- and 32-bit images are read, not " +
                                 std::to_string(bits) + "-bit with compression " +
                                 std::to_string(compression));
  }
  if (width <= 0 || signed_height == 0 || signed_height == INT32_MIN) {
    return unreadable("BMP", "invalid size " + std::to_string(width) + "x" +
                                 std::to_string(signed_height));
  }
  const bool top_down = signed_height < 0;
  const std::size_t columns = static_cast<std::size_t>(width);
  const std::size_t rows = static_cast<std::size_t>(top_down ? -signed_height : signed_height);
  if (auto refusal = too_many_pixels(columns, rows, max_pixels)) return invalid(*refusal);
  const std::size_t pixel_bytes = bits / 8;
  const std::size_t stride = (columns * pixel_bytes + 3) / 4 * 4;
  if (pixel_offset < kFileHeader + header_size || pixel_offset > bytes.size() ||
      (bytes.size() - pixel_offset) / stride < rows) {
    return unreadable("BMP", "pixel data of " + dimensions(columns, rows) + " is cut short");
  }
  DecodedImage image;
  image.width = width;
  image.height = static_cast<int>(rows);
  image.pixels.resize(columns * rows * 3);
  for (std::size_t y = 0; y < rows; ++y) {
    const std::size_t source_row = top_down ? y : rows - 1 - y;
    const char* source = bytes.data() + pixel_offset + source_row * stride;
    std::uint8_t* target = image.pixels.data() + y * columns * 3;
    for (std::size_t x = 0; x < columns; ++x, source += pixel_bytes, target += 3) {
      target[0] = static_cast<std::uint8_t>(source[2]);  // stored blue, green, red
      target[1] = static_cast<std::uint8_t>(source[1]);
      target[2] = static_cast<std::uint8_t>(source[0]);
    }
  }
  return image;
}

}  // namespace

Result<DecodedImage> decode_image(std::string_view bytes, std::size_t max_pixels) {
  if (bytes.empty()) return invalid("image is empty");
  if (bytes.starts_with(kPngSignature)) return decode_png(bytes, max_pixels);
  if (bytes.starts_with("\xFF\xD8\xFF")) return decode_jpeg(bytes, max_pixels);
  if (bytes.starts_with("BM")) return decode_bmp(bytes, max_pixels);
  return invalid("image is not a readable PNG, JPEG or BMP (no known signature)");
}

}  // namespace tidemark::workers
