#include "auth/service.hpp"

#include "crypto/random_id.hpp"

#include "auth/api_keys.hpp"
#include "auth/password.hpp"
#include "bindings/d1.hpp"
#include "core/ascii.hpp"
#include "crypto/encoding.hpp"

namespace ec {

namespace {

// Built once: these run on every login, refresh and authenticated request.
const std::string kLoginSql =
    "SELECT " + std::string(kUserColumns) + ", u.password_hash FROM users u WHERE u.username = ?1";
const std::string kRefreshLookupSql =
    "SELECT r.session_id, r.used_at, s.revoked_at AS session_revoked_at, s.expires_at AS "
    "session_expires_at, " +
    std::string(kUserColumns) +
    " FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = "
    "r.user_id WHERE r.token_hash = ?1";
const std::string kAuthenticateSql =
    "SELECT " + std::string(kUserColumns) +
    ", s.revoked_at AS session_revoked_at, s.id AS session_id FROM users u LEFT JOIN sessions s "
    "ON s.id = ?2 AND s.user_id = u.id WHERE u.id = ?1";

ApiError invalid_credentials() { return api_error(Err::auth_invalid_credentials); }

// Everything a new session needs, prepared before anything is written so that signing can fail
// without leaving rows behind.
struct NewSession {
  std::string session_id;
  IssuedTokens tokens;
  std::vector<Stmt> stmts;  // INSERT session, INSERT refresh token
};

Task<Result<NewSession>> prepare_session(Ctx& ctx, const User& u) {
  AuthState& st = auth_state();
  NewSession s;
  s.session_id = co_await new_id(ctx, "ses_");
  s.tokens.refresh_token = co_await new_refresh_token(ctx);
  s.tokens.expires_in = st.cfg.access_ttl_s;
  Result<std::string> access =
      co_await sign_access_token(ctx, st.cfg, st.ring, u.id, s.session_id, u.role);
  if (!access.ok()) co_return access.take_error();
  s.tokens.access_token = std::move(access.value());
  int64_t now = static_cast<int64_t>(ctx.now_ms());
  int64_t expires = now + st.cfg.refresh_ttl_s * 1000;
  s.stmts.push_back(
      Stmt{"INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
           json::array({s.session_id, u.id, now, expires})});
  s.stmts.push_back(Stmt{
      "INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, "
      "expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
      json::array({refresh_token_hash(s.tokens.refresh_token), s.session_id, u.id, now, expires})});
  co_return s;
}

Task<Status> revoke_session(Ctx& ctx, std::string session_id, std::string reason) {
  Result<RunMeta> r = co_await d1_run(
      ctx, Stmt{"UPDATE sessions SET revoked_at = ?1, revoke_reason = ?2 WHERE id = ?3 AND "
                "revoked_at IS NULL",
                json::array({static_cast<int64_t>(ctx.now_ms()), reason, session_id})});
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

Task<Result<AuthSession>> insert_user_with_session(Ctx& ctx, User u, std::string password_hash) {
  Result<NewSession> s = co_await prepare_session(ctx, u);
  if (!s.ok()) co_return s.take_error();
  int64_t now = static_cast<int64_t>(ctx.now_ms());
  std::vector<Stmt> stmts;
  stmts.push_back(
      Stmt{"INSERT INTO users (id, username, email, password_hash, is_guest, role, "
           "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
           json::array({u.id, u.username, u.email.empty() ? json(nullptr) : json(u.email),
                        password_hash.empty() ? json(nullptr) : json(password_hash),
                        u.is_guest ? 1 : 0, u.role, now})});
  for (Stmt& st : s->stmts) stmts.push_back(std::move(st));
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) {
    if (is_conflict(r.error())) {
      co_return api_error(Err::auth_username_taken);
    }
    co_return r.take_error();
  }
  u.created_at_ms = now;
  ctx.user_id = u.id;
  co_return AuthSession{std::move(u), std::move(s->tokens)};
}

}  // namespace

AuthState& auth_state() {
  static AuthState state;
  return state;
}

void auth_init(const Env& env) {
  AuthState& st = auth_state();
  st.cfg = AuthConfig::from_env(env);
  st.ring.reset();
  st.verifier.reset();
}

json auth_session_json(const AuthSession& s) {
  return {{"user", user_json(s.user)},
          {"accessToken", s.tokens.access_token},
          {"refreshToken", s.tokens.refresh_token},
          {"expiresIn", s.tokens.expires_in},
          {"tokenType", "Bearer"}};
}

Task<Result<AuthSession>> register_user(Ctx& ctx, std::string username, std::string password,
                                        std::string email) {
  username = ascii_lower(std::move(username));
  Result<json> existing = co_await d1_first(
      ctx, Stmt{"SELECT id FROM users WHERE username = ?1", json::array({username})});
  if (!existing.ok()) co_return existing.take_error();
  if (!existing->is_null()) {
    co_return api_error(Err::auth_username_taken);
  }
  Result<std::string> hash = co_await hash_password(ctx, std::move(password));
  if (!hash.ok()) co_return hash.take_error();
  User u;
  u.id = co_await new_id(ctx, "usr_");
  u.username = std::move(username);
  u.email = std::move(email);
  u.role = "user";
  co_return co_await insert_user_with_session(ctx, std::move(u), std::move(hash.value()));
}

Task<Result<AuthSession>> create_guest(Ctx& ctx) {
  User u;
  u.id = co_await new_id(ctx, "usr_");
  u.username = "guest_" + hex_encode(co_await ctx.random_bytes(8));
  u.role = "guest";
  u.is_guest = true;
  co_return co_await insert_user_with_session(ctx, std::move(u), "");
}

Task<Result<AuthSession>> login(Ctx& ctx, std::string username, std::string password) {
  username = ascii_lower(std::move(username));
  Result<json> row = co_await d1_first(ctx, Stmt{kLoginSql, json::array({username})});
  if (!row.ok()) co_return row.take_error();
  std::string stored = row->is_null() ? "" : string_or(row.value(), "password_hash", "");
  // Runs the full PBKDF2 whether or not the user exists (no enumeration by timing).
  bool good = co_await verify_password(ctx, password, stored);
  if (!good) co_return invalid_credentials();
  std::optional<User> u = user_from_row(row.value());
  if (!u) co_return invalid_credentials();
  if (u->disabled) co_return user_disabled_error();

  Result<NewSession> s = co_await prepare_session(ctx, *u);
  if (!s.ok()) co_return s.take_error();
  std::vector<Stmt> stmts = std::move(s->stmts);
  if (password_needs_rehash(stored)) {
    Result<std::string> upgraded = co_await hash_password(ctx, std::move(password));
    if (upgraded.ok()) {
      stmts.push_back(
          Stmt{"UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3",
               json::array({upgraded.value(), static_cast<int64_t>(ctx.now_ms()), u->id})});
    }
  }
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  ctx.user_id = u->id;
  co_return AuthSession{std::move(*u), std::move(s->tokens)};
}

Task<Result<AuthSession>> refresh_session(Ctx& ctx, std::string refresh_token) {
  AuthState& st = auth_state();
  std::string old_hash = refresh_token_hash(refresh_token);
  Result<json> row = co_await d1_first(ctx, Stmt{kRefreshLookupSql, json::array({old_hash})});
  if (!row.ok()) co_return row.take_error();
  if (row->is_null()) {
    co_return api_error(Err::auth_refresh_invalid);
  }
  std::string session_id = string_or(row.value(), "session_id", "");
  std::optional<User> u = user_from_row(row.value());
  if (!u) co_return api_error(Err::auth_refresh_invalid);
  ctx.user_id = u->id;
  if (get_int(row.value(), "used_at")) {
    // A rotated-out token came back: it was stolen or replayed. End the whole family.
    Status revoked = co_await revoke_session(ctx, session_id, "reuse");
    if (!revoked.ok()) co_return revoked.take_error();
    co_return api_error(Err::auth_refresh_reused);
  }
  if (get_int(row.value(), "session_revoked_at")) {
    co_return api_error(Err::auth_session_revoked);
  }
  int64_t now = static_cast<int64_t>(ctx.now_ms());
  int64_t session_expires = get_int(row.value(), "session_expires_at").value_or(0);
  if (now >= session_expires) {
    co_return api_error(Err::auth_refresh_expired);
  }
  if (u->disabled) co_return user_disabled_error();

  std::string fresh = co_await new_refresh_token(ctx);
  std::string fresh_hash = refresh_token_hash(fresh);
  Result<std::string> access =
      co_await sign_access_token(ctx, st.cfg, st.ring, u->id, session_id, u->role);
  if (!access.ok()) co_return access.take_error();
  // Rotation is one transaction; the INSERT only happens if *this* request marked the old token
  // used, so two concurrent refreshes with one token cannot both succeed.
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt{"UPDATE refresh_tokens SET used_at = ?1, replaced_by = ?2 WHERE token_hash = ?3 "
                 "AND used_at IS NULL",
                 json::array({now, fresh_hash, old_hash})},
            Stmt{"INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, "
                 "expires_at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM "
                 "refresh_tokens WHERE token_hash = ?6 AND replaced_by = ?1)",
                 json::array({fresh_hash, session_id, u->id, now, session_expires, old_hash})}});
  if (!r.ok()) co_return r.take_error();
  if (r.value()[1].changes != 1) {
    Status revoked = co_await revoke_session(ctx, session_id, "reuse");
    if (!revoked.ok()) co_return revoked.take_error();
    co_return api_error(Err::auth_refresh_reused);
  }
  co_return AuthSession{std::move(*u),
                        IssuedTokens{std::move(access.value()), fresh, st.cfg.access_ttl_s}};
}

