// The gateway's per-request policies, run in front of every route's handler
// (HttpConfig::run_route): the rate limit for the route's group (limits/), the route's declared
// Access (who may call it), its body and query schemas, then Idempotency-Key for writes.
#pragma once

#include "http/pipeline.hpp"

namespace ec {

Task<Result<Response>> run_gateway_route(Call& call, const RouteDef& def, const HttpApp& app);

// Establishes call.caller for the route's Access, or answers 401/403 (404 for kInternal).
Task<Status> admit_caller(Call& call, const RouteDef& def);

#ifdef EDGECHAT_DESCRIBE
// The error codes the gateway itself can answer for `def` (its access, body, query, rate-limit
// group and Idempotency-Key), beside the codes its handler declares: for openapi.json.
std::vector<std::string_view> gateway_error_codes(const RouteDef& def);
#endif

// Adds a resource's routes; false (a startup bug) for a malformed or duplicate route, or one that
// does not declare who may call it.
bool add_routes(HttpApp& app, std::initializer_list<RouteDef> routes);

}  // namespace ec
