// Whether this build has the test-only hooks: the /__test/* routes and the `test` job type. The
// native tests and js-shim/core-test.wasm link src/api/test_hooks.cpp (true); the shipped
// js-shim/core.wasm links src/api/no_test_hooks.cpp (false), so EDGECHAT_TEST_HOOKS=1 cannot turn
// them on in production. Where they are built, they are still off unless EDGECHAT_TEST_HOOKS=1.
#pragma once

namespace ec {

bool test_hooks_built();

}  // namespace ec
