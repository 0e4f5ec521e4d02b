#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/log_entry.h"
#include "domain/result.h"
#include "domain/url_policy.h"
#include "domain/uuid.h"

namespace tidemark::domain {

/// Seed 003's recording: a capture from the phone (audio, image, sensor data) by its link.
struct Recording {
  std::string recording_id;
  std::string recording_link;
  std::string recording_type;
  std::string user_id;  ///< the app's own user id, as seed 003 sends it
  std::optional<std::string> created_session_id;
};

inline constexpr std::size_t kMaxLinkBytes = 2048;

/// Seed 003 sent links to object storage and web servers; an operator narrows this.
inline UrlPolicy default_link_policy() {
  return UrlPolicy{{"https", "http", "gs", "s3"}, {}, false};
}

/// Validates `POST /recordings` or `PUT /recordings/{recording_id}` (the same body); with
/// `path_id`, a `recording_id` in the body must equal it, and may be left out. The link must
/// pass `link_policy` (scheme, host, no internal address literal); it may be left out (empty)
/// when not `link_required`: an upload carries the recording itself.
Result<Recording> parse_recording_request(std::string_view body,
                                          const std::optional<std::string>& path_id,
                                          const UrlPolicy& link_policy = default_link_policy(),
                                          bool link_required = true);

inline constexpr std::string_view kRecordingCreatedV1 = "tidemark.recording.created.v1";
inline constexpr std::string_view kRecordingUpdatedV1 = "tidemark.recording.updated.v1";
inline constexpr std::string_view kRecordingDeletedV1 = "tidemark.recording.deleted.v1";
inline constexpr std::string_view kRecordingContentAttachedV1 =
    "tidemark.recording.content_attached.v1";

/// Uploaded bytes now belong to the recording: stored once under their SHA-256.
struct ContentAttached {
  std::string recording_id;
  std::string sha256;
  std::int64_t size = 0;
  std::string content_type;
};
std::string encode_content_attached(const ContentAttached& event);
Result<ContentAttached> decode_content_attached(std::string_view payload);

/// A media type as uploads send it (`audio/wav`, `image/jpeg; q=1` …): `type/subtype` of
/// token characters, parameters allowed, printable ASCII, at most 127 characters.
bool is_media_type(std::string_view text);

/// A created or updated recording with its owner (the account) and, for an update, the
/// revision it expects; the deletion names the recording only.
struct RecordingChange {
  Recording recording;
  Uuid owner_id;
  std::optional<std::int64_t> expected_revision;
};
std::string encode_recording(const RecordingChange& change);
Result<RecordingChange> decode_recording(std::string_view payload);
std::string encode_recording_deleted(std::string_view recording_id);
Result<std::string> decode_recording_deleted(std::string_view payload);

/// `GET /recordings` filters (`user_id`, `recording_type`) and paging.
struct RecordingQuery {
  std::optional<std::string> user_id;
  std::optional<std::string> recording_type;
  PageQuery page;
};
Result<RecordingQuery> parse_recording_query(const QueryParameters& parameters);

}  // namespace tidemark::domain
