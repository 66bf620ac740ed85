// Wasm core micro-benchmarks in Node, with no I/O:
//   - instantiate: new WebAssembly.Instance + _initialize + core_init (each timed, many runs)
//   - GET /api/v1/auth/me driven through js-shim/core.js's Core class (the same start/resume and
//     frame.js encoding the Worker uses), every effect answered from memory:
//       d1.all        → the fixture's signing_keys row
//       crypto.verify → really verified with node:crypto (so only the minted tokens pass)
//       d1.first      → the fixture's user ⋈ session row
//       random        → crypto.getRandomValues
//     cold-instance: first /me after core_init (key ring load + signature check + user query)
//     cold-token:    a token this instance has not seen, key ring already loaded
//     warm:          the same token again (the core's verification cache answers)
//   - GET /health (one core call, no effect), and for both warm routes a split of the time into
//     inside Wasm / envelope randomness / the rest of the shim's JS
//   Cold figures sum only the time spent in core calls (frame encode → Wasm → frame decode), not the
//   host's work answering effects (RSA verify, JSON of canned rows). Warm is wall time of a loop that
//   does what worker.js handle() does minus I/O and Request/Response objects.
// Run alone: node bench/wasm-core.mjs [path/to/core.wasm]  → JSON on stdout.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Core } from "../js-shim/core.js";
import { FRAME_EFFECTS } from "../js-shim/frame.js";
import { ENVELOPE_RANDOM_BYTES, freshRandom } from "../js-shim/request.js";
import { makeFixture, verifyRs256 } from "./lib/fixture.mjs";

const now = () => performance.now();

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

// Minimal WASI for instantiation timing (the same three imports core.js provides).
function wasiStub(getMemory) {
  return {
    wasi_snapshot_preview1: {
      fd_write(fd, iovs, iovsLen, nwritten) {
        new DataView(getMemory().buffer).setUint32(nwritten, 0, true);
        return 0;
      },
      fd_close: () => 52,
      fd_seek: () => 52,
      proc_exit(code) { throw new WebAssembly.RuntimeError(`proc_exit(${code})`); },
    },
  };
}

export function benchInstantiate(module, env, runs = 200) {
  const config = new TextEncoder().encode(JSON.stringify(env));
  const inst = [], init = [], coreInit = [], total = [], coreClass = [];
  for (let i = 0; i < runs; i++) {
    let instance;
    const t0 = now();
    instance = new WebAssembly.Instance(module, wasiStub(() => instance.exports.memory));
    const t1 = now();
    instance.exports._initialize();
    const t2 = now();
    const x = instance.exports;
    const ptr = x.core_input(config.byteLength);
    new Uint8Array(x.memory.buffer, ptr, config.byteLength).set(config);
    const rc = x.core_init(config.byteLength);
    const t3 = now();
    if (rc !== 0) throw new Error(`core_init returned ${rc}`);
    inst.push(t1 - t0); init.push(t2 - t1); coreInit.push(t3 - t2); total.push(t3 - t0);
    // The shim's own constructor, for comparison (same three steps plus JSON of the env).
    const t4 = now();
    new Core(module, env);
    coreClass.push(now() - t4);
  }
  const ms = (xs) => +median(xs).toFixed(3);
  return {
    runs, medianMs: ms(total), p90Ms: +percentile(total, 90).toFixed(3),
    parts: { instanceMs: ms(inst), initializeMs: ms(init), coreInitMs: ms(coreInit) },
    coreClassMedianMs: ms(coreClass),
  };
}

// A typical autocannon/curl GET; worker.js passes it through Core.pickHeaders like the bench does.
function meHeaders(token) {
  return [
    ["accept", "*/*"],
    ["authorization", `Bearer ${token}`],
    ["host", "127.0.0.1:8787"],
    ["user-agent", "autocannon/8.0.0"],
  ];
}

