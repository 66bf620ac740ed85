// Credits, usage metering, Idempotency-Key and the admin routes through the real Worker and
// Miniflare's D1. The concurrency test is the issue's: 1,000 concurrent debits, 20% of them sent
// twice under the same key, against a balance that covers only 800 — the ledger must sum exactly
// to the balance change, with no duplicate and never a negative balance.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import worker from "./worker-entry.js";
import { api, BASE, expectError, registerUser } from "./helpers.js";

const ADMIN = { "x-admin-key": env.ADMIN_KEY };

async function setBalance(userId, amount) {
  const r = await api("POST", "/api/credits/adjust", {
    headers: ADMIN, body: { userId, amount, set: true, reason: "test" },
  });
  expect(r.status, r.text).toBe(200);
  return r.json;
}

async function ledgerOf(userId) {
  const sum = await env.DB.prepare(
    "SELECT COALESCE(SUM(delta), 0) AS s, COUNT(*) AS n FROM credit_ledger WHERE user_id = ?",
  ).bind(userId).first();
  const acct = await env.DB.prepare("SELECT balance FROM credit_accounts WHERE user_id = ?")
    .bind(userId).first();
  return { sum: sum.s, rows: sum.n, balance: acct?.balance ?? null };
}

// The Worker's own fetch handler with a fresh execution context per request: the same entry, core,
// D1 and Durable Objects as SELF.fetch, without the pool's SELF.fetch, whose cost per request grows
// with every request made earlier in the same test (1,200 requests take minutes through it).
async function direct(method, path, { token, headers = {}, body }) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(BASE + path, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
  }), env, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : null };
}

function directDebit(token, key) {
  return direct("POST", "/api/v1/billing/usage", {
    token, headers: { "idempotency-key": key },
    body: { provider: "openai", model: "gpt-4o-mini", tokensIn: 1000, tokensOut: 0 },
  });
}

function debit(token, key, tokensIn = 1000) {
  const headers = key ? { "idempotency-key": key } : {};
  return api("POST", "/api/v1/billing/usage", {
    token, headers, body: { provider: "openai", model: "gpt-4o-mini", tokensIn, tokensOut: 0 },
  });
}

