#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.h"
#include "domain/url_policy.h"

namespace tidemark::infra {

/// Resolves `host` (a name, or an address in any spelling the C library accepts) and returns
/// the first internal address it resolves to, or nullopt when none does. A name that does not
/// resolve gives nullopt: nothing can be reached through it today. Blocks for DNS; call it off
/// the HTTP threads.
std::optional<std::string> internal_address_of(std::string_view host);

/// `internal_address_of` for request paths: answers come from a cache (five minutes) and a
/// lookup that takes longer than `budget` counts as not resolving for now, so a slow resolver
/// never holds a request (or a database thread) for its full timeout. At most a few lookups run
/// at once; beyond that a name is not resolved.
std::optional<std::string> cached_internal_address_of(
    std::string_view host, std::chrono::milliseconds budget = std::chrono::milliseconds(250));

/// `domain::check_url`, and then, unless the policy allows internal addresses, refuses a host
/// that resolves to one (names in /etc/hosts, numeric spellings like `2130706433`), through
/// `cached_internal_address_of`.
domain::Result<domain::UrlParts> check_outbound_url(std::string_view url, std::string_view field,
                                                    const domain::UrlPolicy& policy);

}  // namespace tidemark::infra
