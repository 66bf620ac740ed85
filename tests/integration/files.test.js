// Files in R2 through the real Worker: upload (raw and multipart), metadata, ranged download,
// delete, limits, hostile names, and isolation between users. The suite runs with
// MAX_UPLOAD_BYTES = 256 KiB (vitest.config.js).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, registerUser, ISO_MS } from "./helpers.js";

const enc = new TextEncoder();

async function upload(token, text, { type = "text/plain", name = "notes.txt", path = "/api/v1/files" } = {}) {
  const q = name === null ? "" : `?filename=${encodeURIComponent(name)}`;
  return api("POST", path + q, { token, body: enc.encode(text), headers: { "content-type": type } });
}

describe("files: upload, metadata, download, delete", () => {
  it("stores a raw upload under {user}/{file}/{name} and streams it back", async () => {
    const u = await registerUser();
    const r = await upload(u.accessToken, "hello edge files", { name: "hello.txt" });
    expect(r.status, r.text).toBe(201);
    const f = r.json.file;
    expect(f).toMatchObject({ filename: "hello.txt", contentType: "text/plain", size: 16, state: "stored" });
    expect(f.key).toBe(`${u.user.id}/${f.id}/hello.txt`);
    expect(f.createdAt).toMatch(ISO_MS);
    expect(Math.abs(Date.parse(f.createdAt) - Date.now())).toBeLessThan(60_000);
    const obj = await env.BUCKET.head(f.key);
    expect(obj.customMetadata).toMatchObject({ uploader: u.user.id, route: "/api/v1/files" });

    const meta = await api("GET", `/api/v1/files/${f.id}`, { token: u.accessToken });
    expect(meta.json.file).toEqual(f);

    const dl = await api("GET", `/api/v1/files/${f.id}/download`, { token: u.accessToken });
    expect(dl.status).toBe(200);
    expect(dl.text).toBe("hello edge files");
    expect(dl.headers.get("content-length")).toBe("16");
    expect(dl.headers.get("accept-ranges")).toBe("bytes");
    expect(dl.headers.get("content-disposition")).toMatch(/^attachment; filename="hello.txt"/);
    expect(dl.headers.get("x-content-type-options")).toBe("nosniff");

    const del = await api("DELETE", `/api/v1/files/${f.id}`, { token: u.accessToken });
    expect(del.status).toBe(204);
    expectError(await api("GET", `/api/v1/files/${f.id}`, { token: u.accessToken }), 404, "files.not_found");
    expect(await env.BUCKET.head(f.key)).toBeNull();
  });

  it("answers Range requests with 206, suffix ranges, and 416 past the end", async () => {
    const u = await registerUser();
    const { json } = await upload(u.accessToken, "0123456789abcdef");
    const path = `/api/v1/files/${json.file.id}/download`;
    const part = await api("GET", path, { token: u.accessToken, headers: { range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.text).toBe("2345");
    expect(part.headers.get("content-range")).toBe("bytes 2-5/16");
    const tail = await api("GET", path, { token: u.accessToken, headers: { range: "bytes=-3" } });
    expect(tail.text).toBe("def");
    const open = await api("GET", path, { token: u.accessToken, headers: { range: "bytes=10-" } });
    expect(open.text).toBe("abcdef");
    const bad = await api("GET", path, { token: u.accessToken, headers: { range: "bytes=99-" } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get("content-range")).toBe("bytes */16");
    const multi = await api("GET", path, { token: u.accessToken, headers: { range: "bytes=0-1,4-5" } });
    expect(multi.status).toBe(200);
    expect(multi.text).toBe("0123456789abcdef");
    const head = await api("HEAD", path, { token: u.accessToken });
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
  });

  it("accepts multipart/form-data with a file part (seed 004's /files/upload)", async () => {
    const u = await registerUser();
    const form = new FormData();
    form.append("file", new File(["# Title\n\nbody text"], "readme.md", { type: "text/markdown" }));
    const res = await api("POST", "/api/v1/files/upload", { token: u.accessToken, init: { body: form } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.file).toMatchObject({ filename: "readme.md", contentType: "text/markdown", size: 18 });
    const noFile = new FormData();
    noFile.append("other", "x");
    expectError(await api("POST", "/api/v1/files", { token: u.accessToken, init: { body: noFile } }),
      400, "files.missing_file");
  });

  it("refuses oversized, wrong-type, unauthenticated and malformed uploads with clear 4xx", async () => {
    const u = await registerUser();
    const big = "x".repeat(256 * 1024 + 1);
    expectError(await upload(u.accessToken, big), 413, "files.too_large");
    // Without Content-Length (a stream), the limit is enforced while streaming.
    const stream = new ReadableStream({
      start(c) { for (let i = 0; i < 5; i++) c.enqueue(enc.encode("y".repeat(64 * 1024))); c.close(); },
    });
    const streamed = await api("POST", "/api/v1/files?filename=s.txt", {
      token: u.accessToken, body: stream, headers: { "content-type": "text/plain" }, init: { duplex: "half" },
    });
    expectError(streamed, 413, "files.too_large");
    expectError(await upload(u.accessToken, "MZ\x90\x00", { type: "application/x-msdownload", name: "a.exe" }),
      415, "files.unsupported_type");
    expectError(await upload(u.accessToken, "x", { type: "" }), 415, "files.unsupported_type");
    expectError(await upload(undefined, "x"), 401, "auth.missing_token");
    const broken = await api("POST", "/api/v1/files", {
      token: u.accessToken, body: "--x\r\nnot multipart",
      headers: { "content-type": "multipart/form-data; boundary=zzz" },
    });
    expect(broken.status).toBe(400);
    // Nothing half-stored: only files that were accepted have rows.
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM files WHERE user_id = ?").bind(u.user.id).first();
    expect(rows.n).toBe(0);
  });

  it("sanitises hostile filenames so keys can never escape the user's prefix", async () => {
    const u = await registerUser();
    for (const name of ["../../etc/passwd", "..\\..\\x.txt", "a/../../b.txt", "%2e%2e%2fx.txt", "\u202egpj.exe.txt", ""]) {
      const r = await upload(u.accessToken, "x", { name });
      expect(r.status, `${name}: ${r.text}`).toBe(201);
      const parts = r.json.file.key.split("/");
      expect(parts).toHaveLength(3);
      expect(parts[0]).toBe(u.user.id);
      expect(parts[2]).not.toMatch(/^\.|\.\.|[\\%]/);
    }
  });

  it("never shows one user's file to another", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const { json } = await upload(a.accessToken, "private");
    for (const [m, p] of [["GET", ""], ["GET", "/download"], ["DELETE", ""], ["POST", "/analyze"]]) {
      expectError(await api(m, `/api/v1/files/${json.file.id}${p}`, { token: b.accessToken }), 404, "files.not_found");
    }
    expect((await api("GET", `/api/v1/files/${json.file.id}`, { token: a.accessToken })).status).toBe(200);
  });

  it("analyzes a file: text, keywords and a local extractive summary", async () => {
    const u = await registerUser();
    const md = "# Solar power\n\nSolar panels convert sunlight into electricity. Panels work best in direct sunlight.\n\n" +
      "## Storage\n\nBatteries store solar electricity for the night.";
    const { json } = await upload(u.accessToken, md, { type: "text/markdown", name: "solar.md" });
    const r = await api("POST", `/api/v1/files/${json.file.id}/analyze`, { token: u.accessToken });
    expect(r.status, r.text).toBe(200);
    const a = r.json.analysis;
    expect(a.format).toBe("markdown");
    expect(a.headings.map((h) => h.title)).toEqual(["Solar power", "Storage"]);
    expect(a.keywords).toContain("solar");
    expect(a.summary).toMatch(/Solar panels convert sunlight/);
    expect(a.summarizer).toEqual({ provider: "local", model: "edgechat-extractive-v1" });
    const png = await upload(u.accessToken, "\x89PNG\r\n\x1a\n", { type: "image/png", name: "a.png" });
    expectError(await api("POST", `/api/v1/files/${png.json.file.id}/analyze`, { token: u.accessToken }),
      422, "extract.unsupported_format");
  });
});
