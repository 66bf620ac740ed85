// JSON Web Tokens (RFC 7519, JWS compact serialisation RFC 7515), checked per RFC 8725 (JWT BCP).
//
// The signature itself is not computed or verified here: RS256 runs in the host's WebCrypto via a
// crypto effect. This module does everything around it, in the order a verifier must:
//   parse_jwt     -> structure and encoding only; nothing in the token is trusted yet
//   select_key    -> choose the key by kid and pin its algorithm (no "none", no alg confusion)
//   (host)        -> verify JwtParts::signature over JwtParts::signing_input with that key
//   check_claims  -> iss, aud, time window and required claims, only after the signature passed
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace ec {

// Tokens larger than this are rejected before decoding: an access token is a few hundred bytes,
// and the limit bounds the work an unauthenticated request can cause.
inline constexpr size_t kMaxJwtBytes = 8192;

struct JwtParts {
  json header;                // decoded JOSE header (a JSON object)
  json payload;               // decoded claims set (a JSON object), unverified until the host says
  std::string signing_input;  // the exact ASCII "<b64 header>.<b64 payload>" from the token
  std::string signature;      // raw signature bytes (base64url-decoded)
};

// Splits and decodes a compact JWS. Any failure is 401 auth.token_malformed.
Result<JwtParts> parse_jwt(std::string_view token);

struct VerifyKey {
  std::string kid;  // key id, matched against the header's kid by string equality
  std::string alg;  // the one algorithm this key may be used with, e.g. "RS256"
  json public_jwk;  // handed to the host's crypto.verify effect
};

// Picks the key the token names and checks the header is acceptable for it. The pointer refers
// into `keys`, which must outlive its use.
Result<const VerifyKey*> select_key(const JwtParts& parts, const std::vector<VerifyKey>& keys);

struct ClaimRules {
  std::string issuer;     // required exact iss
  std::string audience;   // required aud (or member of an aud array)
  int64_t now_s = 0;      // request time from the envelope (the core has no clock)
  int64_t leeway_s = 30;  // tolerated clock skew between issuer and us
};

struct AccessClaims {
  std::string sub, jti, sid, role;  // all required (see check_claims)
  int64_t iat = 0, exp = 0;
};

// Validates the claims of a signature-verified payload: iss, aud, sub, jti, sid, role, iat, nbf
// and exp, every one that sign_access_token issues, are required (401 auth.token_invalid_claims).
Result<AccessClaims> check_claims(const json& payload, const ClaimRules& rules);

// base64url(compact header JSON) + "." + base64url(compact payload JSON): the bytes to sign.
std::string jwt_signing_input(const json& header, const json& payload);

// signing_input + "." + base64url(signature_bytes): the compact token.
std::string jwt_assemble(std::string_view signing_input, std::string_view signature_bytes);

}  // namespace ec