class Host {
  constructor(fx) {
    this.fx = fx;
    this.keyRows = { ok: true, data: JSON.stringify(fx.keyRows) };
    this.userRow = { ok: true, data: JSON.stringify(fx.userRow) };
    this.verifyCalls = 0;
    this.ops = [];
  }
  answer(e) {
    switch (e.op) {
      case "random":
        return { ok: true, data: crypto.getRandomValues(new Uint8Array(Number(e.payload))) };
      case "d1.all": {
        const a = JSON.parse(e.payload);
        if (!a.sql.includes("FROM signing_keys")) throw new Error(`unexpected d1.all ${a.sql}`);
        return this.keyRows;
      }
      case "d1.first": {
        const a = JSON.parse(e.payload);
        const [sub, sid] = a.params;
        if (!a.sql.includes("LEFT JOIN sessions") || sub !== this.fx.userRow.id ||
            sid !== this.fx.userRow.session_id) throw new Error(`unexpected d1.first ${e.payload}`);
        return this.userRow;
      }
      case "crypto.verify": {
        const a = JSON.parse(e.payload);
        this.verifyCalls++;
        return { ok: true, data: JSON.stringify(verifyRs256(a.jwk, a.data, a.signature)) };
      }
      default:
        throw new Error(`unexpected effect ${e.op}`);
    }
  }
}

// One /me request; returns {us: time inside core calls, trips, ops, out}.
function meRequest(core, host, token, nowMs, headers) {
  const random = crypto.getRandomValues(new Uint8Array(128));
  const picked = core.pickHeaders(new Headers(headers));
  const ops = [];
  let t0 = now();
  let out = core.start(nowMs, random, "GET", "/api/v1/auth/me", "", picked);
  let t = now() - t0;
  let trips = 1;
  while (out.kind === FRAME_EFFECTS) {
    for (const e of out.effects) ops.push(e.op);
    const results = out.effects.map((e) => host.answer(e));
    t0 = now();
    out = core.resume(out.session, nowMs, results);
    t += now() - t0;
    trips++;
  }
  return { us: t * 1000, trips, ops, out };
}

function checkOk(out, fx) {
  if (out.status !== 200) {
    throw new Error(`/me answered ${out.status}: ${new TextDecoder().decode(out.body)}`);
  }
  const body = JSON.parse(new TextDecoder().decode(out.body));
  if (body.user?.id !== fx.userRow.id) throw new Error(`/me wrong body ${JSON.stringify(body)}`);
}

function reinit(core, env) {
  const bytes = new TextEncoder().encode(JSON.stringify(env));
  core.input(bytes.byteLength).set(bytes);
  const rc = core.x.core_init(bytes.byteLength);
  if (rc !== 0) throw new Error(`core_init returned ${rc}`);
}

const summary = (xs) => ({
  medianUs: +median(xs).toFixed(2), p10Us: +percentile(xs, 10).toFixed(2),
  p90Us: +percentile(xs, 90).toFixed(2), samples: xs.length,
});

export function benchMe(module, fx, { coldRuns = 1000, warmMs = 2500, batch = 2000 } = {}) {
  const host = new Host(fx);
  const core = new Core(module, fx.env);
  const nowMs = fx.nowMs;
  const [token, ...fresh] = fx.tokens;
  const headers = meHeaders(token);
  const requestHeaders = new Headers(headers);

  // cold-instance: first /me after core_init on this instance.
  const coldInst = [];
  let instShape = null;
  for (let i = 0; i < coldRuns; i++) {
    reinit(core, fx.env);
    const r = meRequest(core, host, token, nowMs, headers);
    checkOk(r.out, fx);
    instShape ??= { trips: r.trips, ops: r.ops };
    coldInst.push(r.us);
  }

  // cold-token: ring loaded (by the last request above), tokens never seen by this instance.
  const coldTok = [];
  let tokShape = null;
  for (const t of fresh) {
    const r = meRequest(core, host, t, nowMs, meHeaders(t));
    checkOk(r.out, fx);
    tokShape ??= { trips: r.trips, ops: r.ops };
    coldTok.push(r.us);
  }

  // warm: the first token again, now cached. Shape from one traced request, then timed loops.
  const traced = meRequest(core, host, token, nowMs, headers);
  checkOk(traced.out, fx);
  const warmShape = { trips: traced.trips, ops: traced.ops };
  const verifiesBefore = host.verifyCalls;
  const userRow = host.userRow;
  let last = null;
  // What worker.js handle() does per request, minus I/O: fresh envelope randomness, start, answer
  // the one d1.first from memory, resume.
  const warmMe = () => {
    let out = core.start(nowMs, freshRandom(ENVELOPE_RANDOM_BYTES), "GET",
      "/api/v1/auth/me", "", core.pickHeaders(requestHeaders));
    while (out.kind === FRAME_EFFECTS) {
      if (out.effects.length !== 1 || out.effects[0].op !== "d1.first") {
        throw new Error(`warm request yielded ${out.effects.map((e) => e.op)}`);
      }
      out = core.resume(out.session, nowMs, [userRow]);
    }
    last = out;
  };
  const segSamples = [];
  const warm = timedLoop(warmMe, warmMs, batch, () => {
    // A few segment-timed requests too, measured exactly like the cold figures.
    for (let i = 0; i < 50; i++) segSamples.push(meRequest(core, host, token, nowMs, headers).us);
  });
  checkOk(last, fx);
  if (host.verifyCalls !== verifiesBefore) throw new Error("warm requests verified a signature");
  const breakdownMe = breakdown(core, warmMe, batch >> 1);

  // GET /health: one core call, no effect.
  const healthHeaders = headers.filter(([k]) => k !== "authorization");
  const healthRequestHeaders = new Headers(healthHeaders);
  let healthOut = null;
  const warmHealth = () => {
    healthOut = core.start(nowMs, freshRandom(ENVELOPE_RANDOM_BYTES), "GET", "/health", "",
      core.pickHeaders(healthRequestHeaders));
  };
  const health = timedLoop(warmHealth, Math.max(500, warmMs / 3), batch);
  if (healthOut.kind === FRAME_EFFECTS || healthOut.status !== 200) throw new Error("/health did not answer 200");
  const breakdownHealth = breakdown(core, warmHealth, batch >> 1);

  const sessions = core.sessions();
  return {
    coldInstance: { ...summary(coldInst), ...instShape },
    coldToken: { ...summary(coldTok), ...tokShape },
    warm: {
      ...warm, ...warmShape, coreCallsOnlyMedianUs: +median(segSamples).toFixed(2),
      breakdown: breakdownMe,
    },
    health: { ...health, trips: 1, ops: [], breakdown: breakdownHealth },
    sessionsLeft: sessions,
    responseSample: {
      status: last.status, headers: last.headers, body: new TextDecoder().decode(last.body),
      log: last.log,
    },
  };
}

