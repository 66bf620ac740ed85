// The gateway's rate limit, run in front of a route's handler (api/gateway.cpp):
//
//   RateLimit rate = co_await check_rate_limit(call, def);
//   if (rate.refused()) co_return rate.refusal(call, def);
//   Result<Response> out = co_await def.handler(call);  // (and the policies after this one)
//   co_return rate.annotate(std::move(out), call, def);
//
// The route's group (RouteDef::rate_group) and RATE_LIMITS (limits/rate_config.hpp) give the
// allowance; limits/rate_key.hpp says whom the request counts against. The count itself lives in a
// Durable Object per group and caller (binding RATE_LIMITER, js-shim/rate-limiter.js), which
// decides with this core's GCRA (limits/gcra.hpp) — one `ratelimit.check` effect per request:
//   {key, limit, periodMs, cost} → {allowed, limit, remaining, resetMs, retryAfterMs}
// Every response of a limited route carries X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset (seconds until the allowance is whole again), streamed ones included; a
// refused request is 429 rate_limit.exceeded with Retry-After (seconds, rounded up).
//
// Fails open: without the binding (logged once per instance) or when the object cannot be reached
// (logged each time), the request goes through unlimited and without the headers. Availability
// of the API outranks the limit; the log says it happened.
#pragma once

#include "core/context.hpp"
#include "core/task.hpp"
#include "http/pipeline.hpp"

#include <cstdint>

namespace ec {

struct RateLimit {
  bool applied = false;  // the limiter answered; false = not limited (exempt, off, failed open)
  bool allowed = true;
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t reset_s = 0;
  int64_t retry_after_s = 0;

  bool refused() const { return applied && !allowed; }
  // X-RateLimit-* (and Retry-After when refused); nothing when not applied.
  void add_headers(Response& r) const;
  // 429 rate_limit.exceeded in the route's error style, with the headers.
  Response refusal(const Call& call, const RouteDef& def) const;
  // The handler's outcome with the headers on it. An error is rendered here, in the route's style,
  // exactly as the pipeline would have, so that it carries them too.
  Result<Response> annotate(Result<Response> out, const Call& call, const RouteDef& def) const;
};

// Reads RATE_LIMITS; called by app_init for each instance.
void rate_limits_init(const Env& env);

// Counts the request against its group's allowance (one effect), or does nothing for an exempt
// route or with limits off. When admitted, a response streamed later gets the headers as well.
Task<RateLimit> check_rate_limit(Call& call, const RouteDef& def);

}  // namespace ec
