#pragma once

#include <string_view>
#include <vector>

#include "domain/envelope.h"
#include "domain/result.h"

namespace tidemark::domain {

/// Event schema evolution. The log is never rewritten, so an event type changes by getting a
/// new version (`….v2`) while records of the old one stay. An upcaster lifts a record of an old
/// version to the next one; projections, replays and exports apply `upcast` first and so only
/// ever see current versions. To add a version: give the new type its own constant and
/// decoder, register an upcaster from the previous version in upcasters.cpp, and add a test
/// that a record of the old version still projects (tests/unit/upcasters_test.cpp,
/// tests/integration/operations_test.cpp). See docs/events.md.

/// Seed 003's own event-log row, as teams moving from its FastAPI backend append their history:
/// `event_id`, `user_id`, `session_id`, `event_type`, `event_data` (an object or a JSON text),
/// `event_source`, `log_level`, `ts` (RFC 3339, or `YYYY-MM-DD HH:MM:SS[.ffffff]` meaning UTC).
/// No owner: such entries are visible to analysts and admins.
inline constexpr std::string_view kLogEntryRecordedV0 = "tidemark.log_entry.recorded.v0";

/// Every event type the log may hold: each current version, then each older version an
/// upcaster lifts (taken from the upcasters themselves). A new event type gets its constant in
/// its aggregate's header and its place here; docs/events.md describes each one, which
/// tests/unit/docs_test.cpp checks.
const std::vector<std::string_view>& all_event_types();

/// The envelope with its type and payload lifted to the current version (unchanged when
/// current); an `invalid` error when an old payload cannot be lifted.
Result<EventEnvelope> upcast(EventEnvelope envelope);

}  // namespace tidemark::domain
