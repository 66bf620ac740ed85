// The canonical accounts API (/api/v1/auth/*): register, login, guest, refresh rotation and reuse
// detection, logout, /me, JWKS, and bad input on every route.
import { describe, it, expect } from "vitest";
import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
import {
  api, expectError, registerUser, uniqueName, PASSWORD,
} from "./helpers.js";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function expectSessionBody(body, { username, role = "user", isGuest = false } = {}) {
  expect(body.tokenType).toBe("Bearer");
  expect(body.expiresIn).toBe(900);
  expect(body.accessToken.split(".")).toHaveLength(3);
  expect(body.refreshToken).toMatch(/^ecr_[A-Za-z0-9_-]{43}$/);
  expect(body.user.id).toMatch(/^usr_[0-9a-f]{24}$/);
  if (username !== undefined) expect(body.user.username).toBe(username);
  expect(body.user.role).toBe(role);
  expect(body.user.isGuest).toBe(isGuest);
  expect(body.user.createdAt).toMatch(ISO_MS);
  expect(body.user).not.toHaveProperty("password_hash");
  expect(body.user).not.toHaveProperty("passwordHash");
}

describe("register", () => {
  it("creates a user and a session (201)", async () => {
    const username = uniqueName("reg");
    const r = await api("POST", "/api/v1/auth/register", {
      body: { username, password: PASSWORD, email: "Reg@Example.com" },
    });
    expect(r.status, r.text).toBe(201);
    expectSessionBody(r.json, { username });
    expect(r.json.user.email).toBe("Reg@Example.com");
    const claims = decodeJwt(r.json.accessToken);
    expect(claims.sub).toBe(r.json.user.id);
    expect(claims.sid).toMatch(/^ses_[0-9a-f]{24}$/);
    expect(claims.role).toBe("user");
  });

  it("email is optional and null when absent", async () => {
    const u = await registerUser();
    expect(u.user.email).toBeNull();
  });

  it("stores the username lower-cased and treats case-variants as taken", async () => {
    const base = uniqueName("case");
    const mixed = base.toUpperCase();
    const r = await api("POST", "/api/v1/auth/register", { body: { username: mixed, password: PASSWORD } });
    expect(r.status, r.text).toBe(201);
    expect(r.json.user.username).toBe(base);
    const again = await api("POST", "/api/v1/auth/register", { body: { username: base, password: PASSWORD } });
    expectError(again, 409, "auth.username_taken");
    const login = await api("POST", "/api/v1/auth/login", { body: { username: mixed, password: PASSWORD } });
    expect(login.status, login.text).toBe(200);
    expect(login.json.user.id).toBe(r.json.user.id);
  });

  it("a taken username is 409 auth.username_taken", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/v1/auth/register", {
      body: { username: u.username, password: "another password" },
    });
    expectError(r, 409, "auth.username_taken");
    // The original password still works: the failed attempt changed nothing.
    const login = await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: u.password } });
    expect(login.status).toBe(200);
  });

  it("accepts the boundary lengths 3 and 32 and the full charset", async () => {
    const three = Math.random().toString(36).slice(2, 5).padEnd(3, "z");
    const r3 = await api("POST", "/api/v1/auth/register", { body: { username: three, password: "12345678" } });
    // A random 3-char name may already exist from an earlier run of this suite.
    expect([201, 409]).toContain(r3.status);
    const name32 = `a.b-c_${uniqueName("x")}`.padEnd(32, "9").slice(0, 32);
    expect(name32).toHaveLength(32);
    const r32 = await api("POST", "/api/v1/auth/register", { body: { username: name32, password: "12345678" } });
    expect(r32.status, r32.text).toBe(201);
    expect(r32.json.user.username).toBe(name32);
  });

  describe("validation", () => {
    const cases = [
      ["missing username", { password: PASSWORD }, ["username"]],
      ["missing password", { username: "valid_name" }, ["password"]],
      ["empty object", {}, ["username", "password"]],
      ["username is a number", { username: 123, password: PASSWORD }, ["username"]],
      ["password is a number", { username: "valid_name", password: 12345678 }, ["password"]],
      ["username is an array", { username: ["abc"], password: PASSWORD }, ["username"]],
      ["username is null", { username: null, password: PASSWORD }, ["username"]],
      ["username too short", { username: "ab", password: PASSWORD }, ["username"]],
      ["username too long (33)", { username: "a".repeat(33), password: PASSWORD }, ["username"]],
      ["username with a space", { username: "has space", password: PASSWORD }, ["username"]],
      ["username with @", { username: "me@home", password: PASSWORD }, ["username"]],
      ["unicode username", { username: "jürgen", password: PASSWORD }, ["username"]],
      ["unicode lookalike username", { username: "аdmin", password: PASSWORD }, ["username"]], // Cyrillic а
      ["emoji username", { username: "😀😀😀", password: PASSWORD }, ["username"]],
      ["password too short (7)", { username: "valid_name", password: "1234567" }, ["password"]],
      ["password too long (1025)", { username: "valid_name", password: "p".repeat(1025) }, ["password"]],
      ["invalid email", { username: "valid_name", password: PASSWORD, email: "not-an-email" }, ["email"]],
      ["email is a number", { username: "valid_name", password: PASSWORD, email: 5 }, ["email"]],
    ];
    it.each(cases)("%s → 400 validation.failed naming the field", async (_label, body, fields) => {
      const r = await api("POST", "/api/v1/auth/register", { body });
      const err = expectError(r, 400, "validation.failed");
      expect(Object.keys(err.fields).sort()).toEqual([...fields].sort());
      for (const f of fields) expect(typeof err.fields[f]).toBe("string");
    });

    it("unknown fields are ignored (seed clients send extras) and cannot set the role", async () => {
      const username = uniqueName("extra");
      const r = await api("POST", "/api/v1/auth/register", {
        body: { username, password: PASSWORD, role: "admin", isGuest: true, name: "Extra" },
      });
      expect(r.status, r.text).toBe(201);
      expect(r.json.user.role).toBe("user");
      expect(r.json.user.isGuest).toBe(false);
    });

    it("a password of exactly 1024 characters is accepted", async () => {
      const r = await api("POST", "/api/v1/auth/register", {
        body: { username: uniqueName("longpw"), password: "p".repeat(1024) },
      });
      expect(r.status, r.text).toBe(201);
    });

    it("a refused registration creates no user", async () => {
      const username = uniqueName("norow");
      await api("POST", "/api/v1/auth/register", { body: { username, password: "short" } });
      const login = await api("POST", "/api/v1/auth/login", { body: { username, password: "short" } });
      expectError(login, 401, "auth.invalid_credentials");
      const reg = await api("POST", "/api/v1/auth/register", { body: { username, password: PASSWORD } });
      expect(reg.status).toBe(201);
    });
  });
});

