// The HTTP layer: health/ready, routing errors, methods, CORS, body limits, content types, JSON
// parsing and request ids — through the real Worker.
import { describe, it, expect } from "vitest";
import { api, expectError, registerUser, uniqueName, HEX32, PASSWORD } from "./helpers.js";

const ALLOWED = "https://app.example";
const OTHER_ALLOWED = "https://admin.example";
const DISALLOWED = "https://evil.example";
const LIMIT = 1024 * 1024;

// A header's comma-separated values (Headers.get joins repeated headers with ", ").
const list = (r, name) => (r.headers.get(name) ?? "").split(/,\s*/).filter(Boolean);
// A CORS preflight from the allowed origin unless `headers` says otherwise.
const preflight = (path, method, headers = {}) =>
  api("OPTIONS", path, { headers: { origin: ALLOWED, "access-control-request-method": method, ...headers } });

describe("health and readiness", () => {
  it("GET /health answers ok with a version and a generated request id", async () => {
    const r = await api("GET", "/health");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(r.json.status).toBe("ok");
    expect(r.json.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.headers.get("x-request-id")).toMatch(HEX32);
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  it("GET /ready checks D1 and the latest migration", async () => {
    const r = await api("GET", "/ready");
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ status: "ready", checks: { d1: "ok", migrations: "0006_document_builds.sql" } });
  });

  it("request ids differ between requests", async () => {
    const a = await api("GET", "/health");
    const b = await api("GET", "/health");
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });
});

