// The accounts service: every auth flow, independent of which route (canonical or seed) asked.
#pragma once

#include "auth/config.hpp"
#include "auth/keys.hpp"
#include "auth/tokens.hpp"
#include "auth/users.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>

namespace ec {

// Per-instance auth state: settings, the cached key ring and the verification cache.
struct AuthState {
  AuthConfig cfg;
  KeyRing ring;
  AccessTokenVerifier verifier;
};
AuthState& auth_state();
void auth_init(const Env& env);

struct AuthSession {
  User user;
  IssuedTokens tokens;
};
// {user, accessToken, refreshToken, expiresIn, tokenType}
json auth_session_json(const AuthSession& s);

Task<Result<AuthSession>> register_user(Ctx& ctx, std::string username, std::string password,
                                        std::string email);
Task<Result<AuthSession>> login(Ctx& ctx, std::string username, std::string password);
Task<Result<AuthSession>> create_guest(Ctx& ctx);
Task<Result<AuthSession>> refresh_session(Ctx& ctx, std::string refresh_token);
// Revokes the session named by the access token and/or the refresh token. 401 if neither names one.
Task<Status> logout(Ctx& ctx, std::optional<std::string> access_token,
                    std::optional<std::string> refresh_token);

// The token from "Authorization: Bearer <token>", if well-formed.
std::optional<std::string> bearer_token(const std::string* authorization);

// Verifies the bearer token and loads its user and session: 401 for a missing/invalid token or a
// revoked session, 403 for a disabled user. Sets ctx.user_id for the access log.
// The bearer may also be an API key ("ec_…", auth/api_keys.hpp): it authenticates as its user.
Task<Result<User>> authenticate(Ctx& ctx);

// authenticate() that refuses API keys (403 auth.api_key_not_allowed) without looking them up:
// for routes that manage credentials, which only a signed-in person may use.
Task<Result<User>> authenticate_access_token(Ctx& ctx);

}  // namespace ec
