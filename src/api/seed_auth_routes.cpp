// Seed-compatible accounts routes: the same service, each seed's documented shape.
//   seed 000 (Metacogna): POST /api/auth/register, /api/auth/login → {success:true,data:{…}},
//                         errors {error:"…"}
//   seed 001 (widget):    GET /api/auth/session → {user|null}, POST /api/auth/logout
//   seed 003 (Cognomega): POST /auth/guest → RS256 guest token
#include "api/auth_schemas.hpp"
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"

namespace ec {

namespace {

std::string str(const json& body, std::string_view key) { return string_or(body, key, ""); }

Response seed000_ok(int status, const AuthSession& s) {
  return json_reply(status, {{"success", true}, {"data", auth_session_json(s)}});
}

Task<Result<Response>> seed000_register(Call& call) {
  Result<AuthSession> s = co_await register_user(
      call.ctx, str(call.body, "username"), str(call.body, "password"), str(call.body, "email"));
  if (!s.ok()) co_return s.take_error();
  co_return seed000_ok(201, s.value());
}

Task<Result<Response>> seed000_login(Call& call) {
  Result<AuthSession> s =
      co_await login(call.ctx, str(call.body, "username"), str(call.body, "password"));
  if (!s.ok()) co_return s.take_error();
  co_return seed000_ok(200, s.value());
}

// Seed 001 asks "who am I?" without failing: a missing or bad token is simply {user:null}.
Task<Result<Response>> seed001_session(Call& call) {
  const User* u = user_if_any(call);
  co_return json_reply(200, {{"user", u != nullptr ? user_json(*u) : json(nullptr)}});
}

// Seed 001's logout "clears session cookies"; logging out twice is not an error.
Task<Result<Response>> seed001_logout(Call& call) {
  std::optional<std::string> access = bearer_token(call.header("authorization"));
  std::optional<std::string> refresh;
  if (const std::string* r = get_string(call.body, "refreshToken")) refresh = *r;
  if (access || refresh) {
    Status s = co_await logout(call.ctx, access, refresh);
    if (!s.ok() && s.error().status >= 500) co_return s.take_error();
  }
  Response r = json_reply(200, {{"success", true}});
  r.headers.emplace_back("set-cookie",
                         "edgechat_session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax");
  co_return r;
}

Task<Result<Response>> seed003_guest(Call& call) {
  Result<AuthSession> s = co_await create_guest(call.ctx);
  if (!s.ok()) co_return s.take_error();
  json body = auth_session_json(s.value());
  body["token"] = s->tokens.access_token;  // Cognomega clients read `token`
  co_return json_reply(201, body);
}

}  // namespace

bool add_seed_auth_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          post("/api/auth/register", seed000_register)
              .anyone()
              .rate(kRateAuth)
              .json(kRegisterSchema)
              .styled(ErrorStyle::kSeed000)
              .doc("Create an account and sign in (seed 000)", {"Auth", "Seed 000"})
              .answers(201, "Seed000AuthSession")
              .errors({"auth.username_taken", "storage.unavailable"}),
          post("/api/auth/login", seed000_login)
              .anyone()
              .rate(kRateAuth)
              .json(kLoginSchema)
              .styled(ErrorStyle::kSeed000)
              .doc("Sign in (seed 000)", {"Auth", "Seed 000"})
              .answers(200, "Seed000AuthSession")
              .errors({"auth.invalid_credentials", "auth.user_disabled", "storage.unavailable"}),
          // Seed 001 asks "who am I?" without failing: a missing or bad token is simply
          // {user:null}.
          get("/api/auth/session", seed001_session)
              .user_if_valid()
              .doc("Who is signed in, or null (seed 001)", {"Auth", "Seed 001"})
              .answers(200, "Seed001Session"),
          post("/api/auth/logout", seed001_logout)
              .anyone()
              .optional_json(kLogoutSchema)
              .doc("Sign out and clear the session cookie (seed 001)", {"Auth", "Seed 001"})
              .answers(200, "Seed001Success")
              .errors({"storage.unavailable"}),
          post("/auth/guest", seed003_guest)
              .anyone()
              .rate(kRateAuth)
              .optional_json()
              .doc("Start a guest session (seed 003)", {"Auth", "Seed 003"})
              .answers(201, "Seed003GuestSession")
              .errors({"storage.unavailable"}),
      });
}

}  // namespace ec
