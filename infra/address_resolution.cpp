#include "infra/address_resolution.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <unordered_map>

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

namespace {

struct CachedLookup {
  std::shared_future<std::optional<std::string>> lookup;
  std::chrono::steady_clock::time_point expires;
};

constexpr auto kLookupLifetime = std::chrono::minutes(5);
constexpr std::size_t kMaxLookupsInFlight = 8;
constexpr std::size_t kMaxCachedNames = 10000;

bool ready(const std::shared_future<std::optional<std::string>>& lookup) {
  return lookup.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace

std::optional<std::string> cached_internal_address_of(std::string_view host,
                                                      std::chrono::milliseconds budget) {
  static std::mutex mutex;
  static std::unordered_map<std::string, CachedLookup> cache;
  std::shared_future<std::optional<std::string>> lookup;
  {
    std::lock_guard lock(mutex);
    auto now = std::chrono::steady_clock::now();
    auto found = cache.find(std::string(host));
    if (found != cache.end() && (found->second.expires > now || !ready(found->second.lookup))) {
      lookup = found->second.lookup;
    } else {
      std::size_t in_flight = 0;
      for (auto entry = cache.begin(); entry != cache.end();) {
        bool done = ready(entry->second.lookup);
        in_flight += done ? 0 : 1;
        // Only finished lookups may go: dropping a running one would wait for it.
        if (done && (entry->second.expires <= now || cache.size() > kMaxCachedNames)) {
          entry = cache.erase(entry);
        } else {
          ++entry;
        }
      }
      if (in_flight >= kMaxLookupsInFlight) return std::nullopt;
      lookup = std::async(std::launch::async, [name = std::string(host)] {
                 return internal_address_of(name);
               }).share();
      cache[std::string(host)] = {lookup, now + kLookupLifetime};
    }
  }
  if (lookup.wait_for(budget) != std::future_status::ready) return std::nullopt;
  return lookup.get();
}

domain::Result<domain::UrlParts> check_outbound_url(std::string_view url, std::string_view field,
                                                    const domain::UrlPolicy& policy) {
  auto parts = domain::check_url(url, field, policy);
  if (!parts || policy.allow_internal) return parts;
  // Object-store schemes name buckets, not hosts; only web hosts resolve to addresses.
  if (parts->scheme != "http" && parts->scheme != "https") return parts;
  if (auto address = cached_internal_address_of(parts->host)) {
    return domain::invalid("field '" + std::string(field) + "' names host '" + parts->host +
                           "', which resolves to the internal address " + *address);
  }
  return parts;
}

}  // namespace tidemark::infra
