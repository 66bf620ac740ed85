// Section 8 of `npm run bench`, no I/O: the Wasm core's own cost per streamed chunk. A streamed
// POST /v1/chat/completions (model "openai/…") is driven through js-shim/core.js's Core class, the
// way worker.js does, with every effect answered from memory:
//   body.read     → the request's JSON
//   d1.*, crypto.verify, random → the auth fixture (bench/lib/fixture.mjs), as in section 3;
//                   d1.batch → the credit hold and its settlement, every write applied
//   fetch.start   → 200 text/event-stream, upstream handle 1
//   fetch.read    → the next of the fake provider's pre-built OpenAI SSE events, one per read
//                   (N content chunks, the finish chunk, the usage chunk, [DONE]), then end of body
//   stream.open, stream.write, log.write, fetch.abort → success
// A *chunk round* is one core_resume that answers a fetch.read carrying a content chunk (and the
// stream.write of the previous chunk, which the core pipelines with it): parse the upstream SSE
// event, normalise it, build the chat.completion.chunk for the client, yield the next write and
// read. Per chunk = the chunk rounds' time / N, median over requests, in two cuts: inside Wasm
// (the core_resume export alone, the figure with the 20 µs target) and core + shim JS (frame.js
// encoding of the results and decoding of the next effects, i.e. Core.resume as worker.js calls it).
// Run alone: node bench/chat-core.mjs [path/to/core.wasm] → JSON on stdout.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Core } from "../js-shim/core.js";
import { FRAME_EFFECTS } from "../js-shim/frame.js";
import { ENVELOPE_RANDOM_BYTES, freshRandom } from "../js-shim/request.js";
import { FAKE_KEY, modelName, openAiEvents } from "./lib/fake-provider.mjs";
import { makeFixture, verifyRs256 } from "./lib/fixture.mjs";
import { median, percentile } from "./wasm-core.mjs";

const now = () => performance.now();
const encoder = new TextEncoder();
const TRUE = { ok: true, data: "true" };
const QUESTION = "How does the answer stream through the edge?";

class Host {
  constructor(fx, body, events) {
    this.fx = fx;
    this.body = { ok: true, data: encoder.encode(body) };
    this.keyRows = { ok: true, data: JSON.stringify(fx.keyRows) };
    this.userRow = { ok: true, data: JSON.stringify(fx.userRow) };
    this.events = events.map((e) => ({ ok: true, data: encoder.encode(e) }));
    this.end = { ok: true, data: new Uint8Array(0) };
    this.reset();
  }
  reset() {
    this.next = 0;
    this.written = [];
    this.ops = new Map();
  }
  // Returns [answer, isContentChunk].
  answer(e) {
    this.ops.set(e.op, (this.ops.get(e.op) ?? 0) + 1);
    switch (e.op) {
      case "fetch.read": {
        const i = this.next++;
        return i < this.events.length ? this.events[i] : this.end;
      }
      case "stream.write":
        if (this.record) this.written.push(e.payload);
        return TRUE;
      case "stream.open":
      case "log.write":
      case "fetch.abort":
        return TRUE;
      case "body.read":
        return this.body;
      case "fetch.start": {
        const a = JSON.parse(e.payload);
        if (!a.url.endsWith("/v1/chat/completions") || !a.body.includes('"stream":true')) {
          throw new Error(`unexpected fetch.start ${e.payload.slice(0, 200)}`);
        }
        return { ok: true, data: JSON.stringify({ status: 200, headers: { "content-type": "text/event-stream" }, stream: 1 }) };
      }
      case "random":
        return { ok: true, data: crypto.getRandomValues(new Uint8Array(Number(e.payload))) };
      case "d1.all":
        if (!JSON.parse(e.payload).sql.includes("FROM signing_keys")) throw new Error(`unexpected d1.all ${e.payload}`);
        return this.keyRows;
      case "d1.first":
        if (!JSON.parse(e.payload).sql.includes("LEFT JOIN sessions")) throw new Error(`unexpected d1.first ${e.payload}`);
        return this.userRow;
      case "d1.batch": {
        // The credit hold before the call and its settlement after (billing/credits.cpp): every
        // write applies, and the closing SELECT finds the balance and the hold.
        const { statements } = JSON.parse(e.payload);
        return {
          ok: true,
          data: JSON.stringify(statements.map((s) => (/^\s*SELECT/i.test(s.sql)
            ? { results: [{ balance: 10_000_000, held: 1 }], changes: 0 }
            : { results: [], changes: 1 }))),
        };
      }
      case "crypto.verify": {
        const a = JSON.parse(e.payload);
        return { ok: true, data: JSON.stringify(verifyRs256(a.jwk, a.data, a.signature)) };
      }
      default:
        throw new Error(`unexpected effect ${e.op} ${String(e.payload).slice(0, 300)}`);
    }
  }
}

