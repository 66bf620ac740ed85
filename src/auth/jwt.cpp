#include "auth/jwt.hpp"

#include "core/ascii.hpp"

#include <optional>

#include "core/json.hpp"
#include "crypto/encoding.hpp"

namespace ec {

namespace {

// A JOSE header is flat and a claims set nearly so; anything deeper is not a token we issued, and
// the bound keeps a hostile token from driving the recursive JSON parser deep into the stack.
constexpr int kMaxJsonDepth = 8;
constexpr size_t kMaxKidLength = 128;

ApiError malformed(std::string message) {
  return api_error(Err::auth_token_malformed, std::move(message));
}

ApiError invalid_claim(std::string_view claim, std::string_view problem) {
  std::string message = "token claim '";
  message.append(claim).append("' ").append(problem);
  return api_error(Err::auth_token_invalid_claims, std::move(message));
}

// Decodes one base64url segment into a JSON object.
std::optional<json> decode_json_segment(std::string_view segment) {
  std::optional<std::string> bytes = base64url_decode(segment);
  if (!bytes) return std::nullopt;
  // nlohmann's lexer treats a NUL byte as end of input, so "{...}\0<anything>" would parse as
  // "{...}". Valid JSON text never contains a raw NUL, so refuse it rather than ignore the tail.
  if (bytes->find('\0') != std::string::npos) return std::nullopt;
  std::optional<json> value = parse_json(*bytes, kMaxJsonDepth);
  if (!value || !value->is_object()) return std::nullopt;
  return value;
}

// A required non-empty string claim; nullptr when absent, mistyped or empty.
const std::string* required_string(const json& payload, std::string_view claim) {
  const std::string* s = get_string(payload, claim);
  return (s != nullptr && !s->empty()) ? s : nullptr;
}

// RFC 7519 §4.1.3: aud is a string or an array of strings, and we must be one of them.
bool audience_matches(const json& payload, const std::string& audience) {
  if (const std::string* aud = get_string(payload, "aud")) return *aud == audience;
  const json* list = get_array(payload, "aud");
  if (list == nullptr) return false;
  for (const json& entry : *list) {
    if (entry.is_string() && *entry.get_ptr<const std::string*>() == audience) return true;
  }
  return false;
}

}  // namespace

Result<JwtParts> parse_jwt(std::string_view token) {
  if (token.size() > kMaxJwtBytes) return malformed("token is too large");

  size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return malformed("token must have three segments");
  size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return malformed("token must have three segments");
  }

  std::optional<json> header = decode_json_segment(token.substr(0, first_dot));
  if (!header) return malformed("token header is not a base64url JSON object");
  std::optional<json> payload =
      decode_json_segment(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!payload) return malformed("token payload is not a base64url JSON object");
  // An empty signature is how an unsecured ("alg":"none") JWS is written; refuse it here already.
  std::optional<std::string> signature = base64url_decode(token.substr(second_dot + 1));
  if (!signature || signature->empty()) return malformed("token signature is missing or invalid");

  // The signature covers the token's own bytes, never a re-serialisation of the parsed JSON.
  return JwtParts{std::move(*header), std::move(*payload), std::string(token.substr(0, second_dot)),
                  std::move(*signature)};
}

