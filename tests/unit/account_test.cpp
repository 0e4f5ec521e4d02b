#include "domain/account.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"
#include "domain/timestamp.h"
#include "domain/uuid.h"

using tidemark::domain::decode_personal_data;
using tidemark::domain::decode_session_refreshed;
using tidemark::domain::decode_session_revoked;
using tidemark::domain::decode_session_started;
using tidemark::domain::decode_user_deleted;
using tidemark::domain::decode_user_registered;
using tidemark::domain::encode_event;
using tidemark::domain::encode_personal_data;
using tidemark::domain::ErrorKind;
using tidemark::domain::is_email_shaped;
using tidemark::domain::kMaxEmailLength;
using tidemark::domain::kMinUsernameLength;
using tidemark::domain::LoginRequest;
using tidemark::domain::parse_login_request;
using tidemark::domain::parse_logout_request;
using tidemark::domain::parse_refresh_request;
using tidemark::domain::parse_registration;
using tidemark::domain::parse_role;
using tidemark::domain::parse_timestamp;
using tidemark::domain::PersonalData;
using tidemark::domain::Registration;
using tidemark::domain::Result;
using tidemark::domain::Role;
using tidemark::domain::role_name;
using tidemark::domain::SessionRefreshed;
using tidemark::domain::SessionRevoked;
using tidemark::domain::SessionStarted;
using tidemark::domain::Timestamp;
using tidemark::domain::UserDeleted;
using tidemark::domain::UserRegistered;
using tidemark::domain::Uuid;

namespace {

constexpr std::size_t kMinPassword = 8;

const Uuid kUserId = *Uuid::parse("3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b");
const Uuid kSessionId = *Uuid::parse("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d");

Result<Registration> register_with(std::string_view body) {
  return parse_registration(body, kMinPassword);
}

/// Expects an error of `kind` whose message contains every fragment.
template <typename T>
::testing::AssertionResult fails_with(const Result<T>& result,
                                      std::vector<std::string_view> fragments,
                                      ErrorKind kind = ErrorKind::invalid) {
  if (result.ok()) return ::testing::AssertionFailure() << "parsed successfully";
  if (result.error().kind != kind) {
    return ::testing::AssertionFailure() << "unexpected kind: " << result.error().message;
  }
  for (auto fragment : fragments) {
    if (result.error().message.find(fragment) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "message '" << result.error().message << "' lacks '" << fragment << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

// --- parse_registration: the seeds' bodies -------------------------------------------------

TEST(ParseRegistration, AcceptsSeed000UsernameEmailPassword) {
  auto result = register_with(
      R"({"username": "alice01", "email": "alice@example.com", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->username, "alice01");
  EXPECT_EQ(result->email, "alice@example.com");
  EXPECT_EQ(result->full_name, std::nullopt);
  EXPECT_EQ(result->password, "s3cret-pass");
}

TEST(ParseRegistration, AcceptsSeed001FullnameUsernamePassword) {
  auto result = register_with(
      R"({"fullname": "Alice Liddell", "username": "alice01", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->username, "alice01");
  EXPECT_EQ(result->email, std::nullopt);
  EXPECT_EQ(result->full_name, "Alice Liddell");
  EXPECT_EQ(result->password, "s3cret-pass");
}

TEST(ParseRegistration, AcceptsSeed002NameUsernameEmailPassword) {
  auto result = register_with(R"({"name": "Alice Liddell", "username": "alice01",
                                  "email": "alice@example.com", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->username, "alice01");
  EXPECT_EQ(result->email, "alice@example.com");
  EXPECT_EQ(result->full_name, "Alice Liddell");
  EXPECT_EQ(result->password, "s3cret-pass");
}

TEST(ParseRegistration, AcceptsSeed004UserEmailPassword) {
  auto result = register_with(
      R"({"user": "alice01", "email": "alice@example.com", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->username, "alice01");
  EXPECT_EQ(result->email, "alice@example.com");
  EXPECT_EQ(result->full_name, std::nullopt);
  EXPECT_EQ(result->password, "s3cret-pass");
}

TEST(ParseRegistration, EmailAloneBecomesTheUsername) {
  auto result = register_with(R"({"email": "Bob.Smith@Example.COM", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->email, "bob.smith@example.com");
  EXPECT_EQ(result->username, "bob.smith@example.com");
}

TEST(ParseRegistration, LowerCasesEmailButKeepsUsernameCase) {
  auto result = register_with(
      R"({"username": "AliceBig", "email": "ALICE@EXAMPLE.COM", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->email, "alice@example.com");
  EXPECT_EQ(result->username, "AliceBig");
}

TEST(ParseRegistration, ReadsFullNameFromEachAlias) {
  for (const char* alias : {"full_name", "fullname", "name"}) {
    auto result =
        register_with(std::string(R"({"username": "alice01", "password": "s3cret-pass", ")") +
                      alias + R"(": "Alice \u00c9 Liddell"})");
    ASSERT_TRUE(result.ok()) << alias << ": " << result.error().message;
    EXPECT_EQ(result->full_name, "Alice \xC3\x89 Liddell") << alias;
  }
}

TEST(ParseRegistration, NullOptionalFieldsCountAsAbsent) {
  auto result = register_with(
      R"({"username": "alice01", "email": null, "name": null, "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->email, std::nullopt);
  EXPECT_EQ(result->full_name, std::nullopt);
}

// --- parse_registration: aliases given twice -----------------------------------------------

TEST(ParseRegistration, RejectsUsernameAndUserTogetherNamingBoth) {
  EXPECT_TRUE(fails_with(
      register_with(R"({"username": "alice01", "user": "alice02", "password": "s3cret-pass"})"),
      {"'username'", "'user'", "not both"}));
}

TEST(ParseRegistration, RejectsFullNameAndFullnameTogetherNamingBoth) {
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "full_name": "A L",
                                           "fullname": "A L", "password": "s3cret-pass"})"),
                         {"'full_name'", "'fullname'", "not both"}));
}

TEST(ParseRegistration, RejectsFullNameAndNameTogetherNamingBoth) {
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "full_name": "A L",
                                           "name": "A L", "password": "s3cret-pass"})"),
                         {"'full_name'", "'name'", "not both"}));
}

