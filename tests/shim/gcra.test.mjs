// core.js `gcra`: the RateLimiter Durable Object's only call into the core (export core_gcra),
// against the real core.wasm. Numbers cross as JS doubles both ways: the state must round-trip
// exactly and bad arguments must come back as status -1, never as a trap or a NaN decision.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gcra } from "../../js-shim/core.js";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../js-shim/core.wasm", import.meta.url)));
const T0 = 1_795_000_000_000;
const FRESH = { tatUs: 0, tatFrac: 0 };

// What rate-limiter.js does: keep whatever state the core returns.
function caller(limit, periodMs) {
  let state = FRESH;
  return (now, cost = 1) => {
    const d = gcra(wasm, state, now, periodMs, limit, cost);
    state = { tatUs: d.tatUs, tatFrac: d.tatFrac };
    return d;
  };
}

test("a burst of exactly the limit, then the wait for the next unit", () => {
  const hit = caller(7, 60_000);
  const burst = Array.from({ length: 10 }, () => hit(T0));
  assert.deepEqual(burst.map((d) => d.status), [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(burst.slice(0, 7).map((d) => d.remaining), [6, 5, 4, 3, 2, 1, 0]);
  const refused = burst[7];
  assert.equal(refused.resetMs, 60_000);
  assert.ok(Math.abs(refused.retryAfterMs - 60_000 / 7) < 0.001, String(refused.retryAfterMs));
  // One interval later (rounded up to the microsecond), exactly one more.
  assert.equal(hit(T0 + 8571).status, 0);
  assert.equal(hit(T0 + 8572).status, 1);
  assert.equal(hit(T0 + 8572).status, 0);
});

test("the state is two exact integers however often it crosses the boundary", () => {
  const hit = caller(1_000_000, 30 * 24 * 3600 * 1000);
  let d;
  for (let i = 0; i < 5000; i++) d = hit(T0);
  assert.ok(Number.isSafeInteger(d.tatUs) && Number.isSafeInteger(d.tatFrac));
  assert.equal(d.remaining, 1_000_000 - 5000);
});

test("bad arguments are status -1", () => {
  for (const args of [[0, 60_000, 1], [1.5, 60_000, 1], [10, 0, 1], [10, NaN, 1], [10, 60_000, -1],
    [10, 60_000, 0.5], [Number.POSITIVE_INFINITY, 60_000, 1], [1e9, 1e13, 1]]) {
    const [limit, periodMs, cost] = args;
    assert.equal(gcra(wasm, FRESH, T0, periodMs, limit, cost).status, -1, JSON.stringify(args));
  }
  assert.equal(gcra(wasm, { tatUs: NaN, tatFrac: 0 }, T0, 1000, 1, 1).status, -1);
  assert.equal(gcra(wasm, FRESH, NaN, 1000, 1, 1).status, -1);
  assert.equal(gcra(wasm, FRESH, T0, 1000, 10, 11).retryAfterMs, -1); // more than a whole allowance
});
