// The HTTP pipeline every request goes through, in order:
//   request id → CORS preflight → route (404/405/OPTIONS) → body limit (413) → content type (415)
//   → JSON parse (400) → declarative validation (400) → handler → CORS, request id, no-store,
//   HEAD body strip → one JSON access-log line.
// Handlers see a Call and return Result<Response>: an ApiError is rendered in the route's error
// style, so a handler never formats an error by hand.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "http/cors.hpp"
#include "http/reply.hpp"
#include "http/router.hpp"
#include "http/validate.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Call {
  Ctx& ctx;
  Params params;  // decoded path params
  Params query;   // decoded query string
  json body;      // parsed JSON body, or null when the route takes none

  const std::string* param(std::string_view name) const;
  const std::string* query_param(std::string_view name) const;
  const std::string* header(std::string_view lower_name) const {
    return ctx.request().header(lower_name);
  }
  std::string_view request_id() const { return ctx.request_id; }
};

using HandlerFn = Task<Result<Response>> (*)(Call&);

enum class BodyKind {
  kNone,          // body ignored
  kJson,          // a JSON body is required
  kOptionalJson,  // a JSON body may be sent; an empty body reads as {}
};

// Rate-limit groups (limits/rate_limit.hpp): the routes of a group share one allowance per caller,
// sized by RATE_LIMITS. A name not listed here is a group of its own with default's limits.
inline constexpr std::string_view kRateDefault = "default";
inline constexpr std::string_view kRateAuth = "auth";    // routes that hand out credentials
inline constexpr std::string_view kRateAi = "ai";        // routes that run a model or a search
inline constexpr std::string_view kRateAdmin = "admin";  // X-Admin-Key routes (operators, scripts)
inline constexpr std::string_view kRateExempt = "";      // never limited (health, JWKS, internal)

struct RouteDef {
  Method method;
  std::string_view pattern;
  HandlerFn handler;
  BodyKind body = BodyKind::kNone;
  const Schema* schema = nullptr;
  ErrorStyle style = ErrorStyle::kCanonical;
  size_t body_limit = 0;  // JSON body limit for this route; 0 = BODY_LIMIT_BYTES
  std::string_view rate_group = kRateDefault;
  // Its success answer carries a secret shown once (tokens, a new API key): never kept for an
  // Idempotency-Key replay, since the store would then hold the secret in clear.
  bool issues_secret = false;
};

// True for routes whose success answer hands out a credential: the auth group, and any route
// marked issues_secret.
inline bool answers_with_secret(const RouteDef& def) {
  return def.issues_secret || def.rate_group == kRateAuth;
}

// `def` in another rate-limit group than the default: in_rate_group(kRateAi, {Method::Post, …}).
inline RouteDef in_rate_group(std::string_view group, RouteDef def) {
  def.rate_group = group;
  return def;
}

// Request headers the core reads, and so the only ones the shim puts in the envelope (lower-case).
// A header not listed here is invisible to the core: add it when a route starts reading it.
inline constexpr std::string_view kRequestHeaders[] = {
    "authorization",
    "content-type",
    "content-length",
    "origin",
    "x-request-id",
    "access-control-request-method",
    "access-control-request-headers",
    "cookie",
    "idempotency-key",
    "last-event-id",
    "range",
    "if-none-match",
    "cf-connecting-ip",
    "x-forwarded-for",
    "user-agent",
    "x-user-email",
    "x-admin-key",
    "x-admin-token",
    "x-edgechat-internal",
    "host",        // absolute URLs for presigned grants when PUBLIC_BASE_URL is unset
    "x-filename",  // raw-body uploads
                   // the shim's own job requests (bindings/jobs.hpp)
};

// Runs a matched route's handler once its body is parsed and validated. The api layer installs
// one that puts the gateway's per-request policies (rate limits, Idempotency-Key) in front of every
// handler (api/gateway.hpp); with none, the handler runs as is.
using RouteRunner = Task<Result<Response>> (*)(Call&, const RouteDef&);

struct HttpConfig {
  CorsPolicy cors;
  size_t body_limit = 1 << 20;  // BODY_LIMIT_BYTES, default 1 MiB
  RouteRunner run_route = nullptr;
};

class HttpApp {
 public:
  // Returns false for a malformed or duplicate route (a startup bug).
  bool add(const RouteDef& def);
  void configure(HttpConfig cfg) { cfg_ = std::move(cfg); }
  const HttpConfig& config() const { return cfg_; }

  Task<Response> handle(Ctx& ctx) const;

 private:
  Task<Result<Response>> dispatch(Ctx& ctx, Method method) const;
  Task<Result<json>> read_json_body(Ctx& ctx, const RouteDef& def) const;
  void finish(Ctx& ctx, Method method, Response& r) const;

  Router router_;
  std::vector<RouteDef> routes_;
  HttpConfig cfg_;
};

}  // namespace ec