describe("login", () => {
  it("returns a new session for the right password", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: u.password } });
    expect(r.status, r.text).toBe(200);
    expectSessionBody(r.json, { username: u.username });
    expect(r.json.user.id).toBe(u.user.id);
    expect(decodeJwt(r.json.accessToken).sid).not.toBe(decodeJwt(u.accessToken).sid);
    expect(r.json.refreshToken).not.toBe(u.refreshToken);
  });

  it("wrong password and unknown user give the same 401 auth.invalid_credentials", async () => {
    const u = await registerUser();
    const wrong = await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: "wrong password" } });
    const unknown = await api("POST", "/api/v1/auth/login", {
      body: { username: uniqueName("ghost"), password: "wrong password" },
    });
    const e1 = expectError(wrong, 401, "auth.invalid_credentials");
    const e2 = expectError(unknown, 401, "auth.invalid_credentials");
    expect(e1).toEqual(e2);
    expect(wrong.json.requestId).not.toBe(unknown.json.requestId);
  });

  it("a guest (no password) cannot log in by name", async () => {
    const g = await api("POST", "/api/v1/auth/guest");
    expect(g.status).toBe(201);
    for (const password of ["", "x", PASSWORD]) {
      const r = await api("POST", "/api/v1/auth/login", { body: { username: g.json.user.username, password } });
      expect(r.status, `password=${JSON.stringify(password)}: ${r.text}`).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
  });

  it.each([
    ["empty object", {}],
    ["username is a number", { username: 123, password: PASSWORD }],
    ["password too long", { username: "someone", password: "p".repeat(1025) }],
    ["username too long", { username: "u".repeat(65), password: PASSWORD }],
    ["empty password", { username: "someone", password: "" }],
  ])("bad input (%s) → 400 validation.failed", async (_label, body) => {
    expectError(await api("POST", "/api/v1/auth/login", { body }), 400, "validation.failed");
  });

  it("a malformed (but schema-valid) username is just a failed login", async () => {
    const r = await api("POST", "/api/v1/auth/login", { body: { username: "bad name ü", password: PASSWORD } });
    expectError(r, 401, "auth.invalid_credentials");
  });
});

