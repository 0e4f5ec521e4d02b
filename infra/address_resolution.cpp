#include "infra/address_resolution.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <memory>

#include "domain/url_policy.h"

namespace tidemark::infra {

std::optional<std::string> internal_address_of(std::string_view host) {
  std::string name(host);
  if (name.starts_with("[") && name.ends_with("]")) name = name.substr(1, name.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0) return std::nullopt;
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (entry->ai_family == AF_INET) {
      const auto* socket = reinterpret_cast<const sockaddr_in*>(entry->ai_addr);
      std::array<std::uint8_t, 4> bytes{};
      std::memcpy(bytes.data(), &socket->sin_addr, bytes.size());
      if (domain::is_internal_ipv4(bytes)) {
        inet_ntop(AF_INET, &socket->sin_addr, text, sizeof text);
        return std::string(text);
      }
    } else if (entry->ai_family == AF_INET6) {
      const auto* socket = reinterpret_cast<const sockaddr_in6*>(entry->ai_addr);
      std::array<std::uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), &socket->sin6_addr, bytes.size());
      if (domain::is_internal_ipv6(bytes)) {
        inet_ntop(AF_INET6, &socket->sin6_addr, text, sizeof text);
        return std::string(text);
      }
    }
  }
  return std::nullopt;
}

domain::Result<domain::UrlParts> check_outbound_url(std::string_view url, std::string_view field,
                                                    const domain::UrlPolicy& policy) {
  auto parts = domain::check_url(url, field, policy);
  if (!parts || policy.allow_internal) return parts;
  // Object-store schemes name buckets, not hosts; only web hosts resolve to addresses.
  if (parts->scheme != "http" && parts->scheme != "https") return parts;
  if (auto address = internal_address_of(parts->host)) {
    return domain::invalid("field '" + std::string(field) + "' names host '" + parts->host +
                           "', which resolves to the internal address " + *address);
  }
  return parts;
}

}  // namespace tidemark::infra
