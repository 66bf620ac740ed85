#include "auth/keys.hpp"

#include "bindings/d1.hpp"
#include "bindings/webcrypto.hpp"
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"

namespace ec {

namespace {

constexpr double kRingTtlMs = 60'000;
constexpr double kForceReloadMinMs = 2'000;

// Keys retired less than a token lifetime (+ leeway) ago still verify.
int64_t trust_cutoff_ms(const Ctx& ctx, const AuthConfig& cfg) {
  return static_cast<int64_t>(ctx.now_ms()) - (cfg.access_ttl_s + cfg.leeway_s) * 1000;
}

std::optional<SigningKey> key_from_row(const json& row) {
  const std::string* kid = get_string(row, "kid");
  const std::string* pub = get_string(row, "public_jwk");
  if (kid == nullptr || pub == nullptr) return std::nullopt;
  auto pub_json = parse_json(*pub, 8);
  if (!pub_json || !pub_json->is_object()) return std::nullopt;
  SigningKey k;
  k.kid = *kid;
  k.public_jwk = std::move(*pub_json);
  if (const std::string* priv = get_string(row, "private_jwk")) {
    if (auto p = parse_json(*priv, 8)) k.private_jwk = std::move(*p);
  }
  k.created_at_ms = get_int(row, "created_at").value_or(0);
  k.retired_at_ms = get_int(row, "retired_at");
  return k;
}

}  // namespace

std::string jwk_thumbprint(const json& public_jwk) {
  // Members in lexicographic order, no whitespace (RFC 7638 §3.2).
  std::string canonical = "{\"e\":" + dump_json(string_or(public_jwk, "e", "")) +
                          ",\"kty\":\"RSA\",\"n\":" + dump_json(string_or(public_jwk, "n", "")) +
                          "}";
  return base64url_encode(digest_bytes(sha256(canonical)));
}

void KeyRing::reset() {
  keys_.clear();
  loaded_at_ms_ = -1;
  secret_key_.reset();
}

bool KeyRing::still_trusted(std::string_view kid, double now_ms) const {
  if (loaded_at_ms_ < 0 || now_ms - loaded_at_ms_ > kRingTtlMs) return false;
  for (const SigningKey& k : keys_) {
    if (k.kid == kid) return true;
  }
  return false;
}

Task<Status> KeyRing::load(Ctx& ctx, const AuthConfig& cfg) {
  Result<std::vector<json>> rows = co_await d1_all(
      ctx, Stmt{"SELECT kid, public_jwk, private_jwk, created_at, retired_at FROM signing_keys "
                "WHERE retired_at IS NULL OR retired_at > ?1 ORDER BY created_at DESC, kid",
                json::array({trust_cutoff_ms(ctx, cfg)})});
  if (!rows.ok()) co_return rows.take_error();
  std::vector<SigningKey> keys;
  for (const json& row : rows.value()) {
    if (auto k = key_from_row(row)) keys.push_back(std::move(*k));
  }
  keys_ = std::move(keys);
  loaded_at_ms_ = ctx.now_ms();
  co_return ok_status();
}

Task<Status> KeyRing::ensure_loaded(Ctx& ctx, const AuthConfig& cfg, bool force) {
  double age = ctx.now_ms() - loaded_at_ms_;
  bool stale = loaded_at_ms_ < 0 || age > kRingTtlMs || (force && age > kForceReloadMinMs);
  if (!stale) co_return ok_status();
  co_return co_await load(ctx, cfg);
}

Task<Result<SigningKey>> KeyRing::adopt_secret_key(Ctx& ctx, const AuthConfig& cfg) {
  if (!secret_key_) {
    Result<RsaKeyPair> pair = co_await rsa_import_pem(ctx, cfg.private_key_pem);
    if (!pair.ok()) co_return pair.take_error();
    SigningKey k;
    k.public_jwk = pair->public_jwk;
    k.private_jwk = pair->private_jwk;
    k.kid = cfg.kid.empty() ? jwk_thumbprint(k.public_jwk) : cfg.kid;
    k.created_at_ms = static_cast<int64_t>(ctx.now_ms());
    secret_key_ = std::move(k);
  }
  SigningKey key = *secret_key_;
  bool published = false;
  for (const SigningKey& k : keys_) published = published || k.kid == key.kid;
  if (!published) {
    // Publish the secret's public half (never its private half) and retire generated keys; they
    // stay in the JWKS until their tokens expire.
    int64_t now = static_cast<int64_t>(ctx.now_ms());
    Result<std::vector<BatchItem>> r = co_await d1_batch(
        ctx, {Stmt{"INSERT OR IGNORE INTO signing_keys (kid, alg, public_jwk, private_jwk, source, "
                   "created_at) VALUES (?1, 'RS256', ?2, NULL, 'secret', ?3)",
                   json::array({key.kid, dump_json(key.public_jwk), now})},
              Stmt{"UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL AND kid != ?2",
                   json::array({now, key.kid})}});
    if (!r.ok()) co_return r.take_error();
    Status s = co_await load(ctx, cfg);
    if (!s.ok()) co_return s.take_error();
  }
  co_return key;
}

Task<Result<SigningKey>> KeyRing::generate_key(Ctx& ctx, const AuthConfig& cfg) {
  Result<RsaKeyPair> pair = co_await rsa_generate(ctx);
  if (!pair.ok()) co_return pair.take_error();
  SigningKey k;
  k.public_jwk = pair->public_jwk;
  k.private_jwk = pair->private_jwk;
  k.kid = jwk_thumbprint(k.public_jwk);
  k.created_at_ms = static_cast<int64_t>(ctx.now_ms());
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt{"INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, source, created_at) "
                 "VALUES (?1, 'RS256', ?2, ?3, 'generated', ?4)",
                 json::array(
                     {k.kid, dump_json(k.public_jwk), dump_json(k.private_jwk), k.created_at_ms})},
            Stmt{"UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL AND kid != ?2",
                 json::array({k.created_at_ms, k.kid})}});
  if (!r.ok()) co_return r.take_error();
  Status s = co_await load(ctx, cfg);
  if (!s.ok()) co_return s.take_error();
  co_return k;
}

