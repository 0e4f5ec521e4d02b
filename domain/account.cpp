#include "domain/account.h"

#include <algorithm>
#include <cctype>

#include "domain/json.h"

namespace tidemark::domain {
namespace {

/// Reads one of two names for the same field; giving both is an error.
std::optional<std::string> aliased_string(JsonFieldReader& fields, std::string_view name,
                                          std::string_view alias, std::size_t max_length,
                                          std::optional<Error>& error) {
  auto primary = fields.string(name, false, max_length);
  auto secondary = fields.string(alias, false, max_length);
  if (primary && secondary) {
    error = invalid("give either '" + std::string(name) + "' or '" + std::string(alias) +
                    "', not both");
  }
  return primary ? primary : secondary;
}

std::string lower_case(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// Characters, not bytes: the text is valid UTF-8 (checked when the JSON was parsed), so every
/// byte that is not a continuation byte starts a character.
std::size_t character_count(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; }));
}

bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return c < 0x20 || c == 0x7F; });
}

/// Which spelling of the full name a body used, for messages.
std::string_view fields_named_full_name(const rapidjson::Value& body) {
  return body.HasMember("fullname") ? "fullname" : "full_name";
}

/// Serialises an object written by `body`.
template <typename Body>
std::string json_object(Body body) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  body(writer);
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

void field(JsonWriter& writer, const char* name, std::string_view value) {
  writer.Key(name);
  write_string(writer, value);
}

void optional_field(JsonWriter& writer, const char* name, const std::optional<std::string>& value) {
  writer.Key(name);
  if (value) {
    write_string(writer, *value);
  } else {
    writer.Null();
  }
}

/// Decodes an event payload: `read` pulls the fields, then unknown fields are refused too.
template <typename Event, typename Read>
Result<Event> decode(std::string_view payload, std::string_view what, Read read) {
  auto document = parse_json_object(payload, what);
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  Event event = read(fields);
  if (auto error = fields.finish()) return invalid(std::string(what) + ": " + error->message);
  return event;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::user:
      return "user";
    case Role::analyst:
      return "analyst";
    case Role::admin:
      return "admin";
  }
  return "user";
}

std::optional<Role> parse_role(std::string_view name) {
  for (auto role : {Role::user, Role::analyst, Role::admin}) {
    if (role_name(role) == name) return role;
  }
  return std::nullopt;
}

bool is_email_shaped(std::string_view text) {
  if (text.size() < 3 || text.size() > kMaxEmailLength || has_control_characters(text))
    return false;
  if (text.find(' ') != std::string_view::npos) return false;
  auto at = text.find('@');
  if (at == 0 || at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  auto domain = text.substr(at + 1);
  auto dot = domain.rfind('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size() &&
         domain.front() != '.' && domain.find("..") == std::string_view::npos;
}

Result<Registration> parse_registration(std::string_view body, std::size_t min_password_length) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  std::optional<Error> alias_error;
  auto username = aliased_string(fields, "username", "user", kMaxUsernameLength, alias_error);
  auto email = fields.string("email", false, kMaxEmailLength);
  auto full_name = aliased_string(fields, "full_name", "fullname", kMaxFullNameLength, alias_error);
  auto name = fields.string("name", false, kMaxFullNameLength);
  auto password = fields.string("password", true, kMaxPasswordLength);
  if (auto error = fields.finish()) return *error;
  if (alias_error) return *alias_error;
  if (full_name && name) {
    return invalid("give either '" + std::string(fields_named_full_name(*document)) +
                   "' or 'name', not both");
  }

  Registration registration;
  if (email) {
    if (!is_email_shaped(*email)) return invalid("field 'email' must be an email address");
    registration.email = lower_case(*email);
  }
  if (!username && !registration.email) return invalid("field 'username' or 'email' is required");
  registration.username = username ? *username : *registration.email;
  if (character_count(registration.username) < kMinUsernameLength) {
    return invalid("field 'username' must be at least " + std::to_string(kMinUsernameLength) +
                   " characters");
  }
  if (has_control_characters(registration.username)) {
    return invalid("field 'username' must not contain control characters");
  }
  registration.full_name = full_name ? full_name : name;
  if (registration.full_name && has_control_characters(*registration.full_name)) {
    return invalid("field 'full_name' must not contain control characters");
  }
  if (character_count(*password) < min_password_length) {
    return invalid("field 'password' must be at least " + std::to_string(min_password_length) +
                   " characters");
  }
  registration.password = std::move(*password);
  return registration;
}

Result<ProfileChanges> parse_profile_changes(std::string_view body,
                                             std::size_t min_password_length) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  std::optional<Error> alias_error;
  ProfileChanges changes;
  changes.username = aliased_string(fields, "username", "user", kMaxUsernameLength, alias_error);
  changes.email = fields.string("email", false, kMaxEmailLength);
  changes.full_name =
      aliased_string(fields, "full_name", "fullname", kMaxFullNameLength, alias_error);
  auto name = fields.string("name", false, kMaxFullNameLength);
  changes.password = fields.string("password", false, kMaxPasswordLength);
  if (auto error = fields.finish()) return *error;
  if (alias_error) return *alias_error;
  if (changes.full_name && name) {
    return invalid("give either '" + std::string(fields_named_full_name(*document)) +
                   "' or 'name', not both");
  }
  if (!changes.full_name) changes.full_name = name;
  if (!changes.username && !changes.email && !changes.full_name && !changes.password) {
    return invalid("give at least one of 'username', 'email', 'full_name', 'password'");
  }
  if (changes.username && (character_count(*changes.username) < kMinUsernameLength ||
                           has_control_characters(*changes.username))) {
    return invalid("field 'username' must be at least " + std::to_string(kMinUsernameLength) +
                   " characters, without control characters");
  }
  if (changes.email) {
    if (!is_email_shaped(*changes.email)) return invalid("field 'email' must be an email address");
    changes.email = lower_case(*changes.email);
  }
  if (changes.full_name && has_control_characters(*changes.full_name)) {
    return invalid("field 'full_name' must not contain control characters");
  }
  if (changes.password && character_count(*changes.password) < min_password_length) {
    return invalid("field 'password' must be at least " + std::to_string(min_password_length) +
                   " characters");
  }
  return changes;
}

