#include "infra/jwt.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <utility>

#include "domain/json.h"
#include "infra/cipher.h"
#include "infra/encoding.h"

namespace tidemark::infra {

namespace {

using domain::invalid;

constexpr std::size_t kMinKeyBytes = 32;
// Far above any token we sign; refusing larger ones first bounds the work a stranger can cause.
constexpr std::size_t kMaxTokenBytes = 8192;
constexpr std::string_view kAlgorithm = "HS256";
constexpr std::string_view kType = "JWT";

/// A value from an unverified header, made safe to put in an error message: printable ASCII
/// only, at most 32 characters.
std::string printable(const rapidjson::Value& value) {
  std::string_view text(value.GetString(), value.GetStringLength());
  std::string shown;
  for (char c : text.substr(0, 32)) shown += c >= 0x20 && c < 0x7f ? c : '?';
  if (text.size() > 32) shown += "...";
  return shown;
}

/// RapidJSON keeps repeated names and finds the first, while another parser may take the last;
/// a token read differently by two parsers must not exist.
std::optional<domain::Error> duplicate_field(const rapidjson::Value& object,
                                             std::string_view what) {
  std::set<std::string_view> names;
  for (const auto& member : object.GetObject()) {
    std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (!names.insert(name).second) {
      return invalid("repeated field '" + std::string(name) + "' in token " + std::string(what));
    }
  }
  return std::nullopt;
}

std::optional<domain::Error> check_header(const rapidjson::Value& header) {
  if (auto error = duplicate_field(header, "header")) return error;
  auto alg = header.FindMember("alg");
  if (alg == header.MemberEnd()) return invalid("token header has no 'alg'");
  if (!alg->value.IsString()) return invalid("token header field 'alg' must be a string");
  if (std::string_view(alg->value.GetString(), alg->value.GetStringLength()) != kAlgorithm) {
    return invalid("token algorithm '" + printable(alg->value) + "' is not accepted");
  }
  auto typ = header.FindMember("typ");
  if (typ != header.MemberEnd()) {
    if (!typ->value.IsString()) return invalid("token header field 'typ' must be a string");
    if (std::string_view(typ->value.GetString(), typ->value.GetStringLength()) != kType) {
      return invalid("token type '" + printable(typ->value) + "' is not accepted");
    }
  }
  // RFC 7515 §4.1.11: extensions listed in "crit" must be understood; we understand none.
  if (header.HasMember("crit")) return invalid("token header has critical extensions");
  return std::nullopt;
}

/// Reads the claims by name and type, keeping the first problem.
class ClaimReader {
 public:
  explicit ClaimReader(const rapidjson::Value& claims) : claims_(claims) {}

  void string(const char* name, std::string& out) {
    const rapidjson::Value* value = find(name);
    if (!value) return;
    std::string_view text =
        value->IsString() ? std::string_view(value->GetString(), value->GetStringLength()) : "";
    if (text.empty() || text.find('\0') != std::string_view::npos) {
      return fail(std::string("token claim '") + name + "' must be a non-empty string");
    }
    out = text;
  }

  void integer(const char* name, std::int64_t& out) {
    const rapidjson::Value* value = find(name);
    if (!value) return;
    if (!value->IsInt64())
      return fail(std::string("token claim '") + name + "' must be an integer");
    out = value->GetInt64();
  }

  /// "aud" is a string or an array of strings (RFC 7519 §4.1.3); true when it names `ours`.
  bool audience_contains(std::string_view ours) {
    const rapidjson::Value* value = find("aud");
    if (!value) return false;
    auto is = [&](const rapidjson::Value& item) {
      return std::string_view(item.GetString(), item.GetStringLength()) == ours;
    };
    bool well_formed = value->IsString() || value->IsArray();
    bool found = value->IsString() && is(*value);
    if (value->IsArray()) {
      for (const auto& item : value->GetArray()) {
        well_formed = well_formed && item.IsString();
        found = found || (item.IsString() && is(item));
      }
    }
    if (!well_formed) fail("token claim 'aud' must be a string or an array of strings");
    return well_formed && found;
  }

  std::optional<domain::Error> error() const { return error_; }

 private:
  const rapidjson::Value* find(const char* name) {
    auto member = claims_.FindMember(name);
    if (member == claims_.MemberEnd()) {
      fail(std::string("token claim '") + name + "' is required");
      return nullptr;
    }
    return &member->value;
  }
  void fail(std::string message) {
    if (!error_) error_ = invalid(std::move(message));
  }

