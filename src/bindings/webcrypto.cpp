#include "bindings/webcrypto.hpp"

#include "crypto/encoding.hpp"

namespace ec {

namespace {

ApiError crypto_error(std::string_view what) {
  return api_error(Err::crypto_failed, std::string(what) + " failed");
}

json public_part(const json& jwk) {
  return {{"kty", string_or(jwk, "kty", "RSA")},
          {"n", string_or(jwk, "n", "")},
          {"e", string_or(jwk, "e", "")}};
}

Result<RsaKeyPair> key_pair_from(const EffectResult& r) {
  json v = r.as_json();
  const json* priv = get_object(v, "privateJwk");
  if (priv == nullptr || get_string(*priv, "n") == nullptr || get_string(*priv, "d") == nullptr) {
    return crypto_error("RSA key export");
  }
  return RsaKeyPair{*priv, public_part(*priv)};
}

}  // namespace

Task<Result<std::string>> pbkdf2_sha256(Ctx& ctx, std::string password, std::string salt,
                                        int64_t iterations) {
  if (iterations < 1 || iterations > kMaxPbkdf2Iterations) {
    co_return api_error(Err::crypto_pbkdf2_iterations);
  }
  json args = {{"password", std::move(password)},
               {"salt", base64url_encode(salt)},
               {"iterations", iterations},
               {"bits", 256}};
  EffectResult r = co_await ctx.perform(make_effect("crypto.pbkdf2", args));
  if (!r.ok() || r.data.size() != 32) co_return crypto_error("PBKDF2");
  co_return std::move(r.data);
}

Task<Result<std::string>> rsa_sign(Ctx& ctx, json private_jwk, std::string data) {
  json args = {{"jwk", std::move(private_jwk)}, {"data", std::move(data)}};
  EffectResult r = co_await ctx.perform(make_effect("crypto.sign", args));
  if (!r.ok() || r.data.empty()) co_return crypto_error("RSA sign");
  co_return std::move(r.data);
}

Task<Result<bool>> rsa_verify(Ctx& ctx, json public_jwk, std::string data, std::string signature) {
  json args = {{"jwk", std::move(public_jwk)},
               {"data", std::move(data)},
               {"signature", base64url_encode(signature)}};
  EffectResult r = co_await ctx.perform(make_effect("crypto.verify", args));
  if (!r.ok()) co_return crypto_error("RSA verify");
  json v = r.as_json();
  co_return v.is_boolean() && v.get<bool>();
}

Task<Result<RsaKeyPair>> rsa_generate(Ctx& ctx) {
  EffectResult r = co_await ctx.perform(make_effect("crypto.generate_rsa", {{"bits", 2048}}));
  if (!r.ok()) co_return crypto_error("RSA key generation");
  co_return key_pair_from(r);
}

Task<Result<RsaKeyPair>> rsa_import_pem(Ctx& ctx, std::string pem) {
  EffectResult r =
      co_await ctx.perform(make_effect("crypto.import_pem", {{"pem", std::move(pem)}}));
  if (!r.ok()) co_return api_error(Err::auth_bad_private_key);
  co_return key_pair_from(r);
}

}  // namespace ec