describe("credits", () => {
  it("1,000 concurrent debits with 20% retried under the same key: exact, no duplicate, never negative", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    // The price of one debit, learnt from one debit.
    const probe = await debit(t);
    expect(probe.status, probe.text).toBe(201);
    const price = Math.round(probe.json.credits * 1e6);  // micro-credits
    expect(price).toBeGreaterThan(0);
    const affordable = 800;
    await setBalance(u.user.id, (price * affordable) / 1e6);
    const before = await ledgerOf(u.user.id);

    const started = performance.now();
    const keys = Array.from({ length: 1000 }, (_, i) => `debit-${i}-${u.user.id}`);
    const retried = keys.slice(0, 200);
    // All 1,200 at once; each duplicate goes out right beside its original.
    const order = [];
    keys.forEach((k, i) => {
      order.push(k);
      if (i < retried.length) order.push(k);
    });
    const firstWave = await Promise.all(order.map((key) => directDebit(t, key).then((r) => ({ key, r }))));
    // A duplicate that met its twin still running (409) retries, as a client would.
    const final = [];
    for (let { key, r } of firstWave) {
      for (let i = 0; r.status === 409 && i < 50; i++) {
        await new Promise((res) => setTimeout(res, 20));
        r = await directDebit(t, key);
      }
      final.push({ key, r });
    }
    const elapsed = performance.now() - started;

    const byStatus = {};
    for (const { r } of final) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    const replays = final.filter(({ r }) => r.headers.get("idempotent-replayed") === "true").length;
    const ok = new Map();  // key → usageId
    for (const { key, r } of final) {
      if (r.status !== 201) continue;
      if (ok.has(key)) expect(r.json.usageId, "a repeat must replay the first result").toBe(ok.get(key));
      ok.set(key, r.json.usageId);
    }
    const after = await ledgerOf(u.user.id);
    const events = await env.DB.prepare(
      "SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS reqs, SUM(charged) AS charged " +
        "FROM usage_events WHERE user_id = ?",
    ).bind(u.user.id).first();
    const negatives = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM credit_ledger WHERE user_id = ? AND balance_after < 0",
    ).bind(u.user.id).first();
    console.info(JSON.stringify({
      test: "1000 concurrent debits", requests: firstWave.length, inFlight: order.length, statuses: byStatus, replays,
      keysDebited: ok.size, priceMicros: price, balanceBefore: before.balance, balanceAfter: after.balance,
      ledgerDelta: after.sum - before.sum, usageRows: events.n - 1, elapsedMs: Math.round(elapsed),
    }));

    expect(ok.size).toBe(affordable);  // exactly what the balance covered
    expect(after.balance).toBe(0);
    expect(after.sum).toBe(after.balance);  // the whole ledger sums to the balance
    expect(before.balance - after.balance).toBe(affordable * price);
    expect(after.sum - before.sum).toBe(after.balance - before.balance);
    expect(after.rows - before.rows).toBe(affordable);  // one row per debit, no duplicate
    expect(events.n - 1).toBe(affordable);  // plus the probe
    expect(negatives.n).toBe(0);
    expect(byStatus[402]).toBeGreaterThanOrEqual(200);
    expect((byStatus[201] ?? 0) + (byStatus[402] ?? 0)).toBe(1200);
  }, 120_000);

  it("a new account and a guest start with their grants; the balance is a header too", async () => {
    const u = await registerUser();
    const b = await api("GET", "/api/credits", { token: u.accessToken });
    expect(b.status).toBe(200);
    expect(b.json).toMatchObject({ userId: u.user.id, balance: 10, unit: "credits" });
    expect(b.headers.get("x-credits-balance")).toBe("10");
    const g = await api("POST", "/api/v1/auth/guest", { body: {} });
    const gb = await api("GET", "/api/v1/credits", { token: g.json.accessToken });
    expect(gb.json.balance).toBe(1);
    const ledger = await api("GET", "/api/v1/credits/ledger", { token: u.accessToken });
    expect(ledger.json.entries).toEqual([expect.objectContaining({ kind: "grant", delta: 10, balanceAfter: 10 })]);
  });

  it("an answer is reserved, settled and metered; the headers are exposed to the browser", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    const res = await SELF.fetch(`${BASE}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t}`, origin: "https://app.example" },
      body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Say hi" }] }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    const used = Number(res.headers.get("x-credits-used"));
    expect(used).toBeGreaterThan(0);
    expect(Number(res.headers.get("x-credits-balance"))).toBeCloseTo(10 - used, 6);
    expect(Number(res.headers.get("x-tokens-in"))).toBe(body.usage.prompt_tokens);
    expect(Number(res.headers.get("x-tokens-out"))).toBe(body.usage.completion_tokens);
    expect(res.headers.get("x-provider")).toBe("openai");
    expect(res.headers.get("x-model")).toBe("gpt-4o-mini");
    const exposed = res.headers.get("access-control-expose-headers").toLowerCase();
    for (const h of ["x-credits-used", "x-credits-balance", "x-tokens-in", "x-tokens-out", "x-provider", "x-model"]) {
      expect(exposed).toContain(h);
    }
    const usage = await api("GET", "/api/billing/usage", { token: t });
    expect(usage.json.totals).toMatchObject({ calls: 1, tokensIn: body.usage.prompt_tokens });
    expect(usage.json.events[0]).toMatchObject({ kind: "completion", provider: "openai", model: "gpt-4o-mini" });
    const l = await ledgerOf(u.user.id);
    expect(l.sum).toBe(l.balance);
    expect(l.balance).toBe(Math.round((10 - used) * 1e6));

    // A streamed chat answer: the reservation in the head, the settled figures in `usage`.
    const chat = await api("POST", "/api/v1/chats", { token: t, body: {} });
    const s = await SELF.fetch(`${BASE}/api/v1/chats/${chat.json.chat.id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t}` },
      body: JSON.stringify({ content: "Hello there", provider: "openai", model: "gpt-4o-mini", useDocuments: false }),
    });
    expect(s.status).toBe(200);
    expect(Number(s.headers.get("x-credits-reserved"))).toBeGreaterThan(0);
    const events = [];
    const parser = createParser({ onEvent: (e) => events.push(e) });
    parser.feed(await s.text());
    const usageEv = JSON.parse(events.find((e) => e.event === "usage").data);
    expect(usageEv.credits.used).toBeGreaterThan(0);
    expect(usageEv.credits.used).toBeLessThanOrEqual(Number(s.headers.get("x-credits-reserved")));
    const l2 = await ledgerOf(u.user.id);
    expect(l2.sum).toBe(l2.balance);
    expect(l2.balance).toBe(Math.round(usageEv.credits.balance * 1e6));
  });

  it("an answer the balance cannot cover is 402 before anything is streamed or stored", async () => {
    const u = await registerUser();
    await setBalance(u.user.id, 0);
    const r = await api("POST", "/v1/chat/completions", {
      token: u.accessToken,
      body: { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Say hi" }], stream: true },
    });
    const e = expectError(r, 402, "credits.insufficient");
    expect(e.fields.balance).toBe(0);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM usage_events WHERE user_id = ?").bind(u.user.id).first();
    expect(n.n).toBe(0);
  });
});

