#include "api/http.h"

#include "domain/json.h"

namespace tidemark::api {

std::string HttpRequest::header(std::string_view lower_case_name) const {
  auto found = headers.find(std::string(lower_case_name));
  return found == headers.end() ? std::string() : found->second;
}

std::string HttpRequest::cookie(std::string_view name) const {
  std::string_view cookies =
      headers.count("cookie") ? std::string_view(headers.at("cookie")) : std::string_view();
  while (!cookies.empty()) {
    auto end = cookies.find(';');
    std::string_view pair = cookies.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == name) {
      return std::string(pair.substr(equals + 1));
    }
    if (end == std::string_view::npos) break;
    cookies.remove_prefix(end + 1);
  }
  return {};
}

HttpResponse error_response(int status, std::string_view message) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("detail");
  domain::write_string(writer, message);
  writer.EndObject();
  return {status, {buffer.GetString(), buffer.GetSize()}, "application/json", {}};
}

HttpResponse error_response(const domain::Error& error) {
  switch (error.kind) {
    case domain::ErrorKind::invalid:
      return error_response(400, error.message);
    case domain::ErrorKind::not_found:
      return error_response(404, error.message);
    case domain::ErrorKind::conflict:
      return error_response(409, error.message);
    case domain::ErrorKind::too_large:
      return error_response(413, error.message);
    case domain::ErrorKind::unavailable:
      return unavailable_response(error.message);
  }
  return error_response(500, error.message);
}

HttpResponse unavailable_response(std::string_view message, int retry_after_seconds) {
  HttpResponse response = error_response(503, message);
  response.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return response;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && plus_is_space) {
      decoded.push_back(' ');
    } else if (text[i] == '%') {
      int high = i + 1 < text.size() ? hex(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? hex(text[i + 2]) : -1;
      if (high < 0 || low < 0) return std::nullopt;
      decoded.push_back(static_cast<char>(high << 4 | low));
      i += 2;
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

bool is_utf8_text(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
    unsigned char lead = byte(i);
    if (lead == 0) return false;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The length of the sequence and the range its second byte must fall in (RFC 3629 §4).
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // beyond U+10FFFF
    } else {
      return false;
    }
    if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return false;
    for (std::size_t k = 2; k < length; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return false;
    }
    i += length;
  }
  return true;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 15]);
    }
  }
  return encoded;
}

}  // namespace tidemark::api
