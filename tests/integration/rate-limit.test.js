// Rate limits in the real Worker: the core's gateway asks for ratelimit.check, the shim calls the
// RateLimiter Durable Object (js-shim/rate-limiter.js, SQLite-backed, in workerd), which decides
// with the core's GCRA through core.wasm's core_gcra. vitest.config.js gives the real groups huge
// limits and the "test" group — only /__test/limited is in it — 20 an hour anonymous, 40 signed in.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { performEffect } from "../../js-shim/effects.js";
import { RateLimiter } from "./worker-entry.js";
import { api, registerUser } from "./helpers.js";

const TEST_LIMIT = { anonymous: 20, user: 40, periodSeconds: 3600 };

// A documentation-range address no other test (or earlier run) has used: its own counters.
let seq = 0;
function freshIp() {
  seq += 1;
  const r = crypto.getRandomValues(new Uint8Array(2));
  return `198.18.${r[0]}.${(r[1] + seq) % 256}`;
}

const limited = (ip, token) => api("GET", "/__test/limited", { token, headers: { "cf-connecting-ip": ip } });
const stubFor = (name) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe("rate limits through the Worker", () => {
  it("200 concurrent requests against one limit admit exactly the limit", async () => {
    const ip = freshIp();
    const all = await Promise.all(Array.from({ length: 200 }, () => limited(ip)));
    const admitted = all.filter((r) => r.status === 200);
    const refused = all.filter((r) => r.status === 429);
    console.log(`rate limit, 200 concurrent requests: admitted ${admitted.length}, refused ${refused.length},` +
      ` limit ${TEST_LIMIT.anonymous}`);
    expect(admitted.length).toBe(TEST_LIMIT.anonymous);
    expect(refused.length).toBe(200 - TEST_LIMIT.anonymous);
    // Decided one after another: each admitted request saw a different remaining count.
    const remaining = admitted.map((r) => Number(r.headers.get("x-ratelimit-remaining"))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: TEST_LIMIT.anonymous }, (_, i) => i));
    for (const r of refused) {
      expect(r.json.error.code).toBe("rate_limit.exceeded");
      expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
  });

  it("a refusal: 429 in the error shape, Retry-After and the X-RateLimit headers", async () => {
    const ip = freshIp();
    const first = await limited(ip);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit")).toBe("20");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("19");
    expect(first.headers.get("x-ratelimit-reset")).toBe("180"); // one interval: 3600 s / 20
    expect(first.headers.get("retry-after")).toBeNull();
    for (let i = 1; i < 20; i++) expect((await limited(ip)).status).toBe(200);
    const r = await api("GET", "/__test/limited", {
      headers: { "cf-connecting-ip": ip, origin: "https://app.example" },
    });
    expect(r.status).toBe(429);
    expect(r.json).toMatchObject({ error: { code: "rate_limit.exceeded", message: expect.any(String) } });
    expect(r.json.requestId).toBe(r.headers.get("x-request-id"));
    // 180 s (3600 / 20) after the first request, which was a moment ago.
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(170);
    expect(Number(r.headers.get("retry-after"))).toBeLessThanOrEqual(180);
    expect(r.headers.get("x-ratelimit-limit")).toBe("20");
    expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(r.headers.get("x-ratelimit-reset"))).toBeGreaterThan(3590);
    expect(Number(r.headers.get("x-ratelimit-reset"))).toBeLessThanOrEqual(3600);
    // A browser app may read them.
    expect(r.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const exposed = r.headers.get("access-control-expose-headers");
    for (const h of ["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]) {
      expect(exposed).toContain(h);
    }
  });

  it("a signed-in user and an address count separately, with their own limits", async () => {
    const ip = freshIp();
    const user = await registerUser({ prefix: "rl" });
    for (let i = 0; i < 20; i++) await limited(ip);
    expect((await limited(ip)).status).toBe(429);
    // Same address, signed in: the user's allowance (40), untouched by the address's.
    const signed = await limited(ip, user.accessToken);
    expect(signed.status).toBe(200);
    expect(signed.headers.get("x-ratelimit-limit")).toBe("40");
    expect(signed.headers.get("x-ratelimit-remaining")).toBe("39");
    // The user's count follows the user to another address.
    const elsewhere = await limited(freshIp(), user.accessToken);
    expect(elsewhere.headers.get("x-ratelimit-remaining")).toBe("38");
    // Another address, anonymous: a fresh allowance.
    expect((await limited(freshIp())).headers.get("x-ratelimit-remaining")).toBe("19");
  });

  it("groups count separately, and every limited route carries the headers", async () => {
    const ip = freshIp();
    for (let i = 0; i < 20; i++) await limited(ip);
    expect((await limited(ip)).status).toBe(429);
    // The default group, same address: its own counter (vitest.config.js: 1,000,000 a minute).
    const me = await api("GET", "/api/v1/auth/me", { headers: { "cf-connecting-ip": ip } });
    expect(me.status).toBe(401);
    expect(me.headers.get("x-ratelimit-limit")).toBe("1000000");
    expect(me.headers.get("x-ratelimit-remaining")).toBe("999999");
    expect(Number(me.headers.get("x-ratelimit-reset"))).toBeGreaterThanOrEqual(0);
    const user = await registerUser({ prefix: "rl" });
    const ok = await api("GET", "/api/v1/auth/me", { token: user.accessToken, headers: { "cf-connecting-ip": ip } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-ratelimit-remaining")).toBe("999999");
    // Exempt routes carry none.
    const health = await api("GET", "/health", { headers: { "cf-connecting-ip": ip } });
    expect(health.headers.get("x-ratelimit-limit")).toBeNull();
  });
});

describe("the RateLimiter Durable Object", () => {
  let n = 0;
  const freshName = () => `test:object:${++n}:${crypto.randomUUID()}`;

  it("keeps its window across a restart: the state is stored, not only held in memory", async () => {
    const stub = stubFor(freshName());
    for (let i = 0; i < 3; i++) expect((await stub.check(3, 60_000, 1)).allowed).toBe(true);
    expect(await stub.check(3, 60_000, 1)).toMatchObject({ allowed: false, remaining: 0 });
    // A fresh instance over the same storage, as after an eviction: still refused.
    const again = await runInDurableObject(stub, (_instance, state) => new RateLimiter(state, env).check(3, 60_000, 1));
    expect(again.allowed).toBe(false);
    expect(again.retryAfterMs).toBeGreaterThan(19_000);
  });

  it("drops its row once the allowance is whole again (alarm)", async () => {
    // 2 per 600 ms: the third request, right after, is refused; all three are admitted again
    // once 600 ms have passed.
    const stub = stubFor(freshName());
    expect((await stub.check(2, 600, 1)).allowed).toBe(true);
    expect((await stub.check(2, 600, 1)).allowed).toBe(true);
    expect((await stub.check(2, 600, 1)).allowed).toBe(false);
    const tables = () => runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'gcra'").toArray().length);
    expect(await tables()).toBe(1);
    // The alarm fires at the TAT (and again if the object was still in use then); past it, the
    // row is gone. Run a pending one now in case workerd has not yet.
    await sleep(800);
    await runDurableObjectAlarm(stub);
    expect(await tables()).toBe(0);
    expect(await stub.check(2, 600, 1)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it("refuses bad arguments (the core's bounds) as an answer, and the effect reports them", async () => {
    const stub = stubFor(freshName());
    expect(await stub.check(0, 60_000, 1)).toMatchObject({ error: "invalid" });
    expect(await stub.check(1.5, 60_000, 1)).toMatchObject({ error: "invalid" });
    expect(await stub.check(10, -1, 1)).toMatchObject({ error: "invalid" });
    const bad = await performEffect({ op: "ratelimit.check", payload: JSON.stringify({ key: freshName(), limit: 0, periodMs: 1000, cost: 1 }) },
      null, env, {});
    expect(bad).toMatchObject({ ok: false, code: "invalid" });
    const noKey = await performEffect({ op: "ratelimit.check", payload: JSON.stringify({ limit: 1, periodMs: 1000 }) },
      null, env, {});
    expect(noKey).toMatchObject({ ok: false, code: "invalid" });
    const good = await performEffect({ op: "ratelimit.check", payload: JSON.stringify({ key: freshName(), limit: 5, periodMs: 1000, cost: 1 }) },
      null, env, {});
    expect(good.ok).toBe(true);
    expect(JSON.parse(good.data)).toEqual({ allowed: true, limit: 5, remaining: 4, resetMs: 200, retryAfterMs: 0 });
  });

  it("without the binding the effect is unavailable (the core then lets requests through)", async () => {
    const { RATE_LIMITER: _, ...rest } = env;
    const out = await performEffect({ op: "ratelimit.check", payload: JSON.stringify({ key: "k", limit: 1, periodMs: 1000 }) },
      null, rest, {});
    expect(out).toMatchObject({ ok: false, code: "unavailable" });
  });
});
