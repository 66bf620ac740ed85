// API keys: long-lived bearer credentials for programmatic clients (the openai SDK pointed at
// /v1/chat/completions sends "Authorization: Bearer <key>").
//   Key:     "ec_" + base64url(256 random bits), shown once, at creation. Only its hex SHA-256 is
//            stored; the hash is the lookup index, so verifying needs no constant-time compare.
//   Revoke:  sets revoked_at rather than deleting the row, so a revoked key gets a precise 401 and
//            the account keeps a record of which keys existed. Revoked keys leave the list.
//   Usage:   last_used_at is written at most once a minute per key, not on every request.
#pragma once

#include "auth/users.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr std::string_view kApiKeyScheme = "ec_";
// "ec_" + 43 base64url characters (32 bytes, unpadded).
inline constexpr size_t kApiKeyChars = 46;
// Characters kept in clear so a user can tell keys apart in a list (42 of the 256 bits).
inline constexpr size_t kApiKeyPrefixChars = 10;
// Unrevoked keys per user; keeps the unpaginated list bounded.
inline constexpr int64_t kMaxApiKeysPerUser = 100;
inline constexpr int64_t kLastUsedResolutionMs = 60 * 1000;

struct ApiKeyRecord {
  std::string id;
  std::string name;
  std::string prefix;
  int64_t created_at_ms = 0;
  std::optional<int64_t> last_used_at_ms;
  std::optional<int64_t> expires_at_ms;
};

struct NewApiKey {
  ApiKeyRecord record;
  std::string key;  // plain text: to hand to the client once, never stored
};

// The cheap discriminator authenticate() runs first: API keys start "ec_"; a JWT starts "eyJ" and
// a refresh token "ecr_", so neither can be mistaken for one.
inline bool is_api_key_token(std::string_view token) {
  return token.substr(0, kApiKeyScheme.size()) == kApiKeyScheme;
}

// Hex SHA-256 of the whole key: the only form stored.
std::string api_key_hash(std::string_view key);

// {id, name, prefix, createdAt, lastUsedAt, expiresAt}: never the key or its hash.
json api_key_json(const ApiKeyRecord& k);

// 409 api_keys.limit_reached when the user already has kMaxApiKeysPerUser unrevoked keys.
Task<Result<NewApiKey>> create_api_key(Ctx& ctx, std::string user_id, std::string name,
                                       std::optional<int64_t> expires_in_days);
// Unrevoked keys (expired ones included, so the user sees why a client stopped working), newest
// first.
Task<Result<std::vector<ApiKeyRecord>>> list_api_keys(Ctx& ctx, std::string user_id);
// 404 api_keys.not_found for an unknown, already revoked or another user's key.
Task<Status> revoke_api_key(Ctx& ctx, std::string user_id, std::string key_id);

// The key's user: 401 for a malformed, unknown, revoked or expired key, 403 for a disabled user.
// Sets ctx.user_id once the key is known, as token authentication does.
Task<Result<User>> verify_api_key(Ctx& ctx, std::string key);

}  // namespace ec
