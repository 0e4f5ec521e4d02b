#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace tidemark::domain {

/// Which URLs a client may hand us (recording links, webhook callbacks): the schemes and hosts
/// an operator configured, and never an internal address unless `allow_internal` (tests, a
/// private deployment). The server may fetch or call them, so it must not be steered at its
/// own network (SSRF).
struct UrlPolicy {
  std::vector<std::string> schemes;  ///< lower case, e.g. {"https", "http"}
  /// Empty: any host that is not internal. `example.com` allows that host; `*.example.com` its
  /// subdomains.
  std::vector<std::string> hosts;
  bool allow_internal = false;

  /// Reads the comma-separated setting values (`https,http`; `cdn.example.com,*.example.org`).
  static UrlPolicy from_lists(std::string_view schemes, std::string_view hosts,
                              bool allow_internal = false);
};

struct UrlParts {
  std::string scheme;  ///< lower case
  std::string host;    ///< lower case, without port; IPv6 literals keep their brackets
};

/// Checks an absolute URL against `policy`; an `invalid` error names `field` and the problem.
Result<UrlParts> check_url(std::string_view url, std::string_view field, const UrlPolicy& policy);

/// Loopback, private, link-local, carrier-grade NAT, "this network", multicast and reserved.
bool is_internal_ipv4(std::array<std::uint8_t, 4> address);
/// Loopback, unspecified, unique-local, link-local, multicast, and IPv4-mapped internal ones.
bool is_internal_ipv6(const std::array<std::uint8_t, 16>& address);

}  // namespace tidemark::domain
