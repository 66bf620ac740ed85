#include "api/gateway.hpp"

#include "api/idempotency.hpp"

namespace ec {

Task<Result<Response>> run_gateway_route(Call& call, const RouteDef& def) {
  co_return co_await run_idempotent(call, def);
}

}  // namespace ec
