// Routes that exist only when EDGECHAT_TEST_HOOKS=1 (set by the integration tests, never in
// wrangler.toml): they let tests prove failure handling that no real request can trigger.
#include "api/routes.hpp"

namespace ec {

namespace {

// A Wasm trap (`unreachable`): the shim must answer 500, drop the instance, and serve the next
// request from a fresh one.
Task<Result<Response>> trap(Call&) {
  __builtin_trap();
  co_return json_reply(500, nullptr);
}

}  // namespace

bool add_test_hooks(HttpApp& app) { return app.add({Method::Post, "/__test/trap", trap}); }

}  // namespace ec