describe("guest", () => {
  it("POST /api/v1/auth/guest with no body creates a guest session", async () => {
    const r = await api("POST", "/api/v1/auth/guest");
    expect(r.status, r.text).toBe(201);
    expectSessionBody(r.json, { role: "guest", isGuest: true });
    expect(r.json.user.username).toMatch(/^guest_[0-9a-f]{16}$/);
    const me = await api("GET", "/api/v1/auth/me", { token: r.json.accessToken });
    expect(me.status).toBe(200);
    expect(me.json.user).toEqual(r.json.user);
  });

  it("accepts an empty JSON object too, and every guest is distinct", async () => {
    const a = await api("POST", "/api/v1/auth/guest", { body: {} });
    const b = await api("POST", "/api/v1/auth/guest", { body: "", headers: { "content-type": "application/json" } });
    expect(a.status, a.text).toBe(201);
    expect(b.status, b.text).toBe(201);
    expect(a.json.user.id).not.toBe(b.json.user.id);
    expect(a.json.user.username).not.toBe(b.json.user.username);
  });

  // Regression: schema-less body routes once accepted `[]` and created a guest.
  it("a JSON array body is refused like on every other route", async () => {
    expectError(await api("POST", "/api/v1/auth/guest", { body: [] }), 400, "validation.body_not_object");
  });

  it("invalid JSON is still refused", async () => {
    const r = await api("POST", "/api/v1/auth/guest", { body: "{", headers: { "content-type": "application/json" } });
    expectError(r, 400, "http.invalid_json");
  });
});

describe("passwords", () => {
  it("are compared in full: a NUL inside is not a terminator", async () => {
    const username = uniqueName("nul");
    const password = "abc\u0000defghij";
    expect((await api("POST", "/api/v1/auth/register", { body: { username, password } })).status).toBe(201);
    expectError(await api("POST", "/api/v1/auth/login", { body: { username, password: "abc" } }), 401,
      "auth.invalid_credentials");
    const ok = await api("POST", "/api/v1/auth/login", { body: { username, password } });
    expect(ok.status, ok.text).toBe(200);
  });

  it("are case-sensitive and not trimmed", async () => {
    const u = await registerUser({ password: "Secret Pass 1" });
    for (const wrong of ["secret pass 1", "Secret Pass 1 ", " Secret Pass 1", "SECRET PASS 1"]) {
      const r = await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: wrong } });
      expectError(r, 401, "auth.invalid_credentials");
    }
  });

  it("are never stored in clear: D1 holds a PBKDF2 hash", async () => {
    const u = await registerUser({ password: "plain text secret" });
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(u.user.id).first();
    expect(row.password_hash).toMatch(/^pbkdf2_sha256\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(row.password_hash).not.toContain("plain text secret");
  });
});

