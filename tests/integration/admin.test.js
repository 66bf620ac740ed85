// Admin routes end to end through the real Worker: the X-Admin-Key guard on every one of them
// (401 without a key, 403 with a wrong one), ping, and cleanup against local D1 and R2 — expired
// and orphaned data goes, live data stays. The suite runs with CLEANUP_ORPHAN_GRACE_SECONDS = 0
// (vitest.config.js), so an unreferenced object counts as orphaned at once.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, registerUser, ISO_MS } from "./helpers.js";

const ADMIN = { "x-admin-key": env.ADMIN_KEY };
const DAY = 86_400_000;

const ADMIN_ROUTES = [
  ["GET", "/api/admin/ping"], ["GET", "/api/v1/admin/ping"],
  ["POST", "/api/admin/cleanup"], ["POST", "/api/v1/admin/cleanup"],
  ["POST", "/api/jobs/run"], ["POST", "/api/v1/jobs/run"],
];

const run = (sql, ...params) => env.DB.prepare(sql).bind(...params).run();
const ids = async (sql, ...params) => (await env.DB.prepare(sql).bind(...params).all()).results.map((r) => Object.values(r)[0]);

describe("admin: the key guard", () => {
  it("refuses every admin route without the key (401) or with a wrong one (403)", async () => {
    const u = await registerUser();
    for (const [method, path] of ADMIN_ROUTES) {
      // A user's token is not the admin key.
      expectError(await api(method, path, { token: u.accessToken }), 401, "admin.key_required");
      expectError(await api(method, path, { headers: { "x-admin-key": "" } }), 401, "admin.key_required");
      expectError(await api(method, path, { headers: { "x-admin-key": `${env.ADMIN_KEY}x` } }), 403, "admin.key_invalid");
      expectError(await api(method, path, { headers: { "x-admin-token": "short" } }), 403, "admin.key_invalid");
    }
    // Admin-only job types answer to the key as well.
    expectError(await api("POST", "/api/v1/jobs", { headers: { "x-admin-key": "not-the-admin-key-123" }, body: { type: "cleanup" } }), 403, "admin.key_invalid");
  });

  it("answers ping with the key, in either header", async () => {
    for (const headers of [ADMIN, { "x-admin-token": env.ADMIN_KEY }]) {
      const r = await api("GET", "/api/admin/ping", { headers });
      expect(r.status, r.text).toBe(200);
      expect(r.json).toMatchObject({ ok: true, version: expect.any(String) });
      expect(Math.abs(r.json.time - Date.now())).toBeLessThan(60_000);  // seed 003: epoch ms
    }
    // The canonical route answers ISO 8601, like the rest of /api/v1.
    const v1 = await api("GET", "/api/v1/admin/ping", { headers: ADMIN });
    expect(v1.json.time).toMatch(ISO_MS);
    expect(Math.abs(Date.parse(v1.json.time) - Date.now())).toBeLessThan(60_000);
    const cors = await api("OPTIONS", "/api/v1/admin/ping", {
      headers: { origin: "https://admin.example", "access-control-request-method": "GET", "access-control-request-headers": "x-admin-key" },
    });
    expect(cors.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-admin-key");
  });
});

describe("admin: cleanup", () => {
  it("removes exactly the expired and orphaned data, and keeps the live", async () => {
    const u = await registerUser();
    const uid = u.user.id;
    const now = Date.now();
    // Tokens and sessions: an expired family beside the live one from sign-up.
    await run("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s_gone', ?, 0, ?)", uid, now - DAY);
    await run("INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, expires_at, used_at) VALUES ('rt_gone', 's_gone', ?, 0, ?, 1)", uid, now - DAY);
    const liveTokens = await ids("SELECT token_hash FROM refresh_tokens WHERE user_id = ? AND token_hash != 'rt_gone'", uid);
    expect(liveTokens.length).toBeGreaterThan(0);
    // One expired and one live row of every other kind.
    await run("INSERT INTO used_grants VALUES ('g_gone', ?), ('g_live', ?)", now - 1000, now + DAY);
    await run("INSERT INTO usage_events (id, user_id, kind, provider, model, tokens_in, tokens_out, cost, charged, created_at) VALUES ('ue_gone', ?1, 'chat', 'p', 'm', 1, 1, 1, 1, ?2), ('ue_live', ?1, 'chat', 'p', 'm', 1, 1, 1, 1, ?3)", uid, now - 91 * DAY, now - DAY);
    await run("INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_until, created_at, expires_at) VALUES ('u:t', 'k_gone', 'h', 'done', 0, 0, ?), ('u:t', 'k_live', 'h', 'done', 0, 0, ?)", now - 1000, now + DAY);
    await run("INSERT INTO jobs (id, type, state, max_attempts, run_after, created_at, updated_at, finished_at) VALUES ('job_gone', 'test', 'succeeded', 1, 0, 0, 0, ?), ('job_live', 'test', 'failed', 1, 0, 0, 0, ?), ('job_waiting', 'test', 'queued', 1, ?, 0, 0, NULL)", now - 31 * DAY, now - DAY, now + DAY);
    await run("INSERT INTO streams (id, user_id, kind, created_at, updated_at, expires_at) VALUES ('st_gone', ?1, 'client', 0, 0, ?2), ('st_live', ?1, 'client', 0, 0, ?3)", uid, now - 1000, now + DAY);
    // Files: a stored upload (kept), and a presigned upload never completed, three days old.
    const up = await api("POST", "/api/v1/files?filename=keep.txt", { token: u.accessToken, body: "kept bytes", headers: { "content-type": "text/plain" } });
    expect(up.status, up.text).toBe(201);
    const grant = await api("POST", "/api/r2/upload-url", { token: u.accessToken, body: { filename: "never.txt", contentType: "text/plain" } });
    expect(grant.status, grant.text).toBe(200);
    await run("UPDATE files SET created_at = ? WHERE id = ?", now - 3 * DAY, grant.json.data.fileId);
    // A document (its chunks are live) and rows a dead build left behind.
    expect((await api("POST", "/api/v1/documents", { token: u.accessToken, body: { docId: "d", content: "Tides turn twice a day." } })).status).toBe(201);
    const doc = await env.DB.prepare("SELECT uid FROM documents WHERE user_id = ?").bind(uid).first();
    const liveChunks = await ids("SELECT id FROM chunks WHERE doc_uid = ?", doc.uid);
    await run("INSERT INTO chunks (doc_uid, user_id, generation, idx, vid, text, char_start, char_end, vector) VALUES (?1, ?2, 9, 0, ?3, 'stale', 0, 5, 'v')", doc.uid, uid, `${doc.uid}:9:0`);
    await run("INSERT INTO graph_entities (doc_uid, generation, user_id, name, name_key, type) VALUES (?1, 9, ?2, 'Stale', 'stale', 'other')", doc.uid, uid);
    // That build was an inline one whose request died: it still holds the document.
    await run("UPDATE documents SET building = 9, last_generation = 9, updated_at = 0 WHERE uid = ?", doc.uid);
    // Credits: a reservation whose answer never settled (its isolate died), and a live one.
    expect((await api("GET", "/api/credits", { token: u.accessToken })).json.balance).toBe(10);
    await run("INSERT INTO credit_holds (id, user_id, amount, created_at, expires_at) VALUES ('h_gone', ?1, 500000, 0, ?2), ('h_live', ?1, 250000, 0, ?3)", uid, now - 1000, now + DAY);
    await run("UPDATE credit_accounts SET balance = balance - 750000 WHERE user_id = ?", uid);
    await run("INSERT INTO credit_ledger (id, user_id, delta, balance_after, kind, ref, created_at) VALUES ('l_h1', ?1, -500000, 9500000, 'hold', 'h_gone', 0), ('l_h2', ?1, -250000, 9250000, 'hold', 'h_live', 0)", uid);
    // R2: an object nothing points at.
    await env.BUCKET.put(`${uid}/nobody/orphan.txt`, "orphan");

    const r = await api("POST", "/api/admin/cleanup", { headers: ADMIN });
    expect(r.status, r.text).toBe(200);
    expect(r.json.ok).toBe(true);
    expect(r.json.errors).toEqual({});
    expect(r.json.removed).toEqual({
      refreshTokens: 1, sessions: 1, usedGrants: 1, pendingUploads: 1, usageEvents: 1, idempotencyKeys: 1,
      creditHolds: 1, jobs: 1, streams: 1, staleBuilds: 1, orphanChunks: 1, orphanGraph: 1, vectorTombstones: 0, orphanObjects: 1,
    });
    expect(await ids("SELECT token_hash FROM refresh_tokens WHERE user_id = ?", uid)).toEqual(liveTokens);
    expect(await ids("SELECT id FROM sessions WHERE id = 's_gone'")).toEqual([]);
    expect(await ids("SELECT grant_id FROM used_grants")).toEqual(["g_live"]);
    expect(await ids("SELECT id FROM usage_events")).toEqual(["ue_live"]);
    expect(await ids("SELECT key FROM idempotency_keys")).toEqual(["k_live"]);
    expect(await ids("SELECT id FROM credit_holds WHERE settled_at IS NULL")).toEqual(["h_live"]);
    const acct = await env.DB.prepare("SELECT balance, (SELECT SUM(delta) FROM credit_ledger WHERE user_id = ?1) AS sum FROM credit_accounts WHERE user_id = ?1").bind(uid).first();
    expect(acct).toEqual({ balance: 9_750_000, sum: 9_750_000 });
    expect((await ids("SELECT id FROM jobs")).sort()).toEqual(["job_live", "job_waiting"]);
    expect(await ids("SELECT id FROM streams")).toEqual(["st_live"]);
    expect(await ids("SELECT id FROM files WHERE user_id = ?", uid)).toEqual([up.json.file.id]);
    expect(await ids("SELECT id FROM chunks WHERE doc_uid = ?", doc.uid)).toEqual(liveChunks);
    expect(await ids("SELECT name FROM graph_entities WHERE name = 'Stale'")).toEqual([]);
    expect(await env.BUCKET.head(`${uid}/nobody/orphan.txt`)).toBeNull();
    expect(await env.BUCKET.head(up.json.file.key)).not.toBeNull();
    const file = await api("GET", `/api/v1/files/${up.json.file.id}/download`, { token: u.accessToken });
    expect(file.text).toBe("kept bytes");
    const hit = await api("POST", "/api/v1/search", { token: u.accessToken, body: { query: "tides" } });
    expect(hit.json.results.length).toBe(1);

    // Only some steps, on request; a second run finds nothing left.
    const again = await api("POST", "/api/v1/admin/cleanup", { headers: ADMIN, body: { steps: ["usedGrants", "orphanObjects"] } });
    expect(again.status, again.text).toBe(200);
    expect(again.json.removed).toEqual({ usedGrants: 0, orphanObjects: 0 });
  });

  it("refuses unknown steps and malformed bodies", async () => {
    for (const body of [{ steps: ["everything"] }, { steps: [] }, { steps: "usedGrants" }, { dryRun: true }]) {
      expectError(await api("POST", "/api/admin/cleanup", { headers: ADMIN, body }), 400, "validation.failed");
    }
    expectError(await api("POST", "/api/admin/cleanup", { headers: { ...ADMIN, "content-type": "application/json" }, body: "{" }), 400, "http.invalid_json");
  });
});
