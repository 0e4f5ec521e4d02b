#pragma once

// What the fuzz targets share: reading the input as a choice and text fields, and checks that
// stop the run like a crash does. Inputs stay readable, so the committed corpus can be written and
// reviewed by hand: `bPAYLOAD`, `aNAME=VALUE&…`.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace tidemark::fuzz {

/// The bytes libFuzzer hands a target, consumed from the front.
class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  /// One byte as a choice among `count` alternatives: 'a' is the first, 'b' the second, and
  /// every other byte value picks one too. The end of the input picks the first.
  std::size_t choice(std::size_t count) {
    if (rest_.empty()) return 0;
    auto letter = static_cast<unsigned char>(rest_.front() - 'a');
    rest_.remove_prefix(1);
    return letter % count;
  }

  /// The text up to the next `separator` (which is consumed), or everything left.
  std::string_view field(char separator = '\n') {
    auto end = rest_.find(separator);
    std::string_view taken = rest_.substr(0, end);
    rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
    return taken;
  }

  /// Everything not consumed yet.
  std::string_view rest() {
    std::string_view taken = rest_;
    rest_ = {};
    return taken;
  }

  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

/// A broken invariant: print it with the input's context, then abort so libFuzzer saves the
/// input as a crash.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void check(bool condition, std::string_view what, std::string_view detail = {}) {
  if (!condition) fail(what, detail);
}

/// True for well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF),
/// what a JSON string parsed with validation can hold.
inline bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto byte = [&](std::size_t at) {
      return at < text.size() ? static_cast<unsigned char>(text[at]) : 0u;
    };
    unsigned lead = byte(i);
    std::size_t length = lead < 0x80   ? 1
                         : lead < 0xC2 ? 0
                         : lead < 0xE0 ? 2
                         : lead < 0xF0 ? 3
                         : lead < 0xF5 ? 4
                                       : 0;
    if (length == 0) return false;
    // The second byte's range depends on the lead byte; the others are plain continuations.
    unsigned low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
    unsigned high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
    for (std::size_t k = 1; k < length; ++k) {
      unsigned next = byte(i + k);
      if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace tidemark::fuzz
