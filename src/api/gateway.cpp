#include "api/gateway.hpp"

#include "api/idempotency.hpp"
#include "limits/rate_limit.hpp"

namespace ec {

// The limit comes first, so a replayed Idempotency-Key result counts like any other request.
Task<Result<Response>> run_gateway_route(Call& call, const RouteDef& def) {
  RateLimit rate = co_await check_rate_limit(call, def);
  if (rate.refused()) co_return rate.refusal(call, def);
  Result<Response> out = co_await run_idempotent(call, def);
  co_return rate.annotate(std::move(out), call, def);
}

}  // namespace ec
