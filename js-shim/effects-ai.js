// Workers AI (binding AI) and Vectorize (binding VECTOR_INDEX) effects. Like effects.js, each op is
// a direct call to a binding: no limits or batching rules live here (the core owns them); this file
// only checks the shapes it must decode and turns platform errors into the core's codes.
//
// EffectError comes from effects.js, which in turn delegates to runAiEffect: the import cycle is
// safe because EffectError is only touched when an op runs, never while the modules load.
import { EffectError } from "./effects.js";

const json = (v) => ({ ok: true, data: JSON.stringify(v ?? null) });
const raw = (u8) => ({ ok: true, data: u8 });

function binding(env, name) {
  const b = env?.[name];
  if (!b) throw new EffectError("unavailable", `binding ${name} is not configured`);
  return b;
}

const invalid = (msg) => new EffectError("invalid", msg);
const isNumbers = (a) => (Array.isArray(a) || a instanceof Float32Array || a instanceof Float64Array);
const allFinite = (a) => { for (const x of a) if (typeof x !== "number" || !Number.isFinite(x)) return false; return true; };

// A platform error's text, with anything that could be a credential or an account/request id
// removed, and bounded: it travels back into the core and may end up in logs.
function scrub(e) {
  const first = String(e?.message ?? e ?? "").split("\n", 1)[0];
  return first
    .replace(/\bbearer\s+\S+/gi, "Bearer [redacted]")
    .replace(/\b(authorization|api[-_ ]?key|api[-_ ]?token|secret|password)\b\s*[:=]\s*\S+/gi, "$1=[redacted]")
    .replace(/[A-Za-z0-9_\-+/=]{32,}/g, "[redacted]")
    .slice(0, 300);
}

function isTimeout(e, msg) {
  return e?.name === "TimeoutError" || e?.name === "AbortError" || /\btime(d)?[ -]?out\b|timeout/i.test(msg);
}

// Workers AI error codes (developers.cloudflare.com/workers-ai/platform/errors/). The binding
// throws Errors whose message carries the internal code, e.g. "3040: Capacity temporarily exceeded".
const AI_CODES = new Map([
  [3040, "unavailable"], // out of capacity
  [3036, "unavailable"], // daily free allocation used up
  [4006, "unavailable"], // same, as reported by some models
  [3023, "unavailable"], // account blocked
  [3041, "unavailable"], [5018, "unavailable"], [5016, "unavailable"], // model not allowed / terms
  [3007, "timeout"], [3008, "timeout"], // request timeout / aborted
  [3006, "invalid"], // request too large: an input problem, not a reason to retry
  [5007, "invalid"], [3042, "invalid"], // no such model / invalid model id
  [5006, "invalid"], // input fails the model's schema ("5006: Error: required properties at '/' ...")
  [5004, "invalid"], [3003, "invalid"], [3010, "invalid"], [3039, "invalid"], [5005, "invalid"],
]);

function aiError(op, e) {
  if (e instanceof EffectError) return e;
  const msg = scrub(e);
  const m = /\b([345]\d{3})\s*:/.exec(msg);
  let code = m ? AI_CODES.get(Number(m[1])) : undefined;
  if (!code) {
    if (isTimeout(e, msg)) code = "timeout";
    else if (/capacity|rate[ -]?limit|too many requests|\b429\b|neurons|quota|allocation/i.test(msg)) code = "unavailable";
    else if (/no such model|invalid|bad input|required|\bmust\b|schema|\b400\b/i.test(msg)) code = "invalid";
    else code = "internal";
  }
  return new EffectError(code, `${op}: ${msg || "Workers AI error"}`);
}

// Vectorize binding errors look like "VECTOR_QUERY_ERROR (code = 40026): ..." or
// "VECTOR_UPSERT_ERROR: Status + 500"; 4xxxx codes are request errors, 5xx are the service's.
function vectorizeError(op, e) {
  if (e instanceof EffectError) return e;
  const msg = scrub(e);
  const code = /code\s*=\s*(\d+)/i.exec(msg)?.[1];
  const status = /status\D{0,4}(\d{3})\b/i.exec(msg)?.[1];
  let kind;
  if (isTimeout(e, msg)) kind = "timeout";
  else if (status === "429" || code === "429" || /rate[ -]?limit|too many requests|capacity/i.test(msg)) kind = "unavailable";
  else if (status?.startsWith("5")) kind = "unavailable";
  else if (code?.startsWith("4") || status?.startsWith("4") || /invalid|must|exceed/i.test(msg)) kind = "invalid";
  else kind = "internal";
  return new EffectError(kind, `${op}: ${msg || "Vectorize error"}`);
}

