#include "api/gateway.hpp"

#include "api/caller.hpp"
#include "api/idempotency.hpp"
#include "auth/admin.hpp"
#include "auth/service.hpp"
#include "bindings/jobs.hpp"
#include "limits/rate_limit.hpp"

#include <cstdlib>

namespace ec {

namespace {

bool sends_admin_key(const Call& call) {
  for (std::string_view h : {"x-admin-key", "x-admin-token"}) {
    const std::string* v = call.header(h);
    if (v != nullptr && !v->empty()) return true;
  }
  return false;
}

Status as_admin(Call& call) {
  Status admin = require_admin(call.ctx);
  if (admin.ok()) call.caller = CallerKind::kAdmin;
  return admin;
}

}  // namespace

// The route's declared Access, checked before its body is read. authenticate() memoises the user
// on the Ctx, so signed_in() reads it back without a second lookup. (An if-chain, not a switch:
// clang-16 mis-destroys a Result when a coroutine co_returns from inside a switch's case blocks.)
Task<Status> admit_caller(Call& call, const RouteDef& def) {
  const Access a = def.access;
  if (a == Access::kUndeclared) {
    co_return api_error(Err::runtime_route_undeclared);
  }
  if (a == Access::kPublic) co_return ok_status();
  if (a == Access::kInternal) {
    // Everyone else learns nothing: the route does not exist for them.
    if (!is_internal_request(call.ctx)) {
      co_return api_error(Err::http_not_found);
    }
    call.caller = CallerKind::kInternal;
    co_return ok_status();
  }
  if (a == Access::kAdmin || (a == Access::kUserOrAdmin && sends_admin_key(call))) {
    co_return as_admin(call);
  }
  const std::string* auth = call.header("authorization");
  const bool sent = auth != nullptr && !auth->empty();
  if (!sent && (a == Access::kOptional || a == Access::kLenient)) co_return ok_status();
  // A presigned URL's signature is its credential; the handler verifies it against its grant.
  if (a == Access::kPresigned && call.query_param("sig") != nullptr) co_return ok_status();
  Result<User> u = a == Access::kAccessToken ? co_await authenticate_access_token(call.ctx)
                                             : co_await authenticate(call.ctx);
  if (!u.ok()) {
    if (a == Access::kLenient) co_return ok_status();  // a bad token reads as nobody
    co_return u.take_error();
  }
  call.caller = CallerKind::kUser;
  co_return ok_status();
}

const User& signed_in(const Call& call) {
  const User* u = user_if_any(call);
  // A route that reads a user it did not declare: a bug the route tests catch; never a guess.
  if (u == nullptr) std::abort();
  return *u;
}

const User* user_if_any(const Call& call) {
  if (call.caller != CallerKind::kUser || !call.ctx.auth_memo) return nullptr;
  return static_cast<const User*>(call.ctx.auth_memo.get());
}

// The limit comes first, so a refused caller costs one effect, and a replayed Idempotency-Key
// result counts like any other request. Then who is calling (before a byte of the body is read),
// the body and query, and the Idempotency-Key.
Task<Result<Response>> run_gateway_route(Call& call, const RouteDef& def, const HttpApp& app) {
  RateLimit rate = co_await check_rate_limit(call, def);
  if (rate.refused()) co_return rate.refusal(call, def);
  Result<Response> out = Result<Response>(Response{});
  if (Status who = co_await admit_caller(call, def); !who.ok()) {
    out = who.take_error();
  } else if (Status body = co_await app.read_body(call, def); !body.ok()) {
    out = body.take_error();
  } else {
    out = co_await run_idempotent(call, def);
  }
  co_return rate.annotate(std::move(out), call, def);
}

#ifdef EDGECHAT_DESCRIBE
std::vector<std::string_view> gateway_error_codes(const RouteDef& def) {
  std::vector<std::string_view> codes;
  auto add = [&codes](std::initializer_list<std::string_view> more) {
    codes.insert(codes.end(), more.begin(), more.end());
  };
  const Access a = def.access;
  // authenticate(): a bearer that is a JWT access token or an API key (auth/service.hpp).
  const bool reads_bearer = a == Access::kOptional || a == Access::kUser ||
                            a == Access::kAccessToken || a == Access::kUserOrAdmin ||
                            a == Access::kPresigned;
  if (reads_bearer) {
    add({"auth.missing_token", "auth.token_malformed", "auth.token_alg_none",
         "auth.token_alg_mismatch", "auth.token_bad_signature", "auth.token_expired",
         "auth.token_not_yet_valid", "auth.token_invalid_claims", "auth.token_unknown_kid",
         "auth.session_revoked", "auth.user_not_found", "auth.user_disabled"});
    if (a == Access::kAccessToken) {
      add({"auth.api_key_not_allowed"});
    } else {
      add({"auth.api_key_invalid", "auth.api_key_expired", "auth.api_key_revoked"});
    }
  }
  if (a == Access::kAdmin || a == Access::kUserOrAdmin) {
    add({"admin.key_required", "admin.key_invalid", "admin.disabled"});
  }
  if (a == Access::kInternal) add({"http.not_found"});
  if (def.query_schema != nullptr) add({"validation.failed"});
  if (def.body != BodyKind::kNone) {
    add({"http.body_too_large", "http.unsupported_media_type", "http.body_unreadable",
         "http.invalid_json", "validation.body_not_object", "validation.failed"});
  }
  if (def.rate_group != kRateExempt) add({"rate_limit.exceeded"});
  if (def.method == Method::Post || def.method == Method::Put || def.method == Method::Patch ||
      def.method == Method::Delete) {
    add({"idempotency.invalid_key", "idempotency.in_progress", "idempotency.key_reused",
         "idempotency.not_replayable"});
  }
  return codes;
}
#endif

bool add_routes(HttpApp& app, std::initializer_list<RouteDef> routes) {
  for (const RouteDef& r : routes) {
    if (r.access == Access::kUndeclared || !app.add(r)) return false;
  }
  return true;
}

}  // namespace ec
