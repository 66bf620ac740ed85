// The shim's last line of defence: when a Response cannot be built from what the core answered
// (a header value the platform refuses, a status out of range), the client still gets the JSON
// error envelope with its request id, never an HTML page, a stack trace or a file path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { toResponse } from "../../js-shim/response.js";

function frame(headers, status = 200, body = '{"ok":true}') {
  return { status, headers, body: new TextEncoder().encode(body), log: "", r2: null, follow: null };
}

async function assertEnvelope(res, requestId) {
  assert.equal(res.status, 500);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  const text = await res.text();
  const body = JSON.parse(text);
  assert.equal(body.error.code, "runtime.response_invalid");
  assert.equal(typeof body.error.message, "string");
  assert.equal(body.requestId, requestId);
  assert.equal(res.headers.get("x-request-id"), requestId);
  assert.doesNotMatch(text, /at |\.js|\/work\/|Error:/);
}

test("a header value with CR/LF/NUL yields the JSON error envelope", async () => {
  const logged = [];
  const orig = console.error;
  console.error = (line) => logged.push(line);
  try {
    for (const bad of ["a\r\nset-cookie: x=1", "nul\0byte", "euro \u20ac"]) {
      const res = await toResponse(frame({ "x-request-id": "req-1", "x-model": bad }), "POST", {});
      await assertEnvelope(res, "req-1");
    }
  } finally {
    console.error = orig;
  }
  assert.equal(logged.length, 3);
  assert.equal(JSON.parse(logged[0]).msg, "response could not be built");
});

test("repeated headers (pairs) and a bad status are covered too", async () => {
  const orig = console.error;
  console.error = () => {};
  try {
    const pairs = [["x-request-id", "req-2"], ["set-cookie", "a=1"], ["set-cookie", "b=\n2"]];
    await assertEnvelope(await toResponse(frame(pairs), "GET", {}), "req-2");
    await assertEnvelope(await toResponse(frame({ "x-request-id": "req-3" }, 1000), "GET", {}),
      "req-3");
  } finally {
    console.error = orig;
  }
});

test("a valid frame becomes the response as is", async () => {
  const res = await toResponse(frame({ "x-request-id": "req-4", "x-model": "gpt-4o-mini" }), "GET", {});
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-model"), "gpt-4o-mini");
  assert.deepEqual(await res.json(), { ok: true });
});
