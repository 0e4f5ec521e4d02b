#pragma once

#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <string>

#include "domain/account.h"
#include "domain/envelope.h"
#include "domain/result.h"
#include "infra/keyring.h"

namespace tidemark::api {

/// The command side of accounts, shared by the HTTP routes and `tidemark create-admin`.

/// Claims the username (and email) for `user_id` and makes the user's data key, in one
/// transaction, then returns the `user.registered` event to append, with the personal data
/// sealed. A taken name or email is a `conflict` error naming it.
domain::Result<domain::EventEnvelope> prepare_registration(
    pqxx::connection& connection, const infra::Keyring& keyring,
    const domain::Registration& registration, const std::string& password_hash, domain::Role role,
    const domain::Uuid& user_id, const std::string& correlation_id);

/// Claims a client-chosen name (`kind`: username, email, algorithm) for `owner`, case-
/// insensitively, in the caller's transaction (or on its own, with a nontransaction). A claim
/// never confirmed by a projected event expires after 5 minutes. False when someone else holds
/// it.
bool claim_name(pqxx::transaction_base& transaction, const std::string& kind,
                const std::string& value, const domain::Uuid& owner);

/// Undoes `prepare_registration` when its event never reached the log.
void release_registration(pqxx::connection& connection, const domain::Uuid& user_id);

/// Claims a changed username or email for the user and returns the whole new personal data,
/// sealed with the user's key, for `user.profile_updated` or `user.password_reset`;
/// `password_hash` replaces the old one when given. Not found when the user (or key) is gone.
domain::Result<std::string> prepare_personal_update(
    pqxx::connection& connection, const infra::Keyring& keyring, const domain::Uuid& user_id,
    const domain::ProfileChanges& changes, const std::optional<std::string>& password_hash);

/// A single-use token and the `user.token_issued` event that mails it (sealed).
struct IssuedAccountToken {
  std::string token;
  domain::EventEnvelope event;
};
/// Not found when the user, their key or (to mail anything) their email is missing.
domain::Result<IssuedAccountToken> prepare_account_token(pqxx::connection& connection,
                                                         const infra::Keyring& keyring,
                                                         const domain::Uuid& user_id,
                                                         domain::TokenPurpose purpose,
                                                         const std::string& correlation_id);

/// Redeems a token once and returns whose it is; an `invalid` error when it is unknown, for
/// another purpose, expired or used (all alike, so nothing is learnt from the answer).
domain::Result<domain::Uuid> redeem_account_token(pqxx::connection& connection,
                                                  const std::string& token,
                                                  domain::TokenPurpose purpose);

/// An envelope for an event of the API's, with a fresh id and the time now.
domain::EventEnvelope new_envelope(std::string_view type, std::string key, std::string subject,
                                   std::string payload, std::string correlation_id,
                                   std::string actor);

}  // namespace tidemark::api
