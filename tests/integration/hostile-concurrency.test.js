// Hostile concurrency through the real Worker and Miniflare's D1: twelve simultaneous re-ingests
// of one docId, round after round; simultaneous deletes of one document; simultaneous debits. After
// each burst the invariants are read straight from D1 — no lost or phantom content, no stuck rows,
// generation numbers never shared, ledger sums equal to balances.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, registerUser } from "./helpers.js";

const ROUNDS = 8;
const WIDTH = 12;

async function rows(sql, ...args) {
  return (await env.DB.prepare(sql).bind(...args).all()).results;
}

// What must hold of a document whenever no request is in flight.
async function checkDocument(uid) {
  const [doc] = await rows(
    "SELECT generation, building, last_generation, chunk_count, state, pending, title, metadata " +
      "FROM documents WHERE uid = ?", uid);
  expect(doc.state).toBe("ready");
  expect(doc.building).toBeNull();
  expect(doc.pending).toBeNull();
  expect(doc.chunk_count).toBeGreaterThan(0);
  expect(doc.last_generation).toBeGreaterThanOrEqual(doc.generation);
  const gens = await rows("SELECT generation, COUNT(*) AS n FROM chunks WHERE doc_uid = ? GROUP BY generation", uid);
  // Only the live generation has rows, and all of them.
  expect(gens).toEqual([{ generation: doc.generation, n: doc.chunk_count }]);
  const fts = await rows(
    "SELECT COUNT(*) AS n FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE doc_uid = ?)", uid);
  expect(fts[0].n).toBe(doc.chunk_count);
  return doc;
}

describe("hostile: concurrent re-ingest of one docId", () => {
  it(`${WIDTH} at once, ${ROUNDS} rounds: each accepted build goes live in turn, refused ones change nothing`, async () => {
    const u = await registerUser({ prefix: "race" });
    const first = await api("POST", "/api/v1/documents", {
      token: u.accessToken, body: { docId: "contested", title: "round 0", content: "Kestrels hover over verges." },
    });
    expect(first.status, first.text).toBe(201);
    const uid = (await rows("SELECT uid FROM documents WHERE id = 'contested'"))[0].uid;
    let lastGeneration = 1;
    for (let round = 1; round <= ROUNDS; round++) {
      const bodies = Array.from({ length: WIDTH }, (_, i) => ({
        docId: "contested",
        title: `round ${round} request ${i}`,
        metadata: { round, i },
        content: `Report ${round}-${i}: the token zq${round}x${i}w marks this version. ` +
          "Kestrels hover over verges while the wind holds. ".repeat(1 + (i % 4)),
      }));
      const answers = await Promise.all(bodies.map((body) => api("POST", "/api/v1/documents", { token: u.accessToken, body })));
      const accepted = [];
      for (const [i, r] of answers.entries()) {
        if (r.status === 201) {
          accepted.push(i);
          continue;
        }
        expectError(r, 409, "documents.busy");
      }
      expect(accepted.length).toBeGreaterThan(0);
      const doc = await checkDocument(uid);
      // The live version is one that was accepted, whole: its title, its metadata and its text.
      const live = accepted.find((i) => doc.title === bodies[i].title);
      expect(live, `live title ${doc.title} is not an accepted one`).toBeDefined();
      expect(JSON.parse(doc.metadata)).toEqual({ round, i: live });
      const text = (await rows("SELECT group_concat(text, ' ') AS t FROM chunks WHERE doc_uid = ?", uid))[0].t;
      expect(text).toContain(`zq${round}x${live}w`);
      // Every accepted build drew its own number.
      expect(doc.last_generation).toBeGreaterThanOrEqual(lastGeneration + accepted.length);
      lastGeneration = doc.last_generation;
      // Search finds exactly the live version.
      const hit = await api("POST", "/api/v1/search", {
        token: u.accessToken, body: { query: `zq${round}x${live}w`, mode: "keyword" },
      });
      expect(hit.json.results.map((x) => x.title)).toEqual([doc.title]);
    }
  }, 120_000);

  it("a refused or failed re-ingest leaves title, metadata and content as they were", async () => {
    const u = await registerUser({ prefix: "race" });
    const made = await api("POST", "/api/v1/documents", {
      token: u.accessToken, body: { docId: "steady", title: "Steady", metadata: { v: 1 }, content: "Lighthouses flash in patterns." },
    });
    expect(made.status).toBe(201);
    const [before] = await rows("SELECT title, metadata, generation, chunk_count, state FROM documents WHERE id = 'steady'");
    const bad = await api("POST", "/api/v1/documents", {
      token: u.accessToken,
      body: { docId: "steady", title: "Broken", metadata: { v: 2 }, content: "{\"oops\": ", contentType: "application/json" },
    });
    expectError(bad, 422, "extract.malformed");
    const [after] = await rows("SELECT title, metadata, generation, chunk_count, state FROM documents WHERE id = 'steady'");
    expect(after).toEqual(before);
    const got = await api("GET", "/api/v1/documents/steady", { token: u.accessToken });
    expect(got.json.document).toMatchObject({ title: "Steady", metadata: { v: 1 }, state: "ready" });
    expect(got.json.document.error).toBeUndefined();
  });

  it("simultaneous first ingests of a new docId: one creates it, the rest build on it or are refused", async () => {
    const u = await registerUser({ prefix: "race" });
    const answers = await Promise.all(Array.from({ length: WIDTH }, (_, i) => api("POST", "/api/v1/documents", {
      token: u.accessToken, body: { docId: "fresh", title: `t${i}`, content: `Version ${i}: puffins nest in burrows.` },
    })));
    for (const r of answers) {
      if (r.status !== 201) expectError(r, 409, "documents.busy");
    }
    expect(answers.some((r) => r.status === 201)).toBe(true);
    const docs = await rows("SELECT uid FROM documents WHERE id = 'fresh'");
    expect(docs.length).toBe(1);
    await checkDocument(docs[0].uid);
  });
});

