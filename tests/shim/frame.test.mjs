// The shim's frame codec against the core's: non-ASCII and long strings take the encoder path,
// short ASCII the hand-copied one; both must produce what the core decodes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Core } from "../../js-shim/core.js";
import { FrameWriter } from "../../js-shim/frame.js";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../js-shim/core.wasm", import.meta.url)));
const decoder = new TextDecoder();

function readStrings(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  for (let pos = 0; pos < bytes.length;) {
    const n = view.getUint32(pos, true);
    out.push(decoder.decode(bytes.subarray(pos + 4, pos + 4 + n)));
    pos += 4 + n;
  }
  return out;
}

test("strings round-trip through FrameWriter on both paths", () => {
  const samples = ["", "GET", "/api/v1/auth/me", "héllo", "日本語", "a".repeat(64), "b".repeat(65),
    "x".repeat(63) + "é", "emoji 🙂 in a header"];
  const bytes = new Uint8Array(4096);
  const w = new FrameWriter(bytes);
  for (const s of samples) w.str(s);
  assert.deepEqual(readStrings(bytes.subarray(0, w.pos)), samples);
});

test("the core receives non-ASCII request ids intact (and refuses them as ids)", () => {
  const core = new Core(wasm, { ALLOWED_ORIGINS: "*" });
  const random = crypto.getRandomValues(new Uint8Array(128));
  const ok = core.start(Date.now(), random, "GET", "/health", "", [["x-request-id", "trace-1"]]);
  assert.equal(ok.headers["x-request-id"], "trace-1");
  const odd = core.start(Date.now(), random, "GET", "/health", "", [["x-request-id", "tracé-1"]]);
  const id = odd.headers["x-request-id"];
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(core.sessions(), 0);
});

test("pickHeaders keeps only what the core reads", () => {
  const core = new Core(wasm, {});
  const picked = core.pickHeaders(new Headers({ Authorization: "Bearer x", Accept: "h", Cookie: "c=1" }));
  assert.deepEqual(picked.sort(), [["authorization", "Bearer x"], ["cookie", "c=1"]]);
});

test("response headers arrive as an object, or as pairs when a name repeats", async () => {
  const { readFrame } = await import("../../js-shim/frame.js");
  const frame = (pairs) => {
    const bytes = new Uint8Array(1024);
    const w = new FrameWriter(bytes);
    w.u8(2); w.u32(0); w.u32(200); w.u32(pairs.length);
    for (const [k, v] of pairs) { w.str(k); w.str(v); }
    w.str("body"); w.str("log");
    w.str(""); w.u32(0); w.u32(0); w.u32(0); w.u32(0); // no R2-streamed body
    w.str(""); w.u32(0); // no followed stream log
    return bytes.subarray(0, w.pos);
  };
  const single = readFrame(frame([["content-type", "a"], ["x-request-id", "b"]]));
  assert.deepEqual(single.headers, { "content-type": "a", "x-request-id": "b" });
  const repeated = readFrame(frame([["set-cookie", "a=1"], ["x", "y"], ["set-cookie", "b=2"]]));
  assert.deepEqual(repeated.headers, [["set-cookie", "a=1"], ["x", "y"], ["set-cookie", "b=2"]]);
  assert.equal(new Response("", { headers: repeated.headers }).headers.getSetCookie().length, 2);
  assert.equal(single.r2, null);
  assert.equal(single.follow, null);
});

test("a download names its R2 key and a 64-bit byte range", async () => {
  const { readFrame } = await import("../../js-shim/frame.js");
  const bytes = new Uint8Array(256);
  const w = new FrameWriter(bytes);
  w.u8(2); w.u32(0); w.u32(206); w.u32(0); w.str(""); w.str("");
  w.str("u1/d1/a.pdf"); w.u32(5); w.u32(1); w.u32(10); w.u32(0);
  w.str(""); w.u32(0);
  const out = readFrame(bytes.subarray(0, w.pos));
  assert.deepEqual(out.r2, { key: "u1/d1/a.pdf", offset: 5 + 2 ** 32, length: 10 });
});

test("a resumable stream's response names its log and the last event id already seen", async () => {
  const { readFrame } = await import("../../js-shim/frame.js");
  const bytes = new Uint8Array(256);
  const w = new FrameWriter(bytes);
  w.u8(2); w.u32(0); w.u32(200); w.u32(0); w.str(""); w.str("");
  w.str(""); w.u32(0); w.u32(0); w.u32(0); w.u32(0);
  w.str("stream:s1"); w.u32(7);
  const out = readFrame(bytes.subarray(0, w.pos));
  assert.equal(out.r2, null);
  assert.deepEqual(out.follow, { name: "stream:s1", after: 7 });
});
