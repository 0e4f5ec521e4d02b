#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/log_entry.h"
#include "domain/result.h"
#include "domain/uuid.h"

namespace tidemark::domain {

/// Seed 003's user record: the app's own user (a Firebase id, say) with profile and body data,
/// kept by the account that created it. Everything but the id is personal: events carry it
/// sealed with the owner's key, so deleting the account shreds it.
struct AppUser {
  std::string user_id;
  std::optional<std::string> email;         ///< firebase_data.email
  std::optional<std::string> display_name;  ///< firebase_data.display_name
  std::optional<double> height;             ///< body_data.height
  std::optional<double> weight;             ///< body_data.weight
};

/// `POST /users` or `PUT /users/{user_id}`: `{user_id, firebase_data{email, display_name},
/// body_data{height, weight}}`; with `path_id`, a `user_id` in the body must equal it.
Result<AppUser> parse_app_user_request(std::string_view body,
                                       const std::optional<std::string>& path_id);

/// The record in seed 003's JSON shape: what the API answers and what events seal.
std::string encode_app_user(const AppUser& user);
Result<AppUser> decode_app_user(std::string_view json);

inline constexpr std::string_view kAppUserCreatedV1 = "tidemark.app_user.created.v1";
inline constexpr std::string_view kAppUserUpdatedV1 = "tidemark.app_user.updated.v1";
inline constexpr std::string_view kAppUserDeletedV1 = "tidemark.app_user.deleted.v1";

struct AppUserChange {
  std::string user_id;
  Uuid owner_id;
  std::string sealed_data;  ///< encode_app_user, sealed with the owner's key
  std::optional<std::int64_t> expected_revision;
};
std::string encode_app_user_change(const AppUserChange& change);
Result<AppUserChange> decode_app_user_change(std::string_view payload);
std::string encode_app_user_deleted(std::string_view user_id);
Result<std::string> decode_app_user_deleted(std::string_view payload);

}  // namespace tidemark::domain