describe("hostile: concurrent deletes", () => {
  it("of one document: 204 once, 404 for the rest, nothing left behind", async () => {
    const u = await registerUser({ prefix: "del" });
    const made = await api("POST", "/api/v1/documents", { token: u.accessToken, body: { docId: "gone", content: "Swallows migrate south." } });
    expect(made.status).toBe(201);
    const uid = (await rows("SELECT uid FROM documents WHERE id = 'gone' AND user_id = ?", u.user.id))[0].uid;
    const answers = await Promise.all(Array.from({ length: 8 }, () => api("DELETE", "/api/v1/documents/gone", { token: u.accessToken })));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([204, 404, 404, 404, 404, 404, 404, 404]);
    for (const r of answers.filter((x) => x.status === 404)) expectError(r, 404, "documents.not_found");
    expect(await rows("SELECT id FROM chunks WHERE doc_uid = ?", uid)).toEqual([]);
    expect(await rows("SELECT uid FROM documents WHERE uid = ?", uid)).toEqual([]);
  });

  it("while it is being re-ingested: the document is gone and no chunks survive it", async () => {
    const u = await registerUser({ prefix: "del" });
    await api("POST", "/api/v1/documents", { token: u.accessToken, body: { docId: "both", content: "Terns dive for fish." } });
    const uid = (await rows("SELECT uid FROM documents WHERE id = 'both' AND user_id = ?", u.user.id))[0].uid;
    const answers = await Promise.all([
      api("POST", "/api/v1/documents", { token: u.accessToken, body: { docId: "both", content: "Gannets dive deeper. ".repeat(40) } }),
      api("DELETE", "/api/v1/documents/both", { token: u.accessToken }),
    ]);
    expect(answers[1].status).toBe(204);
    expect([201, 404, 409]).toContain(answers[0].status);
    const left = await rows("SELECT uid FROM documents WHERE id = 'both' AND user_id = ?", u.user.id);
    if (left.length) {
      // The re-ingest came after the delete and created the document afresh.
      expect(answers[0].status).toBe(201);
      await checkDocument(left[0].uid);
    }
    expect(await rows("SELECT id FROM chunks WHERE doc_uid = ?", uid)).toEqual([]);
  });
});
