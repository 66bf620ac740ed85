// The gateway's per-request policies, run in front of every route's handler
// (HttpConfig::run_route): the rate limit for the route's group (limits/), then Idempotency-Key for
// writes (billing/).
#pragma once

#include "http/pipeline.hpp"

namespace ec {

Task<Result<Response>> run_gateway_route(Call& call, const RouteDef& def);

}  // namespace ec
