#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace tidemark::domain {

/// One part of a `multipart/form-data` body (RFC 7578). `body` points into the parsed text.
struct MultipartPart {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;  ///< `text/plain` when the part names none
  std::string_view body;
};

inline constexpr std::size_t kMaxMultipartParts = 16;

/// The boundary of a `multipart/form-data; boundary=…` Content-Type; an error names what is
/// missing or malformed (RFC 2046: 1 to 70 characters).
Result<std::string> multipart_boundary(std::string_view content_type);

/// Splits a body into its parts. Refuses, naming the problem: a missing first or closing
/// boundary, a part without `Content-Disposition: form-data; name=…`, header lines over 1 KiB,
/// more than kMaxMultipartParts parts, and two parts of one name.
Result<std::vector<MultipartPart>> parse_multipart(std::string_view body,
                                                   std::string_view boundary);

}  // namespace tidemark::domain
