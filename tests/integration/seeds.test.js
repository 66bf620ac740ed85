// The seed-compatible adapters: each seed's documented route and body shape, over the same accounts
// service as /api/v1 (a token from one works on the other).
import { describe, it, expect } from "vitest";
import { decodeJwt } from "jose";
import {
  api, expectError, expectSeedError, registerUser, uniqueName, PASSWORD,
} from "./helpers.js";

function expectSeed000Ok(r, status, username) {
  expect(r.status, r.text).toBe(status);
  expect(r.json.success).toBe(true);
  const d = r.json.data;
  expect(d.tokenType).toBe("Bearer");
  expect(d.expiresIn).toBe(900);
  expect(d.accessToken.split(".")).toHaveLength(3);
  expect(d.refreshToken).toMatch(/^ecr_/);
  expect(d.user.username).toBe(username);
  expect(d.user.role).toBe("user");
  return d;
}

describe("seed 000 (Metacogna): /api/auth/register and /api/auth/login", () => {
  it("register → 201 {success:true,data:{…}} and the token works on /api/v1", async () => {
    const username = uniqueName("s0");
    const r = await api("POST", "/api/auth/register", { body: { username, password: PASSWORD } });
    const d = expectSeed000Ok(r, 201, username);
    const me = await api("GET", "/api/v1/auth/me", { token: d.accessToken });
    expect(me.status).toBe(200);
    expect(me.json.user).toEqual(d.user);
  });

  it("login → 200 with the same user as a canonical registration", async () => {
    const u = await registerUser({ prefix: "s0l" });
    const r = await api("POST", "/api/auth/login", { body: { username: u.username, password: u.password } });
    const d = expectSeed000Ok(r, 200, u.username);
    expect(d.user.id).toBe(u.user.id);
    expect(decodeJwt(d.accessToken).sub).toBe(u.user.id);
  });

  it("a taken username → 409 {error:<message>, details:{code}}", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/auth/register", { body: { username: u.username, password: PASSWORD } });
    const body = expectSeedError(r, 409, "auth.username_taken");
    // requestId beside seed 000's own fields (every error names its request).
    expect(body.requestId).toBe(r.headers.get("x-request-id"));
    expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
  });

  it("validation errors carry details.fields", async () => {
    const r = await api("POST", "/api/auth/register", { body: { username: 123, password: "short" } });
    const body = expectSeedError(r, 400, "validation.failed");
    expect(Object.keys(body.details.fields).sort()).toEqual(["password", "username"]);
  });

  it("bad credentials → 401 seed-style auth.invalid_credentials", async () => {
    const u = await registerUser();
    const wrong = await api("POST", "/api/auth/login", { body: { username: u.username, password: "nope nope" } });
    const unknown = await api("POST", "/api/auth/login", { body: { username: uniqueName("nobody"), password: "nope nope" } });
    expectSeedError(wrong, 401, "auth.invalid_credentials");
    expectSeedError(unknown, 401, "auth.invalid_credentials");
    const { requestId: _w, ...wrongBody } = wrong.json;
    const { requestId: _u, ...unknownBody } = unknown.json;
    expect(wrongBody).toEqual(unknownBody);
  });

  it.each([
    ["/api/auth/register", "invalid JSON", "{nope", "http.invalid_json", 400],
    ["/api/auth/login", "invalid JSON", "{nope", "http.invalid_json", 400],
    ["/api/auth/register", "an array", "[]", "validation.body_not_object", 400],
    ["/api/auth/login", "an empty object", "{}", "validation.failed", 400],
  ])("%s with %s → seed-style %s", async (path, _label, body, code, status) => {
    const r = await api("POST", path, { body, headers: { "content-type": "application/json" } });
    expectSeedError(r, status, code);
  });

  it("a wrong content type → seed-style 415", async () => {
    const r = await api("POST", "/api/auth/login", { body: "username=a", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expectSeedError(r, 415, "http.unsupported_media_type");
  });
});

describe("seed 001 (widget): /api/auth/session and /api/auth/logout", () => {
  it("session with a valid Bearer → {user:{…}}", async () => {
    const u = await registerUser({ prefix: "s1" });
    const r = await api("GET", "/api/auth/session", { token: u.accessToken });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ user: u.user });
  });

  it("session without a token → 200 {user:null}", async () => {
    const r = await api("GET", "/api/auth/session");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ user: null });
  });

  it("session with a garbage token → 200 {user:null}, not an error", async () => {
    const r = await api("GET", "/api/auth/session", { token: "garbage.token.here" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ user: null });
  });

  it("logout → 200 {success:true}, clears the cookie and ends the session", async () => {
    const u = await registerUser({ prefix: "s1o" });
    const r = await api("POST", "/api/auth/logout", { token: u.accessToken });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ success: true });
    const cookie = r.headers.get("set-cookie");
    expect(cookie).toMatch(/^edgechat_session=;/);
    expect(cookie).toMatch(/Max-Age=0/);
    expect(cookie).toMatch(/HttpOnly/);
    const session = await api("GET", "/api/auth/session", { token: u.accessToken });
    expect(session.json).toEqual({ user: null });
    expectError(await api("GET", "/api/v1/auth/me", { token: u.accessToken }), 401, "auth.session_revoked");
  });

  it("logout with a refresh token in the body ends that session", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/auth/logout", { body: { refreshToken: u.refreshToken } });
    expect(r.status).toBe(200);
    expectError(await api("GET", "/api/v1/auth/me", { token: u.accessToken }), 401, "auth.session_revoked");
  });

  it("logout without any token, or twice, is still 200 (seed 001 semantics)", async () => {
    const none = await api("POST", "/api/auth/logout");
    expect(none.status).toBe(200);
    expect(none.json).toEqual({ success: true });
    expect(none.headers.get("set-cookie")).toMatch(/^edgechat_session=;/);
    const u = await registerUser();
    expect((await api("POST", "/api/auth/logout", { token: u.accessToken })).status).toBe(200);
    expect((await api("POST", "/api/auth/logout", { token: u.accessToken })).status).toBe(200);
  });

  it("logout with a refreshToken of the wrong type → 400", async () => {
    const r = await api("POST", "/api/auth/logout", { body: { refreshToken: ["x"] } });
    expectError(r, 400, "validation.failed");
  });
});

