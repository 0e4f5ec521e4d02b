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
inline constexpr std::string_view kAccountTokenIssuedV1 = "tidemark.user.token_issued.v1";
inline constexpr std::string_view kEmailVerifiedV1 = "tidemark.user.email_verified.v1";
inline constexpr std::string_view kPasswordResetV1 = "tidemark.user.password_reset.v1";
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
/// What a single-use token is for.
enum class TokenPurpose { verify_email, reset_password };
std::string_view purpose_name(TokenPurpose purpose);
std::optional<TokenPurpose> parse_purpose(std::string_view name);

/// A single-use token was made and mailed. Only its SHA-256 is in clear; the mail (recipient and
/// token) is sealed with the user's key for the mailer, so deletion shreds it too.
struct AccountTokenIssued {
  Uuid user_id;
  TokenPurpose purpose = TokenPurpose::verify_email;
  std::string token_hash;
  Timestamp expires_at;
  std::string sealed_mail;
};
struct EmailVerified {
  Uuid user_id;
  std::string token_hash;
};
/// A new password through a reset token: the whole personal data sealed again, as in
/// UserProfileUpdated; the user's sessions end with it.
struct PasswordReset {
  Uuid user_id;
  std::string token_hash;
  std::string sealed_personal_data;
};

/// A mail to send, as sealed inside AccountTokenIssued.
struct Mail {
  std::string to;
  std::string subject;
  std::string body;
};
std::string encode_mail(const Mail& mail);
Result<Mail> decode_mail(std::string_view json);

/// `{"token": …}` and `{"token": …, "password": …}`, and seed 004's `{"email": …}`.
Result<std::string> parse_token_request(std::string_view body);
struct PasswordResetRequest {
  std::string token;
  std::string password;
};
Result<PasswordResetRequest> parse_password_reset(std::string_view body,
                                                  std::size_t min_password_length);
Result<std::string> parse_email_request(std::string_view body);

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
  std::string reason;  ///< logout, logout_all, refresh_reuse (any text decodes)
};

std::string encode_event(const UserRegistered& event);
std::string encode_event(const UserDeleted& event);
std::string encode_event(const UserProfileUpdated& event);
std::string encode_event(const UserRoleChanged& event);
std::string encode_event(const AccountTokenIssued& event);
std::string encode_event(const EmailVerified& event);
std::string encode_event(const PasswordReset& event);
std::string encode_event(const SessionStarted& event);
std::string encode_event(const SessionRefreshed& event);
std::string encode_event(const SessionRevoked& event);
Result<UserRegistered> decode_user_registered(std::string_view payload);
Result<UserDeleted> decode_user_deleted(std::string_view payload);
Result<UserProfileUpdated> decode_user_profile_updated(std::string_view payload);
Result<UserRoleChanged> decode_user_role_changed(std::string_view payload);
Result<AccountTokenIssued> decode_account_token_issued(std::string_view payload);
Result<EmailVerified> decode_email_verified(std::string_view payload);
Result<PasswordReset> decode_password_reset(std::string_view payload);
Result<SessionStarted> decode_session_started(std::string_view payload);
Result<SessionRefreshed> decode_session_refreshed(std::string_view payload);
Result<SessionRevoked> decode_session_revoked(std::string_view payload);

}  // namespace tidemark::domain
