#pragma once

#include <string>
#include <string_view>

#include "domain/envelope.h"
#include "domain/uuid.h"

namespace tidemark::infra {

/// A random (version 4) UUID from OpenSSL's CSPRNG.
domain::Uuid random_uuid();

/// A name-based UUID (version 8, SHA-256 of `scope` and `name`): the same inputs give the
/// same id, so a retried request with the same idempotency key appends the same event id.
domain::Uuid uuid_from_name(std::string_view scope, std::string_view name);

/// An envelope for an event that `source` (`/tidemark/api`, `/tidemark/inference`) appends, with
/// a fresh id and the time now.
domain::EventEnvelope new_event(std::string_view source, std::string_view type, std::string key,
                                std::string subject, std::string payload,
                                std::string correlation_id, std::string actor);

}  // namespace tidemark::infra
