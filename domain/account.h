#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.h"
#include "domain/timestamp.h"
#include "domain/uuid.h"

namespace tidemark::domain {

/// What a caller may do: `user` owns their data, `analyst` reads the log, `admin` does all.
enum class Role { user, analyst, admin };
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

inline constexpr std::size_t kMinUsernameLength = 5;  // seed 001: each field at least 5
inline constexpr std::size_t kMaxUsernameLength = 64;
inline constexpr std::size_t kMaxPasswordLength = 256;
inline constexpr std::size_t kMaxEmailLength = 254;
inline constexpr std::size_t kMaxFullNameLength = 128;

/// A registration as any seed sends it: seed 000 `{username, email, password}`, seed 001
/// `{fullname, username, password}`, seed 002 `{name, username, email, password}`, seed 004
/// `{user, email, password}`. Without a username the email is the username.
struct Registration {
  std::string username;
  std::optional<std::string> email;  ///< lower-cased
  std::optional<std::string> full_name;
  std::string password;
};
Result<Registration> parse_registration(std::string_view body, std::size_t min_password_length);

/// `{username, password}` (seeds 000, 001) or `{email, password}` (seeds 002, 004).
struct LoginRequest {
  std::string identifier;
  bool by_email = false;
  std::string password;
};
Result<LoginRequest> parse_login_request(std::string_view body);

/// Changes to an account (seed 002's PATCH /user/update, seed 004's PUT /profile/{id}): any of
/// username (or `user`), email, full name (or `fullname`, `name`), password. At least one;
/// unknown fields such as `role` are refused, so no one promotes themselves.
struct ProfileChanges {
  std::optional<std::string> username;
  std::optional<std::string> email;  ///< lower-cased
  std::optional<std::string> full_name;
  std::optional<std::string> password;
};
Result<ProfileChanges> parse_profile_changes(std::string_view body,
                                             std::size_t min_password_length);

/// `{"role": "user" | "analyst" | "admin"}`.
Result<Role> parse_role_request(std::string_view body);

/// `{"refresh_token": …}`.
Result<std::string> parse_refresh_request(std::string_view body);
/// Seed 000's `{"session-id": …}` (also `session_id`); the id must be a UUID.
Result<Uuid> parse_logout_request(std::string_view body);

/// True for `local@domain.tld` shapes: one '@', no spaces or control characters, a dot in
/// the domain, within RFC 5321's 254 characters.
bool is_email_shaped(std::string_view text);

/// The personal fields of an account. Inside events they are sealed with the user's own key,
/// so destroying the key leaves nothing readable in the log (crypto-shredding).
struct PersonalData {
  std::string username;
  std::optional<std::string> email;
  std::optional<std::string> full_name;
  std::string password_hash;
};
std::string encode_personal_data(const PersonalData& data);
Result<PersonalData> decode_personal_data(std::string_view json);

inline constexpr std::string_view kUserRegisteredV1 = "tidemark.user.registered.v1";
inline constexpr std::string_view kUserDeletedV1 = "tidemark.user.deleted.v1";
inline constexpr std::string_view kUserProfileUpdatedV1 = "tidemark.user.profile_updated.v1";
inline constexpr std::string_view kUserRoleChangedV1 = "tidemark.user.role_changed.v1";
inline constexpr std::string_view kSessionStartedV1 = "tidemark.session.started.v1";
inline constexpr std::string_view kSessionRefreshedV1 = "tidemark.session.refreshed.v1";
inline constexpr std::string_view kSessionRevokedV1 = "tidemark.session.revoked.v1";

/// Events of the user aggregate (Kafka key: the user id). Nothing personal is in clear text.
struct UserRegistered {
  Uuid user_id;
  Role role = Role::user;
  std::string sealed_personal_data;
};
struct UserDeleted {
  Uuid user_id;
};
/// The whole personal data after the change, sealed like at registration.
struct UserProfileUpdated {
  Uuid user_id;
  std::string sealed_personal_data;
};
struct UserRoleChanged {
  Uuid user_id;
  Role role = Role::user;
};
/// A session is one login: its refresh token rotates; only the SHA-256 of a token is logged.
struct SessionStarted {
  Uuid session_id;
  Uuid user_id;
  std::string refresh_token_hash;
  Timestamp expires_at;
};
struct SessionRefreshed {
  Uuid session_id;
  Uuid user_id;
  std::string refresh_token_hash;
  std::string previous_refresh_token_hash;
};
struct SessionRevoked {
  Uuid session_id;
  Uuid user_id;
  std::string reason;  ///< logout, logout_all, refresh_reuse, account_deleted
};

std::string encode_event(const UserRegistered& event);
std::string encode_event(const UserDeleted& event);
std::string encode_event(const UserProfileUpdated& event);
std::string encode_event(const UserRoleChanged& event);
std::string encode_event(const SessionStarted& event);
std::string encode_event(const SessionRefreshed& event);
std::string encode_event(const SessionRevoked& event);
Result<UserRegistered> decode_user_registered(std::string_view payload);
Result<UserDeleted> decode_user_deleted(std::string_view payload);
Result<UserProfileUpdated> decode_user_profile_updated(std::string_view payload);
Result<UserRoleChanged> decode_user_role_changed(std::string_view payload);
Result<SessionStarted> decode_session_started(std::string_view payload);
Result<SessionRefreshed> decode_session_refreshed(std::string_view payload);
Result<SessionRevoked> decode_session_revoked(std::string_view payload);

}  // namespace tidemark::domain