Task<Status> logout(Ctx& ctx, std::optional<std::string> access_token,
                    std::optional<std::string> refresh_token) {
  AuthState& st = auth_state();
  bool revoked_any = false;
  if (access_token) {
    Result<AccessClaims> claims = co_await st.verifier.verify(ctx, st.cfg, st.ring, *access_token);
    if (!claims.ok()) co_return claims.take_error();
    ctx.user_id = claims->sub;
    if (!claims->sid.empty()) {
      Status s = co_await revoke_session(ctx, claims->sid, "logout");
      if (!s.ok()) co_return s.take_error();
      revoked_any = true;
    }
  }
  if (refresh_token) {
    Result<json> row =
        co_await d1_first(ctx, Stmt{"SELECT session_id FROM refresh_tokens WHERE token_hash = ?1",
                                    json::array({refresh_token_hash(*refresh_token)})});
    if (!row.ok()) co_return row.take_error();
    if (const std::string* sid = get_string(row.value(), "session_id")) {
      Status s = co_await revoke_session(ctx, *sid, "logout");
      if (!s.ok()) co_return s.take_error();
      revoked_any = true;
    }
  }
  if (!revoked_any) {
    co_return api_error(Err::auth_missing_token, "Send a bearer token or a refresh token");
  }
  co_return ok_status();
}

