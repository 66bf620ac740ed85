// In-memory stand-ins for the Workers AI (`env.AI`) and Vectorize (`env.VECTOR_INDEX`) bindings,
// speaking the same JS API so effect code can be tested in Miniflare without an account. Tests pass
// these in an env object explicitly. The suite's Worker has no Vectorize binding (proving the offline
// index), and its AI binding is the fake Workers AI service (fake-ai-worker.js), which answers
// embeddings with makeFakeAi below.
//
// Modelled on the documented behaviour:
//  - @cf/baai/bge-base-en-v1.5: input {text: string | string[]} (each non-empty, ≤ 100 items),
//    output {shape: [n, 768], data: number[n][768]}.
//  - Text generation (@cf/meta/llama-*): input {prompt} or {messages}, output {response}.
//  - Vectorize V2: upsert/insert/deleteByIds resolve to {mutationId}; ids are unique per index,
//    a namespace is an attribute of the vector and query({namespace}) searches only that namespace;
//    query returns {count, matches: [{id, score, metadata?, values?}]}; topK ≤ 100, ≤ 20 with
//    returnValues or returnMetadata "all"; upsert batch ≤ 1000; id and namespace ≤ 64 bytes;
//    metadata ≤ 10 KiB; returnMetadata must be the string "none" | "indexed" | "all".
// Unlike the real index, mutations are visible immediately (the real one takes a few seconds).

const encoder = new TextEncoder();
const bytes = (s) => encoder.encode(s).byteLength;

