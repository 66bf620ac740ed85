// Any bytes as a bearer token through the JWT checks the core runs before asking the host to
// verify a signature. Invariant: a clean Result either way, and an accepted key is one we own.
#include "auth/jwt.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ec;
  static const std::vector<VerifyKey> keys = {
      {"k1", "RS256", json{{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}}},
      {"k2", "RS256", json{{"kty", "RSA"}, {"n", "AQAC"}, {"e", "AQAB"}}},
  };
  std::string_view token(reinterpret_cast<const char*>(data), size);
  Result<JwtParts> parts = parse_jwt(token);
  if (!parts.ok()) return 0;
  Result<const VerifyKey*> key = select_key(parts.value(), keys);
  if (key.ok() && key.value() != &keys[0] && key.value() != &keys[1]) std::abort();
  ClaimRules rules{"edgechat", "edgechat-api", 1795000000, 30};
  Result<AccessClaims> claims = check_claims(parts->payload, rules);
  if (claims.ok() && (claims->sub.empty() || claims->jti.empty())) std::abort();
  return 0;
}
