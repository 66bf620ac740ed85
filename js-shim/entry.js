// The Worker's entry module (wrangler.toml `main`): the shim over js-shim/core.wasm, the core as
// shipped, without test-only routes. The integration tests run the same shim over core-test.wasm
// instead (tests/integration/worker-entry.js).
import wasmModule from "./core.wasm";
import { createWorker } from "./worker.js";
import { RateLimiter as RateLimiterOf } from "./rate-limiter.js";

export default createWorker(wasmModule);

// The Durable Object classes behind resumable streams (binding STREAM_LOG) and rate limits (binding
// RATE_LIMITER); wrangler looks for them among the main module's exports.
export { StreamLog } from "./stream-log.js";
export class RateLimiter extends RateLimiterOf {
  static wasmModule = wasmModule;
}