describe("disabled users", () => {
  it("are refused on /me, login and refresh with 403 auth.user_disabled", async () => {
    const u = await registerUser({ prefix: "dis" });
    expect((await api("GET", "/api/v1/auth/me", { token: u.accessToken })).status).toBe(200);
    await env.DB.prepare("UPDATE users SET disabled_at = ?1 WHERE id = ?2").bind(Date.now(), u.user.id).run();
    expectError(await api("GET", "/api/v1/auth/me", { token: u.accessToken }), 403, "auth.user_disabled");
    expectError(await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: u.password } }),
      403, "auth.user_disabled");
    expectError(await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } }), 403,
      "auth.user_disabled");
    const session = await api("GET", "/api/auth/session", { token: u.accessToken });
    expect(session.json).toEqual({ user: null });
  });

  it("a wrong password for a disabled user is still just invalid credentials", async () => {
    const u = await registerUser({ prefix: "dis2" });
    await env.DB.prepare("UPDATE users SET disabled_at = ?1 WHERE id = ?2").bind(Date.now(), u.user.id).run();
    const r = await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: "wrong password" } });
    expectError(r, 401, "auth.invalid_credentials");
  });
});

describe("me", () => {
  it("returns the token's user", async () => {
    const u = await registerUser();
    const r = await api("GET", "/api/v1/auth/me", { token: u.accessToken });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ user: u.user });
  });

  it("without a token is 401 auth.missing_token", async () => {
    expectError(await api("GET", "/api/v1/auth/me"), 401, "auth.missing_token");
  });

  it("a non-Bearer Authorization is 401 auth.missing_token", async () => {
    const u = await registerUser();
    const r = await api("GET", "/api/v1/auth/me", { headers: { authorization: `Basic ${u.accessToken}` } });
    expectError(r, 401, "auth.missing_token");
  });

  it("the Bearer scheme is case-insensitive", async () => {
    const u = await registerUser();
    const r = await api("GET", "/api/v1/auth/me", { headers: { authorization: `bearer ${u.accessToken}` } });
    expect(r.status, r.text).toBe(200);
  });

  it("a refresh token is not an access token", async () => {
    const u = await registerUser();
    expectError(await api("GET", "/api/v1/auth/me", { token: u.refreshToken }), 401, "auth.token_malformed");
  });
});

describe("refresh", () => {
  it("rotates: a new pair, and the new pair works", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(r.status, r.text).toBe(200);
    expectSessionBody(r.json, { username: u.username });
    expect(r.json.refreshToken).not.toBe(u.refreshToken);
    expect(r.json.accessToken).not.toBe(u.accessToken);
    // Same session (family), same user.
    expect(decodeJwt(r.json.accessToken).sid).toBe(decodeJwt(u.accessToken).sid);
    expect(decodeJwt(r.json.accessToken).sub).toBe(u.user.id);
    const me = await api("GET", "/api/v1/auth/me", { token: r.json.accessToken });
    expect(me.status).toBe(200);
    const again = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: r.json.refreshToken } });
    expect(again.status, again.text).toBe(200);
  });

  it("reusing a rotated-out token is 401 auth.refresh_reused and revokes the session", async () => {
    const u = await registerUser();
    const first = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expect(first.status).toBe(200);
    // Before the replay both the newest access token and the original one work.
    expect((await api("GET", "/api/v1/auth/me", { token: first.json.accessToken })).status).toBe(200);

    const replay = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expectError(replay, 401, "auth.refresh_reused");

    const newest = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: first.json.refreshToken } });
    expect(newest.status).toBe(401);
    expect(["auth.session_revoked", "auth.refresh_reused"]).toContain(newest.json.error.code);

    for (const token of [first.json.accessToken, u.accessToken]) {
      expectError(await api("GET", "/api/v1/auth/me", { token }), 401, "auth.session_revoked");
    }
  });

  it("reuse revokes only that session: another login of the same user keeps working", async () => {
    const u = await registerUser();
    const other = await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: u.password } });
    expect(other.status).toBe(200);
    await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } });
    const replay = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expectError(replay, 401, "auth.refresh_reused");
    expect((await api("GET", "/api/v1/auth/me", { token: other.json.accessToken })).status).toBe(200);
    const r = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: other.json.refreshToken } });
    expect(r.status, r.text).toBe(200);
  });

  it("an unknown refresh token is 401 auth.refresh_invalid", async () => {
    const r = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: "ecr_not_a_real_token" } });
    expectError(r, 401, "auth.refresh_invalid");
  });

  it("an access token is not a refresh token", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.accessToken } });
    // Well-formed input, but no refresh token hashes to it.
    expectError(r, 401, "auth.refresh_invalid");
  });

  it.each([
    ["empty object", {}, "validation.failed"],
    ["number", { refreshToken: 123 }, "validation.failed"],
    ["empty string", { refreshToken: "" }, "validation.failed"],
    ["too long", { refreshToken: "r".repeat(4097) }, "validation.failed"],
    ["array body", ["x"], "validation.body_not_object"],
  ])("bad input (%s) → 400", async (_label, body, code) => {
    expectError(await api("POST", "/api/v1/auth/refresh", { body }), 400, code);
  });
});