Result<const VerifyKey*> select_key(const JwtParts& parts, const std::vector<VerifyKey>& keys) {
  const json& header = parts.header;
  const std::string* alg = get_string(header, "alg");
  if (alg == nullptr) return malformed("token header 'alg' must be a string");
  // RFC 8725 §3.1: never accept an unsecured JWS, however the name is spelled.
  if (ascii_iequals(*alg, "none")) {
    return api_error(Err::auth_token_alg_none);
  }
  // RFC 7515 §4.1.11: we understand no extensions, so a token that marks any as critical must be
  // rejected.
  if (find(header, "crit") != nullptr) return malformed("token header 'crit' is not supported");
  // RFC 8725 §3.11: a token explicitly typed as something else (logout, DPoP proof, ...) must not
  // be accepted as an access token even if the same key signed it.
  if (find(header, "typ") != nullptr) {
    const std::string* typ = get_string(header, "typ");
    if (typ == nullptr || !(ascii_iequals(*typ, "JWT") || ascii_iequals(*typ, "at+jwt"))) {
      return malformed("token header 'typ' is not an access token type");
    }
  }
  // kid is attacker-controlled: it is only ever compared for equality against configured key
  // ids, never used as a path, URL or query. Embedded keys (jwk, jku, x5u, x5c) are ignored.
  const std::string* kid = get_string(header, "kid");
  if (kid == nullptr || kid->empty() || kid->size() > kMaxKidLength) {
    return api_error(Err::auth_token_unknown_kid, "token header 'kid' is missing or invalid");
  }
  const VerifyKey* key = nullptr;
  for (const VerifyKey& candidate : keys) {
    if (candidate.kid == *kid) {
      key = &candidate;
      break;
    }
  }
  if (key == nullptr) {
    return api_error(Err::auth_token_unknown_kid, "token 'kid' matches no known key");
  }
  // RFC 8725 §3.1: the key decides the algorithm, not the token. Otherwise an HS256 token
  // "signed" with the RSA public key as the HMAC secret would verify.
  if (*alg != key->alg) {
    return api_error(Err::auth_token_alg_mismatch);
  }
  return key;
}

Result<AccessClaims> check_claims(const json& payload, const ClaimRules& rules) {
  // Fail closed: with an empty issuer or audience configured, a token carrying empty claims would
  // otherwise pass. That is a deployment error, not the client's.
  if (rules.issuer.empty() || rules.audience.empty()) {
    return api_error(Err::auth_misconfigured);
  }
  if (!payload.is_object()) return invalid_claim("payload", "is not an object");

  const std::string* iss = get_string(payload, "iss");
  if (iss == nullptr || *iss != rules.issuer)
    return invalid_claim("iss", "is not the expected issuer");
  if (!audience_matches(payload, rules.audience)) {
    return invalid_claim("aud", "does not include this service");
  }

  AccessClaims claims;
  const std::string* sub = required_string(payload, "sub");
  if (sub == nullptr) return invalid_claim("sub", "must be a non-empty string");
  claims.sub = *sub;
  const std::string* jti = required_string(payload, "jti");
  if (jti == nullptr) return invalid_claim("jti", "must be a non-empty string");
  claims.jti = *jti;
  // Every claim sign_access_token issues is required: a token without its session (sid) could
  // never be revoked by logout, so a validly signed one missing it is refused like any other.
  const std::string* sid = required_string(payload, "sid");
  if (sid == nullptr) return invalid_claim("sid", "must be a non-empty string");
  claims.sid = *sid;
  const std::string* role = required_string(payload, "role");
  if (role == nullptr) return invalid_claim("role", "must be a non-empty string");
  claims.role = *role;

  std::optional<int64_t> exp = get_int(payload, "exp");
  if (!exp) return invalid_claim("exp", "must be an integer NumericDate");
  std::optional<int64_t> iat = get_int(payload, "iat");
  if (!iat) return invalid_claim("iat", "must be an integer NumericDate");
  std::optional<int64_t> nbf = get_int(payload, "nbf");
  if (!nbf) return invalid_claim("nbf", "must be an integer NumericDate");

  // The arithmetic is done on now and leeway (trusted, small) rather than on the token's values,
  // which may be anywhere up to INT64_MAX and would overflow.
  const int64_t earliest = rules.now_s - rules.leeway_s;
  const int64_t latest = rules.now_s + rules.leeway_s;
  if (*exp < earliest) return api_error(Err::auth_token_expired, "token has expired");
  if (*nbf > latest) {
    return api_error(Err::auth_token_not_yet_valid, "token 'nbf' is in the future");
  }
  if (*iat > latest) {
    return api_error(Err::auth_token_not_yet_valid, "token 'iat' is in the future");
  }
  claims.exp = *exp;
  claims.iat = *iat;
  return claims;
}

std::string jwt_signing_input(const json& header, const json& payload) {
  std::string out = base64url_encode(dump_json(header));
  out.push_back('.');
  out.append(base64url_encode(dump_json(payload)));
  return out;
}

std::string jwt_assemble(std::string_view signing_input, std::string_view signature_bytes) {
  std::string out(signing_input);
  out.push_back('.');
  out.append(base64url_encode(signature_bytes));
  return out;
}

}  // namespace ec
