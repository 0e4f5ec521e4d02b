#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/result.h"

namespace tidemark::infra {

/// What an access token says. In JSON: sub, sid, role, iss, aud, iat, nbf, exp, jti; times are
/// whole seconds since the Unix epoch.
struct TokenClaims {
  std::string subject;     ///< sub: the user id
  std::string session_id;  ///< sid: the login session, so logout can revoke its tokens
  std::string role;
  std::string issuer;    ///< iss
  std::string audience;  ///< aud
  std::int64_t issued_at = 0;
  std::int64_t not_before = 0;
  std::int64_t expires_at = 0;
  std::string token_id;  ///< jti
  /// pos, optional: where the session's `session.started` is in the log ("PARTITION:OFFSET"),
  /// so a request can wait for a session the projection has not applied yet.
  std::string session_position;
};

/// Signs and verifies JSON Web Tokens (RFC 7519) with HS256 only. The algorithm is pinned: a
/// token is never trusted to name its own algorithm, so "none", HS512, RS256 (whose public key
/// could be fed to HMAC as a secret) and every other value are refused before any MAC is
/// computed. Immutable after construction, so one signer may be shared by threads.
class JwtSigner {
 public:
  /// `key` is the HMAC secret: at least 32 bytes (the size of the hash, RFC 7518 §3.2), or
  /// std::invalid_argument. `issuer` and `audience` go into every token and are required of
  /// every token verified.
  JwtSigner(std::string key, std::string issuer, std::string audience);

  /// `header.claims.signature`, base64url without padding. The token carries this signer's
  /// issuer and audience: `claims.issuer` and `claims.audience` may be empty, and otherwise
  /// must equal them. subject, session_id, role and token_id must not be empty. Both rules
  /// throw std::invalid_argument, since verify would refuse such a token.
  std::string sign(const TokenClaims& claims) const;

  /// The claims of a token this signer made, or the reason it is refused (ErrorKind::invalid;
  /// callers answer 401). Checks, in order: three parts; a header of exactly alg "HS256" and,
  /// if present, typ "JWT" and no "crit"; the MAC, compared in constant time; only then the
  /// claims: every one present with its JSON type (aud a string, or an array of strings),
  /// iss and aud ours, exp > now - leeway and nbf <= now + leeway. A negative leeway counts
  /// as 0. The returned audience is ours even when the token listed several.
  domain::Result<TokenClaims> verify(std::string_view token, std::int64_t now_seconds,
                                     std::int64_t leeway_seconds = 30) const;

 private:
  std::string key_;
  std::string issuer_;
  std::string audience_;
};

}  // namespace tidemark::infra
