// Seed-compatible file and document routes: seed 000 (Metacogna: /api/r2/*, /api/ingest,
// /api/documents) in its {success,data} / {error,details} shapes, and seed 003's direct upload.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectSeedError, registerUser } from "./helpers.js";

const enc = new TextEncoder();
// URLs come back absolute (from the Host header); SELF.fetch needs only the path and query.
const local = (url) => { const u = new URL(url); return u.pathname + u.search; };

describe("seed 000: presigned R2 uploads and access", () => {
  it("grants a one-time PUT URL, then a GET URL, then deletes the file and its D1 row", async () => {
    const u = await registerUser();
    const grant = await api("POST", "/api/r2/upload-url", {
      token: u.accessToken, body: { filename: "plan.md", contentType: "text/markdown", size: 100 },
    });
    expect(grant.status, grant.text).toBe(200);
    const g = grant.json.data;
    expect(grant.json.success).toBe(true);
    expect(g).toMatchObject({ method: "PUT", headers: { "content-type": "text/markdown" }, maxBytes: 100 });
    expect(g.key).toBe(`${u.user.id}/${g.fileId}/plan.md`);
    expect(g.uploadUrl).toMatch(/^https:\/\/edgechat\.test\/api\/r2\/upload\?/);
    expect(g.s3Url).toBeUndefined(); // no R2 API credentials configured

    // The signed URL is the credential: no bearer token needed, but it binds type and size.
    const wrongType = await api("PUT", local(g.uploadUrl), { body: "x", headers: { "content-type": "text/plain" } });
    expectSeedError(wrongType, 415, "files.unsupported_type");
    const tooBig = await api("PUT", local(g.uploadUrl), { body: "x".repeat(101), headers: { "content-type": "text/markdown" } });
    expectSeedError(tooBig, 413, "files.too_large");
    const tampered = local(g.uploadUrl).replace("max=100", "max=999");
    expectSeedError(await api("PUT", tampered, { body: "# hi", headers: { "content-type": "text/markdown" } }),
      403, "files.bad_signature");
    const put = await api("PUT", local(g.uploadUrl), { body: "# Plan\n\nship it", headers: { "content-type": "text/markdown" } });
    expect(put.status, put.text).toBe(200);
    expect(put.json.data).toMatchObject({ id: g.fileId, size: 15, state: "stored" });
    expectSeedError(await api("PUT", local(g.uploadUrl), { body: "again", headers: { "content-type": "text/markdown" } }),
      403, "files.url_used");

    const access = await api("GET", `/api/r2/access-url?key=${encodeURIComponent(g.key)}`, { token: u.accessToken });
    expect(access.status, access.text).toBe(200);
    const got = await api("GET", local(access.json.data.url));
    expect(got.status).toBe(200);
    expect(got.text).toBe("# Plan\n\nship it");
    // Proxy mode with the bearer token works too.
    const proxied = await api("GET", `/api/r2/file?key=${encodeURIComponent(g.key)}`, { token: u.accessToken });
    expect(proxied.text).toBe("# Plan\n\nship it");
    // A range past the end is 416 in seed 000's error shape, like the route's other errors, with
    // the size to ask within, on both ways in.
    for (const r of [
      await api("GET", local(access.json.data.url), { headers: { range: "bytes=99-" } }),
      await api("GET", `/api/r2/file?key=${encodeURIComponent(g.key)}`, { token: u.accessToken, headers: { range: "bytes=15-" } }),
    ]) {
      expectSeedError(r, 416, "files.range_not_satisfiable");
      expect(r.headers.get("content-range")).toBe("bytes */15");
    }

    const del = await api("DELETE", `/api/r2/file?key=${encodeURIComponent(g.key)}`, { token: u.accessToken });
    expect(del.json).toEqual({ success: true, data: { deleted: g.key } });
    expect(await env.BUCKET.head(g.key)).toBeNull();
    expect(await env.DB.prepare("SELECT id FROM files WHERE id = ?").bind(g.fileId).first()).toBeNull();
    expectSeedError(await api("GET", local(access.json.data.url)), 404, "files.not_found");
  });

  it("refuses other users' keys, traversal keys and expired or forged URLs", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const up = await api("PUT", "/api/r2/upload?filename=a.txt", {
      token: a.accessToken, body: enc.encode("secret"), headers: { "content-type": "text/plain" },
    });
    expect(up.status, up.text).toBe(201);
    const key = up.json.data.key;
    for (const k of [key, `${b.user.id}/../${key}`, `${b.user.id}/x/../../${key}`]) {
      expectSeedError(await api("GET", `/api/r2/file?key=${encodeURIComponent(k)}`, { token: b.accessToken }), 404, "files.not_found");
      expectSeedError(await api("DELETE", `/api/r2/file?key=${encodeURIComponent(k)}`, { token: b.accessToken }), 404, "files.not_found");
      expectSeedError(await api("GET", `/api/r2/access-url?key=${encodeURIComponent(k)}`, { token: b.accessToken }), 404, "files.not_found");
    }
    expectSeedError(await api("GET", "/api/r2/file?key=x&exp=1&max=0&ct=&gid=g&sig=AAAA"), 403, "files.bad_signature");
    expectSeedError(await api("POST", "/api/r2/upload-url", { token: a.accessToken, body: { filename: "a.exe", contentType: "application/x-msdownload" } }),
      415, "files.unsupported_type");
    expectSeedError(await api("POST", "/api/r2/upload-url", { body: { filename: "a.txt", contentType: "text/plain" } }),
      401, "auth.missing_token");
  });
});

describe("seed 000: /api/ingest and /api/documents", () => {
  it("ingests and lists in seed 000's shape", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/ingest", {
      token: u.accessToken,
      body: { docId: "doc-1", title: "Notes", content: "Edge caches keep latency low.", metadata: { tag: "ops" } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ success: true, data: { docId: "doc-1", id: "doc-1", title: "Notes", state: "ready" } });
    const list = await api("GET", "/api/documents", { token: u.accessToken });
    expect(list.json.success).toBe(true);
    expect(list.json.data).toEqual([expect.objectContaining({
      id: "doc-1", title: "Notes", content: "Edge caches keep latency low.", metadata: { tag: "ops" }, r2Key: null,
    })]);
    const one = await api("GET", "/api/documents/doc-1", { token: u.accessToken });
    expect(one.json.data).toMatchObject({ id: "doc-1", chunkCount: 1, createdAt: expect.any(Number) });
    expectSeedError(await api("GET", "/api/documents/nope", { token: u.accessToken }), 404, "documents.not_found");
    expectSeedError(await api("POST", "/api/ingest", { token: u.accessToken, body: { title: "no content" } }), 400, "validation.failed");
  });
});

describe("seed 003: POST /api/upload/direct", () => {
  it("stores the upload with uploader and route in R2 metadata", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/upload/direct", {
      token: u.accessToken, body: enc.encode("{\"a\":1}"), headers: { "content-type": "application/json", "x-filename": "data.json" },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ ok: true, size: 7, contentType: "application/json", uploader: u.user.id, route: "/api/upload/direct" });
    const obj = await env.BUCKET.head(r.json.key);
    expect(obj.customMetadata).toMatchObject({ uploader: u.user.id, route: "/api/upload/direct" });
    expect(obj.httpMetadata.contentType).toBe("application/json");
    const big = await api("POST", "/api/upload/direct", {
      token: u.accessToken, body: "x".repeat(300 * 1024), headers: { "content-type": "text/plain" },
    });
    expect(big.status).toBe(413);
  });
});
