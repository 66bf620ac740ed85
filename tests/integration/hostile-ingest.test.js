// Hostile ingest (issue 11, item 4): a Markdown file of 100,000 one-word headings must not become
// 100,000 chunks, must not hold the isolate while it is built, and the per-document chunk cap and
// per-user storage quota refuse what is over them without leaving anything behind. The suite's
// env (vitest.config.js) sets MAX_CHUNKS_PER_DOCUMENT=5000 and STORAGE_QUOTA_BYTES=2000000 so the
// limits are reached cheaply.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, registerUser } from "./helpers.js";

const HEADINGS = 100_000;
const flood = Array.from({ length: HEADINGS }, (_, i) => `# w${i}\n`).join("");

async function health() {
  const t0 = Date.now();
  const r = await api("GET", "/health");
  expect(r.status).toBe(200);
  return Date.now() - t0;
}

// What a user has left anywhere: document rows, chunk rows, R2 objects under their prefix.
async function leftovers(userId) {
  const [docs, chunks] = await env.DB.batch([
    env.DB.prepare("SELECT COUNT(*) AS n FROM documents WHERE user_id = ?").bind(userId),
    env.DB.prepare("SELECT COUNT(*) AS n FROM chunks WHERE user_id = ?").bind(userId),
  ]);
  const objects = await env.BUCKET.list({ prefix: `${userId}/` });
  return { documents: docs.results[0].n, chunks: chunks.results[0].n, objects: objects.objects.length };
}

describe("hostile ingest", () => {
  const state = {};

  it("packs a 100,000-heading file into few chunks while /health keeps answering", async () => {
    const u = await registerUser();
    state.user = u;
    const idle = [];
    for (let i = 0; i < 5; i++) idle.push(await health());
    const r = await api("POST", "/api/v1/documents", {
      token: u.accessToken, body: { docId: "flood", title: "Flood", content: flood },
    });
    expect(r.status, r.text).toBe(202);  // large: a queued job
    // Poll /health while the job runs: each answer's latency, until the document is ready.
    const during = [];
    let doc;
    const until = Date.now() + 60_000;
    for (;;) {
      during.push(await health());
      const g = await api("GET", "/api/v1/documents/flood", { token: u.accessToken });
      doc = g.json.document;
      if (doc.state === "failed" || (doc.state === "ready" && !doc.job)) break;
      if (Date.now() > until) throw new Error(`still ${doc.state}: ${g.text}`);
    }
    console.info(`hostile-ingest: /health idle max ${Math.max(...idle)} ms; during ingest ` +
      `${during.length} answers, max ${Math.max(...during)} ms`);
    expect(doc.state, JSON.stringify(doc)).toBe("ready");
    const { results } = await env.DB.prepare(
      "SELECT COUNT(*) AS n, SUM(LENGTH(text) + LENGTH(vector) + LENGTH(vid) + LENGTH(heading_path)) " +
        "AS bytes FROM chunks WHERE doc_uid = (SELECT uid FROM documents WHERE user_id = ? AND id = 'flood')",
    ).bind(u.user.id).all();
    const { n, bytes } = results[0];
    console.info(`hostile-ingest: ${flood.length} bytes → ${n} chunks, ${bytes} bytes of chunk rows`);
    expect(doc.chunkCount).toBe(n);
    // ~chars / chunk size: one chunk per heading would be 100,000.
    expect(n).toBeLessThan(2 * Math.ceil(flood.length / 512));
    expect(n).toBeGreaterThan(flood.length / 1024);
    // Text + int8 vector (base64) per ~512 characters: a small multiple of the input, not ×273.
    expect(bytes).toBeLessThan(5 * flood.length);
    // The job yields between slices of work: /health is answered many times while it runs, never
    // held for long (before: one answer, after half a second or more).
    expect(during.length).toBeGreaterThan(5);
    expect(Math.max(...during)).toBeLessThan(500);
  }, 90_000);

  it("refuses input over the storage quota before writing anything (413)", async () => {
    // Over the quota by itself: refused at once.
    const u = await registerUser();
    const big = "word ".repeat(420_000);  // 2.1 MB > STORAGE_QUOTA_BYTES
    expectError(await api("POST", "/api/v1/documents", {
      token: u.accessToken, body: { docId: "big", content: big },
    }), 413, "storage.quota_exceeded");
    expect(await leftovers(u.user.id)).toEqual({ documents: 0, chunks: 0, objects: 0 });
    // Over it with what the user already has indexed (the flood's ~790,000 characters).
    const owner = state.user;
    const before = await leftovers(owner.user.id);
    const more = "word ".repeat(250_000);  // 1.25 MB: fits alone, not beside the flood
    expectError(await api("POST", "/api/v1/documents", {
      token: owner.accessToken, body: { docId: "more", content: more },
    }), 413, "storage.quota_exceeded");
    expect(await leftovers(owner.user.id)).toEqual(before);
    // Re-ingesting the same docId replaces its text, so it is not counted twice.
    const again = await api("POST", "/api/v1/documents", {
      token: owner.accessToken, body: { docId: "flood", content: "# small\n\nnow" },
    });
    expect(again.status, again.text).toBe(201);
  });

  it("refuses a document over the chunk cap before embedding anything (422)", async () => {
    const u = await registerUser();
    // Inline (≤ INGEST_INLINE_BYTES): one chunk per character with chunkSize 1 → 6,000 > 5,000.
    expectError(await api("POST", "/api/v1/documents", {
      token: u.accessToken, body: { docId: "tiny", content: "x".repeat(6000), chunkSize: 1, chunkOverlap: 0 },
    }), 422, "documents.too_many_chunks");
    expect(await leftovers(u.user.id)).toEqual({ documents: 0, chunks: 0, objects: 0 });
    // Queued: the job fails on content (no retry) and the document says why, with no chunks.
    const r = await api("POST", "/api/v1/documents", {
      token: u.accessToken, body: { docId: "queued", content: "x".repeat(12_000), chunkSize: 2, chunkOverlap: 0 },
    });
    expect(r.status, r.text).toBe(202);
    let doc;
    for (const until = Date.now() + 15_000; Date.now() < until;) {
      doc = (await api("GET", "/api/v1/documents/queued", { token: u.accessToken })).json.document;
      if (doc.state === "failed") break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(doc.state).toBe("failed");
    expect(doc.error.code).toBe("documents.too_many_chunks");
    expect((await leftovers(u.user.id)).chunks).toBe(0);
  });
});
