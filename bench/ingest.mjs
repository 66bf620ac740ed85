// Section 7 of `npm run bench`: ingest and search end to end, through the real Worker over HTTP on
// local workerd. bench/run.mjs starts edgechat (bundled, Miniflare, D1 on tmpfs, with
// INGEST_INLINE_BYTES raised so the whole document is built inside the POST) and hands the URL
// here; this module does the requests and the arithmetic, and never throws for a failed request:
// a non-2xx answer is recorded (status + body text) and the figures that needed it say n/a.
//
// Offline defaults throughout: the lexical embedder (hashing, in the core), the local vector index
// (int8 rows in D1, loaded into the isolate on the first search after a change) and FTS5.
import { makeCorpus } from "./rag/corpus.mjs";
import { median, percentile } from "./wasm-core.mjs";

export const INGEST_BINDINGS = { INGEST_INLINE_BYTES: "4194304" };
export const DOC_ID = "bench-1mb";
const DOC_BYTES = 1_000_000;
const DOC_SEED = 0x1d0c;

// Words and phrases from the corpus generator's vocabulary (bench/rag/corpus.mjs), so every query
// has matches; one accented, one Japanese (FTS5's unicode61 keeps a run of kana/kanji as one
// token, so that one is mostly a vector-side query).
const QUERIES = [
  "vector index retrieval",
  "chunk overlap boundary",
  "harbour village mountain river",
  "embedding cosine similarity score",
  "Zürich café crème brûlée",
  "latency of the edge worker",
  "sentence paragraph heading structure",
  "network storage memory buffer",
  "evidence pattern context summary",
  "ベクトルの類似度はコサインで測ります",
];

async function timed(url, init) {
  const t0 = performance.now();
  let status = 0, text = "";
  try {
    const res = await fetch(url, init);
    status = res.status;
    text = await res.text();
  } catch (e) {
    text = `fetch failed: ${e?.cause?.message ?? e?.message ?? e}`;
  }
  const ms = performance.now() - t0;
  let body = null;
  try { body = JSON.parse(text); } catch { /* kept as text */ }
  return { status, ms, body, text };
}

const failure = (what, r) => ({ what, status: r.status, body: r.text.slice(0, 500) });
const r2 = (x) => +x.toFixed(2);

function summarize(samples) {
  if (!samples.length) return { n: 0, medianMs: null, p95Ms: null };
  return {
    n: samples.length, medianMs: r2(median(samples)), p95Ms: r2(percentile(samples, 95)),
    minMs: r2(Math.min(...samples)), maxMs: r2(Math.max(...samples)),
  };
}

/**
 * @param {object} o
 * @param {string} o.url       the Worker's base URL (no trailing slash)
 * @param {boolean} o.quick
 * @param {(batch) => Promise<any[]>} [o.sql]  runs SQL on the Worker's D1 (for the generation check)
 */
