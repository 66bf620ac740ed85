// API keys (/api/v1/api-keys) end to end: minted with an access token, shown once, accepted as a
// bearer by authenticated routes (also as the official openai SDK sends it), refused once revoked,
// expired or when the account is disabled; an API key cannot mint or revoke keys.
import { describe, it, expect } from "vitest";
import { SELF, env } from "cloudflare:test";
import OpenAI from "openai";
import { api, expectError, registerUser, BASE } from "./helpers.js";

const KEY = /^ec_[A-Za-z0-9_-]{43}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const me = (token) => api("GET", "/api/v1/auth/me", { token });
const list = (token) => api("GET", "/api/v1/api-keys", { token });
const create = (token, body = { name: "ci" }) => api("POST", "/api/v1/api-keys", { token, body });
const revoke = (token, id) => api("DELETE", `/api/v1/api-keys/${id}`, { token });

async function newKey(token, body) {
  const r = await create(token, body);
  expect(r.status, r.text).toBe(201);
  return r.json.apiKey;
}

describe("create, use, list, revoke", () => {
  it("creates a key shown once, which then authenticates as its user", async () => {
    const u = await registerUser({ prefix: "key" });
    const r = await create(u.accessToken, { name: "laptop script" });
    expect(r.status, r.text).toBe(201);
    const k = r.json.apiKey;
    expect(k.key).toMatch(KEY);
    expect(k.id).toMatch(/^key_[0-9a-f]{24}$/);
    expect(k).toMatchObject({ name: "laptop script", prefix: k.key.slice(0, 10), lastUsedAt: null, expiresAt: null });
    expect(k.createdAt).toMatch(ISO_MS);
    expect(r.headers.get("location")).toBe(`/api/v1/api-keys/${k.id}`);

    // Only the SHA-256 is stored.
    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?1").bind(k.id).first();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(k.key)));
    expect(row.key_hash).toBe([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""));
    expect(JSON.stringify(row)).not.toContain(k.key);

    const who = await me(k.key);
    expect(who.status, who.text).toBe(200);
    expect(who.json.user.id).toBe(u.user.id);

    const l = await list(u.accessToken);
    expect(l.status, l.text).toBe(200);
    expect(l.json.apiKeys).toHaveLength(1);
    const item = l.json.apiKeys[0];
    expect(Object.keys(item).sort()).toEqual(["createdAt", "expiresAt", "id", "lastUsedAt", "name", "prefix"]);
    expect(item.lastUsedAt).toMatch(ISO_MS);
    expect(l.text).not.toContain(k.key);
    expect(l.text).not.toContain(row.key_hash);

    const d = await revoke(u.accessToken, k.id);
    expect(d.status, d.text).toBe(204);
    expectError(await me(k.key), 401, "auth.api_key_revoked");
    expect((await list(u.accessToken)).json.apiKeys).toEqual([]);
    expectError(await revoke(u.accessToken, k.id), 404, "api_keys.not_found");
    // The access token is unaffected.
    expect((await me(u.accessToken)).status).toBe(200);
  });

  it("last_used_at is written at most once a minute", async () => {
    const u = await registerUser({ prefix: "key" });
    const k = await newKey(u.accessToken);
    expect((await me(k.key)).status).toBe(200);
    const first = (await list(u.accessToken)).json.apiKeys[0].lastUsedAt;
    expect(first).toMatch(ISO_MS);
    expect((await me(k.key)).status).toBe(200);
    expect((await list(u.accessToken)).json.apiKeys[0].lastUsedAt).toBe(first);
    // Pretend the last use was two minutes ago: the next use records itself again.
    await env.DB.prepare("UPDATE api_keys SET last_used_at = last_used_at - 120000 WHERE id = ?1")
      .bind(k.id).run();
    const before = (await list(u.accessToken)).json.apiKeys[0].lastUsedAt;
    expect((await me(k.key)).status).toBe(200);
    const after = (await list(u.accessToken)).json.apiKeys[0].lastUsedAt;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
  });

  it("lists every unrevoked key; one user never sees or revokes another's", async () => {
    const a = await registerUser({ prefix: "key" });
    const b = await registerUser({ prefix: "key" });
    const k1 = await newKey(a.accessToken, { name: "one" });
    const k2 = await newKey(a.accessToken, { name: "two", expiresInDays: 30 });
    const l = (await list(a.accessToken)).json.apiKeys;
    expect(l.map((k) => k.id).sort()).toEqual([k1.id, k2.id].sort());
    const two = l.find((k) => k.id === k2.id);
    const days = (Date.parse(two.expiresAt) - Date.parse(two.createdAt)) / 86400000;
    expect(days).toBe(30);
    expect((await list(b.accessToken)).json.apiKeys).toEqual([]);
    expectError(await revoke(b.accessToken, k1.id), 404, "api_keys.not_found");
    expect((await me(k1.key)).json.user.id).toBe(a.user.id);
  });
});

