// The test-only routes (src/api/test_hooks.cpp: /__test/*, one of them an unauthenticated relay to
// any URL) live in js-shim/core-test.wasm, which only the integration tests load; the shipped
// js-shim/core.wasm must not contain them, and EDGECHAT_TEST_HOOKS=1 must not bring them back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Core, CoreTrap } from "../../js-shim/core.js";

const bytes = (name) => readFileSync(new URL(`../../js-shim/${name}`, import.meta.url));
// RATE_LIMITS=off: a limited route then yields no effect (the "no RATE_LIMITER binding" log line).
const HOOKS_ON = { EDGECHAT_TEST_HOOKS: "1", RATE_LIMITS: "off" };
const random = () => crypto.getRandomValues(new Uint8Array(128));
const post = (core, path) => core.start(Date.now(), random(), "POST", path, "", []);

test("the shipped core.wasm has no /__test/ route, not even as a string", () => {
  assert.equal(bytes("core.wasm").includes("/__test/"), false);
  assert.equal(bytes("core-test.wasm").includes("/__test/"), true);  // the check can see them
});

test("EDGECHAT_TEST_HOOKS=1 does not add them to the shipped core", () => {
  const core = new Core(new WebAssembly.Module(bytes("core.wasm")), HOOKS_ON);
  for (const path of ["/__test/trap", "/__test/relay"]) {
    const r = post(core, path);
    assert.equal(r.status, 404, path);
    assert.equal(JSON.parse(new TextDecoder().decode(r.body)).error.code, "http.not_found");
  }
  assert.equal(core.sessions(), 0);
});

test("the test build has them with EDGECHAT_TEST_HOOKS=1, and only then", () => {
  const module = new WebAssembly.Module(bytes("core-test.wasm"));
  assert.equal(post(new Core(module, {}), "/__test/trap").status, 404);
  assert.throws(() => post(new Core(module, HOOKS_ON), "/__test/trap"), CoreTrap);
});
