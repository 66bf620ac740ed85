#include "http/pipeline.hpp"

#include "core/ascii.hpp"
#include "core/json.hpp"
#include "http/access_log.hpp"
#include "http/request_id.hpp"
#include "http/url.hpp"

#include <charconv>

namespace ec {

namespace {

std::string allow_header(const std::vector<Method>& methods) {
  std::string out;
  for (Method m : methods) {
    if (!out.empty()) out += ", ";
    out += method_name(m);
  }
  return out;
}

// application/json, application/json; charset=utf-8, application/vnd.x+json — case-insensitive.
bool is_json_content_type(std::string_view ct) {
  size_t semi = ct.find(';');
  std::string_view mt = ct.substr(0, semi);
  while (!mt.empty() && mt.back() == ' ') mt.remove_suffix(1);
  std::string lower = ascii_lower(std::string(mt));
  if (lower == "application/json") return true;
  return lower.rfind("application/", 0) == 0 && lower.size() > 5 &&
         lower.compare(lower.size() - 5, 5, "+json") == 0;
}

std::optional<uint64_t> parse_content_length(const std::string* v) {
  if (v == nullptr || v->empty() || v->size() > 19) return std::nullopt;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) return std::nullopt;
  return n;
}

}  // namespace

// Path params and query pairs have the same shape, so url.hpp's lookup serves both.
const std::string* Call::param(std::string_view name) const {
  return ec::query_param(params, name);
}
const std::string* Call::query_param(std::string_view name) const {
  return ec::query_param(query, name);
}
int64_t Call::query_int(std::string_view name, int64_t fallback) const {
  const std::string* v = query_param(name);
  if (v == nullptr) return fallback;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  return ec == std::errc() && p == v->data() + v->size() ? n : fallback;
}

bool HttpApp::add(const RouteDef& def) {
  int idx = router_.add(def.method, def.pattern);
  if (idx < 0 || static_cast<size_t>(idx) != routes_.size()) return false;
  routes_.push_back(def);
  return true;
}

Task<Response> HttpApp::handle(Ctx& ctx) const {
  const Envelope& req = ctx.request();
  const std::string* given_id = req.header("x-request-id");
  if (given_id != nullptr && is_sane_request_id(*given_id)) {
    ctx.request_id = *given_id;
  } else {
    ctx.request_id = make_request_id(co_await ctx.random_bytes(16));
  }

  std::optional<Method> method = parse_method(req.method);
  Response r;
  if (!method) {
    ctx.route = "-";
    r = error_reply(api_error(Err::http_method_not_supported), ctx.request_id);
  } else {
    ctx.decorate_response = [this, &ctx](Response& head) {
      if (head.header("access-control-allow-origin") == nullptr) {
        apply_cors(cfg_.cors, ctx.request().header("origin"), head);
      }
      head.set_header("x-request-id", ctx.request_id);
      if (head.header("cache-control") == nullptr)
        head.headers.emplace_back("cache-control", "no-store");
    };
    Result<Response> out = co_await dispatch(ctx, *method);
    if (out.ok()) {
      r = std::move(out.value());
    } else {
      r = error_reply(out.error(), ctx.request_id);
    }
  }
  finish(ctx, method.value_or(Method::Get), r);
  co_return r;
}

Task<Result<Response>> HttpApp::dispatch(Ctx& ctx, Method method) const {
  const Envelope& req = ctx.request();
  const std::string* origin = req.header("origin");

  // CORS preflight: answered before routing so it works for every route.
  if (method == Method::Options && origin != nullptr &&
      req.header("access-control-request-method") != nullptr) {
    ctx.route = "preflight";
    if (!cfg_.cors.allows(*origin)) {
      co_return api_error(Err::cors_origin_not_allowed);
    }
    co_return preflight_reply(cfg_.cors, *origin, req.header("access-control-request-headers"));
  }

  Match m = router_.match(method, req.path);
  if (m.kind == Match::NotFound) {
    ctx.route = "-";
    co_return api_error(Err::http_not_found);
  }
  if (m.kind == Match::MethodNotAllowed) {
    ctx.route = "-";
    if (method == Method::Options) {
      Response r = no_content(204);
      r.headers.emplace_back("allow", allow_header(m.allowed));
      co_return r;
    }
    ApiError e = api_error(Err::http_method_not_allowed);
    Response r = error_reply(e, ctx.request_id);
    r.headers.emplace_back("allow", allow_header(m.allowed));
    co_return r;
  }

  const RouteDef& def = routes_[static_cast<size_t>(m.route)];
  ctx.route = m.pattern;
  Call call{ctx, std::move(m.params), parse_query(req.query), nullptr};

  Result<Response> out = Result<Response>(Response{});
  if (cfg_.run_route) {
    out = co_await cfg_.run_route(call, def, *this);
  } else if (Status body = co_await read_body(call, def); !body.ok()) {
    out = body.take_error();
  } else {
    out = co_await def.handler(call);
  }
  if (!out.ok()) co_return error_reply(out.error(), ctx.request_id, def.style);
  co_return std::move(out.value());
}

