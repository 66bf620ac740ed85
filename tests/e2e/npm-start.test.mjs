// End to end exactly as a user runs it: `npm start` (setup, build, local D1 migrations,
// `wrangler dev --local`), then real HTTP over loopback. Tokens are checked with jose against the
// served JWKS, independently of the core.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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