TEST(ParseRegistration, RejectsFullnameAndNameTogether) {
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "fullname": "A L",
                                           "name": "A L", "password": "s3cret-pass"})"),
                         {"'name'", "not both"}));
}

// --- parse_registration: required fields and lengths ---------------------------------------

TEST(ParseRegistration, RequiresPassword) {
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "email": "alice@example.com"})"),
                         {"'password'", "required"}));
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "password": null})"),
                         {"'password'", "required"}));
  EXPECT_TRUE(
      fails_with(register_with(R"({"username": "alice01", "password": ""})"), {"'password'"}));
}

TEST(ParseRegistration, RequiresUsernameOrEmail) {
  EXPECT_TRUE(fails_with(register_with(R"({"password": "s3cret-pass"})"),
                         {"'username'", "'email'", "required"}));
  EXPECT_TRUE(fails_with(register_with(R"({"fullname": "Alice L", "password": "s3cret-pass"})"),
                         {"'username'", "'email'"}));
}

TEST(ParseRegistration, RejectsPasswordShorterThanTheGivenMinimumNamingIt) {
  EXPECT_TRUE(fails_with(parse_registration(R"({"username": "alice01", "password": "1234567"})", 8),
                         {"'password'", "at least 8"}));
  EXPECT_TRUE(
      fails_with(parse_registration(R"({"username": "alice01", "password": "123456789abc"})", 13),
                 {"'password'", "at least 13"}));
  auto exact = parse_registration(R"({"username": "alice01", "password": "12345678"})", 8);
  ASSERT_TRUE(exact.ok()) << exact.error().message;
  EXPECT_EQ(exact->password, "12345678");
}

TEST(ParseRegistration, RejectsPasswordLongerThanTheMaximum) {
  auto body = R"({"username": "alice01", "password": ")" + std::string(257, 'p') + R"("})";
  EXPECT_TRUE(fails_with(register_with(body), {"'password'", "at most 256"}));
  auto at_max = R"({"username": "alice01", "password": ")" + std::string(256, 'p') + R"("})";
  EXPECT_TRUE(register_with(at_max).ok());
}

TEST(ParseRegistration, RejectsUsernameShorterThanFive) {
  ASSERT_EQ(kMinUsernameLength, 5u);
  EXPECT_TRUE(fails_with(register_with(R"({"username": "abcd", "password": "s3cret-pass"})"),
                         {"'username'", "at least 5"}));
  EXPECT_TRUE(fails_with(register_with(R"({"user": "a", "password": "s3cret-pass"})"),
                         {"'username'", "at least 5"}));
  auto five = register_with(R"({"username": "abcde", "password": "s3cret-pass"})");
  ASSERT_TRUE(five.ok()) << five.error().message;
  EXPECT_EQ(five->username, "abcde");
}