// ai.embed reply → [u32 dims][u32 n][n×dims f32], all little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function packEmbeddings(reply, n) {
  const rows = reply?.data;
  if (!Array.isArray(rows) || rows.length !== n) {
    throw invalid(`ai.embed: expected ${n} embeddings, got ${Array.isArray(rows) ? rows.length : typeof rows}`);
  }
  const dims = n ? rows[0]?.length : 0;
  if (!Number.isInteger(dims) || dims <= 0) throw invalid("ai.embed: empty or malformed embedding");
  const shape = reply.shape;
  if (shape !== undefined && (!Array.isArray(shape) || shape[0] !== n || shape[1] !== dims)) {
    throw invalid(`ai.embed: reply shape ${JSON.stringify(shape)} does not match [${n},${dims}]`);
  }
  const out = new Uint8Array(8 + n * dims * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, dims, true);
  view.setUint32(4, n, true);
  const floats = LITTLE_ENDIAN ? new Float32Array(out.buffer, 8, n * dims) : null;
  rows.forEach((row, i) => {
    if (!isNumbers(row) || row.length !== dims || !allFinite(row)) {
      throw invalid(`ai.embed: embedding ${i} is not ${dims} finite numbers`);
    }
    if (floats) floats.set(row, i * dims);
    else for (let j = 0; j < dims; j++) view.setFloat32(8 + (i * dims + j) * 4, row[j], true);
  });
  return out;
}

async function aiEmbed(env, args) {
  const ai = binding(env, "AI");
  const { model, texts } = args ?? {};
  if (typeof model !== "string" || !model) throw invalid("ai.embed: model must be a non-empty string");
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === "string")) {
    throw invalid("ai.embed: texts must be a non-empty array of strings");
  }
  let reply;
  try {
    reply = await ai.run(model, { text: texts });
  } catch (e) {
    throw aiError("ai.embed", e);
  }
  return raw(packEmbeddings(reply, texts.length));
}

async function aiRun(env, args) {
  const ai = binding(env, "AI");
  const { model, input } = args ?? {};
  if (typeof model !== "string" || !model) throw invalid("ai.run: model must be a non-empty string");
  if (!input || typeof input !== "object" || Array.isArray(input)) throw invalid("ai.run: input must be an object");
  if (input.stream) throw invalid("ai.run: streaming is not supported by this effect");
  let out;
  try {
    out = await ai.run(model, input);
  } catch (e) {
    throw aiError("ai.run", e);
  }
  if (out instanceof ReadableStream) {
    await out.cancel().catch(() => {});
    throw invalid("ai.run: the model returned a stream; only JSON results are supported");
  }
  if (out instanceof ArrayBuffer || ArrayBuffer.isView(out)) {
    throw invalid("ai.run: the model returned binary output; only JSON results are supported");
  }
  return json(out);
}

// A streamed run: the binding's text/event-stream is registered with the request's open upstreams
// (ctx.upstreams, like fetch.start) so the core reads it with fetch.read and cancels it with
// fetch.abort; whatever is still open when the request ends is cancelled by worker.js.
async function aiStream(env, args, ctx) {
  const ai = binding(env, "AI");
  const { model, input } = args ?? {};
  if (typeof model !== "string" || !model) throw invalid("ai.stream: model must be a non-empty string");
  if (!input || typeof input !== "object" || Array.isArray(input)) throw invalid("ai.stream: input must be an object");
  if (!ctx?.upstreams) throw new EffectError("unavailable", "ai.stream: no request to attach the stream to");
  let out;
  try {
    out = await ai.run(model, { ...input, stream: true });
  } catch (e) {
    throw aiError("ai.stream", e);
  }
  if (!(out instanceof ReadableStream)) {
    throw invalid("ai.stream: the model did not return a stream");
  }
  const reader = out.getReader();
  ctx.upstreamSeq = (ctx.upstreamSeq ?? 0) + 1;
  const id = ctx.upstreamSeq;
  ctx.upstreams.set(id, {
    reader,
    controller: { abort: () => { reader.cancel().catch(() => {}); } },
    // A model failing mid-stream errors the stream; its message gets the same scrubbing.
    readError: (e) => aiError("ai.stream", e),
  });
  return json({ status: 200, headers: { "content-type": "text/event-stream" }, stream: id });
}