describe("seed 003 (Cognomega): POST /auth/guest", () => {
  it("→ 201 with `token` equal to accessToken plus the canonical fields", async () => {
    const r = await api("POST", "/auth/guest");
    expect(r.status, r.text).toBe(201);
    expect(r.json.token).toBe(r.json.accessToken);
    expect(r.json.tokenType).toBe("Bearer");
    expect(r.json.expiresIn).toBe(900);
    expect(r.json.refreshToken).toMatch(/^ecr_/);
    expect(r.json.user).toMatchObject({ role: "guest", isGuest: true });
    const claims = decodeJwt(r.json.token);
    expect(claims.role).toBe("guest");
    expect(claims.sub).toBe(r.json.user.id);
    const me = await api("GET", "/api/v1/auth/me", { token: r.json.token });
    expect(me.status).toBe(200);
    expect(me.json.user.id).toBe(r.json.user.id);
  });

  it("a guest's refresh token rotates like any other", async () => {
    const g = await api("POST", "/auth/guest", { body: {} });
    expect(g.status).toBe(201);
    const r = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: g.json.refreshToken } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.user.id).toBe(g.json.user.id);
    expect(r.json.user.role).toBe("guest");
  });

  it("only POST is routed", async () => {
    const r = await api("GET", "/auth/guest");
    expectError(r, 405, "http.method_not_allowed");
    expect(r.headers.get("allow")).toMatch(/POST/);
  });
});