TEST(ParseRegistration, RejectsUsernameLongerThanSixtyFour) {
  auto body = R"({"username": ")" + std::string(65, 'u') + R"(", "password": "s3cret-pass"})";
  EXPECT_TRUE(fails_with(register_with(body), {"'username'", "at most 64"}));
}

TEST(ParseRegistration, RejectsUsernameWithControlCharacters) {
  for (const char* name : {R"(ali\tce)", R"(ali\nce)", R"(alice\u0001)", R"(ali\u007fce)"}) {
    EXPECT_TRUE(fails_with(
        register_with(std::string(R"({"username": ")") + name + R"(", "password": "s3cret-pass"})"),
        {"'username'", "control characters"}))
        << name;
  }
}

TEST(ParseRegistration, RejectsUsernameWithNulCharacter) {
  EXPECT_TRUE(fails_with(
      register_with(R"({"username": "alice\u0000x", "password": "s3cret-pass"})"), {"'username'"}));
}

TEST(ParseRegistration, RejectsFullNameWithControlCharacters) {
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "name": "Alice\nL",
                                           "password": "s3cret-pass"})"),
                         {"'full_name'", "control characters"}));
}

// --- parse_registration: email shapes ------------------------------------------------------

TEST(ParseRegistration, RejectsBadEmailShapes) {
  const std::vector<std::string> bad = {
      "alice.example.com", "alice@@example.com", "a@b@example.com",    "alice@example",
      "@example.com",      "alice@example.com.", "alice @example.com", "alice@exam ple.com",
      "alice@.com",        "alice@example..com"};
  for (const auto& email : bad) {
    EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "email": ")" + email +
                                         R"(", "password": "s3cret-pass"})"),
                           {"'email'"}))
        << email;
  }
}

TEST(ParseRegistration, RejectsEmailOf255Characters) {
  std::string email = std::string(255 - std::string("@example.com").size(), 'a') + "@example.com";
  ASSERT_EQ(email.size(), 255u);
  EXPECT_TRUE(fails_with(
      register_with(R"({"email": ")" + email + R"(", "password": "s3cret-pass"})"), {"'email'"}));
  std::string at_max = email.substr(1);
  auto result = register_with(R"({"email": ")" + at_max + R"(", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->username, at_max);
}

TEST(ParseRegistration, BadEmailIsRejectedEvenWithAUsername) {
  EXPECT_TRUE(fails_with(
      register_with(R"({"username": "alice01", "email": "nope", "password": "s3cret-pass"})"),
      {"'email' must be an email address"}));
}

// --- parse_registration: unknown fields, types, JSON ---------------------------------------

TEST(ParseRegistration, RejectsRoleFieldByName) {
  EXPECT_TRUE(fails_with(
      register_with(R"({"username": "alice01", "password": "s3cret-pass", "role": "admin"})"),
      {"unknown field 'role'"}));
}

TEST(ParseRegistration, RejectsIsAdminFieldByName) {
  EXPECT_TRUE(fails_with(
      register_with(R"({"username": "alice01", "password": "s3cret-pass", "is_admin": true})"),
      {"unknown field 'is_admin'"}));
}

TEST(ParseRegistration, RejectsOtherUnknownFields) {
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "password": "s3cret-pass",
                                           "password_hash": "x"})"),
                         {"unknown field 'password_hash'"}));
  EXPECT_TRUE(fails_with(
      register_with(R"({"username": "alice01", "password": "s3cret-pass", "Username": "x"})"),
      {"unknown field 'Username'"}));
}

TEST(ParseRegistration, RejectsWrongTypesNamingTheField) {
  EXPECT_TRUE(fails_with(register_with(R"({"username": 12345, "password": "s3cret-pass"})"),
                         {"'username'", "must be a string"}));
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01", "password": 12345678})"),
                         {"'password'", "must be a string"}));
  EXPECT_TRUE(fails_with(
      register_with(R"({"username": "alice01", "email": ["a@b.co"], "password": "s3cret-pass"})"),
      {"'email'", "must be a string"}));
  EXPECT_TRUE(fails_with(
      register_with(R"({"username": "alice01", "fullname": {"a": 1}, "password": "s3cret-pass"})"),
      {"'fullname'", "must be a string"}));
  EXPECT_TRUE(fails_with(register_with(R"({"user": true, "password": "s3cret-pass"})"),
                         {"'user'", "must be a string"}));
}