// Runs fn in batches until warmMs have passed; per-request µs = median over batches.
function timedLoop(fn, warmMs, batch, between = () => {}) {
  const batches = [];
  const deadline = now() + warmMs;
  while (now() < deadline) {
    const t0 = now();
    for (let i = 0; i < batch; i++) fn();
    batches.push(((now() - t0) * 1000) / batch);
    between();
  }
  return {
    medianUs: +median(batches).toFixed(2), bestUs: +Math.min(...batches).toFixed(2),
    batches: batches.length, perBatch: batch,
  };
}

// Where a warm request's time goes: inside the Wasm exports, the envelope's 128 random bytes
// (crypto.getRandomValues), and the rest of the shim (frame.js encode/decode, JS objects). Timed
// in a separate pass, because wrapping the exports adds a little overhead of its own.
function breakdown(core, fn, n, passes = 7) {
  const x = core.x;
  let inWasm = 0;
  const wrap = (f) => (...a) => { const t = now(); const r = f(...a); inWasm += now() - t; return r; };
  const totals = [], wasms = [];
  core.x = { ...x, core_start: wrap(x.core_start), core_resume: wrap(x.core_resume) };
  try {
    for (let i = 0; i < n; i++) fn();
    for (let p = 0; p < passes; p++) {
      inWasm = 0;
      const t0 = now();
      for (let i = 0; i < n; i++) fn();
      totals.push(now() - t0);
      wasms.push(inWasm);
    }
  } finally {
    core.x = x;
  }
  // Medians over passes, each component on its own (noise on a shared machine is bursty).
  // Everything outside the two core calls is shim JS, randomness included (worker.js pools it).
  const us = (ms) => +((ms * 1000) / n).toFixed(2);
  const total = median(totals), wasm = median(wasms);
  return {
    totalUs: us(total), wasmUs: us(wasm), shimJsUs: us(Math.max(0, total - wasm)), passes, perPass: n,
  };
}

export function wasmCoreBench(wasmPath, opts = {}) {
  const bytes = readFileSync(wasmPath);
  const compileMs = [];
  let module;
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    module = new WebAssembly.Module(bytes);
    compileMs.push(now() - t0);
  }
  const fx = opts.fixture ?? makeFixture({ tokens: 257 });
  return {
    compileMedianMs: +median(compileMs).toFixed(2),
    instantiate: benchInstantiate(module, fx.env, opts.instantiateRuns ?? 200),
    me: benchMe(module, fx, opts),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2] ?? fileURLToPath(new URL("../js-shim/core.wasm", import.meta.url));
  console.log(JSON.stringify(wasmCoreBench(path), null, 2));
}
