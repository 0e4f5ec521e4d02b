#include "domain/upcasters.h"

#include <functional>
#include <iterator>

#include "domain/account.h"
#include "domain/algorithm.h"
#include "domain/app_user.h"
#include "domain/job.h"
#include "domain/json.h"
#include "domain/log_entry.h"
#include "domain/recording.h"

namespace tidemark::domain {
namespace {

struct Upcaster {
  std::string_view from;
  std::string_view to;
  std::function<Result<std::string>(std::string_view payload)> lift;
};

/// Seed 003's `ts` column printed without a zone: `2024-01-31 12:00:00.123456`, meaning UTC.
std::optional<Timestamp> seed_timestamp(const std::string& text) {
  if (auto instant = parse_timestamp(text)) return instant;
  if (text.size() < 19 || text[10] != ' ') return std::nullopt;
  std::string rfc3339 = text;
  rfc3339[10] = 'T';
  return parse_timestamp(rfc3339 + "Z");
}

Result<std::string> lift_log_entry_v0(std::string_view payload) {
  auto document = parse_json_object(payload, "log entry v0");
  if (!document) return document.error();
  rapidjson::Document& row = document.value();
  // event_data may be the JSON text the seed stored in a string column.
  auto data = row.FindMember("event_data");
  if (data != row.MemberEnd() && data->value.IsString()) {
    // Through parse_json_object, as any outside JSON: its checks (nesting depth first) come
    // before RapidJSON's recursive parser.
    auto inner = parse_json_object({data->value.GetString(), data->value.GetStringLength()},
                                   "log entry v0 field 'event_data'");
    if (!inner) {
      return invalid("log entry v0: field 'event_data' is text that is not a JSON object (" +
                     inner.error().message + ")");
    }
    data->value.CopyFrom(*inner, row.GetAllocator());
  }
  auto ts = row.FindMember("ts");
  if (ts == row.MemberEnd() || !ts->value.IsString()) {
    return invalid("log entry v0: field 'ts' is required");
  }
  auto instant = seed_timestamp(ts->value.GetString());
  if (!instant) return invalid("log entry v0: field 'ts' is not a date-time");
  std::string ts_text = format_timestamp(*instant);
  ts->value.SetString(ts_text.c_str(), static_cast<rapidjson::SizeType>(ts_text.size()),
                      row.GetAllocator());
  auto event_id_member = row.FindMember("event_id");
  if (event_id_member == row.MemberEnd() || !event_id_member->value.IsString()) {
    return invalid("log entry v0: field 'event_id' is required");
  }
  auto event_id = Uuid::parse(event_id_member->value.GetString());
  if (!event_id) return invalid("log entry v0: field 'event_id' must be a UUID");
  row.RemoveMember("event_id");
  // The v1 request validation checks every field as an API request would; the id is kept.
  auto entry = parse_log_entry_request(to_json(row), *event_id, *instant);
  if (!entry) return invalid("log entry v0: " + entry.error().message);
  return encode_log_entry_payload(*entry);
}

const Upcaster kUpcasters[] = {
    {kLogEntryRecordedV0, kLogEntryRecordedV1, lift_log_entry_v0},
};

/// The types the API and the workers append today.
constexpr std::string_view kCurrentTypes[] = {
    kLogEntryRecordedV1,
    kLogEntryCorrectedV1,
    kLogEntryRedactedV1,
    kUserRegisteredV1,
    kUserProfileUpdatedV1,
    kUserRoleChangedV1,
    kAccountTokenIssuedV1,
    kEmailVerifiedV1,
    kPasswordResetV1,
    kUserDeletedV1,
    kSessionStartedV1,
    kSessionRefreshedV1,
    kSessionRevokedV1,
    kAlgorithmRegisteredV1,
    kAlgorithmUpdatedV1,
    kAlgorithmDeletedV1,
    kRecordingCreatedV1,
    kRecordingUpdatedV1,
    kRecordingContentAttachedV1,
    kRecordingDeletedV1,
    kAppUserCreatedV1,
    kAppUserUpdatedV1,
    kAppUserDeletedV1,
    kJobSubmittedV1,
    kJobStartedV1,
    kJobSucceededV1,
    kJobFailedV1,
};

}  // namespace

const std::vector<std::string_view>& all_event_types() {
  static const std::vector<std::string_view> types = [] {
    std::vector<std::string_view> all(std::begin(kCurrentTypes), std::end(kCurrentTypes));
    for (const auto& upcaster : kUpcasters) all.push_back(upcaster.from);
    return all;
  }();
  return types;
}

Result<EventEnvelope> upcast(EventEnvelope envelope) {
  // Follow the chain: v0 → v1 → … until no upcaster starts at the current type.
  for (int step = 0; step < 16; ++step) {
    const Upcaster* found = nullptr;
    for (const auto& upcaster : kUpcasters) {
      if (upcaster.from == envelope.type) found = &upcaster;
    }
    if (!found) return envelope;
    auto lifted = found->lift(envelope.payload);
    if (!lifted) return lifted.error();
    envelope.type = found->to;
    envelope.payload = std::move(lifted).value();
  }
  return invalid("upcasting '" + envelope.type + "' did not end");
}

}  // namespace tidemark::domain