Result<Role> parse_role_request(std::string_view body) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto role = fields.string("role", true, 16);
  if (auto error = fields.finish()) return *error;
  auto parsed = parse_role(*role);
  if (!parsed) return invalid("field 'role' must be one of user, analyst, admin");
  return *parsed;
}

std::string_view purpose_name(TokenPurpose purpose) {
  return purpose == TokenPurpose::verify_email ? "verify_email" : "reset_password";
}

std::optional<TokenPurpose> parse_purpose(std::string_view name) {
  for (auto purpose : {TokenPurpose::verify_email, TokenPurpose::reset_password}) {
    if (purpose_name(purpose) == name) return purpose;
  }
  return std::nullopt;
}

std::string encode_mail(const Mail& mail) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "to", mail.to);
    field(writer, "subject", mail.subject);
    field(writer, "body", mail.body);
  });
}

Result<Mail> decode_mail(std::string_view json) {
  return decode<Mail>(json, "mail", [](JsonFieldReader& fields) {
    return Mail{fields.string("to", true, kMaxEmailLength).value_or(""),
                fields.string("subject", true, 256).value_or(""),
                fields.string("body", true, 16 * 1024).value_or("")};
  });
}

Result<std::string> parse_token_request(std::string_view body) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto token = fields.string("token", true, 256);
  if (auto error = fields.finish()) return *error;
  return *token;
}

Result<PasswordResetRequest> parse_password_reset(std::string_view body,
                                                  std::size_t min_password_length) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto token = fields.string("token", true, 256);
  auto password = fields.string("password", true, kMaxPasswordLength);
  if (auto error = fields.finish()) return *error;
  if (character_count(*password) < min_password_length) {
    return invalid("field 'password' must be at least " + std::to_string(min_password_length) +
                   " characters");
  }
  return PasswordResetRequest{*token, *password};
}

Result<std::string> parse_email_request(std::string_view body) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto email = fields.string("email", true, kMaxEmailLength);
  if (auto error = fields.finish()) return *error;
  if (!is_email_shaped(*email)) return invalid("field 'email' must be an email address");
  return lower_case(*email);
}

Result<LoginRequest> parse_login_request(std::string_view body) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  std::optional<Error> alias_error;
  auto username = aliased_string(fields, "username", "user", kMaxUsernameLength, alias_error);
  auto email = fields.string("email", false, kMaxEmailLength);
  auto password = fields.string("password", true, kMaxPasswordLength);
  if (auto error = fields.finish()) return *error;
  if (alias_error) return *alias_error;
  if (username && email) return invalid("give either 'username' or 'email', not both");
  if (!username && !email) return invalid("field 'username' or 'email' is required");
  LoginRequest login;
  login.by_email = email.has_value();
  login.identifier = email ? lower_case(*email) : *username;
  login.password = std::move(*password);
  return login;
}

