// The runtime around the core: a Wasm trap resets the instance without taking the Worker down, and
// one shared instance serves many concurrent requests without mixing them up or racing in D1.
import { describe, it, expect } from "vitest";
import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
// The same module instances the Worker uses (vitest-pool-workers runs it in the test isolate), so
// the tests can see the isolate's core: its open session count and whether it was reset.
import wasmModule from "../../js-shim/core-test.wasm";
import { getCore } from "../../js-shim/core.js";
import { api, expectError, registerUser, uniqueName, PASSWORD, HEX32 } from "./helpers.js";

const trap = (headers = {}) => api("POST", "/__test/trap", { headers });

async function until(predicate, timeoutMs = 5000) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting for condition");
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe("Wasm trap", () => {
  it("POST /__test/trap → 500 runtime.trap, and the next requests succeed", async () => {
    const before = getCore(wasmModule, env);
    const r = await trap();
    expect(r.status).toBe(500);
    expect(r.json.error.code).toBe("runtime.trap");
    expect(r.json.error.message).toEqual(expect.any(String));
    expect(before.dead).toBe(true);

    const health = await api("GET", "/health");
    expect(health.status).toBe(200);
    expect(health.json.status).toBe("ok");
    expect(getCore(wasmModule, env)).not.toBe(before);

    const u = await registerUser({ prefix: "aftertrap" });
    const me = await api("GET", "/api/v1/auth/me", { token: u.accessToken });
    expect(me.status, me.text).toBe(200);
    expect(me.json.user.id).toBe(u.user.id);
  });

  it("a sane X-Request-Id is echoed in the trap's error body", async () => {
    const r = await trap({ "x-request-id": "trap-req-1" });
    expect(r.status).toBe(500);
    expect(r.json.requestId).toBe("trap-req-1");
  });

  // Regression: the trap response once had no x-request-id.
  it("the trap response carries an x-request-id header like every response", async () => {
    const r = await trap();
    expect(r.status).toBe(500);
    expect(r.headers.get("x-request-id")).toMatch(HEX32);
    expect(r.json.requestId).toBe(r.headers.get("x-request-id"));
  });

  it("state survives a reset: tokens issued before the trap still verify and refresh", async () => {
    const u = await registerUser({ prefix: "pretrap" });
    expect((await trap()).status).toBe(500);
    const me = await api("GET", "/api/v1/auth/me", { token: u.accessToken });
    expect(me.status, me.text).toBe(200);
    const refreshed = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(refreshed.status, refreshed.text).toBe(200);
    // Same signing key: the fresh instance loaded it from D1 rather than generating a new one.
    const kid = (t) => JSON.parse(atob(t.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"))).kid;
    expect(kid(refreshed.json.accessToken)).toBe(kid(u.accessToken));
  });

  it("a request the trapped instance was holding gets 500 runtime.trap; later ones succeed", async () => {
    await api("GET", "/health"); // a live instance
    const core = getCore(wasmModule, env);
    expect(core.sessions()).toBe(0);
    // A register whose body the test holds open: the core suspends on its body.read effect.
    let controller;
    const body = new ReadableStream({ start(c) { controller = c; } });
    const enc = new TextEncoder();
    controller.enqueue(enc.encode(`{"username":"${uniqueName("inflight")}",`));
    const inflight = api("POST", "/api/v1/auth/register", {
      body, headers: { "content-type": "application/json" }, init: { duplex: "half" },
    });
    await until(() => core.sessions() > 0);
    const t = await trap();
    expect(t.status).toBe(500);
    expect(core.dead).toBe(true);
    controller.enqueue(enc.encode(`"password":"${PASSWORD}"}`));
    controller.close();
    const held = await inflight;
    expect(held.status, held.text).toBe(500);
    expect(held.json.error.code).toBe("runtime.trap");
    const after = await registerUser({ prefix: "posttrap" });
    expect(after.user.username).toMatch(/^posttrap_/);
  });

  it("control: the same held-open request completes normally without a trap", async () => {
    await api("GET", "/health");
    const core = getCore(wasmModule, env);
    let controller;
    const body = new ReadableStream({ start(c) { controller = c; } });
    const enc = new TextEncoder();
    const username = uniqueName("held");
    controller.enqueue(enc.encode(`{"username":"${username}",`));
    const inflight = api("POST", "/api/v1/auth/register", {
      body, headers: { "content-type": "application/json" }, init: { duplex: "half" },
    });
    await until(() => core.sessions() > 0);
    expect((await api("GET", "/health")).status).toBe(200);
    controller.enqueue(enc.encode(`"password":"${PASSWORD}"}`));
    controller.close();
    const r = await inflight;
    expect(r.status, r.text).toBe(201);
    expect(r.json.user.username).toBe(username);
  });

  it("repeated traps never wedge the Worker", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await trap()).status).toBe(500);
      expect((await api("GET", "/ready")).status).toBe(200);
    }
  });
});

