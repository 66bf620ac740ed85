#include "limits/rate_limit.hpp"

#include "bindings/available.hpp"
#include "core/json.hpp"
#include "limits/rate_config.hpp"
#include "limits/rate_key.hpp"

#include <cmath>
#include <utility>
#include <vector>

namespace ec {

namespace {

struct RateLimitState {
  RateLimitConfig config;
  std::string config_error;  // logged by the first limited request, then cleared
  bool binding_warned = false;
};

RateLimitState& state() {
  static RateLimitState s;
  return s;
}

Effect warning(const Ctx& ctx, std::string_view msg, std::string_view error) {
  json line = {{"level", "warn"}, {"msg", msg}, {"requestId", ctx.request_id}};
  if (!error.empty()) line["error"] = error;
  return make_effect("log.write", {{"line", dump_json(line)}});
}

int64_t ceil_seconds(double ms) {
  return ms <= 0 ? 0 : static_cast<int64_t>(std::ceil(ms / 1000.0));
}

// The object's answer, or nullopt when it is not one.
std::optional<RateLimit> read_answer(const EffectResult& r, int64_t limit, int64_t period_s) {
  json a = r.as_json();
  if (!a.is_object()) return std::nullopt;
  std::optional<bool> allowed = get_bool(a, "allowed");
  std::optional<double> remaining = get_number(a, "remaining");
  std::optional<double> reset_ms = get_number(a, "resetMs");
  std::optional<double> retry_ms = get_number(a, "retryAfterMs");
  if (!allowed || !remaining || !reset_ms || !retry_ms) return std::nullopt;
  RateLimit out;
  out.applied = true;
  out.allowed = *allowed;
  out.limit = limit;
  out.remaining = *remaining < 0 ? 0 : static_cast<int64_t>(*remaining);
  out.reset_s = ceil_seconds(*reset_ms);
  // A wait under a second still says 1: "0" would invite an immediate retry that fails again.
  // "Never" (-1: a cost above the whole allowance) cannot come from a cost of 1; say a period.
  out.retry_after_s = *retry_ms < 0 ? period_s : std::max<int64_t>(1, ceil_seconds(*retry_ms));
  return out;
}

}  // namespace

void RateLimit::add_headers(Response& r) const {
  if (!applied) return;
  r.set_header("x-ratelimit-limit", std::to_string(limit));
  r.set_header("x-ratelimit-remaining", std::to_string(remaining));
  r.set_header("x-ratelimit-reset", std::to_string(reset_s));
  if (!allowed) r.set_header("retry-after", std::to_string(retry_after_s));
}

Response RateLimit::refusal(const Call& call, const RouteDef& def) const {
  ApiError e = api_error(Err::rate_limit_exceeded, "Too many requests: the limit is " +
                                                       std::to_string(limit) + "; try again in " +
                                                       std::to_string(retry_after_s) + " s");
  Response r = error_reply(e, call.request_id(), def.style);
  add_headers(r);
  return r;
}

Result<Response> RateLimit::annotate(Result<Response> out, const Call& call,
                                     const RouteDef& def) const {
  if (!applied) return out;
  Response r =
      out.ok() ? std::move(out.value()) : error_reply(out.error(), call.request_id(), def.style);
  add_headers(r);
  return r;
}

void rate_limits_init(const Env& env) {
  auto it = env.find("RATE_LIMITS");
  ParsedRateLimits parsed = parse_rate_limits(it == env.end() ? "" : it->second);
  state() = RateLimitState{std::move(parsed.config), std::move(parsed.error), false};
}

Task<RateLimit> check_rate_limit(Call& call, const RouteDef& def) {
  Ctx& ctx = call.ctx;
  RateLimitState& st = state();
  const GroupLimits* found = st.config.find(def.rate_group);
  if (found == nullptr) co_return RateLimit{};
  const GroupLimits limits = *found;
  const std::string_view group = def.rate_group;  // a literal: outlives the request

  std::vector<Effect> effects;
  if (!st.config_error.empty()) {
    effects.push_back(warning(ctx, "RATE_LIMITS ignored; using the defaults", st.config_error));
    st.config_error.clear();
  }
  if (!has_binding(ctx, "RATE_LIMITER")) {
    if (!st.binding_warned) {
      st.binding_warned = true;
      effects.push_back(warning(ctx, "no RATE_LIMITER binding: rate limits are not enforced", ""));
    }
    if (!effects.empty()) {
      std::vector<EffectResult> logged = co_await ctx.all(std::move(effects));
      (void)logged;
    }
    co_return RateLimit{};
  }

  RateSubject who = co_await rate_subject(ctx, group == kRateAuth);
  // A verified user: the access log names them even when the request is refused here.
  if (who.kind == RateSubject::Kind::kUser) ctx.user_id = who.id;
  const int64_t limit = who.signed_in() ? limits.user : limits.anonymous;
  json args = {{"key", rate_limit_name(group, who)},
               {"limit", limit},
               {"periodMs", limits.period_s * 1000},
               {"cost", 1}};
  effects.insert(effects.begin(), make_effect("ratelimit.check", args));
  std::vector<EffectResult> results = co_await ctx.all(std::move(effects));
  std::optional<RateLimit> rate =
      results[0].ok() ? read_answer(results[0], limit, limits.period_s) : std::nullopt;
  if (!rate) {
    std::string error = results[0].ok() ? "malformed answer" : results[0].message;
    EffectResult logged =
        co_await ctx.perform(warning(ctx, "rate limiter unavailable; request let through", error));
    (void)logged;
    co_return RateLimit{};
  }
  if (rate->allowed) {
    // A streamed response's head leaves before the handler returns: it gets the headers here.
    ctx.decorate_response = [prev = std::move(ctx.decorate_response), r = *rate](Response& head) {
      if (prev) prev(head);
      r.add_headers(head);
    };
  }
  co_return *rate;
}

}  // namespace ec