Result<std::string> parse_refresh_request(std::string_view body) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  auto token = fields.string("refresh_token", true, 256);
  if (auto error = fields.finish()) return *error;
  return *token;
}

Result<Uuid> parse_logout_request(std::string_view body) {
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  std::optional<Error> alias_error;
  auto session_id = aliased_string(fields, "session-id", "session_id", 64, alias_error);
  if (auto error = fields.finish()) return *error;
  if (alias_error) return *alias_error;
  if (!session_id) return invalid("field 'session-id' is required");
  auto parsed = Uuid::parse(*session_id);
  if (!parsed) return not_found("Session not found");
  return *parsed;
}

std::string encode_personal_data(const PersonalData& data) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "username", data.username);
    optional_field(writer, "email", data.email);
    optional_field(writer, "full_name", data.full_name);
    field(writer, "password_hash", data.password_hash);
  });
}

Result<PersonalData> decode_personal_data(std::string_view json) {
  return decode<PersonalData>(json, "personal data", [](JsonFieldReader& fields) {
    PersonalData data;
    data.username = fields.string("username", true, kMaxEmailLength).value_or("");
    data.email = fields.string("email", false, kMaxEmailLength);
    data.full_name = fields.string("full_name", false, kMaxFullNameLength);
    data.password_hash = fields.string("password_hash", true, 512).value_or("");
    return data;
  });
}

std::string encode_event(const UserRegistered& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "role", role_name(event.role));
    field(writer, "personal_data", event.sealed_personal_data);
  });
}

std::string encode_event(const UserDeleted& event) {
  return json_object(
      [&](JsonWriter& writer) { field(writer, "user_id", event.user_id.to_string()); });
}

std::string encode_event(const UserProfileUpdated& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "personal_data", event.sealed_personal_data);
  });
}

std::string encode_event(const UserRoleChanged& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "role", role_name(event.role));
  });
}

std::string encode_event(const AccountTokenIssued& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "purpose", purpose_name(event.purpose));
    field(writer, "token_hash", event.token_hash);
    field(writer, "expires_at", format_timestamp(event.expires_at));
    field(writer, "mail", event.sealed_mail);
  });
}

std::string encode_event(const EmailVerified& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "token_hash", event.token_hash);
  });
}

std::string encode_event(const PasswordReset& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "token_hash", event.token_hash);
    field(writer, "personal_data", event.sealed_personal_data);
  });
}

std::string encode_event(const SessionStarted& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "session_id", event.session_id.to_string());
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "refresh_token_hash", event.refresh_token_hash);
    field(writer, "expires_at", format_timestamp(event.expires_at));
  });
}

std::string encode_event(const SessionRefreshed& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "session_id", event.session_id.to_string());
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "refresh_token_hash", event.refresh_token_hash);
    field(writer, "previous_refresh_token_hash", event.previous_refresh_token_hash);
  });
}

std::string encode_event(const SessionRevoked& event) {
  return json_object([&](JsonWriter& writer) {
    field(writer, "session_id", event.session_id.to_string());
    field(writer, "user_id", event.user_id.to_string());
    field(writer, "reason", event.reason);
  });
}

namespace {
const Uuid kNilUuid = Uuid::from_bytes({}, 4);
}

Result<UserRegistered> decode_user_registered(std::string_view payload) {
  std::optional<Error> role_error;
  auto result = decode<UserRegistered>(payload, "user.registered", [&](JsonFieldReader& fields) {
    UserRegistered event{fields.uuid("user_id", true).value_or(kNilUuid), Role::user, {}};
    auto role = fields.string("role", true, 16);
    if (role) {
      auto parsed = parse_role(*role);
      if (!parsed) role_error = invalid("user.registered: unknown role '" + *role + "'");
      event.role = parsed.value_or(Role::user);
    }
    event.sealed_personal_data = fields.string("personal_data", true, 64 * 1024).value_or("");
    return event;
  });
  if (result && role_error) return *role_error;
  return result;
}

