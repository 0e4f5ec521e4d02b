#pragma once

#include <string_view>

#include "domain/uuid.h"

namespace tidemark::infra {

/// A random (version 4) UUID from OpenSSL's CSPRNG.
domain::Uuid random_uuid();

/// A name-based UUID (version 8, SHA-256 of `scope` and `name`): the same inputs give the
/// same id, so a retried request with the same idempotency key appends the same event id.
domain::Uuid uuid_from_name(std::string_view scope, std::string_view name);

}  // namespace tidemark::infra