describe("concurrency", () => {
  it("20 concurrent registrations with distinct names all succeed", async () => {
    const names = Array.from({ length: 20 }, () => uniqueName("conc"));
    const rs = await Promise.all(names.map((username) =>
      api("POST", "/api/v1/auth/register", { body: { username, password: PASSWORD } })));
    rs.forEach((r, i) => {
      expect(r.status, r.text).toBe(201);
      expect(r.json.user.username).toBe(names[i]);
    });
    expect(new Set(rs.map((r) => r.json.user.id)).size).toBe(20);
    expect(new Set(rs.map((r) => decodeJwt(r.json.accessToken).sid)).size).toBe(20);
    const { count } = await env.DB.prepare(
      `SELECT COUNT(*) AS count FROM users WHERE username IN (${names.map(() => "?").join(",")})`,
    ).bind(...names).first();
    expect(count).toBe(20);
  });

  it("5 concurrent registrations of the SAME name → exactly one 201, the rest 409", async () => {
    const username = uniqueName("race");
    const passwords = Array.from({ length: 5 }, (_, i) => `password-${i}-${Math.random()}`);
    const rs = await Promise.all(passwords.map((password) =>
      api("POST", "/api/v1/auth/register", { body: { username, password } })));
    const winners = rs.filter((r) => r.status === 201);
    const losers = rs.filter((r) => r.status !== 201);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(4);
    for (const r of losers) expectError(r, 409, "auth.username_taken");
    // Only the winner's password logs in: no loser overwrote the row.
    const winnerPassword = passwords[rs.indexOf(winners[0])];
    for (const password of passwords) {
      const login = await api("POST", "/api/v1/auth/login", { body: { username, password } });
      expect(login.status).toBe(password === winnerPassword ? 200 : 401);
    }
    const { count } = await env.DB.prepare("SELECT COUNT(*) AS count FROM users WHERE username = ?")
      .bind(username).first();
    expect(count).toBe(1);
  });

  it("concurrent refreshes with one refresh token → at most one 200; reuse revokes the session", async () => {
    const u = await registerUser({ prefix: "refrace" });
    const rs = await Promise.all(Array.from({ length: 5 }, () =>
      api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } })));
    const ok = rs.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const r of rs.filter((x) => x.status !== 200)) {
      expect(r.status, r.text).toBe(401);
      expect(["auth.refresh_reused", "auth.session_revoked"]).toContain(r.json.error.code);
    }
    // At least four lost, i.e. reuse was detected, so the whole family is revoked.
    expectError(await api("GET", "/api/v1/auth/me", { token: u.accessToken }), 401, "auth.session_revoked");
    for (const r of ok) {
      const next = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: r.json.refreshToken } });
      expect(next.status).toBe(401);
    }
    // Exactly one refresh token of the family was ever minted beyond the original, at most.
    const { count } = await env.DB.prepare(
      "SELECT COUNT(*) AS count FROM refresh_tokens WHERE session_id = ?",
    ).bind(decodeJwt(u.accessToken).sid).first();
    expect(count).toBe(1 + ok.length);
  });

  it("concurrent logins of one user get distinct, working sessions", async () => {
    const u = await registerUser({ prefix: "multi" });
    const rs = await Promise.all(Array.from({ length: 8 }, () =>
      api("POST", "/api/v1/auth/login", { body: { username: u.username, password: u.password } })));
    for (const r of rs) expect(r.status, r.text).toBe(200);
    expect(new Set(rs.map((r) => decodeJwt(r.json.accessToken).sid)).size).toBe(8);
    const mes = await Promise.all(rs.map((r) => api("GET", "/api/v1/auth/me", { token: r.json.accessToken })));
    for (const me of mes) expect(me.json.user.id).toBe(u.user.id);
  });

  it("interleaved requests never see each other's data", async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => registerUser({ prefix: "mix" })));
    const jobs = [];
    for (let round = 0; round < 4; round++) {
      users.forEach((u, i) => {
        const id = `mix-${round}-${i}`;
        jobs.push(api("GET", "/api/v1/auth/me", { token: u.accessToken, headers: { "x-request-id": id } })
          .then((r) => ({ r, id, want: u.user.id })));
      });
      jobs.push(api("GET", "/health").then((r) => ({ r, want: "health" })));
      jobs.push(api("GET", "/nope").then((r) => ({ r, want: "404" })));
    }
    for (const { r, id, want } of await Promise.all(jobs)) {
      if (want === "health") expect(r.json.status).toBe("ok");
      else if (want === "404") expect(r.status).toBe(404);
      else {
        expect(r.status, r.text).toBe(200);
        expect(r.json.user.id).toBe(want);
        expect(r.headers.get("x-request-id")).toBe(id);
      }
    }
  });

  it("no core session is left open after all that traffic", async () => {
    await Promise.all([
      api("GET", "/health"),
      api("POST", "/api/v1/auth/register", { body: { username: "x" } }),
      api("POST", "/api/v1/auth/login", { body: "{", headers: { "content-type": "application/json" } }),
    ]);
    expect(getCore(wasmModule, env).sessions()).toBe(0);
  });
});
