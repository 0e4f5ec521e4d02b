#pragma once

#include <pqxx/dbtransaction>

#include "domain/envelope.h"
#include "infra/keyring.h"

namespace tidemark::projections {

/// Applies seed 003's user-record events to `app_users`, opening their sealed data with the
/// owner's key (a shredded owner's records are skipped); false for other types.
bool apply_app_user_event(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope,
                          const infra::Keyring& keyring);

}  // namespace tidemark::projections