Task<Status> HttpApp::read_body(Call& call, const RouteDef& def) const {
  if (def.query_schema != nullptr) {
    if (Status q = validate_query(call.query, *def.query_schema); !q.ok()) co_return q;
  }
  if (def.body == BodyKind::kNone) co_return ok_status();
  Result<json> body = co_await read_json_body(call.ctx, def);
  if (!body.ok()) co_return body.take_error();
  call.body = std::move(body.value());
  if (!call.body.is_object()) {
    co_return api_error(Err::validation_body_not_object);
  }
  if (def.schema != nullptr) co_return validate(call.body, *def.schema, !def.strict_body);
  co_return ok_status();
}

Task<Result<json>> HttpApp::read_json_body(Ctx& ctx, const RouteDef& def) const {
  const Envelope& req = ctx.request();
  std::optional<uint64_t> length = parse_content_length(req.header("content-length"));
  const size_t limit = def.body_limit ? def.body_limit : cfg_.body_limit;
  // Refuse before reading a byte when the client tells us it is too big.
  if (length && *length > limit) {
    co_return api_error(Err::http_body_too_large,
                        "Request body exceeds " + std::to_string(limit) + " bytes");
  }
  const std::string* ct = req.header("content-type");
  bool declared_empty = length && *length == 0;
  if (def.body == BodyKind::kOptionalJson && (declared_empty || (!length && ct == nullptr))) {
    co_return json::object();
  }
  if (ct == nullptr || !is_json_content_type(*ct)) {
    co_return api_error(Err::http_unsupported_media_type);
  }
  json args = {{"max", limit}};
  EffectResult r = co_await ctx.perform(make_effect("body.read", args));
  if (!r.ok()) {
    if (r.error == EffectError::kTooLarge) {
      co_return api_error(Err::http_body_too_large,
                          "Request body exceeds " + std::to_string(limit) + " bytes");
    }
    co_return api_error(Err::http_body_unreadable);
  }
  if (r.data.empty()) {
    if (def.body == BodyKind::kOptionalJson) co_return json::object();
    co_return api_error(Err::http_invalid_json, "A JSON body is required");
  }
  std::optional<json> parsed = parse_json(r.data, 64);
  if (!parsed) co_return api_error(Err::http_invalid_json);
  co_return std::move(*parsed);
}

// An error body in the canonical shape built by hand rather than by error_reply() would leave
// without its request id; this is the one place every answer passes, so it is added here.
static void add_missing_request_id(Response& r, std::string_view request_id) {
  if (r.status < 400 || r.body.empty() || r.body.find("\"requestId\"") != std::string::npos) return;
  std::optional<json> body = parse_json(r.body, 16);
  if (!body || !body->is_object() || !(*body)["error"].is_object()) return;
  (*body)["requestId"] = request_id;
  r.body = dump_json(*body);
}

void HttpApp::finish(Ctx& ctx, Method method, Response& r) const {
  add_missing_request_id(r, ctx.request_id);
  // A preflight answer already carries its CORS headers; a second copy makes browsers refuse it.
  if (r.header("access-control-allow-origin") == nullptr) {
    apply_cors(cfg_.cors, ctx.request().header("origin"), r);
  }
  r.set_header("x-request-id", ctx.request_id);
  if (r.header("cache-control") == nullptr) r.headers.emplace_back("cache-control", "no-store");
  if (method == Method::Head) r.body.clear();
  r.log_line = access_log_line(ctx, r.status);
}

}  // namespace ec