Task<Result<SigningKey>> KeyRing::signing_key(Ctx& ctx, const AuthConfig& cfg) {
  Status loaded = co_await ensure_loaded(ctx, cfg, false);
  if (!loaded.ok()) co_return loaded.take_error();
  if (!cfg.private_key_pem.empty()) co_return co_await adopt_secret_key(ctx, cfg);
  for (const SigningKey& k : keys_) {
    if (k.retired_at_ms || k.private_jwk.is_null()) continue;
    bool due = static_cast<int64_t>(ctx.now_ms()) - k.created_at_ms > cfg.key_rotation_s * 1000;
    if (!due) co_return SigningKey(k);
    break;
  }
  co_return co_await generate_key(ctx, cfg);
}

Task<Result<std::vector<VerifyKey>>> KeyRing::verify_keys(Ctx& ctx, const AuthConfig& cfg,
                                                          bool force) {
  Status loaded = co_await ensure_loaded(ctx, cfg, force);
  if (!loaded.ok()) co_return loaded.take_error();
  std::vector<VerifyKey> out;
  out.reserve(keys_.size());
  for (const SigningKey& k : keys_) out.push_back(VerifyKey{k.kid, "RS256", k.public_jwk});
  co_return out;
}

Task<Result<json>> KeyRing::jwks(Ctx& ctx, const AuthConfig& cfg) {
  // Make sure a key exists before publishing, so a client can fetch the JWKS first.
  Result<SigningKey> active = co_await signing_key(ctx, cfg);
  if (!active.ok()) co_return active.take_error();
  json keys = json::array();
  for (const SigningKey& k : keys_) {
    keys.push_back({{"kty", "RSA"},
                    {"kid", k.kid},
                    {"use", "sig"},
                    {"alg", "RS256"},
                    {"n", string_or(k.public_jwk, "n", "")},
                    {"e", string_or(k.public_jwk, "e", "")}});
  }
  co_return json{{"keys", keys}};
}

}  // namespace ec