TEST(ParseRegistration, RejectsInvalidOrNonObjectJson) {
  EXPECT_TRUE(fails_with(register_with(""), {"request body", "not valid JSON"}));
  EXPECT_TRUE(fails_with(register_with(R"({"username": "alice01",)"), {"not valid JSON"}));
  EXPECT_TRUE(fails_with(register_with("{'username': 'alice01'}"), {"not valid JSON"}));
  EXPECT_TRUE(fails_with(register_with("username=alice01&password=x"), {"not valid JSON"}));
  EXPECT_TRUE(fails_with(register_with("[]"), {"must be a JSON object"}));
  EXPECT_TRUE(fails_with(register_with("null"), {"must be a JSON object"}));
}

// --- is_email_shaped -----------------------------------------------------------------------

TEST(IsEmailShaped, AcceptsOrdinaryAddresses) {
  for (const char* email : {"a@b.co", "a@b.c", "alice@example.com",
                            "Alice.Smith+tag@mail.example.org", "x_y-z@sub.domain.io", "1@2.3"}) {
    EXPECT_TRUE(is_email_shaped(email)) << email;
  }
}

TEST(IsEmailShaped, RejectsMalformedAddresses) {
  for (const char* email :
       {"", "a", "@", "a@", "@b.c", "alice", "alice.example.com", "alice@example",
        "alice@@example.com", "a@b@c.com", "alice@example.com.", "alice@.com", "alice@example..com",
        "alice @example.com", " alice@example.com", "alice@example.com ", "ali\tce@example.com",
        "alice@exa\nmple.com", "alice@example.c\x7f"}) {
    EXPECT_FALSE(is_email_shaped(email)) << "'" << email << "'";
  }
}

TEST(IsEmailShaped, BoundsLengthAtTwoHundredFiftyFour) {
  ASSERT_EQ(kMaxEmailLength, 254u);
  const std::string domain = "@example.com";
  EXPECT_TRUE(is_email_shaped(std::string(254 - domain.size(), 'a') + domain));
  EXPECT_FALSE(is_email_shaped(std::string(255 - domain.size(), 'a') + domain));
}

// --- parse_login_request -------------------------------------------------------------------

TEST(ParseLoginRequest, ReadsUsername) {
  auto result = parse_login_request(R"({"username": "Alice01", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->identifier, "Alice01");
  EXPECT_FALSE(result->by_email);
  EXPECT_EQ(result->password, "s3cret-pass");
}

TEST(ParseLoginRequest, ReadsUserAlias) {
  auto result = parse_login_request(R"({"user": "alice01", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->identifier, "alice01");
  EXPECT_FALSE(result->by_email);
  EXPECT_EQ(result->password, "s3cret-pass");
}

TEST(ParseLoginRequest, ReadsEmailLowerCasedAndMarksByEmail) {
  auto result = parse_login_request(R"({"email": "Alice@Example.COM", "password": "s3cret-pass"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->identifier, "alice@example.com");
  EXPECT_TRUE(result->by_email);
  EXPECT_EQ(result->password, "s3cret-pass");
}

TEST(ParseLoginRequest, RejectsUsernameAndEmailTogether) {
  EXPECT_TRUE(fails_with(parse_login_request(R"({"username": "alice01", "email": "a@b.co",
                                                 "password": "s3cret-pass"})"),
                         {"'username'", "'email'", "not both"}));
  EXPECT_TRUE(fails_with(parse_login_request(R"({"user": "alice01", "email": "a@b.co",
                                                 "password": "s3cret-pass"})"),
                         {"'email'", "not both"}));
}

TEST(ParseLoginRequest, RejectsUsernameAndUserTogether) {
  EXPECT_TRUE(fails_with(parse_login_request(R"({"username": "alice01", "user": "alice01",
                                                 "password": "s3cret-pass"})"),
                         {"'username'", "'user'", "not both"}));
}

TEST(ParseLoginRequest, RejectsNeitherUsernameNorEmail) {
  EXPECT_TRUE(fails_with(parse_login_request(R"({"password": "s3cret-pass"})"),
                         {"'username'", "'email'", "required"}));
}

TEST(ParseLoginRequest, RequiresPassword) {
  EXPECT_TRUE(
      fails_with(parse_login_request(R"({"username": "alice01"})"), {"'password'", "required"}));
  EXPECT_TRUE(
      fails_with(parse_login_request(R"({"email": "a@b.co", "password": ""})"), {"'password'"}));
}

