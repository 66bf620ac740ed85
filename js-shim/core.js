// One Wasm instance per isolate, shared by every request the isolate serves. A trap
// (WebAssembly.RuntimeError) means the instance's memory can no longer be trusted: it is marked
// dead, every request it still held gets a 500, and the next request instantiates a fresh one.
import {
  FrameWriter, envelopeSize, writeEnvelope, resultsSize, writeResults, readFrame,
} from "./frame.js";

export class CoreTrap extends Error {
  constructor(cause) {
    super("core trapped");
    this.name = "CoreTrap";
    this.cause = cause;
  }
}

// WASI imports for a reactor that never does I/O: stdout/stderr go to the console (a core that
// prints is a bug worth seeing), everything else is refused.
function wasiImports(getMemory) {
  const ENOSYS = 52;
  return {
    fd_write(fd, iovs, iovsLen, nwritten) {
      const mem = new DataView(getMemory().buffer);
      let total = 0;
      const parts = [];
      for (let i = 0; i < iovsLen; i++) {
        const ptr = mem.getUint32(iovs + i * 8, true);
        const len = mem.getUint32(iovs + i * 8 + 4, true);
        parts.push(new Uint8Array(getMemory().buffer, ptr, len).slice());
        total += len;
      }
      const text = parts.map((p) => new TextDecoder().decode(p)).join("");
      (fd === 2 ? console.error : console.log)(`[core fd${fd}] ${text}`);
      mem.setUint32(nwritten, total, true);
      return 0;
    },
    fd_close: () => ENOSYS,
    fd_seek: () => ENOSYS,
    proc_exit(code) { throw new WebAssembly.RuntimeError(`proc_exit(${code})`); },
  };
}

// Only string env values reach the core (vars and secrets); bindings stay in JS, but the core is
// told which ones exist (EDGECHAT_BINDINGS) so it can choose, e.g., Vectorize or its local index.
function envStrings(env) {
  const out = {};
  const bindings = [];
  for (const [k, v] of Object.entries(env ?? {})) {
    if (typeof v === "string") out[k] = v;
    else if (v && typeof v === "object") bindings.push(k);
  }
  out.EDGECHAT_BINDINGS = bindings.sort().join(",");
  return out;
}

// Requests the shim makes to the core on its own behalf (queue jobs) carry this header with a
// per-instance random token; the core refuses internal routes without it, and external requests
// never get it through (worker.js strips it).
export const INTERNAL_HEADER = "x-edgechat-internal";

export class Core {
  constructor(module, env, extraEnv = {}) {
    let instance;
    const imports = {
      wasi_snapshot_preview1: wasiImports(() => instance.exports.memory),
      // Emscripten's standalone modules announce memory growth; nothing to do (views are re-read).
      env: { emscripten_notify_memory_growth() {} },
    };
    instance = new WebAssembly.Instance(module, imports);
    this.module = module;  // what a fresh instance is made from after a trap
    this.x = instance.exports;
    this.dead = false;
    this.x._initialize();
    this.internalToken = Array.from(crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0")).join("");
    const config = JSON.stringify({
      ...envStrings(env), ...extraEnv, EDGECHAT_INTERNAL_TOKEN: this.internalToken,
    });
    const rc = this.call(() => {
      const bytes = new TextEncoder().encode(config);
      this.input(bytes.byteLength).set(bytes);
      return this.x.core_init(bytes.byteLength);
    });
    if (rc !== 0) throw new Error(`core_init failed (${rc}): check the Worker's env`);
    // Only these request headers go into envelopes: the core says which it reads.
    const len = this.x.core_request_headers();
    this.headerNames = new Set(new TextDecoder()
      .decode(new Uint8Array(this.x.memory.buffer, this.x.core_output(), len)).split("\n"));
  }

  // [name, value] pairs of the request headers the core reads. One pass over the headers (names
  // arrive lower-cased) is an order of magnitude cheaper than a get() per wanted name.
  pickHeaders(headers, url) {
    const list = [];
    let host = false;
    for (const entry of headers) {
      if (this.headerNames.has(entry[0])) {
        list.push(entry);
        if (entry[0] === "host") host = true;
      }
    }
    // workerd keeps Host out of request.headers; the URL has it (for absolute signed URLs).
    if (!host && url && this.headerNames.has("host")) {
      const start = url.indexOf("//") + 2;
      const end = url.indexOf("/", start);
      list.push(["host", url.slice(start, end < 0 ? undefined : end)]);
    }
    return list;
  }

  input(n) {
    const ptr = this.x.core_input(n);
    return new Uint8Array(this.x.memory.buffer, ptr, n);
  }

  output(len) {
    return readFrame(new Uint8Array(this.x.memory.buffer, this.x.core_output(), len));
  }

  call(fn) {
    if (this.dead) throw new CoreTrap(new Error("instance was reset"));
    try {
      return fn();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        this.dead = true;
        throw new CoreTrap(e);
      }
      throw e;
    }
  }

  start(now, random, method, path, query, headers) {
    return this.call(() => {
      const w = new FrameWriter(this.input(envelopeSize(method, path, query, headers, random)));
      writeEnvelope(w, now, random, method, path, query, headers);
      return this.output(this.x.core_start(w.pos));
    });
  }

  resume(session, now, results) {
    return this.call(() => {
      const w = new FrameWriter(this.input(resultsSize(results)));
      writeResults(w, now, results);
      return this.output(this.x.core_resume(session, w.pos));
    });
  }

  cancel(session) {
    if (!this.dead) this.call(() => this.x.core_cancel(session));
  }

  sessions() {
    return this.dead ? 0 : this.x.core_sessions();
  }
}

let current = null;

// The isolate's instance, (re)created on demand.
export function getCore(module, env, extraEnv) {
  if (current === null || current.dead) current = new Core(module, env, extraEnv);
  return current;
}

// The core's pure exports, for shim code that needs one of its rules outside any request (the
// RateLimiter Durable Object): a bare instance of the same module, one per isolate, initialised
// but never given an env. A trap drops it, like the Core's.
let bare = null;

function bareExports(module) {
  if (bare === null) {
    let instance;
    instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: wasiImports(() => instance.exports.memory),
      env: { emscripten_notify_memory_growth() {} },
    });
    instance.exports._initialize();
    bare = instance.exports;
  }
  return bare;
}

/**
 * One rate-limit decision by the core's GCRA (src/limits/gcra.hpp, export core_gcra), plain
 * numbers in and out: the stored state {tatUs, tatFrac} ({0, 0} for a new caller), the clock, the
 * allowance (`limit` per `periodMs`) and the request's cost.
 * → {status: 1 admitted | 0 refused | -1 invalid arguments, tatUs, tatFrac (the state to store),
 *    remaining, resetMs, retryAfterMs (-1: never)}
 */
export function gcra(module, { tatUs, tatFrac }, nowMs, periodMs, limit, cost) {
  const x = bareExports(module);
  let out;
  try {
    const ptr = x.core_gcra(tatUs, tatFrac, nowMs, periodMs, limit, cost);
    out = new Float64Array(x.memory.buffer, ptr, 6);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) bare = null;
    throw e;
  }
  return {
    status: out[0], tatUs: out[1], tatFrac: out[2], remaining: out[3], resetMs: out[4], retryAfterMs: out[5],
  };
}
