// The Worker the integration tests run (vitest.config.js `main`): js-shim/entry.js with the test
// build of the core, js-shim/core-test.wasm, which adds the /__test/* routes and the `test` job
// type (src/api/test_hooks.cpp) when EDGECHAT_TEST_HOOKS=1. `npm start` and `wrangler deploy`
// never load it: they serve js-shim/entry.js and core.wasm.
import wasmModule from "../../js-shim/core-test.wasm";
import { createWorker } from "../../js-shim/worker.js";
import { RateLimiter as RateLimiterOf } from "../../js-shim/rate-limiter.js";

export default createWorker(wasmModule);

export { StreamLog } from "../../js-shim/stream-log.js";
export class RateLimiter extends RateLimiterOf {
  static wasmModule = wasmModule;
}
