#include "auth/api_keys.hpp"

#include "bindings/d1.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random_id.hpp"
#include "crypto/sha256.hpp"

namespace ec {

namespace {

constexpr int64_t kDayMs = int64_t{86400} * 1000;

const std::string kListSql =
    "SELECT id, name, prefix, created_at, last_used_at, expires_at FROM api_keys WHERE user_id = "
    "?1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC";

// Built once: this one runs on every request authenticated by an API key.
const std::string kVerifySql =
    "SELECT k.id AS key_id, k.expires_at AS key_expires_at, k.revoked_at AS key_revoked_at, "
    "k.last_used_at AS key_last_used_at, " +
    std::string(kUserColumns) +
    " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?1";

ApiError invalid_key() { return api_error(Err::auth_api_key_invalid); }

ApiKeyRecord record_from_row(const json& row) {
  ApiKeyRecord k;
  k.id = string_or(row, "id", "");
  k.name = string_or(row, "name", "");
  k.prefix = string_or(row, "prefix", "");
  k.created_at_ms = get_int(row, "created_at").value_or(0);
  k.last_used_at_ms = get_int(row, "last_used_at");
  k.expires_at_ms = get_int(row, "expires_at");
  return k;
}

// Exactly "ec_" + the unpadded base64url of 32 bytes; anything else is refused before D1 is asked.
bool well_formed_key(std::string_view key) {
  if (key.size() != kApiKeyChars || !is_api_key_token(key)) return false;
  std::optional<std::string> bytes = base64url_decode(key.substr(kApiKeyScheme.size()));
  return bytes && bytes->size() == 32;
}

}  // namespace

std::string api_key_hash(std::string_view key) { return hex_encode(digest_bytes(sha256(key))); }

json api_key_json(const ApiKeyRecord& k) {
  auto opt_time = [](const std::optional<int64_t>& ms) {
    return ms ? json(iso8601_ms(*ms)) : json(nullptr);
  };
  return {{"id", k.id},
          {"name", k.name},
          {"prefix", k.prefix},
          {"createdAt", iso8601_ms(k.created_at_ms)},
          {"lastUsedAt", opt_time(k.last_used_at_ms)},
          {"expiresAt", opt_time(k.expires_at_ms)}};
}

Task<Result<NewApiKey>> create_api_key(Ctx& ctx, std::string user_id, std::string name,
                                       std::optional<int64_t> expires_in_days) {
  std::string key = std::string(kApiKeyScheme) + base64url_encode(co_await ctx.random_bytes(32));
  ApiKeyRecord rec;
  rec.id = co_await new_id(ctx, "key_");
  rec.name = std::move(name);
  rec.prefix = key.substr(0, kApiKeyPrefixChars);
  rec.created_at_ms = static_cast<int64_t>(ctx.now_ms());
  if (expires_in_days) rec.expires_at_ms = rec.created_at_ms + *expires_in_days * kDayMs;
  // The cap is checked inside the INSERT so two concurrent creates cannot both pass a separate
  // count and overshoot it.
  Result<RunMeta> r = co_await d1_run(
      ctx,
      Stmt{"INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, "
           "expires_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE (SELECT COUNT(*) FROM "
           "api_keys WHERE user_id = ?2 AND revoked_at IS NULL) < ?8",
           json::array({rec.id, user_id, rec.name, rec.prefix, api_key_hash(key), rec.created_at_ms,
                        rec.expires_at_ms ? json(*rec.expires_at_ms) : json(nullptr),
                        kMaxApiKeysPerUser})});
  if (!r.ok()) co_return r.take_error();
  if (r->changes != 1) {
    co_return api_error(Err::api_keys_limit_reached);
  }
  co_return NewApiKey{std::move(rec), std::move(key)};
}

Task<Result<std::vector<ApiKeyRecord>>> list_api_keys(Ctx& ctx, std::string user_id) {
  Result<std::vector<json>> rows = co_await d1_all(ctx, Stmt{kListSql, json::array({user_id})});
  if (!rows.ok()) co_return rows.take_error();
  std::vector<ApiKeyRecord> out;
  out.reserve(rows->size());
  for (const json& row : rows.value()) out.push_back(record_from_row(row));
  co_return out;
}

Task<Status> revoke_api_key(Ctx& ctx, std::string user_id, std::string key_id) {
  Result<RunMeta> r = co_await d1_run(
      ctx, Stmt{"UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND user_id = ?3 AND "
                "revoked_at IS NULL",
                json::array({static_cast<int64_t>(ctx.now_ms()), key_id, user_id})});
  if (!r.ok()) co_return r.take_error();
  if (r->changes != 1) co_return api_error(Err::api_keys_not_found);
  co_return ok_status();
}

Task<Result<User>> verify_api_key(Ctx& ctx, std::string key) {
  if (!well_formed_key(key)) co_return invalid_key();
  Result<json> row = co_await d1_first(ctx, Stmt{kVerifySql, json::array({api_key_hash(key)})});
  if (!row.ok()) co_return row.take_error();
  std::optional<User> u = row->is_null() ? std::nullopt : user_from_row(row.value());
  if (!u) co_return invalid_key();
  ctx.user_id = u->id;
  if (get_int(row.value(), "key_revoked_at")) {
    co_return api_error(Err::auth_api_key_revoked);
  }
  int64_t now = static_cast<int64_t>(ctx.now_ms());
  std::optional<int64_t> expires = get_int(row.value(), "key_expires_at");
  if (expires && now >= *expires) {
    co_return api_error(Err::auth_api_key_expired);
  }
  if (u->disabled) co_return user_disabled_error();

  std::optional<int64_t> last_used = get_int(row.value(), "key_last_used_at");
  if (!last_used || now - *last_used >= kLastUsedResolutionMs) {
    // Bookkeeping only: a failed write must not fail a request whose key checked out. The guard
    // keeps concurrent requests from moving the time backwards.
    std::string key_id = string_or(row.value(), "key_id", "");
    Result<RunMeta> touched = co_await d1_run(
        ctx, Stmt{"UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS "
                  "NULL OR last_used_at < ?1)",
                  json::array({now, key_id})});
    (void)touched;
  }
  co_return std::move(*u);
}

}  // namespace ec
