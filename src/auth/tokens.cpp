#include "auth/tokens.hpp"

#include "bindings/webcrypto.hpp"
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"

namespace ec {

namespace {

ClaimRules rules_for(const Ctx& ctx, const AuthConfig& cfg) {
  return ClaimRules{cfg.issuer, cfg.audience, ctx.now_s(), cfg.leeway_s};
}

}  // namespace

std::string refresh_token_hash(std::string_view token) {
  return hex_encode(digest_bytes(sha256(token)));
}

Task<std::string> new_refresh_token(Ctx& ctx) {
  std::string bytes = co_await ctx.random_bytes(32);
  co_return "ecr_" + base64url_encode(bytes);
}

Task<Result<std::string>> sign_access_token(Ctx& ctx, const AuthConfig& cfg, KeyRing& ring,
                                            std::string user_id, std::string session_id,
                                            std::string role) {
  Result<SigningKey> key = co_await ring.signing_key(ctx, cfg);
  if (!key.ok()) co_return key.take_error();
  std::string jti = hex_encode(co_await ctx.random_bytes(16));
  int64_t now = ctx.now_s();
  json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", key->kid}};
  json payload = {
      {"iss", cfg.issuer}, {"aud", cfg.audience}, {"sub", user_id}, {"sid", session_id},
      {"role", role},      {"iat", now},          {"nbf", now},     {"exp", now + cfg.access_ttl_s},
      {"jti", jti}};
  std::string input = jwt_signing_input(header, payload);
  Result<std::string> sig = co_await rsa_sign(ctx, key->private_jwk, input);
  if (!sig.ok()) co_return sig.take_error();
  co_return jwt_assemble(input, sig.value());
}

Task<Result<AccessClaims>> AccessTokenVerifier::verify(Ctx& ctx, const AuthConfig& cfg,
                                                       KeyRing& ring, std::string token) {
  if (token.size() > kMaxJwtBytes) {
    co_return api_error(Err::auth_token_malformed);
  }
  if (auto it = cache_.find(token); it != cache_.end()) {
    if (ring.still_trusted(it->second.kid, ctx.now_ms())) {
      const AccessClaims& c = it->second.claims;
      if (ctx.now_s() > c.exp + cfg.leeway_s) {
        co_return api_error(Err::auth_token_expired);
      }
      co_return AccessClaims(c);
    }
  }

  Result<JwtParts> parts = parse_jwt(token);
  if (!parts.ok()) co_return parts.take_error();
  Result<std::vector<VerifyKey>> keys = co_await ring.verify_keys(ctx, cfg, false);
  if (!keys.ok()) co_return keys.take_error();
  Result<const VerifyKey*> key = select_key(parts.value(), keys.value());
  if (!key.ok() && key.error().is(Err::auth_token_unknown_kid)) {
    // Perhaps minted by another instance after our ring was loaded: look once more.
    keys = co_await ring.verify_keys(ctx, cfg, true);
    if (!keys.ok()) co_return keys.take_error();
    key = select_key(parts.value(), keys.value());
  }
  if (!key.ok()) co_return key.take_error();
  std::string kid = key.value()->kid;
  Result<bool> good =
      co_await rsa_verify(ctx, key.value()->public_jwk, parts->signing_input, parts->signature);
  if (!good.ok()) co_return good.take_error();
  if (!good.value()) {
    co_return api_error(Err::auth_token_bad_signature);
  }
  Result<AccessClaims> claims = check_claims(parts->payload, rules_for(ctx, cfg));
  if (!claims.ok()) co_return claims.take_error();
  if (cache_.size() >= kMaxEntries) cache_.clear();  // crude but bounded; refills in one TTL
  cache_.emplace(std::move(token), Entry{claims.value(), kid});
  co_return std::move(claims.value());
}

}  // namespace ec