Task<Result<User>> authenticate_uncached(Ctx& ctx);

std::optional<std::string> bearer_token(const std::string* authorization) {
  if (authorization == nullptr) return std::nullopt;
  std::string_view v = *authorization;
  if (v.size() < 8) return std::nullopt;
  std::string scheme = ascii_lower(std::string(v.substr(0, 7)));
  if (scheme != "bearer ") return std::nullopt;
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

Task<Result<User>> authenticate(Ctx& ctx) {
  if (ctx.auth_memo) co_return *static_cast<const User*>(ctx.auth_memo.get());
  Result<User> u = co_await authenticate_uncached(ctx);
  if (u.ok()) ctx.auth_memo = std::make_shared<const User>(u.value());
  co_return u;
}

Task<Result<User>> authenticate_uncached(Ctx& ctx) {
  AuthState& st = auth_state();
  std::optional<std::string> token = bearer_token(ctx.request().header("authorization"));
  if (!token) {
    co_return api_error(Err::auth_missing_token);
  }
  // One 3-byte compare routes API keys away; the JWT path below is otherwise unchanged.
  if (is_api_key_token(*token)) co_return co_await verify_api_key(ctx, std::move(*token));
  Result<AccessClaims> claims = co_await st.verifier.verify(ctx, st.cfg, st.ring, *token);
  if (!claims.ok()) co_return claims.take_error();
  Result<json> row =
      co_await d1_first(ctx, Stmt{kAuthenticateSql, json::array({claims->sub, claims->sid})});
  if (!row.ok()) co_return row.take_error();
  std::optional<User> u = row->is_null() ? std::nullopt : user_from_row(row.value());
  if (!u) co_return api_error(Err::auth_user_not_found);
  ctx.user_id = u->id;
  if (u->disabled) co_return user_disabled_error();
  if (!claims->sid.empty() && (get_string(row.value(), "session_id") == nullptr ||
                               get_int(row.value(), "session_revoked_at"))) {
    co_return api_error(Err::auth_session_revoked, "This session has ended; sign in again");
  }
  co_return std::move(*u);
}

Task<Result<User>> authenticate_access_token(Ctx& ctx) {
  std::optional<std::string> token = bearer_token(ctx.request().header("authorization"));
  if (token && is_api_key_token(*token)) {
    co_return api_error(Err::auth_api_key_not_allowed);
  }
  co_return co_await authenticate(ctx);
}

}  // namespace ec
