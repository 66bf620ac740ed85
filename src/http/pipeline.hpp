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

// Who may call a route, declared once on its RouteDef and enforced by the gateway
// (api/gateway.cpp) before the request body is read, so a handler cannot forget it: a handler
// reads the caller the gateway established (api/caller.hpp) and never authenticates by hand.
enum class Access : uint8_t {
  kUndeclared,   // not a valid declaration: app_init refuses a route that leaves it so
  kPublic,       // anyone; no credential is read
  kOptional,     // anyone; a credential, when sent, must be valid and names the caller
  kUser,         // a signed-in user: an access token or an API key (401 without one)
  kAccessToken,  // a signed-in user's access token; API keys are refused (403)
  kAdmin,        // the operator's X-Admin-Key
  kUserOrAdmin,  // a signed-in user, or the admin key acting for anyone
  kInternal,     // the Worker's own automation (queue consumer, cron): 404 to everyone else
  kPresigned,    // a presigned URL (its `sig` query, verified by the handler) or a signed-in user
  kLenient,      // anyone; a valid credential names the caller, an invalid one is ignored
};

// Who the gateway found calling; for kUser and kAccessToken routes always kUser.
enum class CallerKind : uint8_t { kAnonymous, kUser, kAdmin, kInternal };

struct Call {
  Ctx& ctx;
  Params params;  // decoded path params
  Params query;   // decoded query string
  json body;      // parsed JSON body, or null when the route takes none
  CallerKind caller = CallerKind::kAnonymous;

  const std::string* param(std::string_view name) const;
  const std::string* query_param(std::string_view name) const;
  // A query parameter the route's query schema declares as an integer (so, once admitted, it
  // parses), or `fallback` when it was not sent.
  int64_t query_int(std::string_view name, int64_t fallback) const;
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

// What a route's answers look like, for the API description only (see RouteDef::answers).
struct Answer {
  int status;
  std::string_view schema;  // a component schema's name ("ChatEnvelope"), or "" for no body
  std::string_view media = "application/json";
};

// One route, declared once: everything the gateway enforces (access, rate-limit group, body and
// query schemas, limits) and everything the API description says (summary, tags, answers, the
// error codes it can answer). Tables read like the docs:
//
//   get("/api/v1/chats/:id", do_get)
//       .user()
//       .doc("Get a chat", "Chats")
//       .answers(200, "ChatEnvelope")
//       .errors({"chat.not_found"}),
//
// The description (doc, answers, errors, param docs) is kept only where EDGECHAT_DESCRIBE is
// defined (native builds, which generate openapi.json): in the shipped Wasm those calls compile to
// nothing, so the description costs the Worker neither bytes nor time.
struct RouteDef {
  Method method = Method::Get;
  std::string_view pattern;
  HandlerFn handler = nullptr;
  BodyKind body = BodyKind::kNone;
  const Schema* schema = nullptr;
  ErrorStyle style = ErrorStyle::kCanonical;
  size_t body_limit = 0;  // JSON body limit for this route; 0 = BODY_LIMIT_BYTES
  std::string_view rate_group = kRateDefault;
  // Its success answer carries a secret shown once (tokens, a new API key): never kept for an
  // Idempotency-Key replay, since the store would then hold the secret in clear.
  bool issues_secret = false;
  Access access = Access::kUndeclared;
  const Schema* query_schema = nullptr;  // query parameters, validated like the body
  bool strict_body = false;              // unknown body fields are a 400 (a typo in a PATCH)

#ifdef EDGECHAT_DESCRIBE
  std::string_view summary;
  std::string_view description;
  std::vector<std::string_view> tags;
  std::vector<Answer> answer_list;
  std::vector<std::string_view>
      error_codes;                 // route-specific codes (catalog), beyond the gateway's
  std::string_view owner;          // the resource its :id names, when only its owner may touch it
  std::string_view request_media;  // a body that is not JSON (raw uploads, multipart forms)
#endif

  // Access (one of these is required).
  RouteDef& anyone() { return with_access(Access::kPublic); }
  RouteDef& optional_user() { return with_access(Access::kOptional); }
  RouteDef& user() { return with_access(Access::kUser); }
  RouteDef& access_token() { return with_access(Access::kAccessToken); }
  RouteDef& admin() { return with_access(Access::kAdmin); }
  RouteDef& user_or_admin() { return with_access(Access::kUserOrAdmin); }
  RouteDef& internal() { return with_access(Access::kInternal); }
  RouteDef& presigned_or_user() { return with_access(Access::kPresigned); }
  RouteDef& user_if_valid() { return with_access(Access::kLenient); }

