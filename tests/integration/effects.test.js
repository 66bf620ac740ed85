// The shim's effect interpreter (js-shim/effects.js) against the real local bindings: every op the
// core uses today, including how failures are classified, since the core acts on those codes.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { performEffect } from "../../js-shim/effects.js";

const run = (op, args, request = new Request("http://x/")) =>
  performEffect({ op, payload: args === undefined ? "" : JSON.stringify(args) }, request, env);
const data = (r) => {
  expect(r.ok).toBe(true);
  return typeof r.data === "string" ? JSON.parse(r.data) : r.data;
};

describe("sched.yield", () => {
  it("resumes the core only after a macrotask queued before it has run", async () => {
    let ran = false;
    setTimeout(() => { ran = true; }, 0);
    expect(data(await run("sched.yield", {}))).toBe(true);
    expect(ran).toBe(true);
  });
});

describe("d1.*", () => {
  it("first, all and run return rows and meta", async () => {
    await run("d1.run", { sql: "CREATE TABLE IF NOT EXISTS fx (id INTEGER PRIMARY KEY, v TEXT UNIQUE)", params: [] });
    const meta = data(await run("d1.run", { sql: "INSERT INTO fx (v) VALUES (?1)", params: ["a"] }));
    expect(meta.changes).toBe(1);
    expect(data(await run("d1.first", { sql: "SELECT v FROM fx WHERE v = ?1", params: ["a"] }))).toEqual({ v: "a" });
    expect(data(await run("d1.first", { sql: "SELECT v FROM fx WHERE v = ?1", params: ["zz"] }))).toBe(null);
    expect(data(await run("d1.all", { sql: "SELECT v FROM fx", params: [] }))).toEqual([{ v: "a" }]);
  });

  it("a batch is atomic, and a constraint violation is reported as conflict", async () => {
    await run("d1.run", { sql: "CREATE TABLE IF NOT EXISTS fy (v TEXT UNIQUE)", params: [] });
    const r = await run("d1.batch", { statements: [
      { sql: "INSERT INTO fy (v) VALUES (?1)", params: ["one"] },
      { sql: "INSERT INTO fy (v) VALUES (?1)", params: ["one"] },
    ] });
    expect(r).toMatchObject({ ok: false, code: "conflict" });
    // The first insert was rolled back with the second.
    expect(data(await run("d1.all", { sql: "SELECT v FROM fy", params: [] }))).toEqual([]);
    const ok = data(await run("d1.batch", { statements: [
      { sql: "INSERT INTO fy (v) VALUES (?1)", params: ["two"] },
      { sql: "SELECT COUNT(*) AS n FROM fy", params: [] },
    ] }));
    expect(ok[0].changes).toBe(1);
    expect(ok[1].results).toEqual([{ n: 1 }]);
  });

  it("a broken statement is internal, not conflict", async () => {
    expect(await run("d1.first", { sql: "SELECT * FROM no_such_table", params: [] }))
      .toMatchObject({ ok: false, code: "internal" });
  });
});

