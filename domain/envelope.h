#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/result.h"
#include "domain/timestamp.h"

namespace tidemark::domain {

/// Header names of the CloudEvents 1.0 Kafka binary binding, plus Tidemark's own.
namespace header {
inline constexpr std::string_view kSpecVersion = "ce_specversion";
inline constexpr std::string_view kId = "ce_id";
inline constexpr std::string_view kType = "ce_type";
inline constexpr std::string_view kSource = "ce_source";
inline constexpr std::string_view kTime = "ce_time";
inline constexpr std::string_view kSubject = "ce_subject";
inline constexpr std::string_view kContentType = "content-type";
inline constexpr std::string_view kCorrelationId = "tidemark_correlation_id";
inline constexpr std::string_view kActor = "tidemark_actor";
/// Set on dead-letter records: why the record could not be applied.
inline constexpr std::string_view kDeadLetterReason = "tidemark_dlq_reason";
}  // namespace header

using Headers = std::vector<std::pair<std::string, std::string>>;

/// One record of the log: CloudEvents attributes in headers, the JSON payload as the value.
struct EventEnvelope {
  std::string id;
  std::string type;
  std::string source;
  std::string subject;
  Timestamp time;
  std::string correlation_id;
  std::string actor;
  std::string key;      ///< the aggregate id; Kafka partitions by it
  std::string payload;  ///< JSON

  Headers headers() const;
  /// Refuses records that are not CloudEvents 1.0 with JSON content, naming what is wrong.
  static Result<EventEnvelope> from_record(const Headers& headers, std::string key,
                                           std::string payload);
};

}  // namespace tidemark::domain
