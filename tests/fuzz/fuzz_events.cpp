// Records of the log as the projector and the workers read them. The first byte picks the mode:
//   a  NAME: VALUE lines, an empty line, KEY, a line break, PAYLOAD
//        a whole record: EventEnvelope::from_record, upcast, then the payload decoder its
//        ce_type names, as the projections dispatch;
//   b… PAYLOAD
//        one decoder of kDecoders directly, 'b' the first; near the end, what sealed fields hold,
//        sealed texts, and seed 003's rows (v0) through the upcaster ('{').
//
// Beyond not crashing: a payload that decodes encodes into one that decodes to itself again, so
// what the projector reads is what the API meant to write.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/account.h"
#include "domain/algorithm.h"
#include "domain/app_user.h"
#include "domain/envelope.h"
#include "domain/job.h"
#include "domain/log_entry.h"
#include "domain/recording.h"
#include "domain/upcasters.h"
#include "infra/cipher.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/json_equal.h"

namespace tidemark::fuzz {
namespace {

using namespace tidemark::domain;

/// decode, encode, decode again: the second encoding equals the first.
template <typename Decode, typename Encode>
void round_trip(std::string_view payload, Decode decode, Encode encode, const char* what) {
  auto decoded = decode(payload);
  if (!decoded) {
    check(!decoded.error().message.empty(), "error without a message", what);
    return;
  }
  std::string encoded = encode(*decoded);
  auto again = decode(encoded);
  check(again.ok(), std::string(what) + ": a re-encoded payload does not decode",
        again ? encoded : again.error().message + "\n" + encoded);
  check(same_json(encode(*again), encoded), std::string(what) + ": payload does not round-trip",
        encoded);
}

template <typename Event, typename Decode>
void event_round_trip(std::string_view payload, Decode decode, const char* what) {
  round_trip(
      payload, decode, [](const Event& event) { return encode_event(event); }, what);
}

/// The sealed texts inside events: open under a fixed key never throws, and seal then open gives
/// the text back, only with the same associated data.
void sealed(std::string_view text) {
  static const std::string key(32, '\x5a');
  (void)infra::open(key, text, "user:fuzz");
  std::string sealed = infra::seal(key, text, "user:fuzz");
  auto opened = infra::open(key, sealed, "user:fuzz");
  check(opened && *opened == text, "seal then open does not give the text back", sealed);
  check(!infra::open(key, sealed, "user:other"), "opened under other associated data", sealed);
}

/// Seed 003's own rows (v0), lifted as projections lift them: what comes out is a current log
/// entry payload.
void log_entry_v0(std::string_view payload) {
  EventEnvelope envelope;
  envelope.type = std::string(kLogEntryRecordedV0);
  envelope.payload = std::string(payload);
  auto lifted = upcast(std::move(envelope));
  if (!lifted) return;
  check(lifted->type == kLogEntryRecordedV1, "v0 lifted to another type", lifted->type);
  auto entry = decode_log_entry_payload(lifted->payload);
  check(entry.ok(), "a lifted v0 row does not decode",
        entry ? lifted->payload : entry.error().message + "\n" + lifted->payload);
}

struct Decoder {
  std::vector<std::string_view> types;  ///< the ce_type values it reads; empty: none
  std::function<void(std::string_view)> run;
};

const std::vector<Decoder> kDecoders = {
    {{kLogEntryRecordedV1, kLogEntryCorrectedV1},
     [](std::string_view p) {
       round_trip(p, decode_log_entry_payload, encode_log_entry_payload, "log entry payload");
     }},
    {{kLogEntryRedactedV1},
     [](std::string_view p) {
       round_trip(p, decode_log_entry_redacted, encode_log_entry_redacted, "log entry redaction");
     }},
    {{kRecordingCreatedV1, kRecordingUpdatedV1},
     [](std::string_view p) { round_trip(p, decode_recording, encode_recording, "recording"); }},
    {{kRecordingDeletedV1},
     [](std::string_view p) {
       round_trip(p, decode_recording_deleted, encode_recording_deleted, "recording deletion");
     }},
    {{kRecordingContentAttachedV1},
     [](std::string_view p) {
       round_trip(p, decode_content_attached, encode_content_attached, "content attachment");
     }},
    {{kAlgorithmRegisteredV1, kAlgorithmUpdatedV1},
     [](std::string_view p) {
       round_trip(
           p, decode_algorithm,
           [](const AlgorithmChange& c) {
             return encode_algorithm(c.algorithm, c.expected_revision);
           },
           "algorithm");
     }},
    {{kAlgorithmDeletedV1},
     [](std::string_view p) {
       round_trip(p, decode_algorithm_deleted, encode_algorithm_deleted, "algorithm deletion");
     }},
    {{kAppUserCreatedV1, kAppUserUpdatedV1},
     [](std::string_view p) {
       round_trip(p, decode_app_user_change, encode_app_user_change, "app user change");
     }},
    {{kAppUserDeletedV1},
     [](std::string_view p) {
       round_trip(p, decode_app_user_deleted, encode_app_user_deleted, "app user deletion");
     }},
    {{kJobSubmittedV1},
     [](std::string_view p) {
       round_trip(p, decode_job_submitted, encode_job_submitted, "job submission");
     }},
    {{kJobStartedV1, kJobSucceededV1, kJobFailedV1},
     [](std::string_view p) {
       round_trip(p, decode_job_outcome, encode_job_outcome, "job outcome");
     }},
    {{kUserRegisteredV1},
     [](std::string_view p) {
       event_round_trip<UserRegistered>(p, decode_user_registered, "user.registered");
     }},
    {{kUserDeletedV1},
     [](std::string_view p) {
       event_round_trip<UserDeleted>(p, decode_user_deleted, "user.deleted");
     }},
    {{kUserProfileUpdatedV1},
     [](std::string_view p) {
       event_round_trip<UserProfileUpdated>(p, decode_user_profile_updated, "user.profile_updated");
     }},
    {{kUserRoleChangedV1},
     [](std::string_view p) {
       event_round_trip<UserRoleChanged>(p, decode_user_role_changed, "user.role_changed");
     }},
    {{kAccountTokenIssuedV1},
     [](std::string_view p) {
       event_round_trip<AccountTokenIssued>(p, decode_account_token_issued, "user.token_issued");
     }},
    {{kEmailVerifiedV1},
     [](std::string_view p) {
       event_round_trip<EmailVerified>(p, decode_email_verified, "user.email_verified");
     }},
    {{kPasswordResetV1},
     [](std::string_view p) {
       event_round_trip<PasswordReset>(p, decode_password_reset, "user.password_reset");
     }},
    {{kSessionStartedV1},
     [](std::string_view p) {
       event_round_trip<SessionStarted>(p, decode_session_started, "session.started");
     }},
    {{kSessionRefreshedV1},
     [](std::string_view p) {
       event_round_trip<SessionRefreshed>(p, decode_session_refreshed, "session.refreshed");
     }},
    {{kSessionRevokedV1},
     [](std::string_view p) {
       event_round_trip<SessionRevoked>(p, decode_session_revoked, "session.revoked");
     }},
    // What sealed fields hold once opened.
    {{},
     [](std::string_view p) {
       round_trip(p, decode_personal_data, encode_personal_data, "personal data");
     }},
    {{}, [](std::string_view p) { round_trip(p, decode_mail, encode_mail, "mail"); }},
    {{},
     [](std::string_view p) { round_trip(p, decode_app_user, encode_app_user, "user record"); }},
    {{}, sealed},
    {{kLogEntryRecordedV0}, log_entry_v0},  // '{'
};

void record(FuzzInput& input) {
  Headers headers;
  while (!input.empty()) {
    std::string_view line = input.field();
    if (line.empty()) break;
    auto colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  std::string key(input.field());
  std::string payload(input.rest());
  auto record = EventEnvelope::from_record(headers, key, payload);
  if (!record) return;
  check(!record->id.empty() && !record->type.empty() && !record->source.empty(),
        "accepted a record without id, type or source");
  // What we write, we read back the same.
  auto again = EventEnvelope::from_record(record->headers(), key, payload);
  check(again.ok(), "an envelope's own headers are refused");
  check(again->headers() == record->headers(), "envelope headers do not round-trip");
  // As projections read it: old versions lifted first.
  auto envelope = upcast(*record);
  if (!envelope) return;
  for (const auto& decoder : kDecoders) {
    for (std::string_view type : decoder.types) {
      if (type == envelope->type) return decoder.run(envelope->payload);
    }
  }
}

}  // namespace
}  // namespace tidemark::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tidemark::fuzz::kDecoders;
  tidemark::fuzz::FuzzInput input(data, size);
  std::size_t mode = input.choice(1 + kDecoders.size());
  if (mode == 0) {
    tidemark::fuzz::record(input);
  } else {
    kDecoders[mode - 1].run(input.rest());
  }
  return 0;
}