describe("idempotency", () => {
  it("replays a repeat, refuses a changed body, and answers a concurrent duplicate with 409", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    const first = await debit(t, "same");
    const again = await debit(t, "same");
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expectError(await debit(t, "same", 5), 422, "idempotency.key_reused");
    const both = await Promise.all([debit(t, "race"), debit(t, "race"), debit(t, "race")]);
    const statuses = both.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM usage_events WHERE user_id = ?").bind(u.user.id).first();
    expect(rows.n).toBe(2);  // "same" once, "race" once
    expectError(await debit(t, "x".repeat(300)), 400, "idempotency.invalid_key");
  });

  it("a chat created twice with one key is one chat", async () => {
    const u = await registerUser();
    const headers = { "idempotency-key": "new-chat-1" };
    const a = await api("POST", "/api/v1/chats", { token: u.accessToken, headers, body: { title: "Once" } });
    const b = await api("POST", "/api/v1/chats", { token: u.accessToken, headers, body: { title: "Once" } });
    expect(a.status).toBe(201);
    expect(b.json.chat.id).toBe(a.json.chat.id);
    const list = await api("GET", "/api/v1/chats", { token: u.accessToken });
    expect(list.json.chats.length).toBe(1);
  });
});

describe("admin", () => {
  const routes = [
    ["GET", "/api/admin/users"], ["GET", "/api/v1/admin/users"],
    ["GET", "/api/admin/users/usr_x"], ["PATCH", "/api/admin/users/usr_x", { disabled: true }],
    ["POST", "/api/admin/users/usr_x/credits", { amount: 1 }],
    ["GET", "/api/admin/usage"], ["GET", "/api/v1/admin/usage"],
    ["POST", "/api/credits/adjust", { userId: "usr_x", amount: 1 }],
    ["POST", "/api/v1/credits/adjust", { userId: "usr_x", amount: 1 }],
  ];
  it("every admin route refuses without the key (401) and with a wrong one (403)", async () => {
    const u = await registerUser();
    for (const [method, path, body] of routes) {
      expectError(await api(method, path, { body, token: u.accessToken }), 401, "admin.key_required");
      expectError(await api(method, path, { body, headers: { "x-admin-key": "wrong-key-but-long-enough" } }),
        403, "admin.key_invalid");
      expectError(await api(method, path, { body, headers: { "x-admin-token": `${env.ADMIN_KEY}!` } }),
        403, "admin.key_invalid");
    }
  });

  it("a disabled user is refused everywhere at once — token, API key and refresh — until enabled", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    const key = await api("POST", "/api/v1/api-keys", { token: t, body: { name: "k" } });
    const apiKey = key.json.apiKey.key;
    const off = await api("PATCH", `/api/admin/users/${u.user.id}`, { headers: ADMIN, body: { disabled: true, reason: "abuse" } });
    expect(off.status, off.text).toBe(200);
    expect(off.json.user).toMatchObject({ id: u.user.id, disabled: true });
    for (const [m, p] of [["GET", "/api/v1/auth/me"], ["GET", "/api/credits"], ["GET", "/api/v1/chats"], ["GET", "/v1/models"]]) {
      expectError(await api(m, p, { token: t }), 403, "auth.user_disabled");
    }
    expectError(await api("GET", "/api/v1/auth/me", { token: apiKey }), 403, "auth.user_disabled");
    const refreshed = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect([401, 403]).toContain(refreshed.status);
    const listed = await api("GET", "/api/admin/users?disabled=true&limit=200", { headers: ADMIN });
    expect(listed.json.users.map((x) => x.id)).toContain(u.user.id);

    expect((await api("PATCH", `/api/v1/admin/users/${u.user.id}`, { headers: ADMIN, body: { disabled: false } })).status).toBe(200);
    const again = await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: u.password } });
    expect(again.status).toBe(200);
    expect((await api("GET", "/api/v1/auth/me", { token: apiKey })).status).toBe(200);
  });

  it("admin usage covers every user and filters by one", async () => {
    const a = await registerUser();
    const b = await registerUser();
    await debit(a.accessToken);
    await debit(b.accessToken);
    await debit(b.accessToken);
    const one = await api("GET", `/api/admin/usage?userId=${b.user.id}`, { headers: ADMIN });
    expect(one.json.totals.calls).toBe(2);
    const all = await api("GET", "/api/admin/usage?model=gpt-4o-mini&limit=1", { headers: ADMIN });
    expect(all.json.totals.calls).toBeGreaterThanOrEqual(3);
    expect(all.json.events.length).toBe(1);
    expect(all.json.daily[0]).toMatchObject({ provider: "openai", model: "gpt-4o-mini" });
  });
});
