// Request bodies, query strings and the small text parsers of the API. The first byte picks the
// parser ('a' the first of kParsers, …); the rest is the body, or `NAME=VALUE&…` for a query
// (percent-decoded as the HTTP adapter does), or lines for parsers of several inputs.
//
// Beyond not crashing: whatever a validator accepts must encode into an event payload that
// decodes back to the same payload, as the projector will read it.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "domain/account.h"
#include "domain/algorithm.h"
#include "domain/app_user.h"
#include "domain/job.h"
#include "domain/log_entry.h"
#include "domain/position.h"
#include "domain/recording.h"
#include "domain/timestamp.h"
#include "domain/url_policy.h"
#include "domain/uuid.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/json_equal.h"

namespace tidemark::fuzz {
namespace {

using namespace tidemark::domain;

constexpr std::size_t kMinPasswordLength = 8;

const Uuid kOwner = *Uuid::parse("0b7e4c1e-2f7d-4b8a-9c1d-3e5f7a9b1c2d");
const Timestamp kNow = *parse_timestamp("2024-12-07T03:55:15.972101Z");

/// `a=1&b=%20` as the HTTP adapter hands it to the routes: percent-decoded, sorted; nullopt when
/// an escape is broken (the adapter answers 400 then).
std::optional<QueryParameters> query_parameters(std::string_view text) {
  QueryParameters parameters;
  FuzzInput input(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  while (!input.empty()) {
    std::string_view pair = input.field('&');
    auto equals = pair.find('=');
    auto name = api::percent_decode(pair.substr(0, equals));
    auto value = api::percent_decode(equals == std::string_view::npos ? std::string_view()
                                                                      : pair.substr(equals + 1));
    if (!name || !value) return std::nullopt;
    parameters.emplace_back(std::move(*name), std::move(*value));
  }
  std::sort(parameters.begin(), parameters.end());
  return parameters;
}

void log_entry(FuzzInput& input) {
  std::string_view body = input.rest();
  auto entry = parse_log_entry_request(body, kOwner, kNow);
  if (!entry) return;
  LogEntry owned = *entry;
  owned.owner_id = kOwner;
  std::string payload = encode_log_entry_payload(owned);
  auto decoded = decode_log_entry_payload(payload);
  check(decoded.ok(), "an accepted log entry's payload does not decode",
        decoded ? payload : decoded.error().message + "\n" + payload);
  check(same_json(encode_log_entry_payload(*decoded), payload),
        "log entry payload does not round-trip", payload);
}

/// A path id that can name a stored row: a recording, algorithm or user record is created from a
/// JSON body, so its id is valid UTF-8 of 1 to 128 bytes without NUL. Other path ids find no row
/// and never reach an event.
bool storable_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdentifierBytes && valid_utf8(id) &&
         id.find('\0') == std::string_view::npos;
}

void recording(FuzzInput& input, bool with_path) {
  std::optional<std::string> path_id;
  if (with_path) path_id = std::string(input.field());
  UrlPolicy policy = with_path ? UrlPolicy::from_lists("https,s3", "*.example.com,cdn.example.org")
                               : default_link_policy();
  auto parsed = parse_recording_request(input.rest(), path_id, policy, !with_path);
  if (!parsed || parsed->recording_link.empty() || (path_id && !storable_id(*path_id))) return;
  std::optional<std::int64_t> revision;
  if (with_path) revision = 7;
  std::string payload = encode_recording({*parsed, kOwner, revision});
  auto decoded = decode_recording(payload);
  check(decoded.ok(), "an accepted recording's payload does not decode",
        decoded ? payload : decoded.error().message + "\n" + payload);
  check(same_json(encode_recording(*decoded), payload), "recording payload does not round-trip",
        payload);
}

void algorithm(FuzzInput& input, bool with_path) {
  std::optional<std::string> path_id;
  if (with_path) path_id = std::string(input.field());
  auto parsed = parse_algorithm_request(input.rest(), path_id);
  if (!parsed || (path_id && !storable_id(*path_id))) return;
  std::optional<std::int64_t> revision;
  if (with_path) revision = 3;
  std::string payload = encode_algorithm(*parsed, revision);
  auto decoded = decode_algorithm(payload);
  check(decoded.ok(), "an accepted algorithm's payload does not decode",
        decoded ? payload : decoded.error().message + "\n" + payload);
  check(same_json(encode_algorithm(decoded->algorithm, decoded->expected_revision), payload),
        "algorithm payload does not round-trip", payload);
}

void app_user(FuzzInput& input) {
  auto parsed = parse_app_user_request(input.rest(), std::nullopt);
  if (!parsed) return;
  std::string record = encode_app_user(*parsed);
  auto decoded = decode_app_user(record);
  check(decoded.ok(), "an accepted user record does not decode",
        decoded ? record : decoded.error().message + "\n" + record);
  check(same_json(encode_app_user(*decoded), record), "user record does not round-trip", record);
}

void query(FuzzInput& input, std::size_t which) {
  auto parameters = query_parameters(input.rest());
  if (!parameters) return;
  switch (which) {
    case 0: {
      auto parsed = parse_log_entry_query(*parameters, {"position", "wait"});
      if (parsed) {
        check(parsed->page >= 1 && parsed->page <= kMaxPage, "page out of range");
        check(parsed->size >= 1 && parsed->size <= kMaxPageSize, "size out of range");
      }
      break;
    }
    case 1:
      (void)parse_recording_query(*parameters);
      break;
    case 2:
      (void)parse_algorithm_query(*parameters);
      break;
    case 3:
      (void)parse_page_query(*parameters, {"user_id"});
      break;
    default: {
      auto wait = parse_wait(*parameters, std::chrono::seconds(30));
      if (wait) {
        check(wait->count() >= 0 && *wait <= std::chrono::seconds(30), "wait out of range");
      }
    }
  }
}

void url(FuzzInput& input, bool configured) {
  UrlPolicy policy = default_link_policy();
  if (configured) {
    std::string_view schemes = input.field();
    std::string_view hosts = input.field();
    policy = UrlPolicy::from_lists(schemes, hosts, false);
  }
  std::string_view text = input.rest();
  auto parts = check_url(text, "callback_url", policy);
  if (!parts) return;
  check(!parts->host.empty(), "accepted URL without a host", text);
  check(std::find(policy.schemes.begin(), policy.schemes.end(), parts->scheme) !=
            policy.schemes.end(),
        "accepted URL with a scheme outside the policy", text);
  check(std::none_of(parts->host.begin(), parts->host.end(),
                     [](unsigned char c) { return c >= 'A' && c <= 'Z'; }),
        "host is not lower case", text);
  check(parts->host.find('@') == std::string::npos, "accepted URL with credentials", text);
}

void percent(FuzzInput& input) {
  std::string_view text = input.rest();
  auto query = api::percent_decode(text, true);
  auto path = api::percent_decode(text, false);
  check(query.has_value() == path.has_value(), "'+' changed whether an escape is broken", text);
  if (query) check(query->size() <= text.size(), "decoding made the text longer", text);
  if (text.find_first_of("%+") == std::string_view::npos) {
    check(query && *query == text, "text without escapes changed", text);
  }
}

void predicates(FuzzInput& input) {
  std::string_view text = input.rest();
  if (is_media_type(text)) {
    check(text.size() <= 127 && text.find('/') != std::string_view::npos, "bad media type", text);
  }
  if (is_email_shaped(text)) {
    check(std::count(text.begin(), text.end(), '@') == 1, "email without exactly one '@'", text);
  }
  (void)parse_role(text);
  (void)parse_purpose(text);
}

void identifiers(FuzzInput& input) {
  std::string_view text = input.rest();
  if (auto instant = parse_timestamp(text)) {
    std::string formatted = format_timestamp(*instant);
    check(parse_timestamp(formatted) == instant, "timestamp does not round-trip", formatted);
  }
  if (auto uuid = Uuid::parse(text)) {
    check(Uuid::parse(uuid->to_string()) == uuid, "UUID does not round-trip", text);
  }
  if (auto position = Position::parse_token(text)) {
    check(Position::parse_token(position->to_token()) == position, "position does not round-trip",
          text);
  }
}

/// Bodies whose parsers only validate: no crash, and an error always has a message.
template <typename Parse>
void body(FuzzInput& input, Parse parse) {
  auto result = parse(input.rest());
  if (!result) check(!result.error().message.empty(), "error without a message");
}

const std::vector<std::function<void(FuzzInput&)>> kParsers = {
    [](FuzzInput& in) {  // a
      body(in, [](std::string_view b) { return parse_registration(b, kMinPasswordLength); });
    },
    [](FuzzInput& in) { body(in, parse_login_request); },  // b
    [](FuzzInput& in) {                                    // c
      body(in, [](std::string_view b) { return parse_profile_changes(b, kMinPasswordLength); });
    },
    [](FuzzInput& in) { body(in, parse_role_request); },     // d
    [](FuzzInput& in) { body(in, parse_refresh_request); },  // e
    [](FuzzInput& in) { body(in, parse_logout_request); },   // f
    [](FuzzInput& in) { body(in, parse_token_request); },    // g
    [](FuzzInput& in) {                                      // h
      body(in, [](std::string_view b) { return parse_password_reset(b, kMinPasswordLength); });
    },
    [](FuzzInput& in) { body(in, parse_email_request); },  // i
    [](FuzzInput& in) { log_entry(in); },                  // j
    [](FuzzInput& in) { recording(in, false); },           // k
    [](FuzzInput& in) { recording(in, true); },            // l: PATH_ID\nBODY
    [](FuzzInput& in) { algorithm(in, false); },           // m
    [](FuzzInput& in) { algorithm(in, true); },            // n: PATH_ID\nBODY
    [](FuzzInput& in) { app_user(in); },                   // o
    [](FuzzInput& in) { body(in, parse_job_request); },    // p
    [](FuzzInput& in) { query(in, 0); },                   // q: GET /events
    [](FuzzInput& in) { query(in, 1); },                   // r: GET /recordings
    [](FuzzInput& in) { query(in, 2); },                   // s: GET /algos
    [](FuzzInput& in) { query(in, 3); },                   // t: paging only
    [](FuzzInput& in) { query(in, 4); },                   // u: ?wait=
    [](FuzzInput& in) { url(in, false); },                 // v: URL
    [](FuzzInput& in) { url(in, true); },                  // w: SCHEMES\nHOSTS\nURL
    [](FuzzInput& in) { percent(in); },                    // x
    [](FuzzInput& in) { predicates(in); },                 // y
    [](FuzzInput& in) { identifiers(in); },                // z
};

}  // namespace
}  // namespace tidemark::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tidemark::fuzz::FuzzInput input(data, size);
  tidemark::fuzz::kParsers[input.choice(tidemark::fuzz::kParsers.size())](input);
  return 0;
}