describe("routing and methods", () => {
  it("an unknown path is 404 http.not_found with the error shape", async () => {
    const r = await api("GET", "/no/such/route");
    expectError(r, 404, "http.not_found");
    expect(r.json.requestId).toMatch(HEX32);
  });

  it("an unknown path under /api/v1 is 404 too", async () => {
    expectError(await api("POST", "/api/v1/auth/nope", { body: {} }), 404, "http.not_found");
  });

  it("a wrong method is 405 with an Allow header", async () => {
    const r = await api("DELETE", "/health");
    expectError(r, 405, "http.method_not_allowed");
    expect(r.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("GET on a POST-only route is 405 and Allow lists POST", async () => {
    const r = await api("GET", "/api/v1/auth/register");
    expectError(r, 405, "http.method_not_allowed");
    expect(r.headers.get("allow").split(", ")).toContain("POST");
    expect(r.headers.get("allow").split(", ")).not.toContain("GET");
  });

  it("HEAD /health is 200 with an empty body", async () => {
    const r = await api("HEAD", "/health");
    expect(r.status).toBe(200);
    expect(r.text).toBe("");
    expect(r.headers.get("x-request-id")).toMatch(HEX32);
  });

  it("OPTIONS without preflight headers is 204 with Allow", async () => {
    const r = await api("OPTIONS", "/health");
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
    expect(r.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("an unsupported method is 501 http.method_not_supported", async () => {
    expectError(await api("PROPFIND", "/health"), 501, "http.method_not_supported");
  });
});

describe("CORS", () => {
  it("a preflight from an allowed origin is 204 and echoes the origin", async () => {
    const r = await preflight("/api/v1/auth/login", "POST", {
      "access-control-request-headers": "content-type, x-custom-thing",
    });
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
    // Exactly one value each: preflights once carried every CORS header twice, which browsers reject.
    expect(r.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(r.headers.get("access-control-allow-credentials")).toBe("true");
    expect(r.headers.get("access-control-allow-methods")).toMatch(/\bPOST\b/);
    const allowHeaders = r.headers.get("access-control-allow-headers").toLowerCase();
    expect(allowHeaders).toContain("x-custom-thing");
    expect(allowHeaders).toContain("authorization");
    expect(r.headers.get("vary")).toMatch(/Origin/);
  });

  it("each allowed origin is echoed (not the first of the list)", async () => {
    const r = await preflight("/health", "GET", { origin: OTHER_ALLOWED });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe(OTHER_ALLOWED);
  });

  it("requested headers that are not a plain token list are not echoed", async () => {
    const r = await preflight("/health", "GET", { "access-control-request-headers": "x-ok, x-evil:injected" });
    expect(r.status).toBe(204);
    const allow = r.headers.get("access-control-allow-headers");
    expect(allow).toContain("Authorization");
    expect(allow).not.toContain("x-evil");
    expect(allow).not.toContain("x-ok");
  });

  it("a preflight from a disallowed origin is 403 cors.origin_not_allowed", async () => {
    const r = await api("OPTIONS", "/api/v1/auth/login", {
      headers: { origin: DISALLOWED, "access-control-request-method": "POST" },
    });
    expectError(r, 403, "cors.origin_not_allowed");
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("an origin that merely starts with an allowed one is refused", async () => {
    const r = await api("OPTIONS", "/health", {
      headers: { origin: `${ALLOWED}.evil.example`, "access-control-request-method": "GET" },
    });
    expectError(r, 403, "cors.origin_not_allowed");
  });

  it("normal responses to an allowed origin carry CORS and expose headers", async () => {
    const r = await api("GET", "/health", { headers: { origin: ALLOWED } });
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(r.headers.get("access-control-allow-credentials")).toBe("true");
    const exposed = r.headers.get("access-control-expose-headers").split(/,\s*/);
    for (const h of ["X-Request-Id", "X-Credits-Used", "X-Credits-Balance", "X-Tokens-In",
      "X-Tokens-Out", "X-Provider", "X-Model"]) {
      expect(exposed).toContain(h);
    }
  });

  it("a create's Location is exposed, so a browser client can follow it", async () => {
    const u = await registerUser({ prefix: "corsloc" });
    const made = await api("POST", "/api/v1/chats", { token: u.accessToken, body: {}, headers: { origin: ALLOWED } });
    expect(made.status, made.text).toBe(201);
    expect(made.headers.get("location")).toBe(`/api/v1/chats/${made.json.chat.id}`);
    expect(list(made, "access-control-expose-headers")).toContain("Location");
  });

  it("error responses to an allowed origin carry CORS too", async () => {
    const r = await api("GET", "/nope", { headers: { origin: ALLOWED } });
    expect(r.status).toBe(404);
    expect(r.headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });

  it("a disallowed origin gets the response but no CORS headers", async () => {
    const r = await api("GET", "/health", { headers: { origin: DISALLOWED } });
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(r.headers.get("access-control-expose-headers")).toBeNull();
  });

  it("no Origin means no CORS headers", async () => {
    const r = await api("GET", "/health");
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("request bodies", () => {
  const register = "/api/v1/auth/register";

  it("a body over 1 MiB with Content-Length is 413 http.body_too_large", async () => {
    const big = `{"username":"x","password":"${"a".repeat(LIMIT)}"}`;
    const r = await api("POST", register, { body: big, headers: { "content-type": "application/json" } });
    expectError(r, 413, "http.body_too_large");
  });

  it("a body of exactly the limit is not refused as too large", async () => {
    const head = '{"username":"x","password":"';
    const tail = '"}';
    const exact = head + "a".repeat(LIMIT - head.length - tail.length) + tail;
    expect(exact.length).toBe(LIMIT);
    const r = await api("POST", register, { body: exact, headers: { "content-type": "application/json" } });
    // The password is far too long, so validation (not the size limit) refuses it.
    expectError(r, 400, "validation.failed");
  });

  function streamOf(chunks) {
    const enc = new TextEncoder();
    let i = 0;
    return new ReadableStream({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(enc.encode(chunks[i++]));
        else controller.close();
      },
    });
  }

  it("a streamed body without Content-Length that grows past the limit is 413", async () => {
    const chunk = "a".repeat(64 * 1024);
    const chunks = ['{"username":"x","password":"', ...Array(20).fill(chunk), '"}'];
    // The Worker cancels the body once past the limit; workerd then logs "read end of pipe was
    // aborted / Network connection lost" for the sending side. That line is expected.
    const r = await api("POST", register, {
      body: streamOf(chunks),
      headers: { "content-type": "application/json" },
      init: { duplex: "half" },
    });
    expectError(r, 413, "http.body_too_large");
  });

  it("a small streamed body without Content-Length is read normally (control)", async () => {
    const username = uniqueName("stream");
    const r = await api("POST", register, {
      body: streamOf([`{"username":"${username}",`, `"password":"${PASSWORD}"}`]),
      headers: { "content-type": "application/json" },
      init: { duplex: "half" },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json.user.username).toBe(username);
  });

  it("a non-JSON content type is 415", async () => {
    const r = await api("POST", register, {
      body: JSON.stringify({ username: uniqueName(), password: PASSWORD }),
      headers: { "content-type": "text/plain" },
    });
    expectError(r, 415, "http.unsupported_media_type");
  });

  it("a JSON body without any content type is 415", async () => {
    const r = await api("POST", register, {
      body: new TextEncoder().encode(JSON.stringify({ username: uniqueName(), password: PASSWORD })),
    });
    expectError(r, 415, "http.unsupported_media_type");
  });

  it("application/json with charset and +json types are accepted", async () => {
    for (const ct of ["application/json; charset=utf-8", "Application/JSON", "application/vnd.edgechat+json"]) {
      const username = uniqueName("ct");
      const r = await api("POST", register, {
        body: JSON.stringify({ username, password: PASSWORD }),
        headers: { "content-type": ct },
      });
      expect(r.status, `${ct}: ${r.text}`).toBe(201);
    }
  });

  it("invalid JSON is 400 http.invalid_json", async () => {
    const r = await api("POST", register, {
      body: '{"username": "abc", ',
      headers: { "content-type": "application/json" },
    });
    expectError(r, 400, "http.invalid_json");
  });

  it("an empty body on a route that needs one is 400 http.invalid_json", async () => {
    const r = await api("POST", register, { body: "", headers: { "content-type": "application/json" } });
    expectError(r, 400, "http.invalid_json");
  });

  it("10,000 unclosed '[' is 400, not 500", async () => {
    const r = await api("POST", register, {
      body: "[".repeat(10_000),
      headers: { "content-type": "application/json" },
    });
    expectError(r, 400, "http.invalid_json");
  });

  it("10,000 nested, balanced arrays are 400, not 500", async () => {
    const r = await api("POST", register, {
      body: "[".repeat(10_000) + "]".repeat(10_000),
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toMatch(/^(http\.invalid_json|validation\.body_not_object)$/);
  });

  it("deeply nested objects inside a field are 400, not 500", async () => {
    const r = await api("POST", register, {
      body: `{"username":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`,
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toMatch(/^(http\.invalid_json|validation\.failed)$/);
  });

  it("a JSON array instead of an object is 400 validation.body_not_object", async () => {
    expectError(await api("POST", register, { body: [1, 2] }), 400, "validation.body_not_object");
  });

  it("JSON scalars instead of an object are 400 validation.body_not_object", async () => {
    for (const body of ["42", '"str"', "null", "true"]) {
      const r = await api("POST", register, { body, headers: { "content-type": "application/json" } });
      expectError(r, 400, "validation.body_not_object");
    }
  });

  it("a server still works after the body-limit refusals (control)", async () => {
    const r = await api("GET", "/health");
    expect(r.status).toBe(200);
  });
});

describe("X-Request-Id", () => {
  it("a sane request id is echoed in the header and in error bodies", async () => {
    const id = "client-req_01:abc.DEF";
    const ok = await api("GET", "/health", { headers: { "x-request-id": id } });
    expect(ok.headers.get("x-request-id")).toBe(id);
    const err = await api("GET", "/missing", { headers: { "x-request-id": id } });
    expect(err.headers.get("x-request-id")).toBe(id);
    expect(err.json.requestId).toBe(id);
  });

  it("a 128-character id is still echoed", async () => {
    const id = "a".repeat(128);
    const r = await api("GET", "/health", { headers: { "x-request-id": id } });
    expect(r.headers.get("x-request-id")).toBe(id);
  });

  it.each([
    ["with spaces", "has some spaces"],
    ["200 characters", "b".repeat(200)],
    ["129 characters", "c".repeat(129)],
    ["with a slash", "../etc/passwd"],
    ["with quotes", 'x"y'],
  ])("an insane id (%s) is replaced by a generated 32-hex id", async (_label, id) => {
    const r = await api("GET", "/nowhere", { headers: { "x-request-id": id } });
    expect(r.status).toBe(404);
    expect(r.headers.get("x-request-id")).toMatch(HEX32);
    expect(r.json.requestId).toBe(r.headers.get("x-request-id"));
  });

  it("every kind of response carries x-request-id", async () => {
    const responses = await Promise.all([
      api("GET", "/health"),
      api("GET", "/nope"),
      api("DELETE", "/health"),
      api("OPTIONS", "/health"),
      api("OPTIONS", "/health", { headers: { origin: ALLOWED, "access-control-request-method": "GET" } }),
      api("OPTIONS", "/health", { headers: { origin: DISALLOWED, "access-control-request-method": "GET" } }),
      api("POST", "/api/v1/auth/login", { body: "x", headers: { "content-type": "text/plain" } }),
      api("GET", "/api/v1/auth/me"),
    ]);
    for (const r of responses) expect(r.headers.get("x-request-id"), String(r.status)).toMatch(HEX32);
  });
});

describe("bad input on every route is a 4xx JSON error, never 5xx", () => {
  const SEED = "seed";
  const CANON = "canonical";
  // Routes whose body has required fields: every malformed body below must be refused.
  const strict = [
    ["/api/v1/auth/register", CANON],
    ["/api/v1/auth/login", CANON],
    ["/api/v1/auth/refresh", CANON],
    ["/api/auth/register", SEED],
    ["/api/auth/login", SEED],
  ];
  // Every route that reads a JSON body (optional bodies included).
  const allBodyRoutes = [
    ...strict,
    ["/api/v1/auth/logout", CANON],
    ["/api/v1/auth/guest", CANON],
    ["/api/auth/logout", CANON],
    ["/auth/guest", CANON],
  ];

  function expectAnyError(r, style, label) {
    expect(r.status, `${label}: ${r.text}`).toBeGreaterThanOrEqual(400);
    expect(r.status, `${label}: ${r.text}`).toBeLessThan(500);
    expect(r.headers.get("content-type"), label).toMatch(/^application\/json/);
    if (style === SEED) {
      expect(typeof r.json.error, label).toBe("string");
      expect(r.json.details.code, label).toMatch(/^[a-z]+\.[a-z_]+$/);
    } else {
      expect(r.json.error.code, label).toMatch(/^[a-z]+\.[a-z_]+$/);
      expect(typeof r.json.error.message, label).toBe("string");
      expect(r.json.requestId, label).toBe(r.headers.get("x-request-id"));
    }
  }

  const badBodies = [
    ["empty object", "{}"],
    ["wrong types", JSON.stringify({ username: 123, password: 456, refreshToken: 789 })],
    ["nested objects", JSON.stringify({ username: { $ne: null }, password: { $gt: "" }, refreshToken: {} })],
    ["booleans", JSON.stringify({ username: true, password: false, refreshToken: true })],
    ["unicode username", JSON.stringify({ username: "ñandú", password: "short", refreshToken: "" })],
    ["overlong password", JSON.stringify({ username: "ab", password: "p".repeat(1025), refreshToken: "" })],
    ["array", "[]"],
    ["string", '"hello"'],
    ["null", "null"],
    ["number", "1e999"],
  ];

  it.each(strict)("%s refuses every malformed body", async (path, style) => {
    for (const [label, body] of badBodies) {
      const r = await api("POST", path, { body, headers: { "content-type": "application/json" } });
      expectAnyError(r, style, `${path} ${label}`);
    }
  });

  const malformed = [
    ["invalid JSON", "{\"a\":", "http.invalid_json"],
    ["trailing garbage", "{} x", "http.invalid_json"],
    ["10,000 '['", "[".repeat(10_000), "http.invalid_json"],
    ["invalid UTF-8 in a string", new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), null],
  ];

  it.each(allBodyRoutes)("%s refuses malformed JSON and non-JSON content types", async (path, style) => {
    for (const [label, body, code] of malformed) {
      const r = await api("POST", path, { body, headers: { "content-type": "application/json" } });
      expectAnyError(r, style, `${path} ${label}`);
      if (code) expect(style === SEED ? r.json.details.code : r.json.error.code).toBe(code);
    }
    const r = await api("POST", path, { body: "<xml/>", headers: { "content-type": "application/xml" } });
    expectAnyError(r, style, `${path} xml`);
    expect(r.status).toBe(415);
  });

  it("GET routes ignore junk bodies/queries/headers and never 5xx", async () => {
    const junk = { "x-request-id": "??", authorization: "Bearer %%%.%%%.%%%", cookie: "a=b" };
    for (const path of ["/health?x=%zz", "/ready?&&==", "/api/v1/auth/me?token=1", "/api/auth/session?x",
      "/.well-known/jwks.json?%00"]) {
      const r = await api("GET", path, { headers: junk });
      expect(r.status, `${path}: ${r.text}`).toBeLessThan(500);
    }
  });
});