TEST(ParseLoginRequest, RejectsUnknownFieldsWrongTypesAndInvalidJson) {
  EXPECT_TRUE(fails_with(
      parse_login_request(R"({"username": "alice01", "password": "x", "remember": true})"),
      {"unknown field 'remember'"}));
  EXPECT_TRUE(fails_with(parse_login_request(R"({"username": 1, "password": "x"})"),
                         {"'username'", "must be a string"}));
  EXPECT_TRUE(fails_with(parse_login_request("{"), {"not valid JSON"}));
}

// --- parse_refresh_request -----------------------------------------------------------------

TEST(ParseRefreshRequest, ReadsRefreshToken) {
  auto result = parse_refresh_request(R"({"refresh_token": "abc.def"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, "abc.def");
}

TEST(ParseRefreshRequest, RequiresRefreshToken) {
  EXPECT_TRUE(fails_with(parse_refresh_request("{}"), {"'refresh_token'", "required"}));
  EXPECT_TRUE(fails_with(parse_refresh_request(R"({"refresh_token": ""})"), {"'refresh_token'"}));
  EXPECT_TRUE(
      fails_with(parse_refresh_request(R"({"refresh_token": 1})"), {"'refresh_token'", "string"}));
}

TEST(ParseRefreshRequest, RejectsOverlongTokenUnknownFieldsAndInvalidJson) {
  EXPECT_TRUE(
      fails_with(parse_refresh_request(R"({"refresh_token": ")" + std::string(257, 't') + R"("})"),
                 {"'refresh_token'", "at most 256"}));
  EXPECT_TRUE(fails_with(parse_refresh_request(R"({"refresh_token": "t", "session-id": "x"})"),
                         {"unknown field 'session-id'"}));
  EXPECT_TRUE(fails_with(parse_refresh_request("refresh_token=t"), {"not valid JSON"}));
}

// --- parse_logout_request ------------------------------------------------------------------

TEST(ParseLogoutRequest, AcceptsSessionIdWithHyphen) {
  auto result = parse_logout_request(R"({"session-id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, kSessionId);
}

TEST(ParseLogoutRequest, AcceptsSessionIdWithUnderscore) {
  auto result = parse_logout_request(R"({"session_id": "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, kSessionId);
}

TEST(ParseLogoutRequest, NonUuidSessionIdIsSessionNotFound) {
  for (const char* id : {"nope", "12345", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5",
                         "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d"}) {
    EXPECT_TRUE(fails_with(parse_logout_request(std::string(R"({"session-id": ")") + id + R"("})"),
                           {"Session not found"}, ErrorKind::not_found))
        << id;
    EXPECT_TRUE(fails_with(parse_logout_request(std::string(R"({"session_id": ")") + id + R"("})"),
                           {"Session not found"}, ErrorKind::not_found))
        << id;
  }
}

TEST(ParseLogoutRequest, RejectsBothNames) {
  EXPECT_TRUE(
      fails_with(parse_logout_request(R"({"session-id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                               "session_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"})"),
                 {"'session-id'", "'session_id'", "not both"}));
}

TEST(ParseLogoutRequest, RequiresSessionId) {
  EXPECT_TRUE(fails_with(parse_logout_request("{}"), {"'session-id'", "required"}));
  EXPECT_TRUE(fails_with(parse_logout_request(R"({"session_id": null})"), {"required"}));
}

TEST(ParseLogoutRequest, RejectsWrongTypesUnknownFieldsAndInvalidJson) {
  EXPECT_TRUE(fails_with(parse_logout_request(R"({"session-id": 7})"),
                         {"'session-id'", "must be a string"}));
  EXPECT_TRUE(
      fails_with(parse_logout_request(R"({"session-id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                                                  "user_id": "x"})"),
                 {"unknown field 'user_id'"}));
  EXPECT_TRUE(fails_with(parse_logout_request("{"), {"not valid JSON"}));
}

// --- roles ---------------------------------------------------------------------------------

TEST(RoleName, NameAndParseRoundTrip) {
  for (auto role : {Role::user, Role::analyst, Role::admin}) {
    EXPECT_EQ(parse_role(role_name(role)), role) << role_name(role);
  }
  EXPECT_EQ(role_name(Role::user), "user");
  EXPECT_EQ(role_name(Role::analyst), "analyst");
  EXPECT_EQ(role_name(Role::admin), "admin");
}

TEST(RoleName, UnknownNamesParseToNullopt) {
  for (const char* name : {"", "root", "Admin", "ADMIN", "admin ", " user", "superuser"}) {
    EXPECT_EQ(parse_role(name), std::nullopt) << "'" << name << "'";
  }
}

// --- PersonalData --------------------------------------------------------------------------

namespace {

void expect_same_personal_data(const PersonalData& actual, const PersonalData& expected) {
  EXPECT_EQ(actual.username, expected.username);
  EXPECT_EQ(actual.email, expected.email);
  EXPECT_EQ(actual.full_name, expected.full_name);
  EXPECT_EQ(actual.password_hash, expected.password_hash);
}

}  // namespace

TEST(PersonalDataCodec, RoundTripsEveryField) {
  PersonalData data{"alice01", std::string("alice@example.com"), std::string("Alice Liddell"),
                    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"};
  auto json = encode_personal_data(data);
  auto decoded = decode_personal_data(json);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << json;
  expect_same_personal_data(*decoded, data);
}

TEST(PersonalDataCodec, RoundTripsWithoutOptionalFields) {
  PersonalData data{"alice01", std::nullopt, std::nullopt, "hash"};
  auto json = encode_personal_data(data);
  EXPECT_NE(json.find(R"("email":null)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("full_name":null)"), std::string::npos) << json;
  auto decoded = decode_personal_data(json);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << json;
  expect_same_personal_data(*decoded, data);
}

TEST(PersonalDataCodec, RoundTripsUnicodeQuotesAndEscapes) {
  PersonalData data{
      "\xE3\x83\xA6\xE3\x83\xBC\xE3\x82\xB6 \"q\" \\", std::string("\xC3\xA9lise@example.com"),
      std::string("Jos\xC3\xA9 \"Pepe\" O'Brien \xF0\x9F\x8C\x8A\ttab"), "hash\\with\"quote"};
  auto json = encode_personal_data(data);
  auto decoded = decode_personal_data(json);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << json;
  expect_same_personal_data(*decoded, data);
}

TEST(PersonalDataCodec, DecodeRejectsMissingFieldsUnknownFieldsAndInvalidJson) {
  EXPECT_TRUE(fails_with(decode_personal_data(R"({"username": "alice01"})"),
                         {"personal data", "'password_hash'", "required"}));
  EXPECT_TRUE(fails_with(decode_personal_data(R"({"password_hash": "h"})"),
                         {"personal data", "'username'", "required"}));
  EXPECT_TRUE(fails_with(
      decode_personal_data(R"({"username": "alice01", "password_hash": "h", "role": "admin"})"),
      {"personal data", "unknown field 'role'"}));
  EXPECT_TRUE(fails_with(decode_personal_data("{"), {"personal data", "not valid JSON"}));
}

// --- account events ------------------------------------------------------------------------

TEST(AccountEvent, EventTypeNamesAreVersioned) {
  EXPECT_EQ(tidemark::domain::kUserRegisteredV1, "tidemark.user.registered.v1");
  EXPECT_EQ(tidemark::domain::kUserDeletedV1, "tidemark.user.deleted.v1");
  EXPECT_EQ(tidemark::domain::kSessionStartedV1, "tidemark.session.started.v1");
  EXPECT_EQ(tidemark::domain::kSessionRefreshedV1, "tidemark.session.refreshed.v1");
  EXPECT_EQ(tidemark::domain::kSessionRevokedV1, "tidemark.session.revoked.v1");
}

TEST(AccountEvent, UserRegisteredRoundTripsEachRole) {
  for (auto role : {Role::user, Role::analyst, Role::admin}) {
    UserRegistered event{kUserId, role, "c2VhbGVkIHBlcnNvbmFsIGRhdGE="};
    auto payload = encode_event(event);
    auto decoded = decode_user_registered(payload);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << payload;
    EXPECT_EQ(decoded->user_id, kUserId);
    EXPECT_EQ(decoded->role, role);
    EXPECT_EQ(decoded->sealed_personal_data, event.sealed_personal_data);
  }
}

TEST(AccountEvent, UserRegisteredKeepsNothingPersonalInClearText) {
  UserRegistered event{kUserId, Role::user, "opaque"};
  EXPECT_EQ(encode_event(event), R"({"user_id":"3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b",)"
                                 R"("role":"user","personal_data":"opaque"})");
}

TEST(AccountEvent, UserRegisteredDecodeRejectsBadPayloads) {
  EXPECT_TRUE(fails_with(decode_user_registered(R"({"role": "user", "personal_data": "p"})"),
                         {"user.registered: ", "'user_id'", "required"}));
  EXPECT_TRUE(
      fails_with(decode_user_registered(R"({"user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b",
                                 "personal_data": "p"})"),
                 {"user.registered: ", "'role'", "required"}));
  EXPECT_TRUE(
      fails_with(decode_user_registered(R"({"user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b",
                                 "role": "user"})"),
                 {"user.registered: ", "'personal_data'", "required"}));
  EXPECT_TRUE(fails_with(
      decode_user_registered(R"({"user_id": "u-1", "role": "user", "personal_data": "p"})"),
      {"user.registered: ", "'user_id'", "UUID"}));
  EXPECT_TRUE(
      fails_with(decode_user_registered(R"({"user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b",
                                 "role": "root", "personal_data": "p"})"),
                 {"user.registered: ", "unknown role 'root'"}));
  EXPECT_TRUE(
      fails_with(decode_user_registered(R"({"user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b",
                                 "role": "user", "personal_data": "p", "email": "a@b.co"})"),
                 {"user.registered: ", "unknown field 'email'"}));
  EXPECT_TRUE(fails_with(decode_user_registered("{"), {"user.registered", "not valid JSON"}));
  EXPECT_TRUE(fails_with(decode_user_registered("[]"), {"user.registered", "JSON object"}));
}

