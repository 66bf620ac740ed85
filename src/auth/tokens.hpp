// Access and refresh tokens.
//   Access:  RS256 JWT, ACCESS_TOKEN_TTL_SECONDS (15 min), claims iss/aud/sub/sid/role/iat/exp/jti,
//            kid in the header. Verified against the key ring with the algorithm pinned per key.
//   Refresh: opaque, 256 random bits ("ecr_" + base64url), stored only as SHA-256 in D1, rotated on
//            every use. A session is a refresh-token family: presenting a used token revokes it.
#pragma once

#include "auth/config.hpp"
#include "auth/jwt.hpp"
#include "auth/keys.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>
#include <unordered_map>

namespace ec {

struct IssuedTokens {
  std::string access_token;
  std::string refresh_token;
  int64_t expires_in = 0;
};

// Hex SHA-256 of a refresh token: the only form stored.
std::string refresh_token_hash(std::string_view token);

// Verification results are cached per instance, keyed by the token's exact bytes (identical bytes
// verify identically; keying by a digest cost more than the lookup), bounded at 4096 entries
// (≤ 8 KiB each); a hit still re-checks expiry and that its key is still trusted.
class AccessTokenVerifier {
 public:
  Task<Result<AccessClaims>> verify(Ctx& ctx, const AuthConfig& cfg, KeyRing& ring,
                                    std::string token);
  void reset() { cache_.clear(); }
  size_t cache_size() const { return cache_.size(); }

 private:
  struct Entry {
    AccessClaims claims;
    std::string kid;
  };
  static constexpr size_t kMaxEntries = 4096;
  std::unordered_map<std::string, Entry> cache_;
};

Task<Result<std::string>> sign_access_token(Ctx& ctx, const AuthConfig& cfg, KeyRing& ring,
                                            std::string user_id, std::string session_id,
                                            std::string role);

// A fresh opaque refresh token (plain text, to hand to the client once).
Task<std::string> new_refresh_token(Ctx& ctx);

}  // namespace ec