// FNV-1a, 32-bit.
function fnv1a(s, seed = 0x811c9dc5) {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Deterministic, L2-normalised bag-of-words embedding: each lower-cased word adds ±1 at a hashed
 * position (and ±0.5 at a second one), so texts sharing words score higher under cosine.
 */
export function fakeEmbedding(text, dims = 768) {
  const v = new Array(dims).fill(0);
  const words = String(text).toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [String(text)];
  for (const w of words) {
    const h1 = fnv1a(w);
    const h2 = fnv1a(w, 0x9e3779b9);
    v[h1 % dims] += h1 & 0x80000000 ? -1 : 1;
    v[h2 % dims] += h2 & 0x80000000 ? -0.5 : 0.5;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

const EMBEDDING_DIMS = {
  "@cf/baai/bge-small-en-v1.5": 384,
  "@cf/baai/bge-base-en-v1.5": 768,
  "@cf/baai/bge-large-en-v1.5": 1024,
};

function aiError(code, message) {
  const e = new Error(`${code}: ${message}`);
  e.name = "AiError";
  return e;
}

/**
 * A fake `env.AI`. Options:
 *  - `failWith`: an Error (or a function (model, input) → Error | undefined) thrown by run();
 *  - `reply`: a function (model, input) → any, replacing the normal reply (to test bad shapes).
 * `calls` records every run(model, input).
 */
export function makeFakeAi({ failWith, reply } = {}) {
  const calls = [];
  return {
    calls,
    async run(model, input, _options) {
      calls.push({ model, input });
      const failure = typeof failWith === "function" ? failWith(model, input) : failWith;
      if (failure) throw failure;
      if (reply) return reply(model, input);
      if (model in EMBEDDING_DIMS) {
        const text = input?.text;
        const texts = typeof text === "string" ? [text] : text;
        if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string" && t.length > 0)) {
          throw aiError(5006, "Error: required properties at '/' are 'text'; 'text' must be a non-empty string or array of non-empty strings");
        }
        if (texts.length > 100) throw aiError(5006, "Error: at '/text': must NOT have more than 100 items");
        const dims = EMBEDDING_DIMS[model];
        return { shape: [texts.length, dims], data: texts.map((t) => fakeEmbedding(t, dims)) };
      }
      if (/^@cf\/meta\/llama/.test(model)) {
        if (input?.stream) {
          return new ReadableStream({
            start(c) { c.enqueue(encoder.encode('data: {"response":"hi"}\n\ndata: [DONE]\n\n')); c.close(); },
          });
        }
        const prompt = input?.prompt ?? input?.messages?.findLast?.((m) => m.role === "user")?.content;
        if (typeof prompt !== "string" || !prompt) {
          throw aiError(5006, "Error: required properties at '/' are 'prompt' or 'messages'");
        }
        return { response: `echo: ${prompt}`, usage: { prompt_tokens: prompt.length, completion_tokens: 2, total_tokens: prompt.length + 2 } };
      }
      throw aiError(5007, `No such model ${model} or task`);
    },
  };
}

function vectorizeError(kind, code, message) {
  return new Error(`VECTOR_${kind}_ERROR (code = ${code}): ${message}`);
}

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

function matchesFilter(metadata, filter, indexed) {
  return Object.entries(filter).every(([key, cond]) => {
    if (!indexed.has(key)) return false; // only indexed properties are filterable
    const v = getPath(metadata ?? {}, key);
    const ops = cond !== null && typeof cond === "object" && !Array.isArray(cond) ? cond : { $eq: cond };
    return Object.entries(ops).every(([op, arg]) => {
      switch (op) {
        case "$eq": return v === arg;
        case "$ne": return v !== arg;
        case "$in": return arg.includes(v);
        case "$nin": return !arg.includes(v);
        case "$lt": return v !== undefined && v < arg;
        case "$lte": return v !== undefined && v <= arg;
        case "$gt": return v !== undefined && v > arg;
        case "$gte": return v !== undefined && v >= arg;
        default: throw vectorizeError("QUERY", 40008, `unsupported filter operator ${op}`);
      }
    });
  });
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * A fake `env.VECTOR_INDEX` (cosine metric). Options: `dimensions` (768), `metadataIndexes`
 * (property names filterable and returned by returnMetadata "indexed"), `legacyV1` (mutations
 * resolve to {count, ids} like a V1 index), `failWith` (Error or (method, args) → Error).
 * `vectors` exposes the stored Map (id → {id, values, namespace, metadata}).
 */
export function makeFakeVectorize({ dimensions = 768, metadataIndexes = [], legacyV1 = false, failWith } = {}) {
  const vectors = new Map();
  const indexed = new Set(metadataIndexes);
  let seq = 0;
  const fail = (method, args) => {
    const f = typeof failWith === "function" ? failWith(method, args) : failWith;
    if (f) throw f;
  };
  const mutation = (ids) => {
    seq += 1;
    return legacyV1 ? { count: ids.length, ids } : { mutationId: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}` };
  };
  const check = (v, kind) => {
    if (typeof v?.id !== "string" || !v.id || bytes(v.id) > 64) throw vectorizeError(kind, 40003, "invalid vector id (1-64 bytes)");
    const values = Array.from(v.values ?? []);
    if (values.length !== dimensions) {
      throw vectorizeError(kind, 40012, `invalid vector for id="${v.id}", expected ${dimensions} dimensions, and got ${values.length} dimensions`);
    }
    if (v.namespace !== undefined && (typeof v.namespace !== "string" || bytes(v.namespace) > 64)) {
      throw vectorizeError(kind, 40014, "invalid namespace (at most 64 bytes)");
    }
    if (v.metadata !== undefined && bytes(JSON.stringify(v.metadata)) > 10240) {
      throw vectorizeError(kind, 40013, "metadata too large (at most 10 KiB)");
    }
    return { id: v.id, values: values.map(Math.fround), namespace: v.namespace, metadata: v.metadata };
  };
  const write = (list, kind, overwrite) => {
    fail(kind.toLowerCase(), list);
    if (!Array.isArray(list) || list.length === 0) throw vectorizeError(kind, 40001, "no vectors given");
    if (list.length > 1000) throw vectorizeError(kind, 40005, "too many vectors in one batch (max 1000)");
    const checked = list.map((v) => check(v, kind));
    const written = [];
    for (const v of checked) {
      if (!overwrite && vectors.has(v.id)) continue;
      vectors.set(v.id, v);
      written.push(v.id);
    }
    return mutation(written);
  };
  const pickMetadata = (md, mode) => {
    if (mode === "all") return md;
    return md && Object.fromEntries(Object.entries(md).filter(([k]) => indexed.has(k)));
  };
  return {
    vectors,
    async describe() {
      return { dimensions, metric: "cosine", vectorCount: vectors.size };
    },
    async insert(list) { return write(list, "INSERT", false); },
    async upsert(list) { return write(list, "UPSERT", true); },
    async query(vector, options = {}) {
      fail("query", [vector, options]);
      const { topK = 5, namespace, filter, returnValues = false, returnMetadata = "none" } = options;
      if (typeof returnMetadata !== "string" || !["none", "indexed", "all"].includes(returnMetadata)) {
        throw vectorizeError("QUERY", 40026, "invalid returnMetadata; expected \"none\", \"indexed\" or \"all\"");
      }
      const max = returnValues || returnMetadata === "all" ? 20 : 100;
      if (!Number.isInteger(topK) || topK < 1 || topK > max) throw vectorizeError("QUERY", 40025, `invalid topK ${topK}; must be 1..${max}`);
      const q = Array.from(vector ?? []);
      if (q.length !== dimensions) throw vectorizeError("QUERY", 40012, `query vector has ${q.length} dimensions, expected ${dimensions}`);
      if (filter !== undefined && bytes(JSON.stringify(filter)) >= 2048) throw vectorizeError("QUERY", 40027, "filter too large");
      const scored = [];
      for (const v of vectors.values()) {
        if (namespace !== undefined && v.namespace !== namespace) continue;
        if (filter && !matchesFilter(v.metadata, filter, indexed)) continue;
        scored.push({ v, score: cosine(q, v.values) });
      }
      scored.sort((a, b) => b.score - a.score || (a.v.id < b.v.id ? -1 : 1));
      const matches = scored.slice(0, topK).map(({ v, score }) => {
        const m = { id: v.id, score };
        if (returnValues) m.values = v.values;
        if (returnMetadata !== "none" && v.metadata) m.metadata = pickMetadata(v.metadata, returnMetadata);
        if (v.namespace !== undefined) m.namespace = v.namespace;
        return m;
      });
      return { count: matches.length, matches };
    },
    async getByIds(ids) {
      return ids.filter((id) => vectors.has(id)).map((id) => structuredClone(vectors.get(id)));
    },
    async deleteByIds(ids) {
      fail("deleteByIds", ids);
      const removed = ids.filter((id) => vectors.delete(id));
      return mutation(removed);
    },
  };
}