TEST(AccountEvent, UserDeletedRoundTrips) {
  auto payload = encode_event(UserDeleted{kUserId});
  EXPECT_EQ(payload, R"({"user_id":"3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b"})");
  auto decoded = decode_user_deleted(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->user_id, kUserId);
}

TEST(AccountEvent, UserDeletedDecodeRejectsBadPayloads) {
  EXPECT_TRUE(fails_with(decode_user_deleted("{}"), {"user.deleted: ", "'user_id'", "required"}));
  EXPECT_TRUE(fails_with(decode_user_deleted(R"({"user_id": "not-a-uuid"})"),
                         {"user.deleted: ", "'user_id'", "UUID"}));
  EXPECT_TRUE(fails_with(
      decode_user_deleted(R"({"user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b", "why": "x"})"),
      {"user.deleted: ", "unknown field 'why'"}));
  EXPECT_TRUE(fails_with(decode_user_deleted("nope"), {"user.deleted", "not valid JSON"}));
}

TEST(AccountEvent, SessionStartedRoundTrips) {
  SessionStarted event{kSessionId, kUserId, std::string(64, 'f'),
                       *parse_timestamp("2025-03-04T05:06:07.123456Z")};
  auto payload = encode_event(event);
  auto decoded = decode_session_started(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << payload;
  EXPECT_EQ(decoded->session_id, kSessionId);
  EXPECT_EQ(decoded->user_id, kUserId);
  EXPECT_EQ(decoded->refresh_token_hash, event.refresh_token_hash);
  EXPECT_EQ(decoded->expires_at, event.expires_at);
}

TEST(AccountEvent, SessionStartedDecodeRejectsBadPayloads) {
  const std::string ids = R"("session_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                             "user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b")";
  EXPECT_TRUE(fails_with(decode_session_started("{" + ids + R"(, "refresh_token_hash": "h"})"),
                         {"session.started: ", "'expires_at'", "required"}));
  EXPECT_TRUE(
      fails_with(decode_session_started("{" + ids + R"(, "expires_at": "2025-01-01T00:00:00Z"})"),
                 {"session.started: ", "'refresh_token_hash'", "required"}));
  const std::string rest = R"("refresh_token_hash": "h", "expires_at": "2025-01-01T00:00:00Z")";
  EXPECT_TRUE(
      fails_with(decode_session_started(R"({"user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b", )" +
                                        rest + "}"),
                 {"session.started: ", "'session_id'", "required"}));
  EXPECT_TRUE(fails_with(
      decode_session_started(
          R"({"session_id": "s-1", "user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b", )" + rest +
          "}"),
      {"session.started: ", "'session_id'", "UUID"}));
  EXPECT_TRUE(fails_with(
      decode_session_started("{" + ids + R"(, "refresh_token_hash": "h", "expires_at": "soon"})"),
      {"session.started: ", "'expires_at'"}));
  EXPECT_TRUE(fails_with(decode_session_started("{" + ids + R"(, "refresh_token_hash": "h",
                                                   "expires_at": "2025-01-01T00:00:00Z",
                                                   "refresh_token": "t"})"),
                         {"session.started: ", "unknown field 'refresh_token'"}));
  EXPECT_TRUE(fails_with(decode_session_started("{,}"), {"session.started", "not valid JSON"}));
}

