// Section 11 of `npm run bench`: is the isolate still fair while the worst document ingests?
// A Markdown file of 100,000 one-word headings ("# w0\n# w1\n…", 888,890 bytes) is posted as
// content, which makes it a queued ingest job (it is over INGEST_INLINE_BYTES); while the job runs
// in the same Worker, GET /health is sent one request at a time and each is timed (client fetch()
// to the end of the body). The same number of /health requests first, with nothing else running,
// give the idle figures. Target: p99 during the ingest ≤ 2 × p99 idle.
import { percentile } from "./wasm-core.mjs";

export const HEADINGS = 100_000;
const round = (x, d = 2) => (x === null ? null : +x.toFixed(d));

export function headingFlood(n = HEADINGS) {
  return Array.from({ length: n }, (_, i) => `# w${i}\n`).join("");
}

// A request that fails (connection reset, …) counts with the time it took and status 0.
async function timedHealth(url) {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/health`);
    await res.arrayBuffer();
    return { ms: performance.now() - t0, status: res.status };
  } catch (e) {
    return { ms: performance.now() - t0, status: 0, error: String(e?.cause?.message ?? e?.message ?? e) };
  }
}

function stats(xs) {
  if (!xs.length) return { n: 0, p50Ms: null, p99Ms: null, maxMs: null };
  const max = xs.reduce((a, b) => (b > a ? b : a), 0);  // spreading 100,000s of samples overflows
  return { n: xs.length, p50Ms: round(percentile(xs, 50)), p99Ms: round(percentile(xs, 99)), maxMs: round(max) };
}

/**
 * @param {object} o
 * @param {string} o.url  the Worker's base URL
 * @param {(batch) => Promise<any[]>} o.sql  SQL on the Worker's D1 (chunk rows and their bytes)
 * @param {boolean} o.quick
 */
export async function benchHostile({ url, sql, quick }) {
  const out = { failures: [] };
  const username = `bench_hostile_${Math.random().toString(36).slice(2, 10)}`;
  const reg = await fetch(`${url}/api/v1/auth/register`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "bench-password-1" }),
  });
  const account = await reg.json().catch(() => null);
  if (reg.status !== 201 || !account?.accessToken) return { error: `register answered ${reg.status}` };
  const auth = { authorization: `Bearer ${account.accessToken}` };

  // Idle: warm-up, then as many /health requests as the ingest is expected to overlap.
  const idleN = quick ? 300 : 600;
  for (let i = 0; i < 20; i++) await timedHealth(url);
  const idle = [];
  for (let i = 0; i < idleN; i++) idle.push((await timedHealth(url)).ms);

  // Three ingests of the file, one after the other (docIds flood-1..3), so the figures during
  // an ingest rest on as many requests as the idle ones.
  const content = headingFlood();
  out.document = { headings: HEADINGS, bytes: Buffer.byteLength(content) };
  out.runs = [];
  const during = [];
  for (let run = 1; run <= 3; run++) {
    const docId = `flood-${run}`;
    const t0 = performance.now();
    const post = await fetch(`${url}/api/v1/documents`, {
      method: "POST", headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify({ docId, title: "Heading flood", content }),
    });
    const posted = await post.json().catch(() => null);
    const r = { docId, postMs: round(performance.now() - t0), postStatus: post.status };
    out.runs.push(r);
    if (post.status !== 202) {
      out.failures.push({ what: `POST ${docId}`, status: post.status, body: JSON.stringify(posted).slice(0, 300) });
      continue;
    }
    // During: /health back to back; the document's state every 25th request (not timed).
    let doc = null;
    const deadline = performance.now() + 180_000;
    for (let i = 0; ; i++) {
      const h = await timedHealth(url);
      if (h.status !== 200) out.failures.push({ what: "GET /health", status: h.status, body: h.error ?? "" });
      during.push(h.ms);
      if (i % 25 === 24) {
        const g = await fetch(`${url}/api/v1/documents/${docId}`, { headers: auth }).catch(() => null);
        doc = (await g?.json().catch(() => null))?.document ?? doc;
        if (doc && (doc.state === "failed" || (doc.state === "ready" && !doc.job))) break;
      }
      if (performance.now() > deadline) {
        out.failures.push({ what: "ingest", status: 0, body: `not ready after 180 s: ${JSON.stringify(doc)}` });
        break;
      }
    }
    r.ingestMs = round(performance.now() - t0);
    r.state = doc?.state ?? null;
    r.errorCode = doc?.error?.code ?? null;
    r.chunkCount = doc?.chunkCount ?? null;
  }
  try {
    const [rows] = await sql([{
      sql: "SELECT COUNT(*) AS n, SUM(LENGTH(text) + LENGTH(vector) + LENGTH(vid) + LENGTH(heading_path)) AS bytes " +
        "FROM chunks WHERE doc_uid = (SELECT uid FROM documents WHERE id = 'flood-1' AND user_id = ?1)",
      params: [account.user.id],
    }]);
    out.chunkRows = rows[0]?.n ?? null;
    out.chunkRowBytes = rows[0]?.bytes ?? null;
  } catch (e) {
    out.chunkRows = { error: String(e?.message ?? e) };
  }
  out.idle = stats(idle);
  out.during = stats(during);
  out.ratioP99 = out.idle.p99Ms && out.during.p99Ms ? round(out.during.p99Ms / out.idle.p99Ms) : null;
  return out;
}
