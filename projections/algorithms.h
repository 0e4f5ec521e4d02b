#pragma once

#include <pqxx/dbtransaction>

#include "domain/envelope.h"

namespace tidemark::projections {

/// Applies algorithm registry events to `algorithms`; false for other types. An update or
/// deletion that expected another revision than the current one changes nothing.
bool apply_algorithm_event(pqxx::dbtransaction& transaction, const domain::EventEnvelope& envelope);

}  // namespace tidemark::projections