TEST(AccountEvent, SessionRefreshedRoundTrips) {
  SessionRefreshed event{kSessionId, kUserId, std::string(64, 'a'), std::string(64, 'b')};
  auto payload = encode_event(event);
  auto decoded = decode_session_refreshed(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << payload;
  EXPECT_EQ(decoded->session_id, kSessionId);
  EXPECT_EQ(decoded->user_id, kUserId);
  EXPECT_EQ(decoded->refresh_token_hash, event.refresh_token_hash);
  EXPECT_EQ(decoded->previous_refresh_token_hash, event.previous_refresh_token_hash);
}

TEST(AccountEvent, SessionRefreshedDecodeRejectsBadPayloads) {
  const std::string ids = R"("session_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                             "user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b")";
  EXPECT_TRUE(fails_with(decode_session_refreshed("{" + ids + R"(, "refresh_token_hash": "h"})"),
                         {"session.refreshed: ", "'previous_refresh_token_hash'", "required"}));
  EXPECT_TRUE(
      fails_with(decode_session_refreshed(R"({"session_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                                   "user_id": "nope", "refresh_token_hash": "h",
                                   "previous_refresh_token_hash": "p"})"),
                 {"session.refreshed: ", "'user_id'", "UUID"}));
  EXPECT_TRUE(fails_with(decode_session_refreshed("{" + ids + R"(, "refresh_token_hash": "h",
                                                     "previous_refresh_token_hash": "p",
                                                     "extra": 1})"),
                         {"session.refreshed: ", "unknown field 'extra'"}));
  EXPECT_TRUE(fails_with(decode_session_refreshed(""), {"session.refreshed", "not valid JSON"}));
}

