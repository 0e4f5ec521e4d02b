#include "domain/url_policy.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace tidemark::domain {
namespace {

std::string lower_case(std::string_view text) {
  std::string lowered(text);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered;
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.push_back(lower_case(item));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return items;
}

/// The four numbers of a dotted-decimal IPv4 literal, or nullopt. Other spellings the C
/// library accepts (`2130706433`, `0x7f.1`) are not literals here; they are caught when the
/// host is resolved.
std::optional<std::array<std::uint8_t, 4>> ipv4_literal(std::string_view host) {
  std::array<std::uint8_t, 4> parts{};
  for (int i = 0; i < 4; ++i) {
    auto end = host.find('.');
    std::string_view part = host.substr(0, i < 3 ? end : std::string_view::npos);
    if (part.empty() || (i < 3 && end == std::string_view::npos)) return std::nullopt;
    int value = 0;
    auto [ptr, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (error != std::errc{} || ptr != part.data() + part.size() || value > 255) {
      return std::nullopt;
    }
    parts[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value);
    if (i < 3) host.remove_prefix(end + 1);
  }
  return parts;
}

bool internal_name(const std::string& name) {
  if (name == "localhost" || name.ends_with(".localhost") || name.ends_with(".internal") ||
      name.ends_with(".local")) {
    return true;
  }
  if (name.starts_with("[")) return true;  // IPv6 literals: refused outright
  // A name made only of digits, dots and hex markers is an address in some spelling.
  if (!name.empty() &&
      std::all_of(name.begin(), name.end(),
                  [](unsigned char c) { return std::isxdigit(c) || c == '.' || c == 'x'; }) &&
      std::isdigit(static_cast<unsigned char>(name.front()))) {
    auto address = ipv4_literal(name);
    return !address || is_internal_ipv4(*address);
  }
  return false;
}

bool host_allowed(const std::string& host, const std::vector<std::string>& hosts) {
  if (hosts.empty()) return true;
  return std::any_of(hosts.begin(), hosts.end(), [&](const std::string& allowed) {
    if (allowed.starts_with("*.")) {
      std::string_view suffix = std::string_view(allowed).substr(1);
      return host.size() > suffix.size() && host.ends_with(suffix);
    }
    return host == allowed;
  });
}

}  // namespace

UrlPolicy UrlPolicy::from_lists(std::string_view schemes, std::string_view hosts,
                                bool allow_internal) {
  return UrlPolicy{split_list(schemes), split_list(hosts), allow_internal};
}

bool is_internal_ipv4(std::array<std::uint8_t, 4> address) {
  auto [a, b, c, d] = address;
  (void)c;
  (void)d;
  return a == 0 || a == 10 || a == 127 || (a == 169 && b == 254) ||
         (a == 172 && b >= 16 && b < 32) || (a == 192 && b == 168) ||
         (a == 100 && b >= 64 && b < 128) || (a == 198 && (b == 18 || b == 19)) || a >= 224;
}

bool is_internal_ipv6(const std::array<std::uint8_t, 16>& address) {
  bool leading_zeros = std::all_of(address.begin(), address.begin() + 10,
                                   [](std::uint8_t byte) { return byte == 0; });
  if (leading_zeros && address[10] == 0xff && address[11] == 0xff) {  // ::ffff:a.b.c.d
    return is_internal_ipv4({address[12], address[13], address[14], address[15]});
  }
  bool all_zero_but_last =
      leading_zeros && std::all_of(address.begin() + 10, address.begin() + 15,
                                   [](std::uint8_t byte) { return byte == 0; });
  if (all_zero_but_last && address[15] <= 1) return true;        // :: and ::1
  return (address[0] & 0xfe) == 0xfc ||                          // unique local fc00::/7
         (address[0] == 0xfe && (address[1] & 0xc0) == 0x80) ||  // link local fe80::/10
         address[0] == 0xff;                                     // multicast
}

Result<UrlParts> check_url(std::string_view url, std::string_view field, const UrlPolicy& policy) {
  const std::string name = "field '" + std::string(field) + "'";
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return invalid(name + " must be an absolute URL such as https://host/path");
  }
  UrlParts parts;
  parts.scheme = lower_case(url.substr(0, scheme_end));
  if (std::find(policy.schemes.begin(), policy.schemes.end(), parts.scheme) ==
      policy.schemes.end()) {
    std::string allowed;
    for (const auto& scheme : policy.schemes) allowed += (allowed.empty() ? "" : ", ") + scheme;
    return invalid(name + " has scheme '" + parts.scheme + "'; allowed are " + allowed);
  }
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7F; })) {
    return invalid(name + " must not contain spaces or control characters");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#\\"));
  if (authority.find('@') != std::string_view::npos) {
    return invalid(name + " must not carry credentials");
  }
  std::string_view host = authority;
  if (host.starts_with("[")) {
    host =
        host.substr(0, host.find(']') == std::string_view::npos ? host.size() : host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  while (host.ends_with(".")) host.remove_suffix(1);  // `localhost.` is `localhost`
  if (host.empty()) return invalid(name + " has no host");
  parts.host = lower_case(host);
  if (!policy.allow_internal && internal_name(parts.host)) {
    return invalid(name + " points at an internal address ('" + parts.host + "')");
  }
  if (!host_allowed(parts.host, policy.hosts)) {
    return invalid(name + " names host '" + parts.host + "', which is not an allowed host");
  }
  return parts;
}

}  // namespace tidemark::domain
