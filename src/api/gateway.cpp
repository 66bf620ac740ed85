#include "api/gateway.hpp"

namespace ec {

Task<Result<Response>> run_gateway_route(Call& call, const RouteDef& def) {
  co_return co_await def.handler(call);
}

}  // namespace ec