TEST(AccountEvent, SessionRevokedRoundTripsEachReason) {
  for (const char* reason : {"logout", "logout_all", "refresh_reuse", "account_deleted"}) {
    SessionRevoked event{kSessionId, kUserId, reason};
    auto payload = encode_event(event);
    auto decoded = decode_session_revoked(payload);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << payload;
    EXPECT_EQ(decoded->session_id, kSessionId);
    EXPECT_EQ(decoded->user_id, kUserId);
    EXPECT_EQ(decoded->reason, reason);
  }
}

TEST(AccountEvent, SessionRevokedDecodeRejectsBadPayloads) {
  const std::string ids = R"("session_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                             "user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b")";
  EXPECT_TRUE(fails_with(decode_session_revoked("{" + ids + "}"),
                         {"session.revoked: ", "'reason'", "required"}));
  EXPECT_TRUE(
      fails_with(decode_session_revoked(R"({"user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b",
                                                    "reason": "logout"})"),
                 {"session.revoked: ", "'session_id'", "required"}));
  EXPECT_TRUE(fails_with(decode_session_revoked(R"({"session_id": "a1b2c3d4",
                                "user_id": "3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b",
                                "reason": "logout"})"),
                         {"session.revoked: ", "'session_id'", "UUID"}));
  EXPECT_TRUE(fails_with(decode_session_revoked("{" + ids + R"(, "reason": "logout", "by": "x"})"),
                         {"session.revoked: ", "unknown field 'by'"}));
  EXPECT_TRUE(fails_with(decode_session_revoked("{"), {"session.revoked", "not valid JSON"}));
}

TEST(ParseRegistration, PasswordAndUsernameMinimumsCountCharactersNotBytes) {
  auto short_password = tidemark::domain::parse_registration(
      R"({"username": "alice01", "password": "\u00e9\u00e9\u00e9\u00e9"})", 8);
  ASSERT_FALSE(short_password.ok());
  EXPECT_NE(short_password.error().message.find("at least 8"), std::string::npos);
  auto short_name = tidemark::domain::parse_registration(
      R"({"username": "\u00e9\u00e9\u00e9", "password": "s3cret-pass"})", 8);
  ASSERT_FALSE(short_name.ok());
  EXPECT_NE(short_name.error().message.find("at least 5"), std::string::npos);
  EXPECT_TRUE(tidemark::domain::parse_registration(
                  R"({"username": "\u00e9\u00e9\u00e9\u00e9\u00e9", "password": "s3cret-pass"})", 8)
                  .ok());
}

TEST(IsEmailShaped, RejectsDomainStartingWithADot) {
  EXPECT_FALSE(tidemark::domain::is_email_shaped("alice@.example.com"));
}

TEST(ParseRegistration, FullnameAndNameTogetherNamesBoth) {
  auto both = tidemark::domain::parse_registration(
      R"({"username": "alice01", "fullname": "A L", "name": "A L", "password": "s3cret-pass"})", 8);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("'fullname'"), std::string::npos) << both.error().message;
  EXPECT_NE(both.error().message.find("'name'"), std::string::npos);
}
