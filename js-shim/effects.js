// The effect interpreter: one switch over the op name, each case a direct call to a binding. No
// business rule lives here — limits, SQL, key choice and error meaning all come from the core.
// A failure is returned as {ok:false, code, message} with a code the core knows
// (src/core/effect.cpp); nothing here throws into the loop.

import { runAiEffect } from "./effects-ai.js";
import { runRateLimitEffect } from "./effects-ratelimit.js";
import { runStreamLogEffect } from "./effects-streamlog.js";

const encoder = new TextEncoder();

export class EffectError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const json = (v) => ({ ok: true, data: JSON.stringify(v ?? null) });
const raw = (u8) => ({ ok: true, data: u8 });

function b64urlToBytes(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function binding(env, name) {
  const b = env[name];
  if (!b) throw new EffectError("unavailable", `binding ${name} is not configured`);
  return b;
}

// D1 errors → the core's codes: a constraint is a conflict; a statement D1 refuses for its shape
// (a LIKE pattern over 50 bytes, too many bound variables, a value over its size limit) can never
// succeed on a retry, so it must not read as "unavailable" (src/bindings/d1.cpp maps them to 4xx).
function d1Error(e) {
  const msg = String(e?.message ?? e);
  if (/constraint failed/i.test(msg)) return new EffectError("conflict", msg);
  if (/string or blob too big|SQLITE_TOOBIG/i.test(msg)) return new EffectError("too_large", msg);
  if (/too complex|too many SQL variables|too many terms/i.test(msg)) return new EffectError("invalid", msg);
  return new EffectError("internal", msg);
}

function prepare(db, { sql, params }) {
  const stmt = db.prepare(sql);
  return params && params.length ? stmt.bind(...params) : stmt;
}

// Imported CryptoKeys are cached per isolate by their JWK text: importKey costs far more than the
// signature check it enables.
const keyCache = new Map();
const RS256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

async function rsaKey(jwk, usage) {
  const id = usage + JSON.stringify(jwk);
  let key = keyCache.get(id);
  if (!key) {
    key = await crypto.subtle.importKey("jwk", jwk, RS256, false, [usage]);
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

// Reads the request body, refusing (and cancelling the stream) past `max` bytes.
async function readBody(request, max) {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new EffectError("too_large", `body exceeds ${max} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) { out.set(c, off); off += c.byteLength; }
  return out;
}

// multipart/form-data is parsed once per request by the platform and kept here, so body.form
// (what the core sees) and r2.put_body {form} (the file part into R2) share one read.
const forms = new WeakMap();
async function readForm(request, max) {
  let form = forms.get(request);
  if (!form) {
    const bytes = await readBody(request, max);
    const type = request.headers.get("content-type") ?? "";
    try {
      form = await new Response(bytes, { headers: { "content-type": type } }).formData();
    } catch (e) {
      throw new EffectError("invalid", `malformed multipart body: ${e?.message ?? e}`);
    }
    forms.set(request, form);
  }
  return form;
}

async function formSummary(request, args) {
  const form = await readForm(request, args.max);
  const fields = {};
  let file = null;
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") {
      if (!Object.hasOwn(fields, name)) fields[name] = value;
    } else if (name === args.file && !file) {
      file = { filename: value.name ?? "", type: value.type ?? "", size: value.size };
    }
  }
  return { fields, file };
}

function r2Options(args) {
  return {
    httpMetadata: args.contentType ? { contentType: args.contentType } : undefined,
    customMetadata: args.customMetadata ?? undefined,
  };
}

// Streams the request body into R2. With a Content-Length within `max`, R2 gets a fixed-length
// stream (it needs the length up front); without one, the body is read up to `max` first.
async function putRequestBody(bucket, request, args) {
  if (args.form) {
    const file = (await readForm(request, args.max)).get(args.form);
    if (!file || typeof file === "string") throw new EffectError("invalid", "no such file part");
    const obj = await bucket.put(args.key, file, r2Options(args));
    return { key: obj.key, size: obj.size, etag: obj.etag };
  }
  const declared = Number(request.headers.get("content-length") ?? NaN);
  let body;
  if (Number.isFinite(declared) && request.body) {
    if (declared > args.max) throw new EffectError("too_large", `body exceeds ${args.max} bytes`);
    const fixed = new FixedLengthStream(declared);
    request.body.pipeTo(fixed.writable).catch(() => {});
    body = fixed.readable;
  } else {
    body = await readBody(request, args.max);
  }
  let obj;
  try {
    obj = await bucket.put(args.key, body, r2Options(args));
  } catch (e) {
    // A body shorter or longer than its Content-Length ends the fixed-length stream in error.
    throw new EffectError("invalid", `upload did not match its Content-Length: ${e?.message ?? e}`);
  }
  return { key: obj.key, size: obj.size, etag: obj.etag };
}

async function run(op, args, request, env, ctx) {
  if (op.startsWith("ai.") || op.startsWith("vectorize.")) {
    const out = await runAiEffect(op, args, env, ctx);
    if (out !== undefined) return out;
  }
  switch (op) {
    case "random":
      return raw(crypto.getRandomValues(new Uint8Array(Number(args))));
    case "body.read":
      return raw(await readBody(request, args.max));
    case "body.form":
      return json(await formSummary(request, args));

    case "d1.first":
      return json(await prepare(binding(env, "DB"), args).first());
    case "d1.all":
      return json((await prepare(binding(env, "DB"), args).all()).results);
    case "d1.run": {
      const { meta } = await prepare(binding(env, "DB"), args).run();
      return json({ changes: meta.changes, lastRowId: meta.last_row_id });
    }
    case "d1.batch": {
      const db = binding(env, "DB");
      const out = await db.batch(args.statements.map((s) => prepare(db, s)));
      return json(out.map((r) => ({ results: r.results ?? [], changes: r.meta?.changes ?? 0 })));
    }

    case "zlib.inflate": {
      // {data: base64url of zlib-wrapped deflate bytes (PDF FlateDecode), max}. Inflated with the
      // platform's DecompressionStream, bounded by the core's limit so a zip bomb stops early.
      const max = Number(args.max);
      const stream = new Blob([b64urlToBytes(args.data)]).stream().pipeThrough(new DecompressionStream("deflate"));
      return raw(await readBody({ body: stream }, max));
    }

    // R2 (binding BUCKET). Small objects travel through the core as base64url; uploads stream
    // from the request body straight into R2 (r2.put_body), so big files never enter Wasm memory.
    case "r2.put": {
      const obj = await binding(env, "BUCKET").put(args.key, b64urlToBytes(args.data), r2Options(args));
      return json({ key: obj.key, size: obj.size, etag: obj.etag });
    }
    case "r2.put_body":
      return json(await putRequestBody(binding(env, "BUCKET"), request, args));
    case "r2.get": {
      const obj = await binding(env, "BUCKET").get(args.key, args.range ? { range: args.range } : undefined);
      if (!obj) throw new EffectError("not_found", "no such object");
      if (obj.size > args.max && !args.range) throw new EffectError("too_large", `object exceeds ${args.max} bytes`);
      return raw(new Uint8Array(await obj.arrayBuffer()));
    }
    case "r2.head": {
      const obj = await binding(env, "BUCKET").head(args.key);
      return json(obj && {
        key: obj.key, size: obj.size, etag: obj.etag, uploaded: obj.uploaded.getTime(),
        contentType: obj.httpMetadata?.contentType ?? null, customMetadata: obj.customMetadata ?? {},
      });
    }
    case "r2.delete":
      await binding(env, "BUCKET").delete(args.keys);
      return json(true);
    case "r2.list": {
      const page = await binding(env, "BUCKET").list({ prefix: args.prefix, cursor: args.cursor, limit: args.limit });
      return json({
        objects: page.objects.map((o) => ({ key: o.key, size: o.size, uploaded: o.uploaded.getTime() })),
        cursor: page.truncated ? page.cursor : null,
      });
    }

    // Background work: the core hands over a message ({jobId}); the queue consumer (worker.js) gives
    // it back to the core later, after delaySeconds when the core asks for a delay (a retry's
    // backoff). Without a queue binding an immediate job runs after the response instead, and a
    // delayed one is left to the cron sweeper (the job is recorded in D1 either way).
    case "job.enqueue": {
      const delaySeconds = Number(args.delaySeconds) || 0;
      if (env.JOBS) {
        await env.JOBS.send(args.body, delaySeconds > 0 ? { contentType: "json", delaySeconds } : { contentType: "json" });
        return json({ via: "queue" });
      }
      if (delaySeconds > 0) return json({ via: "deferred" });
      if (!ctx?.waitUntil || !ctx.runJob) throw new EffectError("unavailable", "no JOBS queue and no waitUntil");
      ctx.waitUntil(ctx.runJob(args.body).then((r) => r.body?.cancel()));
      return json({ via: "waitUntil" });
    }

    // Outbound HTTP with an incrementally read body (src/bindings/http_fetch.hpp): LLM providers.
    // ctx.upstreams holds {reader, controller, readError?} per open body; ai.stream adds its
    // streams there too, so fetch.read / fetch.abort serve both.
    case "fetch.start": {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new EffectError("timeout", "no answer in time")),
        Number(args.timeoutMs) || 30_000);
      let res;
      try {
        res = await fetch(args.url, {
          method: args.method || "POST", headers: args.headers, body: args.body || undefined,
          signal: controller.signal,
        });
      } catch (e) {
        throw e instanceof EffectError ? e : controller.signal.aborted
          ? new EffectError("timeout", "no answer in time")
          : new EffectError("unavailable", `fetch failed: ${e?.message ?? e}`);
      } finally {
        clearTimeout(timer);
      }
      ctx.upstreamSeq = (ctx.upstreamSeq ?? 0) + 1;
      const id = ctx.upstreamSeq;
      ctx.upstreams.set(id, { reader: res.body?.getReader() ?? null, controller });
      return json({ status: res.status, headers: Object.fromEntries(res.headers), stream: id });
    }
    case "fetch.read": {
      const up = ctx.upstreams.get(args.stream);
      if (!up) throw new EffectError("invalid", "no such upstream stream");
      let chunk;
      try {
        chunk = up.reader ? await up.reader.read() : { done: true };
      } catch (e) {
        throw up.readError ? up.readError(e) : e;
      }
      const { done, value } = chunk;
      if (done) {
        ctx.upstreams.delete(args.stream);
        return raw(new Uint8Array(0));
      }
      return raw(value);
    }
    case "fetch.abort": {
      const up = ctx.upstreams.get(args.stream);
      ctx.upstreams.delete(args.stream);
      up?.controller.abort();
      return json(true);
    }

    // Streamed responses (src/http/stream.hpp): the head goes out at once, then chunk by chunk.
    case "stream.open":
      if (!ctx?.stream) throw new EffectError("unavailable", "streaming is not available here");
      if (args.log) console.log(String(args.log));  // headers the core dropped from this head
      ctx.stream.start(args.status, args.headers);
      return json(true);
    case "stream.write":
      try {
        await ctx.stream.write(args);
      } catch (e) {
        throw new EffectError("cancelled", `client gone: ${e?.message ?? e}`);
      }
      return json(true);

    // Resumable stream logs (binding STREAM_LOG): one Durable Object per log, see
    // effects-streamlog.js for the shapes and js-shim/stream-log.js for the object.
    case "streamlog.create":
    case "streamlog.append":
    case "streamlog.info":
    case "streamlog.close":
    case "streamlog.delete":
      return runStreamLogEffect(op, args, env);

    // Rate limits (binding RATE_LIMITER): one Durable Object per route group and caller, see
    // effects-ratelimit.js and js-shim/rate-limiter.js.
    case "ratelimit.check":
      return runRateLimitEffect(op, args, env);

    // A structured log line from the core (one per provider call): printed as is, like the
    // request's own access-log line.
    case "log.write":
      console.log(String(args.line));
      return json(true);

    // A cooperative yield (src/bindings/sched.hpp): resume on a later macrotask, so requests and
    // I/O that queued up while the core worked run first. 1 ms, not 0: workerd runs every ready
    // event before it polls for new I/O, so a chain of 0 ms yields and in-process D1 answers kept
    // new requests waiting (bench section 11: /health p99 during the ingest 22 ms with 0, 15 with 1).
    case "sched.yield":
      await new Promise((resolve) => setTimeout(resolve, 1));
      return json(true);

    case "crypto.pbkdf2": {
      const base = await crypto.subtle.importKey("raw", encoder.encode(args.password), "PBKDF2",
        false, ["deriveBits"]);
      const bits = await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: b64urlToBytes(args.salt), iterations: args.iterations },
        base, args.bits);
      return raw(new Uint8Array(bits));
    }
    case "crypto.sign": {
      const sig = await crypto.subtle.sign(RS256, await rsaKey(args.jwk, "sign"), encoder.encode(args.data));
      return raw(new Uint8Array(sig));
    }
    case "crypto.verify": {
      const ok = await crypto.subtle.verify(RS256, await rsaKey(args.jwk, "verify"),
        b64urlToBytes(args.signature), encoder.encode(args.data));
      return json(ok);
    }
    case "crypto.generate_rsa": {
      const pair = await crypto.subtle.generateKey(
        { ...RS256, modulusLength: args.bits, publicExponent: new Uint8Array([1, 0, 1]) }, true,
        ["sign", "verify"]);
      return json({ privateJwk: await crypto.subtle.exportKey("jwk", pair.privateKey) });
    }
    case "crypto.import_pem": {
      const body = String(args.pem).replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
      const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
      const key = await crypto.subtle.importKey("pkcs8", der, RS256, true, ["sign"]);
      return json({ privateJwk: await crypto.subtle.exportKey("jwk", key) });
    }
    default:
      throw new EffectError("invalid", `unknown effect op ${op}`);
  }
}

const RAW_PAYLOAD_OPS = new Set(["stream.write"]);

// ctx: waitUntil, runJob(body) and the response stream, supplied by worker.js.
export async function performEffect(effect, request, env, ctx) {
  let args;
  try {
    // stream.write carries its bytes as the payload itself: no JSON round trip per chunk.
    args = RAW_PAYLOAD_OPS.has(effect.op) ? effect.payload
      : effect.payload.length ? JSON.parse(effect.payload) : null;
  } catch {
    return { ok: false, code: "invalid", message: `malformed payload for ${effect.op}` };
  }
  try {
    return await run(effect.op, args, request, env, ctx);
  } catch (e) {
    const err = e instanceof EffectError ? e
      : effect.op.startsWith("d1.") ? d1Error(e)
      : new EffectError("internal", String(e?.message ?? e));
    return { ok: false, code: err.code, message: err.message };
  }
}
