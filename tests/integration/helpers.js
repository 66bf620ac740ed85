// Shared helpers for the Miniflare integration tests. Every request goes through SELF.fetch, i.e.
// the real Worker (js-shim/worker.js over core-test.wasm: tests/integration/worker-entry.js), against
// local D1, R2 and Durable Objects.
import { SELF, env } from "cloudflare:test";
import { expect } from "vitest";
import { checkAnswer } from "./contract.js";

export const BASE = "https://edgechat.test";

// Errors of the canonical API: {"error":{"code","message","fields?"},"requestId"}.
export const HEX32 = /^[0-9a-f]{32}$/;
// A time in the canonical API (/api/v1): ISO 8601 UTC with milliseconds.
export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * One request. `body`: an object/array/number is JSON-encoded with Content-Type application/json;
 * a string, Uint8Array or ReadableStream is sent as-is (Content-Type only if given in `headers`).
 * Returns {status, headers, text, json} (json is null when the body is not JSON).
 */
export async function api(method, path, { body, headers = {}, token, init = {} } = {}) {
  const h = new Headers(headers);
  if (token) h.set("authorization", `Bearer ${token}`);
  let payload;
  if (body !== undefined) {
    const isRaw = typeof body === "string" || body instanceof Uint8Array ||
      body instanceof ReadableStream;
    if (isRaw) {
      payload = body;
    } else {
      payload = JSON.stringify(body);
      if (!h.has("content-type")) h.set("content-type", "application/json");
    }
  }
  const res = await SELF.fetch(BASE + path, { method, headers: h, body: payload, ...init });
  const text = await readBody(res);
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  // Every answer is held to openapi.json (tests/integration/contract.js).
  checkAnswer(method, path, res.status, res.headers.get("content-type"), json);
  return { status: res.status, headers: res.headers, text, json };
}

// An event stream that stays open (a followed stream waits for events) is read for a while and
// then cancelled, so a request to it cannot hang a test; every other body is read whole.
const OPEN_STREAM_READ_MS = 3000;
async function readBody(res) {
  if (!/^text\/event-stream/.test(res.headers.get("content-type") ?? "") || !res.body) {
    return res.text();
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + OPEN_STREAM_READ_MS;
  for (;;) {
    const left = deadline - Date.now();
    const next = await Promise.race([
      reader.read(),
      new Promise((resolve) => setTimeout(() => resolve({ timeout: true }), Math.max(0, left))),
    ]);
    if (next.timeout) {
      await reader.cancel();
      break;
    }
    if (next.done) break;
    text += decoder.decode(next.value, { stream: true });
  }
  return text + decoder.decode();
}

let counter = 0;
/** A username unique across tests and runs: lower-case, [a-z0-9_], ≤ 32 chars. */
export function uniqueName(prefix = "u") {
  counter += 1;
  const rnd = Math.random().toString(36).slice(2, 10);
  return `${prefix}_${counter}_${rnd}`.slice(0, 32);
}

export const PASSWORD = "correct horse battery";

/** Registers a fresh user via the canonical route and returns the 201 body plus credentials. */
export async function registerUser(opts = {}) {
  const username = opts.username ?? uniqueName(opts.prefix);
  const password = opts.password ?? PASSWORD;
  const r = await api("POST", "/api/v1/auth/register", { body: { username, password } });
  expect(r.status, r.text).toBe(201);
  return { username, password, ...r.json };
}

/** Asserts the canonical error shape and code; returns the error object. */
export function expectError(r, status, code) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  expect(r.json).toMatchObject({ error: { code, message: expect.any(String) } });
  expect(r.json.error.message.length).toBeGreaterThan(0);
  expect(r.json.requestId).toBe(r.headers.get("x-request-id"));
  return r.json.error;
}

/** Asserts seed 000's error shape: {"error":"<message>","details":{"code",...},"requestId"}. */
export function expectSeedError(r, status, code) {
  expect(r.status, r.text).toBe(status);
  expect(typeof r.json?.error).toBe("string");
  expect(r.json.error.length).toBeGreaterThan(0);
  expect(r.json.details.code).toBe(code);
  expect(r.json.requestId).toBe(r.headers.get("x-request-id"));
  return r.json;
}

/** The current (unretired) signing key, read straight from D1. */
export async function currentSigningKey() {
  // A request that signs a token makes sure a key exists.
  const row = await env.DB.prepare(
    "SELECT kid, private_jwk, public_jwk FROM signing_keys WHERE retired_at IS NULL " +
      "AND private_jwk IS NOT NULL ORDER BY created_at DESC LIMIT 1",
  ).first();
  expect(row, "no signing key in D1").not.toBeNull();
  return { kid: row.kid, privateJwk: JSON.parse(row.private_jwk), publicJwk: JSON.parse(row.public_jwk) };
}

export function b64url(input) {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function b64urlJson(obj) {
  return b64url(JSON.stringify(obj));
}