  // The body: a required JSON object, or one that may be left out (an empty body reads as {}).
  RouteDef& json(const Schema& s) {
    body = BodyKind::kJson;
    schema = &s;
    return *this;
  }
  RouteDef& json() {
    body = BodyKind::kJson;
    return *this;
  }
  RouteDef& optional_json(const Schema& s) {
    body = BodyKind::kOptionalJson;
    schema = &s;
    return *this;
  }
  RouteDef& optional_json() {
    body = BodyKind::kOptionalJson;
    return *this;
  }
  RouteDef& strict() {
    strict_body = true;
    return *this;
  }
  RouteDef& query(const Schema& s) {
    query_schema = &s;
    return *this;
  }
  RouteDef& limit(size_t bytes) {
    body_limit = bytes;
    return *this;
  }
  RouteDef& rate(std::string_view group) {
    rate_group = group;
    return *this;
  }
  RouteDef& styled(ErrorStyle s) {
    style = s;
    return *this;
  }
  RouteDef& secret() {
    issues_secret = true;
    return *this;
  }

  // The description (native builds only; see above).
#ifdef EDGECHAT_DESCRIBE
  RouteDef& doc(std::string_view text, std::initializer_list<std::string_view> tag_list) {
    summary = text;
    tags.assign(tag_list);
    return *this;
  }
  RouteDef& details(std::string_view text) {
    description = text;
    return *this;
  }
  RouteDef& answers(int status, std::string_view schema_name,
                    std::string_view media = "application/json") {
    answer_list.push_back({status, schema_name, media});
    return *this;
  }
  RouteDef& errors(std::initializer_list<std::string_view> codes) {
    error_codes.insert(error_codes.end(), codes.begin(), codes.end());
    return *this;
  }
  // A service's codes, declared once beside it and shared by the routes that call it.
  template <size_t N>
  RouteDef& errors(const std::string_view (&codes)[N]) {
    error_codes.insert(error_codes.end(), codes, codes + N);
    return *this;
  }
  RouteDef& owns(std::string_view resource) {
    owner = resource;
    return *this;
  }
  RouteDef& takes(std::string_view media) {
    request_media = media;
    return *this;
  }
#else
  RouteDef& doc(std::string_view, std::initializer_list<std::string_view>) { return *this; }
  RouteDef& details(std::string_view) { return *this; }
  RouteDef& answers(int, std::string_view, std::string_view = {}) { return *this; }
  RouteDef& errors(std::initializer_list<std::string_view>) { return *this; }
  template <size_t N>
  RouteDef& errors(const std::string_view (&)[N]) {
    return *this;
  }
  RouteDef& owns(std::string_view) { return *this; }
  RouteDef& takes(std::string_view) { return *this; }
#endif

 private:
  RouteDef& with_access(Access a) {
    access = a;
    return *this;
  }
};

inline RouteDef route(Method m, std::string_view pattern, HandlerFn h) {
  RouteDef def{};
  def.method = m;
  def.pattern = pattern;
  def.handler = h;
  return def;
}
inline RouteDef get(std::string_view pattern, HandlerFn h) {
  return route(Method::Get, pattern, h);
}
inline RouteDef post(std::string_view pattern, HandlerFn h) {
  return route(Method::Post, pattern, h);
}
inline RouteDef put(std::string_view pattern, HandlerFn h) {
  return route(Method::Put, pattern, h);
}
inline RouteDef patch(std::string_view pattern, HandlerFn h) {
  return route(Method::Patch, pattern, h);
}
inline RouteDef del(std::string_view pattern, HandlerFn h) {
  return route(Method::Delete, pattern, h);
}

// True for routes whose success answer hands out a credential: the auth group, and any route
// marked issues_secret.
inline bool answers_with_secret(const RouteDef& def) {
  return def.issues_secret || def.rate_group == kRateAuth;
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
// It must call HttpApp::read_body before the handler (the gateway admits the caller first, so no
// body is read for a request that is refused).
class HttpApp;
using RouteRunner = Task<Result<Response>> (*)(Call&, const RouteDef&, const HttpApp&);

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

  // Reads, parses and validates the route's body (413, 415, 400) and validates its query (400)
  // into `call`. The pipeline runs it itself when no RouteRunner is installed.
  Task<Status> read_body(Call& call, const RouteDef& def) const;

  // Every route, in the order added (for the API description).
  const std::vector<RouteDef>& routes() const { return routes_; }

 private:
  Task<Result<Response>> dispatch(Ctx& ctx, Method method) const;
  Task<Result<json>> read_json_body(Ctx& ctx, const RouteDef& def) const;
  void finish(Ctx& ctx, Method method, Response& r) const;

  Router router_;
  std::vector<RouteDef> routes_;
  HttpConfig cfg_;
};

}  // namespace ec
