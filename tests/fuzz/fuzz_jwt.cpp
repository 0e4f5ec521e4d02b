// Access tokens: JwtSigner::verify of arbitrary strings under a fixed key, and base64url. The
// first byte picks the mode:
//   a  TOKEN                 verify the bytes as they come (almost all fail before the MAC);
//   b  HEADER\nCLAIMS        the two JSON texts encoded and signed with our key, then verified, so
//                            the claim checks behind the MAC are reached too;
//   c  TEXT                  base64url decoding is canonical: decode, encode gives TEXT back;
//   d  SUB\nSID\nROLE\nJTI   sign then verify gives the same claims.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "infra/cipher.h"
#include "infra/encoding.h"
#include "infra/jwt.h"
#include "tests/fuzz/fuzz_input.h"

namespace tidemark::fuzz {
namespace {

constexpr std::int64_t kNow = 1'733'543'715;  // 2024-12-07T03:55:15Z
const std::string kKey = "fuzzing key of thirty-two bytes!";
constexpr std::string_view kIssuer = "tidemark";
constexpr std::string_view kAudience = "tidemark-api";

const infra::JwtSigner& signer() {
  static const infra::JwtSigner instance(kKey, std::string(kIssuer), std::string(kAudience));
  return instance;
}

/// What verify promises of the claims it accepts.
void check_accepted(const infra::TokenClaims& claims, std::string_view token) {
  check(claims.issuer == kIssuer, "accepted a foreign issuer", token);
  check(claims.audience == kAudience, "accepted a foreign audience", token);
  check(!claims.subject.empty() && !claims.session_id.empty() && !claims.role.empty() &&
            !claims.token_id.empty(),
        "accepted an empty claim", token);
  check(claims.expires_at > kNow - 30 && claims.not_before <= kNow + 30,
        "accepted a token outside its lifetime", token);
}

void verify_raw(FuzzInput& input) {
  std::string_view token = input.rest();
  auto claims = signer().verify(token, kNow);
  if (claims) check_accepted(*claims, token);
}

void verify_signed(FuzzInput& input) {
  std::string_view header = input.field();
  std::string_view body = input.rest();
  std::string token = infra::base64url_encode(header) + "." + infra::base64url_encode(body);
  token += "." + infra::base64url_encode(infra::hmac_sha256(kKey, token));
  auto claims = signer().verify(token, kNow);
  if (!claims) return;
  check_accepted(*claims, token);
  // The signer's own token for the same claims verifies to the same claims.
  std::string again = signer().sign(*claims);
  auto reread = signer().verify(again, kNow);
  check(reread.ok(), "re-signed claims do not verify", again);
  check(reread->subject == claims->subject && reread->session_id == claims->session_id &&
            reread->role == claims->role && reread->token_id == claims->token_id &&
            reread->expires_at == claims->expires_at && reread->not_before == claims->not_before &&
            reread->issued_at == claims->issued_at,
        "re-signed claims differ", again);
}

void base64url(FuzzInput& input) {
  std::string_view text = input.rest();
  if (auto bytes = infra::base64url_decode(text)) {
    check(infra::base64url_encode(*bytes) == text, "base64url decoding is not canonical", text);
  }
  std::string encoded = infra::base64url_encode(text);
  auto decoded = infra::base64url_decode(encoded);
  check(decoded && *decoded == text, "base64url does not round-trip", text);
}

bool printable(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void sign_and_verify(FuzzInput& input) {
  infra::TokenClaims claims;
  claims.subject = input.field();
  claims.session_id = input.field();
  claims.role = input.field();
  claims.token_id = input.rest();
  claims.issued_at = kNow;
  claims.not_before = kNow;
  claims.expires_at = kNow + 900;
  std::string token;
  try {
    token = signer().sign(claims);
  } catch (const std::invalid_argument&) {
    return;  // empty claims are refused by contract
  }
  // Claims are JSON strings: text that is not UTF-8, or holds NUL, cannot come back; and verify
  // refuses tokens over 8 KiB before reading them.
  if (!printable(claims.subject) || !printable(claims.session_id) || !printable(claims.role) ||
      !printable(claims.token_id) || token.size() > 8192) {
    return;
  }
  auto verified = signer().verify(token, kNow);
  check(verified.ok(), "a token we signed does not verify",
        verified ? token : verified.error().message + "\n" + token);
  check(verified->subject == claims.subject && verified->session_id == claims.session_id &&
            verified->role == claims.role && verified->token_id == claims.token_id,
        "verified claims differ from the signed ones", token);
  check(!signer().verify(token, kNow + 900 + 31).ok(), "an expired token verifies", token);
}

}  // namespace
}  // namespace tidemark::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tidemark::fuzz::FuzzInput input(data, size);
  switch (input.choice(4)) {
    case 0:
      tidemark::fuzz::verify_raw(input);
      break;
    case 1:
      tidemark::fuzz::verify_signed(input);
      break;
    case 2:
      tidemark::fuzz::base64url(input);
      break;
    default:
      tidemark::fuzz::sign_and_verify(input);
  }
  return 0;
}
