#pragma once

#include <pqxx/dbtransaction>

#include "domain/envelope.h"

namespace tidemark::projections {

/// Applies recording events to `recordings`; false for other types. An update that expected
/// another revision than the current one changes nothing.
bool apply_recording_event(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope);

}  // namespace tidemark::projections
