// Documents end to end through the real Worker: ingest (inline and queued), extraction (PDF from
// a real tool), search in every mode, re-ingest, delete, the knowledge graph, isolation and
// hostile input. The suite runs with INGEST_INLINE_BYTES = 8 KiB (vitest.config.js), so bigger
// inputs go through the JOBS queue and its consumer (js-shim/worker.js `queue`).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, registerUser, ISO_MS } from "./helpers.js";

const fixture = (name) => Uint8Array.from(atob(env.TEST_FIXTURES[name]), (c) => c.charCodeAt(0));

async function ingest(token, body, path = "/api/v1/documents") {
  return api("POST", path, { token, body });
}

async function waitReady(token, id, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await api("GET", `/api/v1/documents/${id}`, { token });
    const state = r.json?.document?.state;
    if ((state === "ready" && !r.json.document.job) || state === "failed") return r.json.document;
    if (Date.now() > until) throw new Error(`document ${id} still ${state}: ${r.text}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function search(token, body) {
  const r = await api("POST", "/api/v1/search", { token, body });
  expect(r.status, r.text).toBe(200);
  return r.json;
}

const CORPUS = [
  { docId: "kitchen", title: "Sourdough guide", content: "# Sourdough\n\nFeed the sourdough starter with flour and water every day. A healthy starter doubles in size within eight hours.\n\n## Baking\n\nBake the loaf in a preheated dutch oven at 250 degrees for twenty minutes with the lid on." },
  { docId: "garden", title: "Tomato notes", content: "Tomatoes need six hours of direct sunlight. Water tomato plants deeply at the base, never on the leaves, to prevent blight." },
  { docId: "bikes", title: "Bicycle care", content: "Lubricate the bicycle chain every two hundred kilometres. Check tyre pressure weekly; road tyres need about seven bar.", metadata: { topic: "bikes", level: 2 } },
];

async function corpusUser() {
  const u = await registerUser();
  for (const d of CORPUS) {
    const r = await ingest(u.accessToken, d);
    expect(r.status, r.text).toBe(201);
  }
  return u;
}

describe("documents: ingest, search, delete", () => {
  it("ingests small text inline and finds each passage in every mode", async () => {
    const u = await corpusUser();
    const queries = [
      ["how often should I feed the starter", "kitchen"],
      ["tomato blight leaves", "garden"],
      ["bicycle chain lubricate", "bikes"],
    ];
    for (const mode of ["vector", "keyword", "hybrid"]) {
      for (const [query, expected] of queries) {
        const r = await search(u.accessToken, { query, mode, topK: 3 });
        expect(r.mode).toBe(mode);
        expect(r.results.length, `${mode}: ${query}`).toBeGreaterThan(0);
        expect(r.results[0].documentId, `${mode}: ${query}`).toBe(expected);
      }
    }
    const h = await search(u.accessToken, { query: "dutch oven baking temperature", topK: 2 });
    const top = h.results[0];
    expect(top).toMatchObject({ documentId: "kitchen", title: "Sourdough guide", headingPath: ["Sourdough", "Baking"] });
    expect(top.text).toContain("dutch oven");
    expect(top.charEnd).toBeGreaterThan(top.charStart);
    expect(top.scores.vector).toBeGreaterThan(0);
    expect(top.scores.keyword).toBeGreaterThan(0);
    expect(h.embeddingModel).toBe("edgechat-lexical-hash-768-v1");
  });

  it("filters by documentIds, metadata and threshold", async () => {
    const u = await corpusUser();
    const only = await search(u.accessToken, { query: "water", documentIds: ["garden"] });
    expect(only.results.every((r) => r.documentId === "garden")).toBe(true);
    expect(only.results.length).toBeGreaterThan(0);
    const meta = await search(u.accessToken, { query: "water chain tyre", metadata: { topic: "bikes" } });
    expect(meta.results.map((r) => r.documentId)).toEqual(["bikes"]);
    const none = await search(u.accessToken, { query: "tomato", mode: "vector", threshold: 0.99 });
    expect(none.results).toEqual([]);
    // The widest filters and topK still fit D1's 100 bound parameters per statement.
    const ids = ["kitchen", "garden", "bikes", ...Array.from({ length: 47 }, (_, i) => `other-${i}`)];
    const eight = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, i]));
    const wide = await api("POST", "/api/v1/search", {
      token: u.accessToken, body: { query: "water tomato chain starter", topK: 50, documentIds: ids, metadata: eight },
    });
    expect(wide.status, wide.text).toBe(200);
    expect(wide.json.results).toEqual([]);  // no document has all eight metadata keys
    const wideNoMeta = await search(u.accessToken, { query: "water tomato chain starter the", topK: 50, documentIds: ids });
    expect(wideNoMeta.results.length).toBeGreaterThan(2);
  });

  it("lists with pagination and filters, and re-ingesting a docId replaces its chunks", async () => {
    const u = await corpusUser();
    const page1 = await api("GET", "/api/v1/documents?limit=2", { token: u.accessToken });
    expect(page1.json.documents).toHaveLength(2);
    const page2 = await api("GET", `/api/v1/documents?limit=2&cursor=${page1.json.nextCursor}`, { token: u.accessToken });
    expect(page2.json.documents).toHaveLength(1);
    expect(page2.json.nextCursor).toBeNull();
    const ids = [...page1.json.documents, ...page2.json.documents].map((d) => d.id).sort();
    expect(ids).toEqual(["bikes", "garden", "kitchen"]);
    const byTitle = await api("GET", "/api/v1/documents?title=tomato", { token: u.accessToken });
    expect(byTitle.json.documents.map((d) => d.id)).toEqual(["garden"]);
    const byMeta = await api("GET", "/api/v1/documents?metadata.topic=bikes", { token: u.accessToken });
    expect(byMeta.json.documents.map((d) => d.id)).toEqual(["bikes"]);

    const again = await ingest(u.accessToken, { docId: "garden", title: "Tomato notes v2", content: "Peppers like warm soil and little water." });
    expect(again.status).toBe(201);
    expect(again.json.document).toMatchObject({ id: "garden", title: "Tomato notes v2", state: "ready" });
    for (const t of ["createdAt", "updatedAt", "readyAt"]) expect(again.json.document[t]).toMatch(ISO_MS);
    expect(Date.parse(again.json.document.readyAt)).toBeGreaterThanOrEqual(Date.parse(again.json.document.createdAt));
    const old = await search(u.accessToken, { query: "tomato blight", mode: "keyword" });
    expect(old.results.map((r) => r.documentId)).not.toContain("garden");
    const fresh = await search(u.accessToken, { query: "peppers warm soil", mode: "keyword" });
    expect(fresh.results[0].documentId).toBe("garden");
    const uid = (await env.DB.prepare("SELECT uid FROM documents WHERE user_id = ? AND id = 'garden'").bind(u.user.id).first()).uid;
    const gens = await env.DB.prepare("SELECT DISTINCT generation FROM chunks WHERE doc_uid = ?").bind(uid).all();
    expect(gens.results).toEqual([{ generation: 2 }]);
  });

  it("uploads a real PDF, ingests it, finds the passage, downloads and deletes every trace", async () => {
    const u = await registerUser();
    const pdf = fixture("multipage.pdf");
    const up = await api("POST", "/api/v1/files?filename=notes.pdf", {
      token: u.accessToken, body: pdf, headers: { "content-type": "application/pdf" },
    });
    expect(up.status, up.text).toBe(201);
    const fileId = up.json.file.id;
    const created = await ingest(u.accessToken, { fileId, metadata: { kind: "manual" } });
    expect([201, 202]).toContain(created.status);
    const doc = await waitReady(u.accessToken, created.json.document.id);
    expect(doc).toMatchObject({ state: "ready", format: "pdf", title: "notes.pdf", fileId, source: "file" });
    expect(doc.chunkCount).toBeGreaterThan(1);

    const hit = await search(u.accessToken, { query: "how does retrieval rank chunks", topK: 3 });
    expect(hit.results[0].documentId).toBe(doc.id);
    expect(hit.results[0].text).toMatch(/retrieval ranks chunks by lexical similarity/);

    const dl = await api("GET", `/api/v1/files/${fileId}/download`, { token: u.accessToken });
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-length")).toBe(String(pdf.byteLength));

    const graph = await api("GET", `/api/v1/documents/${doc.id}/graph`, { token: u.accessToken });
    expect(graph.status).toBe(200);
    expect(Array.isArray(graph.json.graph.entities)).toBe(true);

    const uid = (await env.DB.prepare("SELECT uid FROM documents WHERE id = ?").bind(doc.id).first()).uid;
    expect((await api("DELETE", `/api/v1/documents/${doc.id}`, { token: u.accessToken })).status).toBe(204);
    expectError(await api("GET", `/api/v1/documents/${doc.id}`, { token: u.accessToken }), 404, "documents.not_found");
    const left = await env.DB.batch([
      env.DB.prepare("SELECT COUNT(*) AS n FROM chunks WHERE doc_uid = ?").bind(uid),
      env.DB.prepare("SELECT COUNT(*) AS n FROM graph_entities WHERE doc_uid = ?").bind(uid),
      env.DB.prepare("SELECT COUNT(*) AS n FROM files WHERE id = ?").bind(fileId),
      env.DB.prepare("SELECT COUNT(*) AS n FROM chunks_fts WHERE chunks_fts MATCH 'retrieval'"),
    ]);
    expect(left.map((r) => r.results[0].n)).toEqual([0, 0, 0, 0]);
    expect(await env.BUCKET.head(up.json.file.key)).toBeNull();
    const after = await search(u.accessToken, { query: "retrieval ranks chunks" });
    expect(after.results).toEqual([]);
  });

  it("queues large inputs as a job with readable progress until ready", async () => {
    const u = await registerUser();
    const paragraphs = Array.from({ length: 120 }, (_, i) => `Paragraph ${i} talks about topic number ${i} in some detail so the chunker has work.`);
    paragraphs[77] = "The secret ingredient of the festival soup is smoked paprika.";
    const r = await ingest(u.accessToken, { docId: "big", title: "Big", content: paragraphs.join("\n\n") });
    expect(r.status, r.text).toBe(202);
    expect(r.json.document.job).toMatchObject({ state: "queued", chunksDone: 0 });
    expect(r.headers.get("location")).toBe("/api/v1/documents/big");
    // Nothing half-visible while queued: the new chunks are found only once the document is ready.
    // The queue consumer starts at once and may finish before the next request is served (with the
    // rate limiter's Durable Object hop in front of the search it usually does, in Miniflare), so
    // the check is "results ⇒ ready", not "no results".
    const before = await search(u.accessToken, { query: "festival soup" });
    if (before.results.length > 0) {
      const now = await api("GET", "/api/v1/documents/big", { token: u.accessToken });
      expect(now.json.document.state).toBe("ready");
    }
    const doc = await waitReady(u.accessToken, "big");
    expect(doc.state).toBe("ready");
    expect(doc.job).toBeUndefined();
    expect(doc.chunkCount).toBeGreaterThan(5);
    const hit = await search(u.accessToken, { query: "secret ingredient festival soup" });
    expect(hit.results[0].text).toContain("smoked paprika");
  });

  it("keeps one user's documents, hits and graph out of another's reach", async () => {
    const a = await corpusUser();
    const b = await registerUser();
    const r = await search(b.accessToken, { query: "sourdough starter flour", mode: "hybrid" });
    expect(r.results).toEqual([]);
    for (const [m, p] of [["GET", "/kitchen"], ["DELETE", "/kitchen"], ["GET", "/kitchen/graph"]]) {
      expectError(await api(m, `/api/v1/documents${p}`, { token: b.accessToken }), 404, "documents.not_found");
    }
    expect((await api("GET", "/api/v1/documents", { token: b.accessToken })).json.documents).toEqual([]);
    // The same docId is independent per user.
    expect((await ingest(b.accessToken, { docId: "kitchen", content: "b's own kitchen" })).status).toBe(201);
    const mine = await search(a.accessToken, { query: "own kitchen", mode: "keyword" });
    expect(mine.results.every((x) => !x.text.includes("b's own"))).toBe(true);
    const ents = await api("GET", "/api/v1/graph/entities?q=", { token: b.accessToken });
    expect(ents.json.entities.every((e) => e.documents.every((d) => d.id === "kitchen"))).toBe(true);
  });

  it("builds a knowledge graph with the local extractor and finds entities across documents", async () => {
    const u = await registerUser();
    const text = "Marie Curie worked at the University of Paris. Marie Curie discovered polonium with Pierre Curie. " +
      "The University of Paris later honoured Pierre Curie.";
    expect((await ingest(u.accessToken, { docId: "curie", title: "Curie", content: text })).status).toBe(201);
    const g = await api("GET", "/api/v1/documents/curie/graph", { token: u.accessToken });
    const names = g.json.graph.entities.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(["Marie Curie", "Pierre Curie", "University of Paris"]));
    expect(g.json.graph.relations.length).toBeGreaterThan(0);
    const found = await api("GET", "/api/v1/graph/entities?q=curie", { token: u.accessToken });
    expect(found.json.entities.map((e) => e.name)).toEqual(expect.arrayContaining(["Marie Curie", "Pierre Curie"]));
    expect(found.json.entities[0].documents).toEqual([{ id: "curie", title: "Curie" }]);
  });

  it("refuses malformed, hostile and unextractable input with clear 4xx and leaves nothing behind", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    expectError(await ingest(t, { title: "x" }), 400, "validation.failed");
    expectError(await ingest(t, { content: "a", fileId: "fil_x" }), 400, "validation.failed");
    expectError(await ingest(t, { content: 42 }), 400, "validation.failed");
    expectError(await ingest(t, { content: "a", docId: "../etc" }), 400, "validation.failed");
    expectError(await ingest(t, { content: "a", metadata: "nope" }), 400, "validation.failed");
    expectError(await ingest(t, { content: "a", chunkSize: 0 }), 400, "validation.failed");
    expectError(await ingest(t, { content: "a", chunkSize: 100, chunkOverlap: 100 }), 400, "validation.failed");
    expectError(await ingest(t, { fileId: "fil_missing" }), 404, "files.not_found");
    expectError(await ingest(t, { content: "   \n\n  " }), 422, "extract.no_text");
    const huge = await api("POST", "/api/v1/documents", {
      token: t, body: JSON.stringify({ content: "x".repeat(11 * 1024 * 1024) }), headers: { "content-type": "application/json" },
    });
    expectError(huge, 413, "http.body_too_large");
    // An encrypted PDF, a PDF with its head cut off, a scanned (image-only) PDF: each a clear 422.
    const broken = {
      "encrypted.pdf": fixture("encrypted.pdf"),
      "headless.pdf": fixture("multipage.pdf").slice(100),
      "scanned.pdf": fixture("scanned.pdf"),
    };
    for (const [name, bytes] of Object.entries(broken)) {
      const up = await api("POST", `/api/v1/files?filename=${name}`, {
        token: t, body: bytes, headers: { "content-type": "application/pdf" },
      });
      const r = await ingest(t, { fileId: up.json.file.id });
      if (bytes.byteLength <= 8192) {
        // Inline: the client hears 422 at once and no document is left behind.
        expect(r.status, r.text).toBe(422);
        expect(r.json.error.code).toMatch(/^extract\./);
      } else {
        // Queued: the job fails and the document says why, with nothing searchable.
        expect(r.status, r.text).toBe(202);
        const doc = await waitReady(t, r.json.document.id);
        expect(doc).toMatchObject({ state: "failed", chunkCount: 0 });
        expect(doc.error.code).toMatch(/^extract\./);
      }
    }
    const docs = await api("GET", "/api/v1/documents", { token: t });
    expect(docs.json.documents.map((d) => [d.title, d.state])).toEqual([["headless.pdf", "failed"]]);
    const chunks = await env.DB.prepare("SELECT COUNT(*) AS n FROM chunks WHERE user_id = ?").bind(u.user.id).first();
    expect(chunks.n).toBe(0);
    expectError(await api("POST", "/api/v1/search", { token: t, body: { query: "" } }), 400, "validation.failed");
    expectError(await api("POST", "/api/v1/search", { token: t, body: { query: "x", topK: 51 } }), 400, "validation.failed");
    expectError(await api("POST", "/api/v1/search", { token: t, body: { query: "x", mode: "magic" } }), 400, "validation.failed");
    expectError(await api("POST", "/api/v1/search", { token: t, body: { query: "x", metadata: { "a'b": 1 } } }), 400, "validation.failed");
    // FTS5 syntax in a query is text, not an operator.
    for (const query of ['NEAR(a b)', '"', "a:b", "*", "(", "AND OR NOT", "title:x^"]) {
      expect((await api("POST", "/api/v1/search", { token: t, body: { query } })).status).toBe(200);
    }
    expectError(await api("GET", "/api/v1/documents?limit=0", { token: t }), 400, "validation.failed");
    expectError(await api("GET", "/api/v1/documents?cursor=bm90LWEtY3Vyc29y", { token: t }), 400, "validation.failed");
    expectError(await api("GET", "/api/v1/documents"), 401, "auth.missing_token");
  });

  it("never runs the internal job route for a client", async () => {
    const r = await api("POST", "/internal/jobs/run", {
      body: { kind: "ingest", user: "x", uid: "y", generation: 1 },
      headers: { "x-edgechat-internal": "guess" },
    });
    expectError(r, 404, "http.not_found");
  });
});
