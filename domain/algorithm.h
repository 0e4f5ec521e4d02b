#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/log_entry.h"
#include "domain/result.h"

namespace tidemark::domain {

/// Seed 003's algorithm registry entry: which model (`location`, at `version`) handles a
/// recording type. Admins manage the registry; everyone signed in reads it.
struct Algorithm {
  std::string algo_id;
  std::string recording_type;
  std::string location;
  std::string version;
};

inline constexpr std::size_t kMaxLocationBytes = 1024;

/// Validates a `POST /algos` or `PUT /algos/{algo_id}` body (the same body, as in seed 003).
/// With `path_id`, an `algo_id` in the body must equal it, and may be left out.
Result<Algorithm> parse_algorithm_request(std::string_view body,
                                          const std::optional<std::string>& path_id);

inline constexpr std::string_view kAlgorithmRegisteredV1 = "tidemark.algorithm.registered.v1";
inline constexpr std::string_view kAlgorithmUpdatedV1 = "tidemark.algorithm.updated.v1";
inline constexpr std::string_view kAlgorithmDeletedV1 = "tidemark.algorithm.deleted.v1";

/// Payloads: the whole algorithm for registered and updated, `{"algo_id"}` for deleted. An
/// update may carry the revision it expects (optimistic concurrency); the projection applies it
/// only on that revision. A deletion carries none: the API checks `If-Match` before appending.
std::string encode_algorithm(const Algorithm& algorithm,
                             std::optional<std::int64_t> expected_revision = std::nullopt);
struct AlgorithmChange {
  Algorithm algorithm;
  std::optional<std::int64_t> expected_revision;
};
Result<AlgorithmChange> decode_algorithm(std::string_view payload);
std::string encode_algorithm_deleted(std::string_view algo_id);
Result<std::string> decode_algorithm_deleted(std::string_view payload);

/// `GET /algos` filters and paging.
struct AlgorithmQuery {
  std::optional<std::string> recording_type;
  std::optional<std::string> version;
  PageQuery page;
};
Result<AlgorithmQuery> parse_algorithm_query(const QueryParameters& parameters);

}  // namespace tidemark::domain