// Vectorize V2 mutations resolve to {mutationId}; legacy V1 indexes to {count, ids}. Both become
// {count, mutationId}, count being what was submitted when the binding does not say.
const mutation = (r, submitted) => ({
  count: typeof r?.count === "number" ? r.count : submitted,
  mutationId: typeof r?.mutationId === "string" ? r.mutationId : null,
});

async function vectorizeUpsert(env, args) {
  const index = binding(env, "VECTOR_INDEX");
  const vectors = args?.vectors;
  if (!Array.isArray(vectors)) throw invalid("vectorize.upsert: vectors must be an array");
  const batch = vectors.map((v, i) => {
    if (!v || typeof v.id !== "string" || !v.id) throw invalid(`vectorize.upsert: vector ${i} has no id`);
    if (!isNumbers(v.values) || v.values.length === 0 || !allFinite(v.values)) {
      throw invalid(`vectorize.upsert: vector ${i} values must be finite numbers`);
    }
    const out = { id: v.id, values: v.values };
    if (v.namespace !== undefined && v.namespace !== null) out.namespace = String(v.namespace);
    if (v.metadata !== undefined && v.metadata !== null) out.metadata = v.metadata;
    return out;
  });
  if (batch.length === 0) return json({ count: 0, mutationId: null });
  try {
    return json(mutation(await index.upsert(batch), batch.length));
  } catch (e) {
    throw vectorizeError("vectorize.upsert", e);
  }
}

const RETURN_METADATA = new Set(["none", "indexed", "all"]);

async function vectorizeQuery(env, args) {
  const index = binding(env, "VECTOR_INDEX");
  const { vector, topK, namespace, filter, returnMetadata = "none", returnValues } = args ?? {};
  if (!isNumbers(vector) || vector.length === 0 || !allFinite(vector)) {
    throw invalid("vectorize.query: vector must be a non-empty array of finite numbers");
  }
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) throw invalid("vectorize.query: topK must be a positive integer");
  if (!RETURN_METADATA.has(returnMetadata)) throw invalid('vectorize.query: returnMetadata must be "none", "indexed" or "all"');
  if (returnValues) throw invalid("vectorize.query: returnValues is not supported");
  const options = { returnMetadata, returnValues: false };
  if (topK !== undefined) options.topK = topK;
  if (namespace !== undefined && namespace !== null) options.namespace = String(namespace);
  if (filter !== undefined && filter !== null) options.filter = filter;
  let res;
  try {
    res = await index.query(vector, options);
  } catch (e) {
    throw vectorizeError("vectorize.query", e);
  }
  const matches = (res?.matches ?? []).map((m) => {
    const out = { id: m.id, score: m.score };
    if (returnMetadata !== "none" && m.metadata && typeof m.metadata === "object") out.metadata = m.metadata;
    return out;
  });
  return json({ matches });
}

async function vectorizeDelete(env, args) {
  const index = binding(env, "VECTOR_INDEX");
  const ids = args?.ids;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string" && id)) {
    throw invalid("vectorize.delete: ids must be an array of non-empty strings");
  }
  if (ids.length === 0) return json({ count: 0, mutationId: null });
  try {
    return json(mutation(await index.deleteByIds(ids), ids.length));
  } catch (e) {
    throw vectorizeError("vectorize.delete", e);
  }
}

/**
 * Runs one AI/Vectorize effect; `undefined` when `op` is not one of them. Throws EffectError.
 * `ctx` (worker.js's per-request host) is needed only by ai.stream, for its `upstreams` map.
 */
export async function runAiEffect(op, args, env, ctx) {
  switch (op) {
    case "ai.embed": return aiEmbed(env, args);
    case "ai.run": return aiRun(env, args);
    case "ai.stream": return aiStream(env, args, ctx);
    case "vectorize.upsert": return vectorizeUpsert(env, args);
    case "vectorize.query": return vectorizeQuery(env, args);
    case "vectorize.delete": return vectorizeDelete(env, args);
    default: return undefined;
  }
}