describe("crypto.*", () => {
  it("generates, signs and verifies RS256; a wrong signature verifies false", async () => {
    const { privateJwk } = data(await run("crypto.generate_rsa", { bits: 2048 }));
    const publicJwk = { kty: "RSA", n: privateJwk.n, e: privateJwk.e };
    const sig = data(await run("crypto.sign", { jwk: privateJwk, data: "a.b" }));
    expect(sig.byteLength).toBe(256);
    const b64 = btoa(String.fromCharCode(...sig)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect(data(await run("crypto.verify", { jwk: publicJwk, data: "a.b", signature: b64 }))).toBe(true);
    expect(data(await run("crypto.verify", { jwk: publicJwk, data: "a.c", signature: b64 }))).toBe(false);
  });

  it("PBKDF2 derives the RFC 6070-style vector deterministically", async () => {
    // PBKDF2-HMAC-SHA256("password", "salt", 1 iteration, 32 bytes), a published test vector.
    const salt = btoa("salt").replace(/=+$/, "");
    const out = data(await run("crypto.pbkdf2", { password: "password", salt, iterations: 1, bits: 256 }));
    const hex = Array.from(out, (b) => b.toString(16).padStart(2, "0")).join("");
    expect(hex).toBe("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
  });

  it("a malformed PEM is a typed failure", async () => {
    expect(await run("crypto.import_pem", { pem: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----" }))
      .toMatchObject({ ok: false });
  });
});

describe("r2.*", () => {
  const enc = (text) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  it("puts, heads, gets (whole and ranged), lists and deletes", async () => {
    const put = data(await run("r2.put", { key: "u1/d1/a.txt", data: enc("hello r2"), contentType: "text/plain",
      customMetadata: { uploader: "u1" } }));
    expect(put).toMatchObject({ key: "u1/d1/a.txt", size: 8 });
    const head = data(await run("r2.head", { key: "u1/d1/a.txt" }));
    expect(head).toMatchObject({ size: 8, contentType: "text/plain", customMetadata: { uploader: "u1" } });
    expect(new TextDecoder().decode(data(await run("r2.get", { key: "u1/d1/a.txt", max: 100 })))).toBe("hello r2");
    const part = data(await run("r2.get", { key: "u1/d1/a.txt", max: 100, range: { offset: 6, length: 2 } }));
    expect(new TextDecoder().decode(part)).toBe("r2");
    expect(await run("r2.get", { key: "u1/d1/a.txt", max: 4 })).toMatchObject({ ok: false, code: "too_large" });
    expect(data(await run("r2.list", { prefix: "u1/" })).objects.map((o) => o.key)).toEqual(["u1/d1/a.txt"]);
    expect(data(await run("r2.delete", { keys: ["u1/d1/a.txt"] }))).toBe(true);
    expect(data(await run("r2.head", { key: "u1/d1/a.txt" }))).toBe(null);
    expect(await run("r2.get", { key: "u1/d1/a.txt", max: 100 })).toMatchObject({ ok: false, code: "not_found" });
  });

  it("streams a request body into R2, refusing one past max", async () => {
    const body = "x".repeat(5000);
    const req = () => new Request("http://x/", { method: "PUT", body, headers: { "content-length": String(body.length) } });
    expect(data(await run("r2.put_body", { key: "u2/d/b.bin", max: 10000 }, req()))).toMatchObject({ size: 5000 });
    expect((await env.BUCKET.get("u2/d/b.bin")).size).toBe(5000);
    expect(await run("r2.put_body", { key: "u2/d/c.bin", max: 100 }, req())).toMatchObject({ ok: false, code: "too_large" });
    expect(await env.BUCKET.head("u2/d/c.bin")).toBe(null);
    // No Content-Length: read up to max, then stored.
    const chunked = new Request("http://x/", { method: "PUT", body: new Blob(["y".repeat(300)]).stream(), duplex: "half" });
    expect(data(await run("r2.put_body", { key: "u2/d/d.bin", max: 1000 }, chunked))).toMatchObject({ size: 300 });
  });
});

describe("zlib.inflate", () => {
  const deflate = async (bytes) =>
    new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
  const b64url = (u8) => btoa(String.fromCharCode(...u8)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  it("inflates zlib data, refuses output past max, and reports corrupt input", async () => {
    const text = "BT /F1 12 Tf (Hello PDF) Tj ET\n".repeat(200);
    const packed = await deflate(new TextEncoder().encode(text));
    const out = data(await run("zlib.inflate", { data: b64url(packed), max: 1 << 20 }));
    expect(new TextDecoder().decode(out)).toBe(text);
    expect(await run("zlib.inflate", { data: b64url(packed), max: 100 })).toMatchObject({ ok: false, code: "too_large" });
    expect(await run("zlib.inflate", { data: b64url(new Uint8Array([1, 2, 3, 4, 5])), max: 1000 }))
      .toMatchObject({ ok: false });
  });
});

describe("the rest", () => {
  it("body.read returns the body, and too_large past the limit", async () => {
    const small = await run("body.read", { max: 10 }, new Request("http://x/", { method: "POST", body: "hello" }));
    expect(new TextDecoder().decode(data(small))).toBe("hello");
    const big = await run("body.read", { max: 4 }, new Request("http://x/", { method: "POST", body: "hello" }));
    expect(big).toMatchObject({ ok: false, code: "too_large" });
  });

  it("random returns fresh bytes of the asked length", async () => {
    const a = (await performEffect({ op: "random", payload: "32" }, null, env)).data;
    const b = (await performEffect({ op: "random", payload: "32" }, null, env)).data;
    expect(a.byteLength).toBe(32);
    expect(a).not.toEqual(b);
  });

  it("unknown ops, malformed payloads and missing bindings are typed failures", async () => {
    expect(await run("no.such.op", {})).toMatchObject({ ok: false, code: "invalid" });
    expect(await performEffect({ op: "r2.head", payload: "{not json" }, null, env))
      .toMatchObject({ ok: false, code: "invalid" });
    expect(await performEffect({ op: "r2.head", payload: JSON.stringify({ key: "x" }) }, null, {}))
      .toMatchObject({ ok: false, code: "unavailable" });
  });
});