describe("the official openai SDK", () => {
  it("sends the key as Authorization: Bearer and is authenticated", async () => {
    const u = await registerUser({ prefix: "sdk" });
    const k = await newKey(u.accessToken);
    const client = new OpenAI({
      apiKey: k.key,
      baseURL: `${BASE}/api/v1`,
      fetch: (url, init) => SELF.fetch(url, init),
      maxRetries: 0,
    });
    const body = await client.get("/auth/me");
    expect(body.user.id).toBe(u.user.id);

    await revoke(u.accessToken, k.id);
    const err = await client.get("/auth/me").catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.status).toBe(401);
  });
});

describe("refusals", () => {
  it("an expired key is 401 auth.api_key_expired", async () => {
    const u = await registerUser({ prefix: "key" });
    const k = await newKey(u.accessToken, { name: "short", expiresInDays: 1 });
    expect((await me(k.key)).status).toBe(200);
    await env.DB.prepare("UPDATE api_keys SET expires_at = ?1 WHERE id = ?2")
      .bind(Date.now() - 1000, k.id).run();
    expectError(await me(k.key), 401, "auth.api_key_expired");
  });

  it("a disabled user's key is 403 auth.user_disabled", async () => {
    const u = await registerUser({ prefix: "key" });
    const k = await newKey(u.accessToken);
    await env.DB.prepare("UPDATE users SET disabled_at = ?1 WHERE id = ?2").bind(Date.now(), u.user.id).run();
    expectError(await me(k.key), 403, "auth.user_disabled");
  });

  it("an API key cannot create or revoke keys (403 auth.api_key_not_allowed), but may list", async () => {
    const u = await registerUser({ prefix: "key" });
    const k = await newKey(u.accessToken);
    expectError(await create(k.key, { name: "successor" }), 403, "auth.api_key_not_allowed");
    expectError(await revoke(k.key, k.id), 403, "auth.api_key_not_allowed");
    const l = await list(k.key);
    expect(l.status, l.text).toBe(200);
    expect(l.json.apiKeys).toHaveLength(1);
    expect((await me(k.key)).status).toBe(200);
  });

  it("malformed and unknown ec_ tokens are 401 auth.api_key_invalid, never 500", async () => {
    const u = await registerUser({ prefix: "key" });
    const k = await newKey(u.accessToken);
    const body = k.key.slice(3);
    const flipped = `ec_${body[0] === "A" ? "B" : "A"}${body.slice(1)}`;
    for (const t of ["ec_", "ec_!!!", `ec_${body.slice(0, 42)}*`, `ec_${body.slice(0, 42)}=`,
      `${k.key}A`, k.key.slice(0, -1), `ec_${"A".repeat(5000)}`, flipped]) {
      expectError(await me(t), 401, "auth.api_key_invalid");
    }
  });

  it("guests cannot create keys", async () => {
    const g = await api("POST", "/api/v1/auth/guest");
    expect(g.status).toBe(201);
    expectError(await create(g.json.accessToken), 403, "auth.guest_not_allowed");
  });

  it("no credential is 401; a bad body is 400 with field errors", async () => {
    expectError(await list(undefined), 401, "auth.missing_token");
    expectError(await create(undefined), 401, "auth.missing_token");
    const u = await registerUser({ prefix: "key" });
    const bad = expectError(await create(u.accessToken, { name: "", expiresInDays: 0 }), 400, "validation.failed");
    expect(Object.keys(bad.fields).sort()).toEqual(["expiresInDays", "name"]);
    expectError(await create(u.accessToken, { name: "x".repeat(101) }), 400, "validation.failed");
    expectError(await create(u.accessToken, { name: "x", expiresInDays: 3651 }), 400, "validation.failed");
    expect((await create(u.accessToken, { name: "x".repeat(100), expiresInDays: 3650 })).status).toBe(201);
  });
});
