// End to end exactly as a user runs it: `npm start` (setup, build, local D1 migrations,
// `wrangler dev --local`), then real HTTP over loopback. Tokens are checked with jose against the
// served JWKS, independently of the core.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";

const PORT = Number(process.env.E2E_PORT ?? 8797);
const BASE = `http://127.0.0.1:${PORT}`;
const state = mkdtempSync(join(tmpdir(), "edgechat-e2e-"));
let server;
let output = "";

async function waitForHealth(deadlineMs) {
  while (Date.now() < deadlineMs) {
    try {
      const r = await fetch(`${BASE}/health`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    if (server.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm start did not become healthy:\n${output}`);
}

const post = (path, body, token) => fetch(`${BASE}${path}`, {
  method: "POST",
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});

before(async () => {
  server = spawn("npm", ["start"], {
    env: { ...process.env, PORT: String(PORT), PERSIST_DIR: state },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout.on("data", (d) => { output += d; });
  server.stderr.on("data", (d) => { output += d; });
  await waitForHealth(Date.now() + 240_000);
});

after(() => {
  if (server?.exitCode === null) process.kill(-server.pid, "SIGTERM");
  rmSync(state, { recursive: true, force: true });
});

test("health and readiness (migrations applied by npm start)", async () => {
  assert.equal((await fetch(`${BASE}/health`)).status, 200);
  const ready = await fetch(`${BASE}/ready`);
  assert.equal(ready.status, 200);
  assert.equal((await ready.json()).checks.d1, "ok");
});

test("register → JWKS-verified token → me → refresh → logout", async () => {
  const username = `e2e_${Date.now()}`;
  const reg = await post("/api/v1/auth/register", { username, password: "correct horse battery" });
  assert.equal(reg.status, 201);
  const session = await reg.json();
  const jwks = await (await fetch(`${BASE}/.well-known/jwks.json`)).json();
  const { payload } = await jwtVerify(session.accessToken, createLocalJWKSet(jwks), {
    issuer: "edgechat", audience: "edgechat-api", algorithms: ["RS256"],
  });
  assert.equal(payload.sub, session.user.id);

  const me = await fetch(`${BASE}/api/v1/auth/me`, { headers: { authorization: `Bearer ${session.accessToken}` } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).user.username, username);

  const refreshed = await post("/api/v1/auth/refresh", { refreshToken: session.refreshToken });
  assert.equal(refreshed.status, 200);
  const next = await refreshed.json();
  assert.notEqual(next.refreshToken, session.refreshToken);

  assert.equal((await post("/api/v1/auth/logout", {}, next.accessToken)).status, 204);
  const after = await fetch(`${BASE}/api/v1/auth/me`, { headers: { authorization: `Bearer ${next.accessToken}` } });
  assert.equal(after.status, 401);
  assert.equal((await after.json()).error.code, "auth.session_revoked");
});

test("bad input gets a clear 4xx JSON error", async () => {
  const r = await fetch(`${BASE}/api/v1/auth/login`, { method: "POST", body: "not json", headers: { "content-type": "application/json" } });
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.equal(body.error.code, "http.invalid_json");
  assert.equal(body.requestId, r.headers.get("x-request-id"));
});

test("upload a PDF → ingest → search finds it → download → delete (local R2, D1, FTS5, queue)", async () => {
  const reg = await post("/api/v1/auth/register", { username: `e2e_rag_${Date.now()}`, password: "correct horse battery" });
  const { accessToken: token } = await reg.json();
  const auth = { authorization: `Bearer ${token}` };
  const pdf = readFileSync(new URL("../fixtures/pdf/multipage.pdf", import.meta.url));
  const up = await fetch(`${BASE}/api/v1/files?filename=notes.pdf`, {
    method: "POST", headers: { ...auth, "content-type": "application/pdf" }, body: pdf,
  });
  assert.equal(up.status, 201);
  const { file } = await up.json();

  const made = await post("/api/v1/documents", { fileId: file.id, docId: "manual" }, token);
  assert.equal(made.status, 201);
  assert.equal((await made.json()).document.state, "ready");

  // Big enough to be queued (over INGEST_INLINE_BYTES): the local queue consumer builds it.
  const big = Array.from({ length: 9000 }, (_, i) => `Line ${i} about nothing in particular.`);
  big[7100] = "The lighthouse keeper logs every passing ship in a green ledger.";
  const queued = await post("/api/v1/documents", { docId: "big", content: big.join("\n\n") }, token);
  assert.equal(queued.status, 202);
  for (let i = 0; ; i++) {
    const d = (await (await fetch(`${BASE}/api/v1/documents/big`, { headers: auth })).json()).document;
    if (d.state === "ready" && !d.job) break;
    assert.ok(i < 300, `queued ingest did not finish: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const search = async (query) => (await (await post("/api/v1/search", { query, topK: 3 }, token)).json()).results;
  assert.equal((await search("how does retrieval rank chunks"))[0].documentId, "manual");
  assert.match((await search("lighthouse keeper ledger"))[0].text, /green ledger/);

  const dl = await fetch(`${BASE}/api/v1/files/${file.id}/download`, { headers: { ...auth, range: "bytes=0-4" } });
  assert.equal(dl.status, 206);
  assert.equal(await dl.text(), "%PDF-");

  const del = await fetch(`${BASE}/api/v1/documents/manual`, { method: "DELETE", headers: auth });
  assert.equal(del.status, 204);
  assert.ok((await search("how does retrieval rank chunks")).every((r) => r.documentId !== "manual"));
  assert.equal((await fetch(`${BASE}/api/v1/files/${file.id}`, { headers: auth })).status, 404);
});