  const rapidjson::Value& claims_;
  std::optional<domain::Error> error_;
};

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

}  // namespace

JwtSigner::JwtSigner(std::string key, std::string issuer, std::string audience)
    : key_(std::move(key)), issuer_(std::move(issuer)), audience_(std::move(audience)) {
  if (key_.size() < kMinKeyBytes) {
    wipe(key_);
    throw std::invalid_argument("JWT signing key must be at least 32 bytes");
  }
  if (issuer_.empty() || audience_.empty()) {
    throw std::invalid_argument("JWT issuer and audience must not be empty");
  }
}

std::string JwtSigner::sign(const TokenClaims& claims) const {
  if (claims.subject.empty() || claims.session_id.empty() || claims.role.empty() ||
      claims.token_id.empty()) {
    throw std::invalid_argument("JWT subject, session id, role and token id must not be empty");
  }
  if ((!claims.issuer.empty() && claims.issuer != issuer_) ||
      (!claims.audience.empty() && claims.audience != audience_)) {
    throw std::invalid_argument("JWT issuer and audience must be the signer's");
  }
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  auto field = [&](const char* name, std::string_view value) {
    writer.Key(name);
    domain::write_string(writer, value);
  };
  field("sub", claims.subject);
  field("sid", claims.session_id);
  field("role", claims.role);
  field("iss", issuer_);
  field("aud", audience_);
  writer.Key("iat");
  writer.Int64(claims.issued_at);
  writer.Key("nbf");
  writer.Int64(claims.not_before);
  writer.Key("exp");
  writer.Int64(claims.expires_at);
  field("jti", claims.token_id);
  if (!claims.session_position.empty()) field("pos", claims.session_position);
  writer.EndObject();

  std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  token += base64url_encode({buffer.GetString(), buffer.GetSize()});
  std::string signature = hmac_sha256(key_, token);
  token += '.';
  token += base64url_encode(signature);
  return token;
}

domain::Result<TokenClaims> JwtSigner::verify(std::string_view token, std::int64_t now_seconds,
                                              std::int64_t leeway_seconds) const {
  if (token.size() > kMaxTokenBytes) {
    return invalid("token is longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  std::size_t first_dot = token.find('.');
  std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return invalid("token must have 3 parts separated by '.'");
  }

  auto header_text = base64url_decode(token.substr(0, first_dot));
  if (!header_text) return invalid("token header is not valid base64url");
  auto header = domain::parse_json_object(*header_text, "token header");
  if (!header) return header.error();
  if (auto error = check_header(*header)) return *error;

  auto signature = base64url_decode(token.substr(second_dot + 1));
  if (!signature) return invalid("token signature is not valid base64url");
  if (!constant_time_equal(hmac_sha256(key_, token.substr(0, second_dot)), *signature)) {
    return invalid("token signature does not match");
  }

  // Only now, with the MAC checked, do the claims come from us.
  auto claims_text = base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!claims_text) return invalid("token claims are not valid base64url");
  auto document = domain::parse_json_object(*claims_text, "token claims");
  if (!document) return document.error();
  if (auto error = duplicate_field(*document, "claims")) return *error;

  TokenClaims claims;
  ClaimReader reader(*document);
  reader.string("sub", claims.subject);
  reader.string("sid", claims.session_id);
  reader.string("role", claims.role);
  reader.string("iss", claims.issuer);
  bool audience_ok = reader.audience_contains(audience_);
  reader.integer("iat", claims.issued_at);
  reader.integer("nbf", claims.not_before);
  reader.integer("exp", claims.expires_at);
  reader.string("jti", claims.token_id);
  if (document->HasMember("pos")) reader.string("pos", claims.session_position);
  if (auto error = reader.error()) return *error;
  if (claims.issuer != issuer_) return invalid("token issuer does not match");
  if (!audience_ok) return invalid("token audience does not match");
  claims.audience = audience_;

  std::int64_t leeway = std::max<std::int64_t>(leeway_seconds, 0);
  if (claims.expires_at <= saturating_add(now_seconds, -leeway)) {
    return invalid("token has expired");
  }
  if (claims.not_before > saturating_add(now_seconds, leeway)) {
    return invalid("token is not yet valid");
  }
  return claims;
}

}  // namespace tidemark::infra