// One streamed completion. Returns the time in chunk rounds and in the whole request, both inside
// Wasm and as Core.start/resume calls (frame.js included), in ms.
function completion(core, host, timer, nowMs, method, path, headers, chunks) {
  let wasmAll = 0, callAll = 0, wasmChunks = 0, callChunks = 0, rounds = 0, chunkRounds = 0;
  timer.inWasm = 0;
  let t0 = now();
  let out = core.start(nowMs, freshRandom(ENVELOPE_RANDOM_BYTES), method, path, "", headers);
  callAll += now() - t0;
  wasmAll += timer.inWasm;
  while (out.kind === FRAME_EFFECTS) {
    const before = host.next;
    const results = out.effects.map((e) => host.answer(e));
    // A content chunk went in this round: reads 0..chunks-1 are the content events.
    const isChunk = host.next > before && before < chunks;
    timer.inWasm = 0;
    t0 = now();
    out = core.resume(out.session, nowMs, results);
    const call = now() - t0;
    rounds++;
    callAll += call;
    wasmAll += timer.inWasm;
    if (isChunk) {
      chunkRounds++;
      callChunks += call;
      wasmChunks += timer.inWasm;
    }
  }
  return { out, wasmAll, callAll, wasmChunks, callChunks, rounds, chunkRounds };
}

export function benchChatCore(module, fx, { chunks = 50, requests = 300, warmup = 20 } = {}) {
  const model = modelName(chunks, 0);
  const env = { ...fx.env, OPENAI_API_KEY: FAKE_KEY, OPENAI_API_BASE_URL: "http://127.0.0.1:9" };
  const core = new Core(module, env);
  const body = JSON.stringify({ model: `openai/${model}`, messages: [{ role: "user", content: QUESTION }], stream: true });
  const events = openAiEvents({ chunks, model, usage: true });
  const host = new Host(fx, body, events);
  const headers = core.pickHeaders(new Headers([
    ["accept", "text/event-stream"],
    ["authorization", `Bearer ${fx.tokens[0]}`],
    ["content-type", "application/json"],
    ["content-length", String(Buffer.byteLength(body))],
    ["host", "127.0.0.1:8787"],
    ["user-agent", "node"],
  ]));
  // Time inside the two exports, read back after each call.
  const timer = { inWasm: 0 };
  const x = core.x;
  const wrap = (f) => (...a) => { const t = now(); const r = f(...a); timer.inWasm += now() - t; return r; };
  core.x = { ...x, core_start: wrap(x.core_start), core_resume: wrap(x.core_resume) };

  const per = { wasmChunk: [], callChunk: [], wasmAll: [], callAll: [] };
  let shape = null;
  try {
    for (let i = 0; i < warmup + requests; i++) {
      host.reset();
      host.record = i === 0;
      const r = completion(core, host, timer, fx.nowMs, "POST", "/v1/chat/completions", headers, chunks);
      if (i === 0) {
        const text = host.written.join("");
        const deltas = text.split("\n\n").filter((e) => e.startsWith("data: {") && JSON.parse(e.slice(6)).choices?.[0]?.delta?.content);
        if (r.out.status !== 200 || deltas.length !== chunks || !text.includes("data: [DONE]")) {
          throw new Error(`streamed completion went wrong: status ${r.out.status}, ${deltas.length} deltas, ` +
            `body ${new TextDecoder().decode(r.out.body).slice(0, 200)}, written ${text.slice(0, 200)}`);
        }
        shape = { rounds: r.rounds, chunkRounds: r.chunkRounds, ops: Object.fromEntries(host.ops), bytesWritten: text.length };
      }
      if (r.chunkRounds !== chunks) throw new Error(`${r.chunkRounds} chunk rounds for ${chunks} chunks`);
      if (i < warmup) continue; // the first request also loads the key ring and verifies the token
      per.wasmChunk.push((r.wasmChunks * 1000) / chunks);
      per.callChunk.push((r.callChunks * 1000) / chunks);
      per.wasmAll.push(r.wasmAll * 1000);
      per.callAll.push(r.callAll * 1000);
    }
  } finally {
    core.x = x;
  }
  const us = (xs) => ({ medianUs: +median(xs).toFixed(2), p90Us: +percentile(xs, 90).toFixed(2) });
  return {
    chunks, requests, warmup, model: `openai/${model}`,
    perChunk: { wasm: us(per.wasmChunk), coreCall: us(per.callChunk) },
    perRequest: { wasm: us(per.wasmAll), coreCall: us(per.callAll) },
    shape, sessionsLeft: core.sessions(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2] ?? fileURLToPath(new URL("../js-shim/core.wasm", import.meta.url));
  const module = new WebAssembly.Module(readFileSync(path));
  console.log(JSON.stringify(benchChatCore(module, makeFixture({ tokens: 1 })), null, 2));
}
