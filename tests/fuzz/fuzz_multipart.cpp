// multipart/form-data uploads (POST /recordings). The first byte picks the mode:
//   a  CONTENT-TYPE\nBODY   the boundary read from the header, then the body split by it;
//   b  BODY                 the body split by the fixed boundary "XyZ" (line breaks as sent:
//                           CRLF), which lets the fuzzer reach the part headers sooner.
// The parts then go where the upload route sends them: `metadata` to the recording validator,
// the content type of `content` to is_media_type.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/multipart.h"
#include "domain/recording.h"
#include "tests/fuzz/fuzz_input.h"

namespace tidemark::fuzz {
namespace {

using namespace tidemark::domain;

void split(std::string_view body, std::string_view boundary) {
  auto parts = parse_multipart(body, boundary);
  if (!parts) {
    check(!parts.error().message.empty(), "error without a message");
    return;
  }
  check(!parts->empty() && parts->size() <= kMaxMultipartParts, "wrong number of parts", body);
  const std::string delimiter = "\r\n--" + std::string(boundary);
  for (std::size_t i = 0; i < parts->size(); ++i) {
    const MultipartPart& part = (*parts)[i];
    check(!part.name.empty(), "a part without a name", body);
    check(part.body.data() >= body.data() &&
              part.body.data() + part.body.size() <= body.data() + body.size(),
          "a part's body is not inside the request body", body);
    check(part.body.find(delimiter) == std::string_view::npos, "a part's body holds the boundary",
          body);
    check(std::none_of(parts->begin() + static_cast<std::ptrdiff_t>(i) + 1, parts->end(),
                       [&](const MultipartPart& other) { return other.name == part.name; }),
          "two parts of one name", body);
    if (part.name == "metadata") {
      (void)parse_recording_request(part.body, std::nullopt, default_link_policy(), false);
    } else if (part.name == "content") {
      (void)is_media_type(part.content_type);
    }
  }
}

}  // namespace
}  // namespace tidemark::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tidemark::fuzz::FuzzInput input(data, size);
  if (input.choice(2) == 0) {
    std::string_view content_type = input.field();
    auto boundary = tidemark::domain::multipart_boundary(content_type);
    if (!boundary) return 0;
    tidemark::fuzz::check(!boundary->empty() && boundary->size() <= 70,
                          "boundary of a wrong length", content_type);
    tidemark::fuzz::split(input.rest(), *boundary);
  } else {
    tidemark::fuzz::split(input.rest(), "XyZ");
  }
  return 0;
}