export async function benchIngest({ url, quick, sql }) {
  const out = { failures: [] };
  const json = (token, body) => ({
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

  // 1. an account
  const username = `bench_ingest_${Math.random().toString(36).slice(2, 10)}`;
  const reg = await timed(`${url}/api/v1/auth/register`, json(null, { username, password: "bench-password-1" }));
  if (reg.status !== 201 || !reg.body?.accessToken) {
    out.failures.push(failure("POST /api/v1/auth/register", reg));
    out.error = `register answered ${reg.status}: ${reg.text.slice(0, 200)}`;
    return out;
  }
  const token = reg.body.accessToken;

  // 2. the document
  const content = makeCorpus(DOC_BYTES, DOC_SEED);
  const bytes = Buffer.byteLength(content);
  const nonAscii = bytes - content.length; // every char is in the BMP: extra UTF-8 bytes only
  const headings = (content.match(/^#{1,3} /gm) ?? []).length;
  const reqBody = JSON.stringify({ docId: DOC_ID, title: "Bench 1 MB Markdown", content });
  out.document = {
    docId: DOC_ID, bytes, chars: content.length, headings,
    requestBodyBytes: Buffer.byteLength(reqBody), nonAsciiExtraBytes: nonAscii,
  };

  // 3. ingest ×3 (the same docId: each builds a new generation and retires the previous one),
  // each followed by one search that has to load the fresh local index from D1 (cold).
  const runs = [];
  const cold = [];
  const reps = 3;
  for (let i = 0; i < reps; i++) {
    const r = await timed(`${url}/api/v1/documents`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: reqBody,
    });
    const doc = r.body?.document;
    if (r.status !== 201 || typeof doc?.chunkCount !== "number") {
      out.failures.push(failure(`POST /api/v1/documents #${i + 1}`, r));
      runs.push({ status: r.status, ms: r2(r.ms), error: r.text.slice(0, 300) });
      continue;
    }
    const s = r.ms / 1000;
    runs.push({
      status: r.status, ms: r2(r.ms), chunkCount: doc.chunkCount, state: doc.state,
      chunksPerS: +(doc.chunkCount / s).toFixed(1), mbPerS: +(bytes / 1e6 / s).toFixed(3),
      embeddingModel: doc.embeddingModel, vectorStore: doc.vectorStore,
    });
    const c = await timed(`${url}/api/v1/search`, json(token, { query: QUERIES[i % QUERIES.length], topK: 10 }));
    if (c.status !== 200) {
      out.failures.push(failure(`cold POST /api/v1/search after ingest #${i + 1}`, c));
      cold.push({ status: c.status, ms: r2(c.ms) });
    } else {
      cold.push({ status: c.status, ms: r2(c.ms), hits: c.body.results?.length ?? 0 });
    }
  }
  const ok = runs.filter((r) => r.status === 201);
  out.ingest = {
    runs,
    medianMs: ok.length ? r2(median(ok.map((r) => r.ms))) : null,
    chunkCount: ok[0]?.chunkCount ?? null,
    embeddingModel: ok[0]?.embeddingModel ?? null,
    vectorStore: ok[0]?.vectorStore ?? null,
  };
  if (ok.length) {
    const s = out.ingest.medianMs / 1000;
    out.ingest.chunksPerS = +(out.ingest.chunkCount / s).toFixed(1);
    out.ingest.mbPerS = +(bytes / 1e6 / s).toFixed(3);
  }
  const coldOk = cold.filter((c) => c.status === 200).map((c) => c.ms);
  out.coldSearch = { runs: cold, medianMs: coldOk.length ? r2(median(coldOk)) : null, mode: "hybrid" };

  // Old generations gone? (rows per generation in chunks, after the last re-ingest)
  if (sql) {
    try {
      const [rows] = await sql([{ sql: "SELECT generation, COUNT(*) AS n FROM chunks GROUP BY generation ORDER BY generation" }]);
      out.chunkRowsByGeneration = Object.fromEntries(rows.map((r) => [r.generation, r.n]));
    } catch (e) {
      out.chunkRowsByGeneration = { error: String(e?.message ?? e) };
    }
  }

  // 4. warm search latency per mode, sequential, queries round-robin
  out.search = {};
  const plan = [
    ["hybrid", quick ? 30 : 60],
    ["vector", quick ? 15 : 30],
    ["keyword", quick ? 15 : 30],
  ];
  for (const [mode, n] of plan) {
    const body = (q) => (mode === "hybrid" ? { query: q, topK: 10 } : { query: q, topK: 10, mode });
    const samples = [], hits = [];
    const byQuery = new Map();
    let failed = 0;
    for (let i = 0; i < 3 + n; i++) {
      const q = QUERIES[i % QUERIES.length];
      const r = await timed(`${url}/api/v1/search`, json(token, body(q)));
      if (r.status !== 200) {
        failed++;
        if (failed <= 3) out.failures.push(failure(`POST /api/v1/search mode=${mode} "${q}"`, r));
        continue;
      }
      if (i < 3) continue; // warm-up
      samples.push(r.ms);
      hits.push(r.body.results?.length ?? 0);
      if (!byQuery.has(q)) byQuery.set(q, []);
      byQuery.get(q).push(r.ms);
    }
    const perQuery = [...byQuery].map(([query, xs]) => ({ query, n: xs.length, medianMs: r2(median(xs)) }))
      .sort((a, b) => b.medianMs - a.medianMs);
    out.search[mode] = {
      ...summarize(samples), warmup: 3, failed,
      meanHits: hits.length ? +(hits.reduce((a, b) => a + b, 0) / hits.length).toFixed(1) : null,
      queries: QUERIES.length, perQuery,
    };
  }
  return out;
}
