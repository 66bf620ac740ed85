// Canonical accounts API: /api/v1/auth/* and the JWKS.
#include "api/auth_schemas.hpp"
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"

namespace ec {

namespace {

std::string str(const json& body, std::string_view key) { return string_or(body, key, ""); }

Task<Result<Response>> do_register(Call& call) {
  Result<AuthSession> s = co_await register_user(
      call.ctx, str(call.body, "username"), str(call.body, "password"), str(call.body, "email"));
  if (!s.ok()) co_return s.take_error();
  co_return json_reply(201, auth_session_json(s.value()));
}

Task<Result<Response>> do_login(Call& call) {
  Result<AuthSession> s =
      co_await login(call.ctx, str(call.body, "username"), str(call.body, "password"));
  if (!s.ok()) co_return s.take_error();
  co_return json_reply(200, auth_session_json(s.value()));
}

Task<Result<Response>> do_guest(Call& call) {
  Result<AuthSession> s = co_await create_guest(call.ctx);
  if (!s.ok()) co_return s.take_error();
  co_return json_reply(201, auth_session_json(s.value()));
}

Task<Result<Response>> do_refresh(Call& call) {
  Result<AuthSession> s = co_await refresh_session(call.ctx, str(call.body, "refreshToken"));
  if (!s.ok()) co_return s.take_error();
  co_return json_reply(200, auth_session_json(s.value()));
}

Task<Result<Response>> do_logout(Call& call) {
  std::optional<std::string> refresh;
  if (const std::string* r = get_string(call.body, "refreshToken")) refresh = *r;
  Status s = co_await logout(call.ctx, bearer_token(call.header("authorization")), refresh);
  if (!s.ok()) co_return s.take_error();
  co_return no_content(204);
}

Task<Result<Response>> do_me(Call& call) {
  const User& user = signed_in(call);
  co_return json_reply(200, {{"user", user_json(user)}});
}

Task<Result<Response>> do_jwks(Call& call) {
  AuthState& st = auth_state();
  Result<json> doc = co_await st.ring.jwks(call.ctx, st.cfg);
  if (!doc.ok()) co_return doc.take_error();
  Response r = json_reply(200, doc.value());
  r.headers.emplace_back("cache-control", "public, max-age=300");
  co_return r;
}

}  // namespace

bool add_auth_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          post("/api/v1/auth/register", do_register)
              .anyone()
              .rate(kRateAuth)
              .json(kRegisterSchema)
              .doc("Create an account and sign in", {"Auth"})
              .answers(201, "AuthSession")
              .errors({"auth.username_taken", "storage.unavailable", "storage.conflict"}),
          post("/api/v1/auth/login", do_login)
              .anyone()
              .rate(kRateAuth)
              .json(kLoginSchema)
              .doc("Sign in with a username and password", {"Auth"})
              .answers(200, "AuthSession")
              .errors({"auth.invalid_credentials", "auth.user_disabled", "storage.unavailable"}),
          post("/api/v1/auth/guest", do_guest)
              .anyone()
              .rate(kRateAuth)
              .optional_json()
              .doc("Start a guest session (a fresh account with no password)", {"Auth"})
              .answers(201, "AuthSession")
              .errors({"storage.unavailable", "storage.conflict"}),
          post("/api/v1/auth/refresh", do_refresh)
              .anyone()
              .rate(kRateAuth)
              .json(kRefreshSchema)
              .doc("Trade a refresh token for new tokens (the old one is spent)", {"Auth"})
              .answers(200, "AuthSession")
              .errors({"auth.refresh_invalid", "auth.refresh_expired", "auth.refresh_reused",
                       "auth.session_revoked", "auth.user_disabled", "storage.unavailable"}),
          // The tokens it revokes are its subject, not its credential: logging out twice is fine. A
          // bearer token sent is verified first, so a bad one answers as on any route.
          post("/api/v1/auth/logout", do_logout)
              .anyone()
              .optional_json(kLogoutSchema)
              .doc("Sign out: revoke the session of the bearer token and/or the refresh token",
                   {"Auth"})
              .answers(204, "")
              .errors({"auth.missing_token", "auth.token_malformed", "auth.token_alg_none",
                       "auth.token_alg_mismatch", "auth.token_bad_signature", "auth.token_expired",
                       "auth.token_not_yet_valid", "auth.token_invalid_claims",
                       "auth.token_unknown_kid", "storage.unavailable"}),
          get("/api/v1/auth/me", do_me)
              .user()
              .doc("The signed-in user", {"Auth"})
              .answers(200, "UserEnvelope"),
          // Every verifier fetches it (and caches it for 5 minutes): a refusal would fail their
          // logins.
          get("/.well-known/jwks.json", do_jwks)
              .anyone()
              .rate(kRateExempt)
              .doc("The public keys that verify access tokens (RFC 7517)", {"Auth"})
              .answers(200, "Jwks")
              .errors({"storage.unavailable"}),
      });
}

}  // namespace ec
