// The Worker: hands each request to the C++ core and carries out the effects it yields until it
// answers. See DESIGN.md §1; this file holds no business rules. It is given its core by an entry
// module: js-shim/entry.js (core.wasm, what wrangler serves and deploys) or
// tests/integration/worker-entry.js (core-test.wasm, with the test-only routes).
import { getCore, CoreTrap, INTERNAL_HEADER } from "./core.js";
import { performEffect } from "./effects.js";
import { FRAME_EFFECTS } from "./frame.js";
import { ENVELOPE_RANDOM_BYTES, freshRandom, splitUrl } from "./request.js";
import { toResponse } from "./response.js";

export { toResponse };  // tests/integration/stream-log.test.js drives it directly

function trapRequestId(request) {
  const id = request.headers.get("x-request-id");
  return id && /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function trapResponse(requestId) {
  const body = JSON.stringify({
    error: { code: "runtime.trap", message: "Internal error; the request was not completed" },
    requestId,
  });
  return new Response(body, {
    status: 500,
    headers: {
      "content-type": "application/json; charset=utf-8", "cache-control": "no-store",
      "x-request-id": requestId,
    },
  });
}

// Runs a job (a queue message, or a waitUntil fallback) or a cron tick through the core as an
// internal request.
async function runInternal(wasmModule, env, ctx, body, path = "/internal/jobs/run") {
  const core = getCore(wasmModule, env);
  const request = new Request(`https://edgechat.internal${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", [INTERNAL_HEADER]: core.internalToken },
    body: JSON.stringify(body),
  });
  return handle(request, env, core, ctx);
}

// A response the core streams (SSE): stream.open sends the head at once and resolves the request's
// Response; later stream.write effects feed its body; the final response frame closes it. The loop
// keeps running after the Response has been handed to the runtime (waitUntil keeps it alive).
function responseStream(respond) {
  const encoder = new TextEncoder();
  let writer = null;
  return {
    get open() { return writer !== null; },
    start(status, headers) {
      const { readable, writable } = new TransformStream();
      writer = writable.getWriter();
      respond(new Response(readable, { status, headers }));
    },
    async write(text) {
      if (!writer) throw new Error("stream not open");
      await writer.write(encoder.encode(text));
    },
    close() { return writer?.close().catch(() => {}); },
    abort(reason) { return writer?.abort(reason).catch(() => {}); },
  };
}

export function handle(request, env, core, ctx) {
  return new Promise((resolve, reject) => {
    const stream = responseStream(resolve);
    const loop = runLoop(request, env, core, ctx, stream);
    if (ctx?.waitUntil) ctx.waitUntil(loop.catch(() => {}));
    loop.then((res) => { if (!stream.open) resolve(res); }, (e) => {
      if (stream.open) stream.abort(e);
      else reject(e);
    });
  });
}

// The client went away (closed the tab, cut the upload): an everyday event, logged at info so it
// never pages anyone. Anything else that escapes the loop is a real error.
function clientGone(request, e) {
  return request.signal?.aborted || e?.name === "AbortError";
}

async function runLoop(request, env, core, ctx, stream) {
  const host = {
    waitUntil: (p) => ctx?.waitUntil(p),
    runJob: ctx &&
      ((body) => runInternal(core.module, env, ctx, { ...body, attempt: 1, via: "waitUntil" })),
    stream,
    upstreams: new Map(),  // open outbound bodies (fetch.start), aborted when the request ends
  };
  try {
    return await runCore(request, env, core, host, stream);
  } finally {
    for (const up of host.upstreams.values()) up.controller.abort();
  }
}

// The loop body proper; runLoop wraps it so open upstream requests never outlive their request.
async function runCore(request, env, core, host, stream) {
  const [path, query] = splitUrl(request.url);
  let session = 0;
  try {
    let out = core.start(Date.now(), freshRandom(ENVELOPE_RANDOM_BYTES), request.method, path,
      query, core.pickHeaders(request.headers, request.url));
    while (out.kind === FRAME_EFFECTS) {
      session = out.session;
      const results = await Promise.all(out.effects.map((e) => performEffect(e, request, env, host)));
      // The client went away: drop the request's coroutines; nobody is listening for the answer.
      // A streamed session is kept: its writes fail and the core finishes what it must (e.g.
      // storing a partial answer).
      if (request.signal?.aborted && !stream.open) {
        core.cancel(session);
        console.log(JSON.stringify({ level: "info", msg: "request cancelled by client", session }));
        return new Response(null, { status: 499 });
      }
      out = core.resume(session, Date.now(), results);
    }
    if (out.log) console.log(out.log);
    if (stream.open) {
      await stream.close();
      return null;
    }
    return await toResponse(out, request.method, env);
  } catch (e) {
    if (!(e instanceof CoreTrap)) {
      if (!clientGone(request, e)) throw e;
      if (session) core.cancel(session);
      console.log(JSON.stringify({ level: "info", msg: "client disconnected", session }));
      if (stream.open) {
        await stream.abort(e);
        return null;
      }
      return new Response(null, { status: 499 });
    }
    const requestId = trapRequestId(request);
    console.error(JSON.stringify({
      level: "error", msg: "core trapped; instance reset", requestId, session,
      error: String(e.cause?.message ?? e.cause),
    }));
    if (stream.open) {
      await stream.abort(e);
      return null;
    }
    return trapResponse(requestId);
  }
}

// The Worker's handlers over one compiled core module (an entry module's default export).
export const createWorker = (wasmModule) => ({
  async fetch(request, env, ctx) {
    if (request.headers.has(INTERNAL_HEADER)) {
      // Only the shim itself may speak for the core's internal routes.
      request = new Request(request);
      request.headers.delete(INTERNAL_HEADER);
    }
    return handle(request, env, getCore(wasmModule, env), ctx);
  },

  // Background jobs (binding JOBS): each message names one job ({jobId}) the core recorded in D1.
  // The core claims, runs and retries it (with its own backoff); a 5xx answer (storage
  // unavailable, a trap) only means the core could not even record the outcome, so the message is
  // redelivered. Anything else is final: the job's row has the outcome.
  async queue(batch, env, ctx) {
    for (const msg of batch.messages) {
      const res = await runInternal(wasmModule, env, ctx, { ...msg.body, attempt: msg.attempts, via: "queue" });
      await res.body?.cancel();
      if (res.status >= 500) msg.retry();
      else msg.ack();
    }
  },

  // The cron trigger (wrangler.toml [triggers]): the core delivers jobs whose messages were lost and
  // runs a cleanup job. A failure is logged; the next tick tries again.
  async scheduled(controller, env, ctx) {
    const res = await runInternal(wasmModule, env, ctx,
      { cron: controller.cron, scheduledTime: controller.scheduledTime }, "/internal/cron");
    const text = await res.text();
    if (res.status >= 500) {
      console.error(JSON.stringify({ level: "error", msg: "cron tick failed", status: res.status, body: text.slice(0, 500) }));
      throw new Error(`cron tick failed with ${res.status}`);  // the invocation shows as failed
    }
  },
});