describe("logout", () => {
  it("with a Bearer token: 204, then /me is 401 auth.session_revoked", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/v1/auth/logout", { token: u.accessToken });
    expect(r.status, r.text).toBe(204);
    expect(r.text).toBe("");
    expectError(await api("GET", "/api/v1/auth/me", { token: u.accessToken }), 401, "auth.session_revoked");
    const refresh = await api("POST", "/api/v1/auth/refresh", { body: { refreshToken: u.refreshToken } });
    expectError(refresh, 401, "auth.session_revoked");
  });

  it("with only a refresh token: 204, and the access token stops working", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/v1/auth/logout", { body: { refreshToken: u.refreshToken } });
    expect(r.status, r.text).toBe(204);
    expectError(await api("GET", "/api/v1/auth/me", { token: u.accessToken }), 401, "auth.session_revoked");
  });

  it("ends only its own session", async () => {
    const u = await registerUser();
    const other = await api("POST", "/api/v1/auth/login", { body: { username: u.username, password: u.password } });
    expect((await api("POST", "/api/v1/auth/logout", { token: u.accessToken })).status).toBe(204);
    const me = await api("GET", "/api/v1/auth/me", { token: other.json.accessToken });
    expect(me.status, me.text).toBe(200);
  });

  it("without any token is 401 auth.missing_token", async () => {
    expectError(await api("POST", "/api/v1/auth/logout"), 401, "auth.missing_token");
    expectError(await api("POST", "/api/v1/auth/logout", { body: {} }), 401, "auth.missing_token");
  });

  it("with an unknown refresh token is 401 (nothing was revoked)", async () => {
    const r = await api("POST", "/api/v1/auth/logout", { body: { refreshToken: "ecr_unknown" } });
    expectError(r, 401, "auth.missing_token");
  });

  it("with a garbage Bearer token is 401 auth.token_malformed", async () => {
    expectError(await api("POST", "/api/v1/auth/logout", { token: "garbage" }), 401, "auth.token_malformed");
  });

  it("bad input: refreshToken of the wrong type is 400", async () => {
    const err = expectError(await api("POST", "/api/v1/auth/logout", { body: { refreshToken: 42 } }), 400,
      "validation.failed");
    expect(Object.keys(err.fields)).toEqual(["refreshToken"]);
  });
});

describe("JWKS", () => {
  it("publishes the RSA public key(s) and no private parts", async () => {
    await registerUser(); // makes sure a key exists
    const r = await api("GET", "/.well-known/jwks.json");
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(r.json.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of r.json.keys) {
      expect(k).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256" });
      expect(k.kid).toEqual(expect.any(String));
      expect(k.n).toMatch(/^[A-Za-z0-9_-]{300,}$/);
      expect(k.e).toBe("AQAB");
      for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) expect(k).not.toHaveProperty(secret);
    }
  });

  it("the kid of an issued token is in the JWKS", async () => {
    const u = await registerUser();
    const { kid } = JSON.parse(atob(u.accessToken.split(".")[0].replace(/-/g, "+").replace(/_/g, "/")));
    const r = await api("GET", "/.well-known/jwks.json");
    expect(r.json.keys.map((k) => k.kid)).toContain(kid);
  });
});
