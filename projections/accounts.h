#pragma once

#include <pqxx/dbtransaction>

#include "domain/envelope.h"
#include "infra/keyring.h"

namespace tidemark::projections {

/// Applies the user and session events to `users` and `sessions`; false for other types.
/// Throws PoisonRecord for a payload that does not decode.
bool apply_account_event(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope,
                         const infra::Keyring& keyring);

}  // namespace tidemark::projections
