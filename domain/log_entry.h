#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/result.h"
#include "domain/timestamp.h"
#include "domain/uuid.h"

namespace tidemark::domain {

/// Seed 003's event-log entry: something that happened in a mobile app, recorded for analysis.
struct LogEntry {
  Uuid event_id;
  std::string user_id;
  std::optional<std::string> session_id;
  std::string event_type;
  std::string event_data_json;  ///< a JSON object, compact
  std::string event_source;
  std::string log_level;
  Timestamp ts;
  std::optional<Uuid>
      owner_id;  ///< the account that recorded it; absent on entries from before accounts
  /// A correction's optimistic-concurrency check: applied only on this revision.
  std::optional<std::int64_t> expected_revision;
};

/// The domain events of a log entry: recorded, corrected (the whole entry again, as PUT sends
/// it) and redacted (its content removed from every read model; the log keeps the history).
inline constexpr std::string_view kLogEntryRecordedV1 = "tidemark.log_entry.recorded.v1";
inline constexpr std::string_view kLogEntryCorrectedV1 = "tidemark.log_entry.corrected.v1";
inline constexpr std::string_view kLogEntryRedactedV1 = "tidemark.log_entry.redacted.v1";

inline constexpr std::size_t kMaxIdentifierBytes = 128;
inline constexpr std::size_t kMaxEventDataBytes = 64 * 1024;

/// Validates a `POST /events` body. `ts` defaults to `now`, `log_level` to "info".
Result<LogEntry> parse_log_entry_request(std::string_view body, Uuid event_id, Timestamp now);

/// The event payload, and its inverse used by the projector.
std::string encode_log_entry_payload(const LogEntry& entry);
Result<LogEntry> decode_log_entry_payload(std::string_view payload);
/// `{"event_id": …}`, the payload of a redaction.
std::string encode_log_entry_redacted(const Uuid& event_id);
Result<Uuid> decode_log_entry_redacted(std::string_view payload);

/// `GET /events` filters and paging, as seed 003 names them.
struct LogEntryQuery {
  std::optional<std::string> user_id;
  std::optional<std::string> session_id;
  std::optional<std::string> event_type;
  std::optional<std::string> event_source;
  std::optional<Timestamp> ts_gte;
  std::optional<Timestamp> ts_lte;
  std::int64_t page = 1;
  std::int64_t size = 10;
};

inline constexpr std::int64_t kMaxPageSize = 100;
inline constexpr std::int64_t kMaxPage = 1'000'000'000;  ///< keeps (page - 1) * size in range

using QueryParameters = std::vector<std::pair<std::string, std::string>>;

/// `page` (from 1) and `size` (1..100, default 10), as seed 003 pages every list.
struct PageQuery {
  std::int64_t page = 1;
  std::int64_t size = 10;
};
/// Only `page` and `size` (and the names in `also_allowed`) are accepted.
Result<PageQuery> parse_page_query(const QueryParameters& parameters,
                                   const std::vector<std::string_view>& also_allowed = {});

/// Text filters (1..128 bytes each) by name, written through the pointers, and the paging;
/// any other parameter is refused by name.
using TextFilters = std::vector<std::pair<std::string_view, std::optional<std::string>*>>;
Result<PageQuery> parse_filters_and_page(const QueryParameters& parameters,
                                         const TextFilters& filters);

/// Unknown parameters are refused so that a misspelt filter is not silently ignored;
/// the names in `also_allowed` are handled by the caller.
Result<LogEntryQuery> parse_log_entry_query(const QueryParameters& parameters,
                                            const std::vector<std::string_view>& also_allowed);

}  // namespace tidemark::domain