Result<UserDeleted> decode_user_deleted(std::string_view payload) {
  return decode<UserDeleted>(payload, "user.deleted", [](JsonFieldReader& fields) {
    return UserDeleted{fields.uuid("user_id", true).value_or(kNilUuid)};
  });
}

Result<UserProfileUpdated> decode_user_profile_updated(std::string_view payload) {
  return decode<UserProfileUpdated>(payload, "user.profile_updated", [](JsonFieldReader& fields) {
    return UserProfileUpdated{fields.uuid("user_id", true).value_or(kNilUuid),
                              fields.string("personal_data", true, 64 * 1024).value_or("")};
  });
}

Result<UserRoleChanged> decode_user_role_changed(std::string_view payload) {
  std::optional<Error> role_error;
  auto result = decode<UserRoleChanged>(payload, "user.role_changed", [&](JsonFieldReader& fields) {
    UserRoleChanged event{fields.uuid("user_id", true).value_or(kNilUuid), Role::user};
    if (auto role = fields.string("role", true, 16)) {
      auto parsed = parse_role(*role);
      if (!parsed) role_error = invalid("user.role_changed: unknown role '" + *role + "'");
      event.role = parsed.value_or(Role::user);
    }
    return event;
  });
  if (result && role_error) return *role_error;
  return result;
}

Result<AccountTokenIssued> decode_account_token_issued(std::string_view payload) {
  std::optional<Error> purpose_error;
  auto result =
      decode<AccountTokenIssued>(payload, "user.token_issued", [&](JsonFieldReader& fields) {
        AccountTokenIssued event{fields.uuid("user_id", true).value_or(kNilUuid),
                                 TokenPurpose::verify_email,
                                 {},
                                 {},
                                 {}};
        if (auto purpose = fields.string("purpose", true, 32)) {
          auto parsed = parse_purpose(*purpose);
          if (!parsed)
            purpose_error = invalid("user.token_issued: unknown purpose '" + *purpose + "'");
          event.purpose = parsed.value_or(TokenPurpose::verify_email);
        }
        event.token_hash = fields.string("token_hash", true, 128).value_or("");
        event.expires_at = fields.timestamp("expires_at", true).value_or(Timestamp{});
        event.sealed_mail = fields.string("mail", true, 64 * 1024).value_or("");
        return event;
      });
  if (result && purpose_error) return *purpose_error;
  return result;
}

Result<EmailVerified> decode_email_verified(std::string_view payload) {
  return decode<EmailVerified>(payload, "user.email_verified", [](JsonFieldReader& fields) {
    return EmailVerified{fields.uuid("user_id", true).value_or(kNilUuid),
                         fields.string("token_hash", true, 128).value_or("")};
  });
}

Result<PasswordReset> decode_password_reset(std::string_view payload) {
  return decode<PasswordReset>(payload, "user.password_reset", [](JsonFieldReader& fields) {
    return PasswordReset{fields.uuid("user_id", true).value_or(kNilUuid),
                         fields.string("token_hash", true, 128).value_or(""),
                         fields.string("personal_data", true, 64 * 1024).value_or("")};
  });
}

Result<SessionStarted> decode_session_started(std::string_view payload) {
  return decode<SessionStarted>(payload, "session.started", [](JsonFieldReader& fields) {
    return SessionStarted{fields.uuid("session_id", true).value_or(kNilUuid),
                          fields.uuid("user_id", true).value_or(kNilUuid),
                          fields.string("refresh_token_hash", true, 128).value_or(""),
                          fields.timestamp("expires_at", true).value_or(Timestamp{})};
  });
}

Result<SessionRefreshed> decode_session_refreshed(std::string_view payload) {
  return decode<SessionRefreshed>(payload, "session.refreshed", [](JsonFieldReader& fields) {
    return SessionRefreshed{fields.uuid("session_id", true).value_or(kNilUuid),
                            fields.uuid("user_id", true).value_or(kNilUuid),
                            fields.string("refresh_token_hash", true, 128).value_or(""),
                            fields.string("previous_refresh_token_hash", true, 128).value_or("")};
  });
}

Result<SessionRevoked> decode_session_revoked(std::string_view payload) {
  return decode<SessionRevoked>(payload, "session.revoked", [](JsonFieldReader& fields) {
    return SessionRevoked{fields.uuid("session_id", true).value_or(kNilUuid),
                          fields.uuid("user_id", true).value_or(kNilUuid),
                          fields.string("reason", true, 64).value_or("")};
  });
}

}  // namespace tidemark::domain
